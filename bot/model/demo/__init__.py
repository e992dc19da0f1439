"""The offline demo model: answers from the catalog tools, through the real Anthropic SDK,
with no API key and no network. See `server` for the wire, `plan` for what it does next and
`answer` for what it writes.

    async with DemoModel.start() as demo:
        client = anthropic.AsyncAnthropic(base_url=demo.url, api_key=DEMO_API_KEY)

The server (and the planner and writer behind it) is imported when first named: a bot with an
Anthropic key never starts it, and need not hold it in memory (issue 26 counts the bot's peak).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.model.demo.identity import DEMO_API_KEY, DEMO_MODEL
from bot.model.demo.names import Names, NamesSource

if TYPE_CHECKING:
    from bot.model.demo.server import INSTANT, DemoModel, Pace, tokens

_FROM_SERVER = ("INSTANT", "DemoModel", "Pace", "tokens")


def __getattr__(name: str) -> Any:
    if name in _FROM_SERVER:
        from bot.model.demo import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEMO_API_KEY",
    "DEMO_MODEL",
    "INSTANT",
    "DemoModel",
    "Names",
    "NamesSource",
    "Pace",
    "tokens",
]
