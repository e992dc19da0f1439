"""What the catalog calls things, as the demo model reads a question against them.

The demo reads a question for a category, a city and a store. It takes the values from the
tool schemas in the request where they list them (`enum`), and from `Names`, which the bot
gives it from the catalog as it is now (`DemoModel.names`, asked on every request): so a
category, a city or a store that exists only in an imported feed is read, whether or not the
schemas list it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Names:
    """The catalog's categories and cities, and its stores (code → city)."""

    categories: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    stores: Mapping[str, str] = field(default_factory=dict)


NamesSource = Callable[[], Awaitable[Names]]
