"""The catalog in the SQLite store's file: products, stores and stock in versioned tables,
searched with FTS5 for words and FTS5's trigram tokenizer for parts of model numbers (the
contract, and how versions keep an answer on one catalog, are in `base.py`).

Reads run on threads of their own, each with its own connection; feeds are applied on one
writer thread with another (WAL: a search never waits for a feed being applied, nor it for
searches). Tables are created at open under the write lock, so processes starting together
create them once.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from bot.catalog.base import (
    ANALYZE_AFTER,
    CURRENT,
    KEEP_SECONDS,
    Changes,
    Feed,
    Filters,
    PriceRow,
    Product,
    ProductRow,
    Stock,
    StockRow,
    Store,
    StoreRow,
    TableChanges,
    Vocabulary,
    diff,
    product_values,
    search_terms,
    words_of,
)
from bot.catalog.per_generation import PerGeneration

T = TypeVar("T")
READERS = 2

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS catalog_generations (
        gen INTEGER PRIMARY KEY, created_at REAL NOT NULL, what TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS catalog_products (
        id INTEGER PRIMARY KEY, sku TEXT NOT NULL, name TEXT NOT NULL, brand TEXT NOT NULL,
        category TEXT NOT NULL, price INTEGER NOT NULL, mrp INTEGER NOT NULL,
        warranty TEXT NOT NULL, specs TEXT NOT NULL, changed_at REAL NOT NULL,
        gen_from INTEGER NOT NULL, gen_to INTEGER NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS catalog_products_sku ON catalog_products (sku, gen_to)",
    """CREATE INDEX IF NOT EXISTS catalog_products_category
        ON catalog_products (category, price)""",
    "CREATE INDEX IF NOT EXISTS catalog_products_gen ON catalog_products (gen_to)",
    """CREATE TABLE IF NOT EXISTS catalog_stores (
        id INTEGER PRIMARY KEY, code TEXT NOT NULL, name TEXT NOT NULL, city TEXT NOT NULL,
        area TEXT NOT NULL, changed_at REAL NOT NULL, gen_from INTEGER NOT NULL,
        gen_to INTEGER NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS catalog_stores_code ON catalog_stores (code, gen_to)",
    """CREATE TABLE IF NOT EXISTS catalog_stock (
        id INTEGER PRIMARY KEY, sku TEXT NOT NULL, store TEXT NOT NULL,
        units INTEGER NOT NULL, changed_at REAL NOT NULL, gen_from INTEGER NOT NULL,
        gen_to INTEGER NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS catalog_stock_sku ON catalog_stock (sku, store, gen_to)",
    "CREATE INDEX IF NOT EXISTS catalog_stock_store ON catalog_stock (store, gen_to)",
    "CREATE INDEX IF NOT EXISTS catalog_stock_gen ON catalog_stock (gen_to)",
    # A product version's id is the row id of its words and its trigrams.
    """CREATE VIRTUAL TABLE IF NOT EXISTS catalog_words USING fts5(
        name, brand, category, specs, tokenize='unicode61 remove_diacritics 2')""",
    "CREATE VIRTUAL TABLE IF NOT EXISTS catalog_grams USING fts5(text, tokenize='trigram')",
)
AT = "{t}.gen_from <= :gen AND :gen < {t}.gen_to"  # the row version valid at the view's gen
PRODUCT = "p.sku, p.name, p.brand, p.category, p.price, p.mrp, p.warranty, p.specs, p.changed_at"


class SqliteCatalog:
    def __init__(self, path: str) -> None:
        self._path = path
        self._uri = path.startswith("file:")
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._guard = threading.Lock()
        self._readers = ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="catalog")
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="catalog-feed")
        self._vocabulary: PerGeneration[Vocabulary] = PerGeneration()
        self._closed = False

    @classmethod
    async def open(cls, path: str) -> SqliteCatalog:
        if path in (":memory:", ""):
            # One database every connection of this catalog shares, gone when they close.
            path = f"file:catalog-{uuid.uuid4().hex}?mode=memory&cache=shared"
        catalog = cls(path)
        try:
            await catalog._write(_create)
        except BaseException:
            await catalog.close()
            raise
        return catalog

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(
                self._path,
                timeout=30.0,
                check_same_thread=False,
                uri=self._uri,
                isolation_level=None,
            )
            db.execute("PRAGMA busy_timeout = 30000")
            self._local.db = db
            with self._guard:
                self._connections.append(db)
        return db

    async def _read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, lambda: work(self._connection()))

    async def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, lambda: work(self._connection()))

    # ---- reading -------------------------------------------------------------------------

    async def generation(self) -> int:
        return await self._read(_generation)

    async def view(self) -> SqliteView:
        return SqliteView(self, await self.generation())

    async def vocabulary_at(self, gen: int) -> Vocabulary:
        return await self._vocabulary.get(gen, lambda: self._read(lambda db: _vocabulary(db, gen)))

    # ---- feeds ---------------------------------------------------------------------------

    async def replace(self, feed: Feed, *, at: float) -> Changes:
        def apply(db: sqlite3.Connection, gen: int, changes: Changes) -> None:
            _stores(db, gen, at, feed.stores, whole=True, changes=changes.stores)
            _products(db, gen, at, feed.products, whole=True, changes=changes.products)
            _stock(db, gen, at, feed.stock, whole=True, changes=changes.stock)

        return await self._apply("full feed", apply, at)

    async def replace_products(self, rows: Sequence[ProductRow], *, at: float) -> Changes:
        def apply(db: sqlite3.Connection, gen: int, changes: Changes) -> None:
            _products(db, gen, at, rows, whole=True, changes=changes.products)
            _orphans(db, gen, changes.stock)

        return await self._apply("products", apply, at)

    async def replace_stores(self, rows: Sequence[StoreRow], *, at: float) -> Changes:
        def apply(db: sqlite3.Connection, gen: int, changes: Changes) -> None:
            _stores(db, gen, at, rows, whole=True, changes=changes.stores)
            _orphans(db, gen, changes.stock)

        return await self._apply("stores", apply, at)

    async def update_prices(self, rows: Sequence[PriceRow], *, at: float) -> Changes:
        def apply(db: sqlite3.Connection, gen: int, changes: Changes) -> None:
            _known(db, [r.sku for r in rows], [])
            current = _current_products(db, [r.sku for r in rows])
            updated = []
            for row in rows:
                _, values = current[row.sku]
                name, brand, category, _, _, warranty, specs = values
                updated.append(
                    ProductRow(
                        row.sku,
                        name,
                        brand,
                        category,
                        row.price,
                        row.mrp,
                        warranty,
                        json.loads(specs),
                    )
                )
            _products(db, gen, at, updated, whole=False, changes=changes.products)

        return await self._apply("prices", apply, at)

    async def update_stock(self, rows: Sequence[StockRow], *, at: float) -> Changes:
        def apply(db: sqlite3.Connection, gen: int, changes: Changes) -> None:
            _known(db, [r.sku for r in rows], [r.store for r in rows])
            _stock(db, gen, at, rows, whole=False, changes=changes.stock)

        return await self._apply("stock", apply, at)

    async def _apply(
        self, what: str, apply: Callable[[sqlite3.Connection, int, Changes], None], at: float
    ) -> Changes:
        """Apply a feed in one transaction as a new generation (none if nothing changed),
        then drop the row versions no answer can need any more."""

        def run(db: sqlite3.Connection) -> Changes:
            db.execute("BEGIN IMMEDIATE")
            try:
                gen = _generation(db) + 1
                changes = Changes()
                apply(db, gen, changes)
                if any(
                    vars(getattr(changes, t)) != vars(TableChanges())
                    for t in ("products", "stores", "stock")
                ):
                    db.execute("INSERT INTO catalog_generations VALUES (?, ?, ?)", (gen, at, what))
                    changes.generation = gen
                    db.execute("COMMIT")
                else:
                    db.execute("ROLLBACK")
                return changes
            except BaseException:
                db.execute("ROLLBACK")
                raise

        changes = await self._write(run)
        if changes.rows() >= ANALYZE_AFTER:  # the planner's statistics, for the new sizes
            await self._write(lambda db: db.execute("PRAGMA analysis_limit=2000; ").fetchall())
            await self._write(lambda db: db.execute("ANALYZE").fetchall())
        await self.prune(at=at)
        return changes

    async def prune(self, *, at: float) -> int:
        def run(db: sqlite3.Connection) -> int:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT max(gen) FROM catalog_generations WHERE created_at <= ?",
                    (at - KEEP_SECONDS,),
                ).fetchone()
                if row is None or row[0] is None:
                    db.execute("ROLLBACK")
                    return 0
                done = row[0]
                gone = [
                    i
                    for (i,) in db.execute(
                        "SELECT id FROM catalog_products WHERE gen_to <= ?", (done,)
                    )
                ]
                db.executemany("DELETE FROM catalog_words WHERE rowid = ?", [(i,) for i in gone])
                db.executemany("DELETE FROM catalog_grams WHERE rowid = ?", [(i,) for i in gone])
                dropped = len(gone)
                for table in ("catalog_products", "catalog_stores", "catalog_stock"):
                    cursor = db.execute(f"DELETE FROM {table} WHERE gen_to <= ?", (done,))
                    dropped += cursor.rowcount if table != "catalog_products" else 0
                db.execute("COMMIT")
                return dropped
            except BaseException:
                db.execute("ROLLBACK")
                raise

        return await self._write(run)

    async def close(self) -> None:
        """Close once; closing again does nothing (services may be closed twice)."""
        if self._closed:
            return
        self._closed = True
        self._readers.shutdown(wait=True)
        self._writer.shutdown(wait=True)
        with self._guard:
            for db in self._connections:
                db.close()
            self._connections.clear()


class SqliteView:
    """The catalog at one generation (`base.CatalogView`)."""

    def __init__(self, catalog: SqliteCatalog, generation: int) -> None:
        self.catalog = catalog
        self.generation = generation

    async def vocabulary(self) -> Vocabulary:
        return await self.catalog.vocabulary_at(self.generation)

    async def search(self, query: str, filters: Filters, limit: int) -> list[Product]:
        gen, terms = self.generation, search_terms(query)
        where, params = _filters(filters, await self._city_stores(filters.city))
        params["gen"], params["limit"] = gen, limit

        def run(db: sqlite3.Connection) -> list[Product]:
            if not terms:
                sql = (
                    f"SELECT {PRODUCT} FROM catalog_products p WHERE {AT.format(t='p')}"
                    f"{where} ORDER BY p.price, p.sku LIMIT :limit"
                )
                return [_product(r) for r in db.execute(sql, params)]
            words = " ".join(f'"{term}"*' for term in terms)
            sql = (
                f"SELECT {PRODUCT} FROM catalog_words w JOIN catalog_products p "
                f"ON p.id = w.rowid WHERE catalog_words MATCH :match AND {AT.format(t='p')}"
                f"{where} ORDER BY bm25(catalog_words), p.price, p.sku LIMIT :limit"
            )
            found = [_product(r) for r in db.execute(sql, {**params, "match": words})]
            grams = [term for term in terms if len(term) >= 3]
            if len(found) < limit and grams:
                seen = {p.sku for p in found}
                parts = " AND ".join(f'"{term}"' for term in grams)
                sql = (
                    f"SELECT {PRODUCT} FROM catalog_grams g JOIN catalog_products p "
                    f"ON p.id = g.rowid WHERE catalog_grams MATCH :match AND "
                    f"{AT.format(t='p')}{where} ORDER BY bm25(catalog_grams), p.price, p.sku "
                    "LIMIT :limit"
                )
                for row in db.execute(sql, {**params, "match": parts}):
                    if row[0] not in seen and len(found) < limit:
                        found.append(_product(row))
            return found

        return await self.catalog._read(run)

    async def _city_stores(self, city: str | None) -> list[str]:
        if city is None:
            return []
        stores = (await self.vocabulary()).stores
        return sorted(c for c, s in stores.items() if s.city.lower() == city.lower())

    async def skus(self) -> frozenset[str]:
        gen = self.generation
        return await self.catalog._read(
            lambda db: frozenset(
                r[0]
                for r in db.execute(
                    f"SELECT sku FROM catalog_products p WHERE {AT.format(t='p')}", {"gen": gen}
                )
            )
        )

    async def products(self, skus: Sequence[str]) -> dict[str, Product]:
        wanted = sorted({s.strip().upper() for s in skus})
        if not wanted:
            return {}
        gen = self.generation

        def run(db: sqlite3.Connection) -> dict[str, Product]:
            found: dict[str, Product] = {}
            for chunk in _chunks(wanted, 500):
                marks = ",".join("?" * len(chunk))
                sql = (
                    f"SELECT {PRODUCT} FROM catalog_products p WHERE p.sku IN ({marks}) "
                    "AND p.gen_from <= ? AND ? < p.gen_to"
                )
                for row in db.execute(sql, [*chunk, gen, gen]):
                    found[row[0]] = _product(row)
            return found

        return await self.catalog._read(run)

    async def stock(
        self, skus: Sequence[str], *, stores: Sequence[str] | None = None, city: str | None = None
    ) -> list[Stock]:
        wanted = sorted({s.strip().upper() for s in skus})
        if not wanted:
            return []
        vocabulary = await self.vocabulary()
        gen = self.generation
        codes = None if stores is None else {c.upper() for c in stores}
        if city is not None:
            in_city = {c for c, s in vocabulary.stores.items() if s.city.lower() == city.lower()}
            codes = in_city if codes is None else codes & in_city

        def run(db: sqlite3.Connection) -> list[Stock]:
            rows = []
            for chunk in _chunks(wanted, 500):
                marks = ",".join("?" * len(chunk))
                rows += db.execute(
                    f"SELECT sku, store, units, changed_at FROM catalog_stock WHERE sku IN "
                    f"({marks}) AND gen_from <= ? AND ? < gen_to",
                    [*chunk, gen, gen],
                ).fetchall()
            return [
                Stock(sku, vocabulary.stores[store], units, changed_at)
                for sku, store, units, changed_at in rows
                if store in vocabulary.stores and (codes is None or store in codes)
            ]

        return await self.catalog._read(run)


# ---- helpers (on the catalog's threads) ----------------------------------------------------


def _create(db: sqlite3.Connection) -> None:
    if not db.execute("PRAGMA journal_mode").fetchone()[0] == "memory":
        db.execute("PRAGMA journal_mode=WAL")
    db.execute("BEGIN IMMEDIATE")
    try:
        for statement in SCHEMA:
            db.execute(statement)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _generation(db: sqlite3.Connection) -> int:
    row = db.execute("SELECT coalesce(max(gen), 0) FROM catalog_generations").fetchone()
    return int(row[0])


def _vocabulary(db: sqlite3.Connection, gen: int) -> Vocabulary:
    at = {"gen": gen}
    categories = [
        r[0]
        for r in db.execute(
            f"SELECT DISTINCT category FROM catalog_products p WHERE {AT.format(t='p')} "
            "ORDER BY category",
            at,
        )
    ]
    brands = [
        r[0]
        for r in db.execute(
            f"SELECT DISTINCT brand FROM catalog_products p WHERE {AT.format(t='p')} "
            "ORDER BY brand",
            at,
        )
    ]
    stores = {
        code: Store(code, name, city, area, changed_at)
        for code, name, city, area, changed_at in db.execute(
            "SELECT code, name, city, area, changed_at FROM catalog_stores s "
            f"WHERE {AT.format(t='s')} ORDER BY code",
            at,
        )
    }
    cities = sorted({s.city for s in stores.values()})
    return Vocabulary(tuple(categories), tuple(brands), tuple(cities), stores)


def _filters(f: Filters, city_stores: Sequence[str] = ()) -> tuple[str, dict[str, Any]]:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if f.category:
        clauses.append("p.category = :category")
        params["category"] = f.category.lower()
    if f.brand:
        clauses.append("p.brand = :brand COLLATE NOCASE")
        params["brand"] = f.brand
    if f.min_price is not None:
        clauses.append("p.price >= :min_price")
        params["min_price"] = f.min_price
    if f.max_price is not None:
        clauses.append("p.price <= :max_price")
        params["max_price"] = f.max_price
    if f.store:
        clauses.append(
            "EXISTS (SELECT 1 FROM catalog_stock s WHERE s.sku = p.sku AND s.store = :store "
            f"AND s.units > 0 AND {AT.format(t='s')})"
        )
        params["store"] = f.store.upper()
    if f.city is not None:
        # the city's stores, found in the view's vocabulary: an index lookup per store
        marks = ",".join(f":city{n}" for n in range(len(city_stores))) or "NULL"
        clauses.append(
            f"EXISTS (SELECT 1 FROM catalog_stock s WHERE s.sku = p.sku AND s.store IN ({marks}) "
            f"AND s.units > 0 AND {AT.format(t='s')})"
        )
        params.update({f"city{n}": code for n, code in enumerate(city_stores)})
    return "".join(f" AND {c}" for c in clauses), params


def _product(row: Sequence[Any]) -> Product:
    sku, name, brand, category, price, mrp, warranty, specs, changed_at = row
    return Product(sku, name, brand, category, price, mrp, warranty, json.loads(specs), changed_at)


def _chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _current_products(
    db: sqlite3.Connection, skus: Sequence[str] | None = None
) -> dict[str, tuple[int, tuple[Any, ...]]]:
    columns = "id, sku, name, brand, category, price, mrp, warranty, specs"
    rows: list[Any] = []
    if skus is None:
        rows = db.execute(
            f"SELECT {columns} FROM catalog_products WHERE gen_to = ?", (CURRENT,)
        ).fetchall()
    else:
        for chunk in _chunks(sorted(set(skus)), 500):
            marks = ",".join("?" * len(chunk))
            rows += db.execute(
                f"SELECT {columns} FROM catalog_products WHERE gen_to = ? AND sku IN ({marks})",
                [CURRENT, *chunk],
            ).fetchall()
    return {r[1]: (r[0], tuple(r[2:])) for r in rows}


def _known(db: sqlite3.Connection, skus: Sequence[str], stores: Sequence[str]) -> None:
    """`CatalogError` naming every SKU and store the catalog does not hold now."""
    have = {
        r[0] for r in db.execute("SELECT sku FROM catalog_products WHERE gen_to = ?", (CURRENT,))
    }
    codes = {
        r[0] for r in db.execute("SELECT code FROM catalog_stores WHERE gen_to = ?", (CURRENT,))
    }
    raise_unknown(skus, stores, have, codes)


def raise_unknown(
    skus: Sequence[str], stores: Sequence[str], have: set[str], codes: set[str]
) -> None:
    from bot.catalog.feed import Problems

    problems = Problems()
    for number, sku in enumerate(skus, start=1):
        if sku not in have:
            problems.add(f"row {number} ({sku}): sku {sku} is not in the catalog")
    for number, code in enumerate(stores, start=1):
        if code not in codes:
            problems.add(f"row {number}: store {code} is not in the catalog")
    problems.raise_if_any("the feed")


def _products(
    db: sqlite3.Connection,
    gen: int,
    at: float,
    rows: Sequence[ProductRow],
    *,
    whole: bool,
    changes: TableChanges,
) -> None:
    current = _current_products(db, None if whole else [r.sku for r in rows])
    incoming = {r.sku: product_values(r) for r in rows}
    added, changed, removed = diff({k: v for k, (_, v) in current.items()}, incoming, whole=whole)
    _close(db, "catalog_products", gen, [current[k][0] for k in (*changed, *removed)])
    next_id = int(db.execute("SELECT coalesce(max(id), 0) + 1 FROM catalog_products").fetchone()[0])
    fresh = [(next_id + n, sku, *incoming[sku]) for n, sku in enumerate([*added, *changed])]
    db.executemany(
        "INSERT INTO catalog_products VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(*row, at, gen, CURRENT) for row in fresh],
    )
    words = [(row[0], *words_of(row[1], row[2:])) for row in fresh]
    db.executemany(
        "INSERT INTO catalog_words (rowid, name, brand, category, specs) VALUES (?, ?, ?, ?, ?)",
        [w[:5] for w in words],
    )
    db.executemany(
        "INSERT INTO catalog_grams (rowid, text) VALUES (?, ?)", [(w[0], w[5]) for w in words]
    )
    changes.added += len(added)
    changes.changed += len(changed)
    changes.removed += len(removed)


def _stores(
    db: sqlite3.Connection,
    gen: int,
    at: float,
    rows: Sequence[StoreRow],
    *,
    whole: bool,
    changes: TableChanges,
) -> None:
    current = {
        r[1]: (r[0], tuple(r[2:]))
        for r in db.execute(
            "SELECT id, code, name, city, area FROM catalog_stores WHERE gen_to = ?", (CURRENT,)
        )
    }
    incoming = {r.code: (r.name, r.city, r.area) for r in rows}
    added, changed, removed = diff({k: v for k, (_, v) in current.items()}, incoming, whole=whole)
    _close(db, "catalog_stores", gen, [current[k][0] for k in (*changed, *removed)])
    db.executemany(
        "INSERT INTO catalog_stores (code, name, city, area, changed_at, gen_from, gen_to) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(code, *incoming[code], at, gen, CURRENT) for code in [*added, *changed]],
    )
    changes.added += len(added)
    changes.changed += len(changed)
    changes.removed += len(removed)


def _stock(
    db: sqlite3.Connection,
    gen: int,
    at: float,
    rows: Sequence[StockRow],
    *,
    whole: bool,
    changes: TableChanges,
) -> None:
    if whole:
        found = db.execute(
            "SELECT id, sku, store, units FROM catalog_stock WHERE gen_to = ?", (CURRENT,)
        )
    else:
        db.execute("CREATE TEMP TABLE IF NOT EXISTS catalog_feed_keys (sku TEXT, store TEXT)")
        db.execute("DELETE FROM catalog_feed_keys")
        db.executemany(
            "INSERT INTO catalog_feed_keys VALUES (?, ?)", [(r.sku, r.store) for r in rows]
        )
        found = db.execute(
            "SELECT s.id, s.sku, s.store, s.units FROM catalog_feed_keys k JOIN catalog_stock s "
            "ON s.sku = k.sku AND s.store = k.store AND s.gen_to = ?",
            (CURRENT,),
        )
    current = {(sku, store): (id_, units) for id_, sku, store, units in found}
    incoming = {(r.sku, r.store): r.units for r in rows}
    added, changed, removed = diff({k: v for k, (_, v) in current.items()}, incoming, whole=whole)
    _close(db, "catalog_stock", gen, [current[k][0] for k in (*changed, *removed)])
    db.executemany(
        "INSERT INTO catalog_stock (sku, store, units, changed_at, gen_from, gen_to) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            (sku, store, incoming[(sku, store)], at, gen, CURRENT)
            for sku, store in [*added, *changed]
        ],
    )
    changes.added += len(added)
    changes.changed += len(changed)
    changes.removed += len(removed)


def _orphans(db: sqlite3.Connection, gen: int, changes: TableChanges) -> None:
    """Stock rows whose product or store is gone are closed with it (counted as removed)."""
    cursor = db.execute(
        "UPDATE catalog_stock SET gen_to = ? WHERE gen_to = ? AND ("
        "sku NOT IN (SELECT sku FROM catalog_products WHERE gen_to = ?) OR "
        "store NOT IN (SELECT code FROM catalog_stores WHERE gen_to = ?))",
        (gen, CURRENT, CURRENT, CURRENT),
    )
    changes.removed += max(cursor.rowcount, 0)


def _close(db: sqlite3.Connection, table: str, gen: int, ids: Sequence[int]) -> None:
    db.executemany(f"UPDATE {table} SET gen_to = ? WHERE id = ?", [(gen, i) for i in ids])
