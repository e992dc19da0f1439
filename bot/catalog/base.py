"""The catalog's contract, kept by SQLite (`sqlite.py`, FTS5 and trigrams) and PostgreSQL
(`postgres.py`, tsvector and pg_trgm) alike and tested by one suite
(`tests/contracts/test_catalog_contract.py`).

The catalog lives in the store's database, so every replica reads the same one and a feed
reaches each at its next answer. Consistency is by generation: each applied feed is a new
generation, and each row version says from which generation it holds (`gen_from`) and until
which (`gen_to`, `CURRENT` while it is the latest). An answer pins the generation current when
it starts (`Catalog.view()`) and reads only the row versions valid at it, so a feed applied
meanwhile, whole or partial, is invisible to it: it sees the old catalog or the new, never half
of each. A superseded row version is dropped once the generation that superseded it is older
than `KEEP_SECONDS` (an answer pinned before it has ended by then).

Search (`CatalogView.search`): every word of the query must match, as a word prefix ("oled",
"sams" for Samsung) or, for a word of three characters or more, inside a SKU or product name
(a model number typed partly, "55CU7700", finds "UA55CU7700KLXL"); with the filters (category,
brand, price range, in stock in a store or a city); best match first, then cheapest.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

CURRENT = 2**62  # gen_to of a row version that is still the latest
ANALYZE_AFTER = 100_000  # rows a feed changes after which the planner's statistics are renewed
KEEP_SECONDS = 600.0  # how long a superseded row version is kept for answers pinned before it
MAX_QUERY_CHARS = 200  # what the search tool accepts from Claude
MAX_TERMS = 12  # words a search matches on; the rest of a longer query is ignored
MAX_TERM_CHARS = 40

_WORD = re.compile(r"[\w.]+", re.UNICODE)


def search_terms(query: str) -> list[str]:
    """The words a search matches on: lower-cased, each once, at most `MAX_TERMS` of them."""
    terms: list[str] = []
    for match in _WORD.finditer(query.lower()[:2000]):
        term = match.group(0).strip(".")[:MAX_TERM_CHARS]
        if term and term not in terms:
            terms.append(term)
            if len(terms) == MAX_TERMS:
                break
    return terms


@dataclass(frozen=True)
class ProductRow:
    """A product as a feed gives it (prices in whole rupees)."""

    sku: str
    name: str
    brand: str
    category: str
    price: int
    mrp: int
    warranty: str
    specs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StoreRow:
    code: str
    name: str
    city: str
    area: str = ""


@dataclass(frozen=True)
class StockRow:
    sku: str
    store: str
    units: int


@dataclass(frozen=True)
class PriceRow:
    sku: str
    price: int
    mrp: int


@dataclass(frozen=True)
class Feed:
    """A full feed: the whole catalog (checked: see `bot.catalog.feed`)."""

    products: Sequence[ProductRow]
    stores: Sequence[StoreRow]
    stock: Sequence[StockRow]


@dataclass(frozen=True)
class Product:
    """A product as the catalog holds it at a generation; `changed_at` (Unix time) is when
    this version was written: its price (or anything else of it) last changed then."""

    sku: str
    name: str
    brand: str
    category: str
    price: int
    mrp: int
    warranty: str
    specs: Mapping[str, str]
    changed_at: float


@dataclass(frozen=True)
class Store:
    code: str
    name: str
    city: str
    area: str
    changed_at: float


@dataclass(frozen=True)
class Stock:
    """Units of one SKU in one store, and when that figure last changed."""

    sku: str
    store: Store
    units: int
    changed_at: float


@dataclass(frozen=True)
class Filters:
    category: str | None = None  # as the catalog spells it
    brand: str | None = None  # any case
    min_price: int | None = None
    max_price: int | None = None
    city: str | None = None  # any case: only products in stock in a store there
    store: str | None = None  # a store code: only products in stock there


@dataclass(frozen=True)
class Vocabulary:
    """What the catalog calls things at a generation: the values a tool accepts."""

    categories: tuple[str, ...]
    brands: tuple[str, ...]
    cities: tuple[str, ...]
    stores: Mapping[str, Store]  # by code


@dataclass
class TableChanges:
    added: int = 0
    changed: int = 0
    removed: int = 0

    def __str__(self) -> str:
        return f"{self.added} added, {self.changed} changed, {self.removed} removed"


@dataclass
class Changes:
    """What applying a feed changed, per table, and the generation it made (None: nothing
    changed, so no new generation)."""

    products: TableChanges = field(default_factory=TableChanges)
    stores: TableChanges = field(default_factory=TableChanges)
    stock: TableChanges = field(default_factory=TableChanges)
    generation: int | None = None

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {name: vars(getattr(self, name)).copy() for name in ("products", "stores", "stock")}

    def rows(self) -> int:
        """Rows added, changed and removed in all tables."""
        return sum(
            t.added + t.changed + t.removed for t in (self.products, self.stores, self.stock)
        )

    def lines(self) -> list[str]:
        return [f"{name}: {getattr(self, name)}" for name in ("products", "stores", "stock")]


class CatalogView(Protocol):
    """The catalog as it was at one generation (an answer's view: see the module docstring)."""

    generation: int

    async def search(self, query: str, filters: Filters, limit: int) -> list[Product]: ...

    async def products(self, skus: Sequence[str]) -> dict[str, Product]:
        """The products of these SKUs (upper-case) that the catalog has, by SKU."""
        ...

    async def stock(
        self, skus: Sequence[str], *, stores: Sequence[str] | None = None, city: str | None = None
    ) -> list[Stock]:
        """Stock rows of these SKUs, in these store codes or that city (any case) if given."""
        ...

    async def vocabulary(self) -> Vocabulary: ...

    async def skus(self) -> frozenset[str]:
        """Every SKU the catalog has at this generation."""
        ...


class Catalog(Protocol):
    async def view(self) -> CatalogView:
        """The catalog pinned at its current generation."""
        ...

    async def generation(self) -> int:
        """The current generation (0: never fed)."""
        ...

    async def replace(self, feed: Feed, *, at: float) -> Changes:
        """Hold exactly `feed` from now on, atomically (rows equal to the current ones keep
        their versions and times)."""
        ...

    async def replace_products(self, rows: Sequence[ProductRow], *, at: float) -> Changes:
        """Hold exactly these products; stock of a product no longer sold goes with it."""
        ...

    async def replace_stores(self, rows: Sequence[StoreRow], *, at: float) -> Changes:
        """Hold exactly these stores; stock in a store no longer there goes with it."""
        ...

    async def update_prices(self, rows: Sequence[PriceRow], *, at: float) -> Changes:
        """Change these products' prices; every SKU must be known (`CatalogError` if not)."""
        ...

    async def update_stock(self, rows: Sequence[StockRow], *, at: float) -> Changes:
        """Change these stock figures; every SKU and store must be known."""
        ...

    async def prune(self, *, at: float) -> int:
        """Drop row versions no pinned answer can need any more; how many were dropped."""
        ...

    async def close(self) -> None: ...


def diff(
    existing: Mapping[Any, Any], incoming: Mapping[Any, Any], *, whole: bool
) -> tuple[list[Any], list[Any], list[Any]]:
    """Keys `incoming` adds, changes and (when it is the `whole` table) removes. Pure."""
    added = [key for key in incoming if key not in existing]
    changed = [key for key, value in incoming.items() if key in existing and existing[key] != value]
    removed = [key for key in existing if key not in incoming] if whole else []
    return added, changed, removed


def product_values(row: ProductRow) -> tuple[Any, ...]:
    """What a product version holds besides its SKU, in the tables' column order."""
    specs = json.dumps(dict(row.specs), ensure_ascii=False, sort_keys=True)
    return (row.name, row.brand, row.category, row.price, row.mrp, row.warranty, specs)


def words_of(sku: str, values: Sequence[Any]) -> tuple[str, str, str, str, str]:
    """The text a product is found by: words (name, brand, category, specs) and, for
    substrings, its SKU, name and brand."""
    name, brand, category, _price, _mrp, _warranty, specs = values
    spec_words = " ".join(f"{k} {v}" for k, v in json.loads(specs).items())
    return (name, brand, category.replace("_", " "), spec_words, f"{sku} {name} {brand}")
