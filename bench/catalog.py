"""How long a catalog tool call takes: the FTS5 search against a plain Python scan, same run.

A tool call sits between two model rounds, so it should add nothing anyone could notice next
to a model's first token (hundreds of milliseconds). This prints per-search times for a mix of
staff-like queries and filters, for the SQLite FTS5 index the bot uses and for a naive scan
over every product (the baseline), and the ratio between them.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from bot.catalog.index import Catalog, SearchFilters
from bot.catalog.load import SAMPLE_CATALOG, load_catalog
from bot.catalog.product import Product

QUERIES: list[tuple[str, SearchFilters]] = [
    ("", SearchFilters(category="tv", max_price=50_000, city="Mumbai")),
    ("55 inch oled", SearchFilters()),
    ("ifb 6.5", SearchFilters(city="Hyderabad")),
    ("1.5 ton inverter", SearchFilters(category="ac", max_price=45_000)),
    ("samsung", SearchFilters(category="refrigerator")),
    ("iphone", SearchFilters()),
    ("", SearchFilters(category="laptop", min_price=60_000)),
    ("mixer grinder", SearchFilters(max_price=5_000, city="Chennai")),
]


def naive(products: list[Product], query: str, f: SearchFilters, limit: int = 8) -> list[Product]:
    """The baseline: check every product in Python."""
    words = query.lower().split()
    found = []
    for p in products:
        haystack = " ".join([p.name, p.brand, p.category, *p.specs.values()]).lower()
        if not all(w in haystack for w in words):
            continue
        if f.category and p.category != f.category:
            continue
        if f.brand and p.brand.lower() != f.brand.lower():
            continue
        if f.min_price is not None and p.price < f.min_price:
            continue
        if f.max_price is not None and p.price > f.max_price:
            continue
        if f.city and p.stock.get(f.city, 0) <= 0:
            continue
        found.append(p)
    return sorted(found, key=lambda p: p.price)[:limit]


def timed(search: Callable[[str, SearchFilters], object], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        for query, filters in QUERIES:
            started = time.perf_counter()
            search(query, filters)
            samples.append((time.perf_counter() - started) * 1e6)
    return samples


def run(rounds: int = 250) -> str:
    products = load_catalog(SAMPLE_CATALOG)
    started = time.perf_counter()
    catalog = Catalog(products)
    build_ms = (time.perf_counter() - started) * 1000
    fts = timed(lambda q, f: catalog.search(q, f), rounds)
    scan = timed(lambda q, f: naive(products, q, f), rounds)
    lines = [
        f"Catalog search benchmark: {len(products)} products, {len(QUERIES)} query shapes x "
        f"{rounds} rounds; index built in {build_ms:.1f} ms.",
        f"{'method':<14} {'median':>10} {'p99':>10} {'max':>10}",
    ]
    for name, samples in (("sqlite fts5", fts), ("python scan", scan)):
        ordered = sorted(samples)
        p99 = ordered[int(0.99 * (len(ordered) - 1))]
        lines.append(
            f"{name:<14} {statistics.median(samples):>8.0f}µs {p99:>8.0f}µs {ordered[-1]:>8.0f}µs"
        )
    ratio = statistics.median(scan) / statistics.median(fts)
    lines.append(
        f"\nfts5 median is {ratio:.1f}x the scan's speed; a tool call's search costs "
        f"{statistics.median(fts) / 1000:.2f} ms against a model round of ~500 ms."
    )
    return "\n".join(lines)
