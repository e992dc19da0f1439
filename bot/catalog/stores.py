"""The chain's stores as answering needs them: which store a typed code names, and the known
ones nearest to a code that names none.

`StoreDirectory` is the small contract the `/shopmax store` command, the browser's sign-in and
the system prompt read the stores through. `CatalogStores` keeps it over the catalog in the
database (its stores come from the feeds: the current generation's vocabulary, so a new feed's
stores are known at once; the single-file catalog's cities are one store each, `feed.py`).

A code is what a person typed, so it is checked before it is looked up (`store_code`): letters,
digits, `-` and `_`, at most `MAX_CODE` characters, compared in capitals. Anything else (a
mention, Slack markup, a paragraph) names no store and is never echoed back whole.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

MAX_CODE = 40
NEAREST = 3  # known codes suggested for one that is not known
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,39}$")


@dataclass(frozen=True)
class StoreInfo:
    """One store: its code (upper-case), name, city and area ("" when the feed gives none)."""

    code: str
    name: str
    city: str
    area: str = ""

    @property
    def label(self) -> str:
        """How a person reads it: "ShopMax Andheri West (MUM-01), Mumbai"."""
        where = ", ".join(part for part in (self.area, self.city) if part and part != self.name)
        return f"{self.name} ({self.code})" + (f", {where}" if where else "")


class StoreDirectory(Protocol):
    """The stores the catalog knows now."""

    async def store(self, code: str) -> StoreInfo | None:
        """The store with this code (already upper-case, checked by `store_code`), or None."""
        ...

    async def stores(self) -> Sequence[StoreInfo]:
        """Every store, by code."""
        ...


def store_code(typed: object) -> str | None:
    """A typed store code in capitals, or None when it cannot be one (see the docstring)."""
    if not isinstance(typed, str):
        return None
    code = unicodedata.normalize("NFKC", typed).strip().upper()
    return code if _CODE.match(code) else None


def nearest(typed: str, stores: Iterable[StoreInfo], most: int = NEAREST) -> list[StoreInfo]:
    """The known stores nearest to what was typed: close in spelling to a code, or in the city
    or with the name it names ("pune" → the stores in Pune), best first, at most `most`."""
    known = list(stores)
    wanted = " ".join(unicodedata.normalize("NFKC", typed).split())[:MAX_CODE].upper()
    if not wanted or not known:
        return []
    by_code = {store.code: store for store in known}
    found: list[StoreInfo] = []
    for store in known:  # a city or a store name typed instead of a code
        if wanted in (store.city.upper(), store.name.upper(), store.area.upper()):
            found.append(store)
    close = difflib.get_close_matches(wanted, list(by_code), n=most, cutoff=0.5)
    found += [by_code[code] for code in close]
    if len(found) < most:  # the code's prefix: "MUM-9" → the MUM- stores
        head = re.split(r"[-_]", wanted, maxsplit=1)[0]
        found += [s for s in known if head and s.code.startswith(head)]
    return list(dict.fromkeys(found))[:most]


class _StoreRow(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def city(self) -> str: ...
    @property
    def area(self) -> str: ...


class _Vocabulary(Protocol):
    @property
    def stores(self) -> Mapping[str, _StoreRow]: ...


class _View(Protocol):
    async def vocabulary(self) -> _Vocabulary: ...


class _Catalog(Protocol):
    async def view(self) -> _View: ...


class CatalogStores:
    """`StoreDirectory` over a catalog whose current view names its stores by code (the
    catalog in the database: `view()`, then `vocabulary().stores`)."""

    def __init__(self, catalog: _Catalog) -> None:
        self.catalog = catalog

    async def _known(self) -> Mapping[str, _StoreRow]:
        return (await (await self.catalog.view()).vocabulary()).stores

    async def store(self, code: str) -> StoreInfo | None:
        row = (await self._known()).get(code)
        return None if row is None else StoreInfo(row.code, row.name, row.city, row.area)

    async def stores(self) -> Sequence[StoreInfo]:
        known = await self._known()
        return [StoreInfo(r.code, r.name, r.city, r.area) for _, r in sorted(known.items())]
