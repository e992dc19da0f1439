"""The catalog at a chain's size (issue 24's goals), SQLite and PostgreSQL side by side, each
against the in-memory index of earlier versions on the 200-product demo in the same run.

For each backend, on a fresh database (cold) and then again (warm): the full import of the
chain feed written by `scripts/make_sample_catalog.py --chain` (16,500 products, 500 stores,
about 1.3 million stock rows); search p95 over staff-like shapes with filters (text, category,
price range, in stock in a store, part of a model number); a stock update of 50,000 rows,
with an answer-like reader running meanwhile, pinned to the generation it started with, which
must see only that one; and the RSS of a process answering tool calls from the chain catalog
against the same process on the demo catalog.

Goals: search p95 ≤ 10 ms, import ≤ 60 s, stock update ≤ 5 s, RSS + ≤ 10 MB.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

from bench.catalog import QUERIES as DEMO_QUERIES
from bot.catalog import Catalog, Filters, open_catalog
from bot.catalog.base import StockRow
from bot.catalog.feed import read_full
from bot.catalog.index import Catalog as MemoryIndex
from bot.catalog.load import SAMPLE_CATALOG, load_catalog

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("SHOPMAX_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1/test")
ROUNDS = 40
UPDATE_ROWS = 50_000


def chain_feed(folder: Path) -> Path:
    sys.path.insert(0, str(ROOT / "scripts"))
    from chain_catalog import write_chain

    write_chain(folder)
    return folder


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[int(0.95 * (len(ordered) - 1))]


def demo_p95() -> float:
    index = MemoryIndex(load_catalog(SAMPLE_CATALOG))
    samples = []
    for _ in range(ROUNDS * 5):
        for query, filters in DEMO_QUERIES:
            started = time.perf_counter()
            index.search(query, filters)
            samples.append((time.perf_counter() - started) * 1000)
    return p95(samples)


def shapes(catalog_stores: list[str]) -> list[tuple[str, Filters]]:
    store = catalog_stores[0]
    return [
        ("55 inch", Filters(category="tv", max_price=60_000)),
        ("", Filters(category="headphones", min_price=2_000, max_price=10_000)),
        ("", Filters(category="microwave", store=store)),
        ("wireless", Filters(category="headphones", store=store)),
        ("samsung", Filters(max_price=50_000, city="Pune")),
        ("front load", Filters(category="washing_machine", max_price=40_000)),
        ("ve84c8", Filters()),  # part of a model number
        ("air fryer", Filters(store=store, max_price=10_000)),
    ]


async def searches(catalog: Catalog) -> tuple[float, float]:
    """(p95 ms, median ms) of the shapes on the current view."""
    view = await catalog.view()
    stores = sorted((await view.vocabulary()).stores)
    samples = []
    for _ in range(ROUNDS):
        for query, filters in shapes(stores):
            started = time.perf_counter()
            await view.search(query, filters, 8)
            samples.append((time.perf_counter() - started) * 1000)
    return p95(samples), statistics.median(samples)


async def stock_update(catalog: Catalog, folder: Path) -> tuple[float, int, int]:
    """(seconds, generations a pinned reader saw, reads it made) for 50,000 stock rows."""
    rng = random.Random(24)
    lines = (folder / "stock.csv").read_text().splitlines()[1:]
    chosen = rng.sample(lines, UPDATE_ROWS)
    rows = []
    for line in chosen:
        sku, store, units = line.split(",")
        rows.append(StockRow(sku, store, (int(units) + 1 + rng.randint(0, 5)) % 20))
    watched = sorted({r.sku for r in rows[:20]})
    pinned = await catalog.view()
    before = sorted((s.sku, s.store.code, s.units) for s in await pinned.stock(watched))
    seen: set[tuple[tuple[str, str, int], ...]] = set()
    reads = 0
    done = asyncio.Event()

    async def reader() -> None:
        nonlocal reads
        while not done.is_set():
            now = sorted((s.sku, s.store.code, s.units) for s in await pinned.stock(watched))
            seen.add(tuple(now))
            reads += 1
            await asyncio.sleep(0.01)

    task = asyncio.create_task(reader())
    started = time.perf_counter()
    await catalog.update_stock(rows, at=time.time())
    elapsed = time.perf_counter() - started
    done.set()
    await task
    after = sorted(
        (s.sku, s.store.code, s.units) for s in await (await catalog.view()).stock(watched)
    )
    generations = len(seen | {tuple(before)})
    assert after != before, "the update changed the watched rows"
    return elapsed, generations, reads


def rss_of(database_url: str) -> float:
    """MB of peak RSS (VmHWM, this process's own since its exec) of a process that opens the
    catalog and answers tool calls from it."""
    code = (
        "import asyncio\n"
        "from bot.catalog import open_catalog\n"
        "from bot.catalog.now import CatalogFigures\n"
        "from bot.catalog.tools import Toolbox\n"
        "async def main():\n"
        f"    catalog = await open_catalog({database_url!r})\n"
        "    box = Toolbox(catalog)\n"
        "    figures = CatalogFigures(catalog)\n"
        "    for _ in range(20):\n"
        "        tools = await box.for_asker(None)\n"
        "        await tools.run('search_products', {'query': 'tv', 'max_price': 50000})\n"
        "        found = await tools.run('search_products', {'query': 'samsung'})\n"
        "        skus = [p['sku'] for p in found.data['products']]\n"
        "        for sku in skus[:3]:\n"
        "            await tools.run('check_stock', {'sku': sku})\n"
        "        await figures.prices_now(skus)\n"
        "        await figures.names_now()\n"
        "    await catalog.close()\n"
        "    status = open('/proc/self/status').read().split('VmHWM:')[1].split()[0]\n"
        "    print(int(status) / 1024)\n"
        "asyncio.run(main())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def note(text: str) -> None:
    print(f"  ... {text}", file=sys.stderr, flush=True)


async def backend(name: str, url: str, demo_url: str, folder: Path) -> list[str]:
    lines = []
    # cold: a fresh database; warm: the same feed again over it (only what differs is written)
    for run in ("cold", "warm"):
        catalog = await open_catalog(url)
        try:
            started = time.perf_counter()
            feed = read_full(folder)
            changes = await catalog.replace(feed, at=time.time())
            imported = time.perf_counter() - started
            del feed
            note(f"{name} {run}: imported in {imported:.1f} s")
            search_p95, search_median = await searches(catalog)
            note(f"{name} {run}: search p95 {search_p95:.2f} ms")
            update_s, generations, reads = await stock_update(catalog, folder)
            note(f"{name} {run}: stock update {update_s:.2f} s")
        finally:
            await catalog.close()
        lines.append(
            f"| {name} {run} | {search_p95:.2f} ms (median {search_median:.2f}) | "
            f"{imported:.1f} s ({changes.stock.added + changes.stock.changed:,} stock rows "
            f"written) | {update_s:.2f} s, reader saw {generations} generation(s) in {reads} "
            "reads |"
        )
    demo = await open_catalog(demo_url)
    await demo.replace(read_full_or_sample(), at=time.time())
    await demo.close()
    chain_rss, demo_rss = rss_of(url), rss_of(demo_url)
    lines.append(
        f"| {name} RSS | chain {chain_rss:.1f} MB vs demo {demo_rss:.1f} MB: "
        f"{chain_rss - demo_rss:+.1f} MB | | |"
    )
    return lines


def read_full_or_sample():  # type: ignore[no-untyped-def]
    from bot.catalog.feed import read_any

    return read_any(SAMPLE_CATALOG)


async def postgres_schema() -> str | None:
    try:
        db = await asyncio.wait_for(asyncpg.connect(POSTGRES_URL), 5)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return None
    schema = f"bench_catalog_{uuid.uuid4().hex[:8]}"
    await db.execute(f"CREATE SCHEMA {schema}")
    await db.close()
    return schema


async def drop(schema: str) -> None:
    db = await asyncpg.connect(POSTGRES_URL)
    await db.execute(f"DROP SCHEMA {schema} CASCADE")
    await db.close()


async def main() -> str:
    with tempfile.TemporaryDirectory(prefix="shopmax-chain-") as temp:
        folder = chain_feed(Path(temp) / "feed")
        baseline = demo_p95()
        rows = [
            "| backend | search p95 (goal ≤ 10 ms) | full import (≤ 60 s) | "
            "stock update of 50,000 rows (≤ 5 s) |",
            "|---|---|---|---|",
            f"| in-memory index, 200-product demo (baseline) | {baseline:.2f} ms | | |",
        ]
        rows += await backend(
            "sqlite", f"sqlite:///{temp}/chain.db", f"sqlite:///{temp}/demo.db", folder
        )
        schema = await postgres_schema()
        if schema is None:
            rows.append(f"| postgresql | not reachable at {POSTGRES_URL} | | |")
        else:
            demo_schema = await postgres_schema()
            assert demo_schema is not None
            try:
                rows += await backend(
                    "postgresql",
                    f"{POSTGRES_URL}?search_path={schema}",
                    f"{POSTGRES_URL}?search_path={demo_schema}",
                    folder,
                )
            finally:
                await drop(schema)
                await drop(demo_schema)
    head = (
        "Chain catalog benchmark: 16,500 products, 500 stores, ~1.3 million stock rows "
        f"(RSS goal: chain ≤ demo + 10 MB). Search: {ROUNDS} rounds of 8 filtered shapes."
    )
    return "\n".join([head, *rows])


def run() -> str:
    return asyncio.run(main())
