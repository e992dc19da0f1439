"""The in-memory index of earlier versions: a catalog file's products in SQLite full-text
search (FTS5), in memory. The bot now searches the catalog in the store (`base.py`); this stays
as the chain benchmark's baseline and for tests that need a catalog file's products as-is.

The whole catalog (a few hundred products) is indexed in an in-memory SQLite database. An
ordinary search is one indexed query of well under a millisecond (see `bench/`),
but its work grows with the words searched for, and the query is whatever the model sends (a
2,000-word one was reported to take seconds). So a query is cut to its first `MAX_TERMS`
distinct words, and `search` may be called from a worker thread (the Claude tool does, to keep
the event loop free): the connection is shared by threads, one search at a time.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass

from bot.catalog.base import search_terms
from bot.catalog.product import Product

# The query's words are cut as the catalog in the store cuts them, so the baseline searches
# for what the real catalog does.


@dataclass(frozen=True)
class SearchFilters:
    category: str | None = None
    brand: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    city: str | None = None  # only products in stock there


class Catalog:
    """The products, indexed. Build with `Catalog(products)`."""

    def __init__(self, products: list[Product]) -> None:
        self.products = {p.sku: p for p in products}
        # Searches run on worker threads; the lock keeps them to one at a time.
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._lock = threading.Lock()
        self._db.execute(
            "CREATE VIRTUAL TABLE search USING fts5(sku UNINDEXED, name, brand, category, specs,"
            " tokenize='unicode61 remove_diacritics 2')"
        )
        self._db.execute(
            "CREATE TABLE product (sku TEXT PRIMARY KEY, brand TEXT, category TEXT, price INT)"
        )
        self._db.execute("CREATE TABLE stock (sku TEXT, city TEXT, count INT)")
        for p in products:
            specs = " ".join(f"{k} {v}" for k, v in p.specs.items())
            category = p.category.replace("_", " ")
            self._db.execute(
                "INSERT INTO search VALUES (?, ?, ?, ?, ?)",
                (p.sku, p.name, p.brand, category, specs),
            )
            self._db.execute(
                "INSERT INTO product VALUES (?, ?, ?, ?)",
                (p.sku, p.brand.lower(), p.category, p.price),
            )
            self._db.executemany(
                "INSERT INTO stock VALUES (?, ?, ?)",
                [(p.sku, city.lower(), count) for city, count in p.stock.items()],
            )

    def get(self, sku: str) -> Product | None:
        return self.products.get(sku.strip().upper())

    def search(
        self, query: str, filters: SearchFilters = SearchFilters(), limit: int = 8
    ) -> list[Product]:
        """Products matching all words of `query` (prefixes count) and every filter, best
        match first, then cheapest."""
        where, params = self._filters(filters)
        words = search_terms(query)
        if words:
            match = " ".join(f'"{w}"*' for w in words)
            sql = (
                "SELECT product.sku FROM search JOIN product ON product.sku = search.sku "
                f"WHERE search MATCH ? {where} ORDER BY bm25(search), product.price LIMIT ?"
            )
            values = [match, *params, limit]
        else:
            sql = f"SELECT sku FROM product WHERE 1 = 1 {where} ORDER BY price LIMIT ?"
            values = [*params, limit]
        with self._lock:
            rows = self._db.execute(sql, values).fetchall()
        return [self.products[sku] for (sku,) in rows]

    @staticmethod
    def _filters(f: SearchFilters) -> tuple[str, list[object]]:
        clauses: list[str] = []
        params: list[object] = []
        if f.category:
            clauses.append("product.category = ?")
            params.append(f.category)
        if f.brand:
            clauses.append("product.brand = ?")
            params.append(f.brand.lower())
        if f.min_price is not None:
            clauses.append("product.price >= ?")
            params.append(f.min_price)
        if f.max_price is not None:
            clauses.append("product.price <= ?")
            params.append(f.max_price)
        if f.city:
            clauses.append("product.sku IN (SELECT sku FROM stock WHERE city = ? AND count > 0)")
            params.append(f.city.lower())
        return "".join(f" AND {c}" for c in clauses), params
