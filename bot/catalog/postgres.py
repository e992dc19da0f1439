"""The catalog in the PostgreSQL store's database: the same versioned tables as SQLite's
(`base.py` says how versions keep an answer on one catalog), searched with PostgreSQL's
full-text search (a `tsvector` column with a GIN index, the `simple` configuration, prefix
matches) and, for parts of model numbers, `pg_trgm` (a trigram GIN index serving `ILIKE`).

`pg_trgm` is created at open (`CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public`);
a role that may not create it gets `CannotOpenStore` saying so, and an administrator runs that
statement once. Tables are created at open and feeds applied under an advisory lock, so
replicas starting together create them once and two feeds apply one after the other.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg

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
from bot.catalog.sqlite import raise_unknown
from bot.errors import CannotOpenStore

LOCK = 0x5A0B_0024  # any constant of our own; every replica takes the same one
CONNECT_TIMEOUT = 10.0
EXTENSION = "CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public"
SCHEMA = """
CREATE TABLE IF NOT EXISTS catalog_generations (
    gen BIGINT PRIMARY KEY, created_at DOUBLE PRECISION NOT NULL, what TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS catalog_products (
    id BIGINT PRIMARY KEY, sku TEXT NOT NULL, name TEXT NOT NULL, brand TEXT NOT NULL,
    category TEXT NOT NULL, price INTEGER NOT NULL, mrp INTEGER NOT NULL,
    warranty TEXT NOT NULL, specs TEXT NOT NULL, changed_at DOUBLE PRECISION NOT NULL,
    gen_from BIGINT NOT NULL, gen_to BIGINT NOT NULL, words TSVECTOR NOT NULL,
    grams TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS catalog_products_sku ON catalog_products (sku, gen_to);
CREATE INDEX IF NOT EXISTS catalog_products_category ON catalog_products (category, price);
CREATE INDEX IF NOT EXISTS catalog_products_gen ON catalog_products (gen_to);
CREATE INDEX IF NOT EXISTS catalog_products_words ON catalog_products USING gin (words);
CREATE INDEX IF NOT EXISTS catalog_products_grams
    ON catalog_products USING gin (grams public.gin_trgm_ops);
CREATE TABLE IF NOT EXISTS catalog_stores (
    id BIGSERIAL PRIMARY KEY, code TEXT NOT NULL, name TEXT NOT NULL, city TEXT NOT NULL,
    area TEXT NOT NULL, changed_at DOUBLE PRECISION NOT NULL, gen_from BIGINT NOT NULL,
    gen_to BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS catalog_stores_code ON catalog_stores (code, gen_to);
CREATE TABLE IF NOT EXISTS catalog_stock (
    id BIGSERIAL PRIMARY KEY, sku TEXT NOT NULL, store TEXT NOT NULL, units INTEGER NOT NULL,
    changed_at DOUBLE PRECISION NOT NULL, gen_from BIGINT NOT NULL, gen_to BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS catalog_stock_sku ON catalog_stock (sku, store, gen_to);
CREATE INDEX IF NOT EXISTS catalog_stock_store ON catalog_stock (store, gen_to);
CREATE INDEX IF NOT EXISTS catalog_stock_gen ON catalog_stock (gen_to);
"""
PRODUCT = "p.sku, p.name, p.brand, p.category, p.price, p.mrp, p.warranty, p.specs, p.changed_at"
VECTOR = (
    "setweight(to_tsvector('simple', $13), 'A') || setweight(to_tsvector('simple', $14), 'B')"
    " || setweight(to_tsvector('simple', $15), 'B') || to_tsvector('simple', $16)"
)


class PostgresCatalog:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._vocabulary: PerGeneration[Vocabulary] = PerGeneration()

    @classmethod
    async def open(cls, url: str) -> PostgresCatalog:
        pool = await asyncpg.create_pool(url, min_size=0, max_size=4, timeout=CONNECT_TIMEOUT)
        try:
            async with pool.acquire() as db, db.transaction():
                await db.execute("SELECT pg_advisory_xact_lock($1)", LOCK)
                try:
                    async with db.transaction():
                        await db.execute(EXTENSION)
                except asyncpg.PostgresError as exc:
                    raise CannotOpenStore(
                        "the catalog needs PostgreSQL's pg_trgm extension and this role cannot "
                        f"create it ({exc.__class__.__name__}): have an administrator run "
                        f"'{EXTENSION}' once in this database"
                    ) from exc
                await db.execute(SCHEMA)
        except BaseException:
            await pool.close()
            raise
        return cls(pool)

    async def generation(self) -> int:
        return int(
            await self._pool.fetchval("SELECT coalesce(max(gen), 0) FROM catalog_generations")
        )

    async def view(self) -> PostgresView:
        return PostgresView(self, await self.generation())

    async def vocabulary_at(self, gen: int) -> Vocabulary:
        return await self._vocabulary.get(gen, lambda: _vocabulary(self._pool, gen))

    # ---- feeds ---------------------------------------------------------------------------

    async def replace(self, feed: Feed, *, at: float) -> Changes:
        async def apply(db: asyncpg.Connection, gen: int, changes: Changes) -> None:
            await _stores(db, gen, at, feed.stores, whole=True, changes=changes.stores)
            await _products(db, gen, at, feed.products, whole=True, changes=changes.products)
            await _stock(db, gen, at, feed.stock, whole=True, changes=changes.stock)

        return await self._apply("full feed", apply, at)

    async def replace_products(self, rows: Sequence[ProductRow], *, at: float) -> Changes:
        async def apply(db: asyncpg.Connection, gen: int, changes: Changes) -> None:
            await _products(db, gen, at, rows, whole=True, changes=changes.products)
            await _orphans(db, gen, changes.stock)

        return await self._apply("products", apply, at)

    async def replace_stores(self, rows: Sequence[StoreRow], *, at: float) -> Changes:
        async def apply(db: asyncpg.Connection, gen: int, changes: Changes) -> None:
            await _stores(db, gen, at, rows, whole=True, changes=changes.stores)
            await _orphans(db, gen, changes.stock)

        return await self._apply("stores", apply, at)

    async def update_prices(self, rows: Sequence[PriceRow], *, at: float) -> Changes:
        async def apply(db: asyncpg.Connection, gen: int, changes: Changes) -> None:
            await _known(db, [r.sku for r in rows], [])
            current = await _current_products(db, [r.sku for r in rows])
            updated = []
            for row in rows:
                name, brand, category, _, _, warranty, specs = current[row.sku][1]
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
            await _products(db, gen, at, updated, whole=False, changes=changes.products)

        return await self._apply("prices", apply, at)

    async def update_stock(self, rows: Sequence[StockRow], *, at: float) -> Changes:
        async def apply(db: asyncpg.Connection, gen: int, changes: Changes) -> None:
            await _known(db, [r.sku for r in rows], [r.store for r in rows])
            await _stock(db, gen, at, rows, whole=False, changes=changes.stock)

        return await self._apply("stock", apply, at)

    async def _apply(
        self,
        what: str,
        apply: Callable[[asyncpg.Connection, int, Changes], Any],
        at: float,
    ) -> Changes:
        async with self._pool.acquire() as db:
            transaction = db.transaction()
            await transaction.start()
            try:
                await db.execute("SELECT pg_advisory_xact_lock($1)", LOCK)
                latest = await db.fetchval("SELECT coalesce(max(gen), 0) FROM catalog_generations")
                gen = int(latest) + 1
                changes = Changes()
                await apply(db, gen, changes)
                if any(
                    vars(getattr(changes, t)) != vars(TableChanges())
                    for t in ("products", "stores", "stock")
                ):
                    await db.execute(
                        "INSERT INTO catalog_generations VALUES ($1, $2, $3)", gen, at, what
                    )
                    changes.generation = gen
                    await transaction.commit()
                else:
                    await transaction.rollback()  # nothing changed: no new generation
            except BaseException:
                await transaction.rollback()
                raise
            if changes.rows() >= ANALYZE_AFTER:  # the planner's statistics, for the new sizes
                await db.execute("ANALYZE catalog_products, catalog_stores, catalog_stock")
        await self.prune(at=at)
        return changes

    async def prune(self, *, at: float) -> int:
        async with self._pool.acquire() as db, db.transaction():
            await db.execute("SELECT pg_advisory_xact_lock($1)", LOCK)
            done = await db.fetchval(
                "SELECT max(gen) FROM catalog_generations WHERE created_at <= $1",
                at - KEEP_SECONDS,
            )
            if done is None:
                return 0
            dropped = 0
            for table in ("catalog_products", "catalog_stores", "catalog_stock"):
                status = await db.execute(f"DELETE FROM {table} WHERE gen_to <= $1", done)
                dropped += int(status.split()[-1])
            return dropped

    async def close(self) -> None:
        if not self._pool.is_closing():
            await self._pool.close()


class PostgresView:
    """The catalog at one generation (`base.CatalogView`)."""

    def __init__(self, catalog: PostgresCatalog, generation: int) -> None:
        self.catalog = catalog
        self.generation = generation

    async def vocabulary(self) -> Vocabulary:
        return await self.catalog.vocabulary_at(self.generation)

    async def skus(self) -> frozenset[str]:
        rows = await self.catalog._pool.fetch(
            "SELECT sku FROM catalog_products WHERE gen_from <= $1 AND $1 < gen_to",
            self.generation,
        )
        return frozenset(r["sku"] for r in rows)

    async def search(self, query: str, filters: Filters, limit: int) -> list[Product]:
        terms = search_terms(query)
        params: list[Any] = [self.generation, limit]
        city_stores: list[str] = []
        if filters.city is not None:
            stores = (await self.vocabulary()).stores
            city_stores = sorted(
                c for c, s in stores.items() if s.city.lower() == filters.city.lower()
            )
        where = _filters(filters, params, city_stores)
        pool = self.catalog._pool
        valid = "p.gen_from <= $1 AND $1 < p.gen_to"
        if not terms:
            rows = await pool.fetch(
                f"SELECT {PRODUCT} FROM catalog_products p WHERE {valid}{where} "
                "ORDER BY p.price, p.sku LIMIT $2",
                *params,
            )
            return [_product(r) for r in rows]
        tsquery = " & ".join(f"'{term}':*" for term in terms)
        at = len(params) + 1
        rows = await pool.fetch(
            f"SELECT {PRODUCT} FROM catalog_products p WHERE {valid}{where} AND "
            f"p.words @@ to_tsquery('simple', ${at}) ORDER BY "
            f"ts_rank(p.words, to_tsquery('simple', ${at})) DESC, p.price, p.sku LIMIT $2",
            *params,
            tsquery,
        )
        found = [_product(r) for r in rows]
        grams = [term for term in terms if len(term) >= 3]
        if len(found) < limit and grams:
            seen = {p.sku for p in found}
            likes = []
            for term in grams:
                params.append("%" + _like(term) + "%")
                likes.append(f"p.grams ILIKE ${len(params)}")
            rows = await pool.fetch(
                f"SELECT {PRODUCT} FROM catalog_products p WHERE {valid}{where} AND "
                f"{' AND '.join(likes)} ORDER BY p.price, p.sku LIMIT $2",
                *params,
            )
            for row in rows:
                if row["sku"] not in seen and len(found) < limit:
                    found.append(_product(row))
        return found

    async def products(self, skus: Sequence[str]) -> dict[str, Product]:
        wanted = sorted({s.strip().upper() for s in skus})
        if not wanted:
            return {}
        rows = await self.catalog._pool.fetch(
            f"SELECT {PRODUCT} FROM catalog_products p WHERE p.sku = ANY($2::text[]) "
            "AND p.gen_from <= $1 AND $1 < p.gen_to",
            self.generation,
            wanted,
        )
        return {r["sku"]: _product(r) for r in rows}

    async def stock(
        self, skus: Sequence[str], *, stores: Sequence[str] | None = None, city: str | None = None
    ) -> list[Stock]:
        wanted = sorted({s.strip().upper() for s in skus})
        if not wanted:
            return []
        vocabulary = await self.vocabulary()
        codes = None if stores is None else {c.upper() for c in stores}
        if city is not None:
            in_city = {c for c, s in vocabulary.stores.items() if s.city.lower() == city.lower()}
            codes = in_city if codes is None else codes & in_city
        rows = await self.catalog._pool.fetch(
            "SELECT sku, store, units, changed_at FROM catalog_stock WHERE sku = ANY($2::text[]) "
            "AND gen_from <= $1 AND $1 < gen_to",
            self.generation,
            wanted,
        )
        return [
            Stock(r["sku"], vocabulary.stores[r["store"]], r["units"], r["changed_at"])
            for r in rows
            if r["store"] in vocabulary.stores and (codes is None or r["store"] in codes)
        ]


# ---- helpers -------------------------------------------------------------------------------


async def _vocabulary(pool: asyncpg.Pool, gen: int) -> Vocabulary:
    valid = "gen_from <= $1 AND $1 < gen_to"
    categories = await pool.fetch(
        f"SELECT DISTINCT category FROM catalog_products WHERE {valid} ORDER BY category", gen
    )
    brands = await pool.fetch(
        f"SELECT DISTINCT brand FROM catalog_products WHERE {valid} ORDER BY brand", gen
    )
    rows = await pool.fetch(
        f"SELECT code, name, city, area, changed_at FROM catalog_stores WHERE {valid} "
        "ORDER BY code",
        gen,
    )
    stores = {
        r["code"]: Store(r["code"], r["name"], r["city"], r["area"], r["changed_at"]) for r in rows
    }
    return Vocabulary(
        tuple(r["category"] for r in categories),
        tuple(r["brand"] for r in brands),
        tuple(sorted({s.city for s in stores.values()})),
        stores,
    )


def _filters(f: Filters, params: list[Any], city_stores: Sequence[str] = ()) -> str:
    clauses: list[str] = []

    def value(v: Any) -> str:
        params.append(v)
        return f"${len(params)}"

    valid_s = "s.gen_from <= $1 AND $1 < s.gen_to"
    if f.category:
        clauses.append(f"p.category = {value(f.category.lower())}")
    if f.brand:
        clauses.append(f"lower(p.brand) = {value(f.brand.lower())}")
    if f.min_price is not None:
        clauses.append(f"p.price >= {value(f.min_price)}")
    if f.max_price is not None:
        clauses.append(f"p.price <= {value(f.max_price)}")
    if f.store:
        clauses.append(
            "EXISTS (SELECT 1 FROM catalog_stock s WHERE s.sku = p.sku AND "
            f"s.store = {value(f.store.upper())} AND s.units > 0 AND {valid_s})"
        )
    if f.city is not None:
        # the city's stores, found in the view's vocabulary: an index lookup per store
        clauses.append(
            "EXISTS (SELECT 1 FROM catalog_stock s WHERE s.sku = p.sku AND "
            f"s.store = ANY({value(list(city_stores))}::text[]) AND s.units > 0 AND {valid_s})"
        )
    return "".join(f" AND {c}" for c in clauses)


def _like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _product(r: Any) -> Product:
    return Product(
        r["sku"],
        r["name"],
        r["brand"],
        r["category"],
        r["price"],
        r["mrp"],
        r["warranty"],
        json.loads(r["specs"]),
        r["changed_at"],
    )


async def _current_products(
    db: asyncpg.Connection, skus: Sequence[str] | None
) -> dict[str, tuple[int, tuple[Any, ...]]]:
    columns = "id, sku, name, brand, category, price, mrp, warranty, specs"
    if skus is None:
        rows = await db.fetch(f"SELECT {columns} FROM catalog_products WHERE gen_to = $1", CURRENT)
    else:
        rows = await db.fetch(
            f"SELECT {columns} FROM catalog_products WHERE gen_to = $1 AND sku = ANY($2::text[])",
            CURRENT,
            sorted(set(skus)),
        )
    return {r["sku"]: (r["id"], tuple(r)[2:]) for r in rows}


async def _known(db: asyncpg.Connection, skus: Sequence[str], stores: Sequence[str]) -> None:
    have = {
        r["sku"]
        for r in await db.fetch("SELECT sku FROM catalog_products WHERE gen_to = $1", CURRENT)
    }
    codes = {
        r["code"]
        for r in await db.fetch("SELECT code FROM catalog_stores WHERE gen_to = $1", CURRENT)
    }
    raise_unknown(skus, stores, have, codes)


async def _close(db: asyncpg.Connection, table: str, gen: int, ids: Sequence[int]) -> None:
    if ids:
        await db.execute(
            f"UPDATE {table} SET gen_to = $1 WHERE id = ANY($2::bigint[])", gen, list(ids)
        )


async def _products(
    db: asyncpg.Connection,
    gen: int,
    at: float,
    rows: Sequence[ProductRow],
    *,
    whole: bool,
    changes: TableChanges,
) -> None:
    current = await _current_products(db, None if whole else [r.sku for r in rows])
    incoming = {r.sku: product_values(r) for r in rows}
    added, changed, removed = diff({k: v for k, (_, v) in current.items()}, incoming, whole=whole)
    await _close(db, "catalog_products", gen, [current[k][0] for k in (*changed, *removed)])
    next_id = int(await db.fetchval("SELECT coalesce(max(id), 0) + 1 FROM catalog_products"))
    fresh = []
    for n, sku in enumerate([*added, *changed]):
        values = incoming[sku]
        name, brand, category, specs, grams = words_of(sku, values)
        fresh.append(
            (next_id + n, sku, *values, at, gen, CURRENT, name, brand, category, specs, grams)
        )
    if fresh:
        await db.executemany(
            "INSERT INTO catalog_products VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
            f"$12, {VECTOR}, $17)",
            fresh,
        )
    changes.added += len(added)
    changes.changed += len(changed)
    changes.removed += len(removed)


async def _stores(
    db: asyncpg.Connection,
    gen: int,
    at: float,
    rows: Sequence[StoreRow],
    *,
    whole: bool,
    changes: TableChanges,
) -> None:
    found = await db.fetch(
        "SELECT id, code, name, city, area FROM catalog_stores WHERE gen_to = $1", CURRENT
    )
    current = {r["code"]: (r["id"], (r["name"], r["city"], r["area"])) for r in found}
    incoming = {r.code: (r.name, r.city, r.area) for r in rows}
    added, changed, removed = diff({k: v for k, (_, v) in current.items()}, incoming, whole=whole)
    await _close(db, "catalog_stores", gen, [current[k][0] for k in (*changed, *removed)])
    fresh = [(code, *incoming[code], at, gen, CURRENT) for code in [*added, *changed]]
    if fresh:
        await db.copy_records_to_table(
            "catalog_stores",
            records=fresh,
            columns=["code", "name", "city", "area", "changed_at", "gen_from", "gen_to"],
        )
    changes.added += len(added)
    changes.changed += len(changed)
    changes.removed += len(removed)


async def _stock(
    db: asyncpg.Connection,
    gen: int,
    at: float,
    rows: Sequence[StockRow],
    *,
    whole: bool,
    changes: TableChanges,
) -> None:
    if whole:
        found = await db.fetch(
            "SELECT id, sku, store, units FROM catalog_stock WHERE gen_to = $1", CURRENT
        )
    else:
        found = await db.fetch(
            "SELECT s.id, s.sku, s.store, s.units FROM unnest($2::text[], $3::text[]) "
            "AS k(sku, store) JOIN catalog_stock s ON s.sku = k.sku AND s.store = k.store "
            "AND s.gen_to = $1",
            CURRENT,
            [r.sku for r in rows],
            [r.store for r in rows],
        )
    current = {(r["sku"], r["store"]): (r["id"], r["units"]) for r in found}
    incoming = {(r.sku, r.store): r.units for r in rows}
    added, changed, removed = diff({k: v for k, (_, v) in current.items()}, incoming, whole=whole)
    await _close(db, "catalog_stock", gen, [current[k][0] for k in (*changed, *removed)])
    fresh = [
        (sku, store, incoming[(sku, store)], at, gen, CURRENT) for sku, store in [*added, *changed]
    ]
    if fresh:
        await db.copy_records_to_table(
            "catalog_stock",
            records=fresh,
            columns=["sku", "store", "units", "changed_at", "gen_from", "gen_to"],
        )
    changes.added += len(added)
    changes.changed += len(changed)
    changes.removed += len(removed)


async def _orphans(db: asyncpg.Connection, gen: int, changes: TableChanges) -> None:
    status = await db.execute(
        "UPDATE catalog_stock SET gen_to = $1 WHERE gen_to = $2 AND ("
        "sku NOT IN (SELECT sku FROM catalog_products WHERE gen_to = $2) OR "
        "store NOT IN (SELECT code FROM catalog_stores WHERE gen_to = $2))",
        gen,
        CURRENT,
    )
    changes.removed += int(status.split()[-1])
