"""ShopMax's product catalog, in the store's database: products, stores and stock per store,
fed from files or pushes, searched by the Claude tools.

`open_catalog(DATABASE_URL)` opens it (SQLite FTS5 and trigrams, or PostgreSQL full-text
search and pg_trgm; one contract: `base.py`); `feed.py` reads and checks feeds (a full feed
folder, a partial prices or stock file, or the single-file catalog of earlier versions);
`tools.py` is Claude's toolbox over a view pinned per answer; `now.py` tells the figure check
what the catalog says now. `index.py` is the in-memory index of earlier versions, kept as the
benchmark's baseline.
"""

from __future__ import annotations

from pathlib import Path

from bot.catalog.base import (
    Catalog,
    CatalogView,
    Changes,
    Feed,
    Filters,
    Product,
    Stock,
    Store,
    Vocabulary,
)
from bot.catalog.index import SearchFilters
from bot.catalog.load import SAMPLE_CATALOG, load_catalog

SAMPLE = Path(__file__).with_name("sample_catalog.json")


async def open_catalog(database_url: str) -> Catalog:
    """The catalog in the database `database_url` names (its tables made if new)."""
    if database_url.startswith(("postgresql://", "postgres://")):
        from bot.catalog.postgres import PostgresCatalog

        opened: Catalog = await PostgresCatalog.open(database_url)
        return opened
    from bot.catalog.sqlite import SqliteCatalog

    return await SqliteCatalog.open(database_url.removeprefix("sqlite:///"))


__all__ = [
    "SAMPLE_CATALOG",
    "Catalog",
    "CatalogView",
    "Changes",
    "Feed",
    "Filters",
    "Product",
    "SearchFilters",
    "Stock",
    "Store",
    "Vocabulary",
    "load_catalog",
    "open_catalog",
]
