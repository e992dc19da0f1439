"""The `shopmax-bot` command: `run` serves Slack, `ask` streams one answer in the terminal."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

import anthropic

from bot import logs
from bot.accounting.totals import GROUPS, as_csv, as_table, grouped
from bot.answering.conversation import build_messages
from bot.answering.prompt import system_prompt
from bot.app import model_client, run, toolbox
from bot.catalog import CATEGORIES, CITIES, SAMPLE_CATALOG, Catalog, SearchFilters, load_catalog
from bot.catalog.describe import describe
from bot.errors import CannotStart, CatalogError, ModelError, SettingsError
from bot.model.pricing import cost_usd
from bot.model.stream import Finished, ModelRequest, TextDelta, stream_answer
from bot.settings import Settings, load_settings
from bot.store import open_store
from bot.wording import texts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="shopmax-bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="serve Slack (Socket Mode or HTTP mode)")
    ask_parser = commands.add_parser("ask", help="stream one answer in the terminal")
    ask_parser.add_argument("question", help="what to ask, in quotes")
    catalog_parser = commands.add_parser("catalog", help="check or search a product catalog")
    catalog_commands = catalog_parser.add_subparsers(dest="catalog_command", required=True)
    check_parser = catalog_commands.add_parser("check", help="validate a catalog file")
    check_parser.add_argument("file", type=Path)
    describe_parser = catalog_commands.add_parser(
        "describe", help="write product descriptions (Message Batches API by default)"
    )
    describe_parser.add_argument(
        "--only-missing", action="store_true", help="skip products that already have a description"
    )
    describe_parser.add_argument("--limit", type=int, help="describe at most N products")
    describe_parser.add_argument("--model", help="model to use (default SHOPMAX_MODEL)")
    describe_parser.add_argument(
        "--no-batch",
        action="store_true",
        help="concurrent messages.create calls instead of a batch",
    )
    search_parser = catalog_commands.add_parser("search", help="search the configured catalog")
    search_parser.add_argument("query", nargs="?", default="")
    search_parser.add_argument("--category", choices=list(CATEGORIES))
    search_parser.add_argument("--brand")
    search_parser.add_argument("--min-price", type=int)
    search_parser.add_argument("--max-price", type=int)
    search_parser.add_argument("--city", choices=list(CITIES))
    search_parser.add_argument("--limit", type=int, default=10)
    usage_parser = commands.add_parser("usage", help="answers, tokens and cost from the ledger")
    usage_parser.add_argument("--since", default="7d", type=_since, help="e.g. 24h, 7d, 30d")
    usage_parser.add_argument("--by", default="day", choices=GROUPS)
    usage_parser.add_argument("--csv", action="store_true", help="CSV for a spreadsheet")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        logs.configure(settings.log_level, settings.log_format)
        if args.command == "run":
            asyncio.run(run(settings))
            return 0
        if args.command == "catalog":
            return catalog_command(settings, args)
        if args.command == "usage":
            print(asyncio.run(usage(settings, args.since, args.by, csv=args.csv)).rstrip("\n"))
            return 0
        settings.require_anthropic()
        return asyncio.run(ask(settings, args.question, sys.stdout))
    except (SettingsError, CatalogError) as exc:
        print(f"shopmax-bot: {exc}", file=sys.stderr)
        return 2
    except CannotStart as exc:  # a port in use, a database out of reach: one line, no traceback
        print(f"shopmax-bot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def catalog_command(settings: Settings, args: argparse.Namespace) -> int:
    """`catalog check FILE` and `catalog search ...`; prints and returns the exit status."""
    if args.catalog_command == "describe":
        settings.require_anthropic()
        return asyncio.run(describe_command(settings, args))
    if args.catalog_command == "check":
        products = load_catalog(args.file)  # CatalogError lists every problem
        cities = sorted({city for p in products for city in p.stock})
        print(f"{args.file}: {len(products)} products, OK ({', '.join(cities) or 'no stock'})")
        return 0
    catalog = Catalog(load_catalog(settings.catalog or SAMPLE_CATALOG))
    filters = SearchFilters(
        category=args.category,
        brand=args.brand,
        min_price=args.min_price,
        max_price=args.max_price,
        city=args.city,
    )
    found = catalog.search(args.query, filters, args.limit)
    for product in found:
        stock = ", ".join(f"{c} {n}" for c, n in product.stock.items() if n) or "out of stock"
        print(f"{product.sku:<13} ₹{product.price:>9,}  {product.name}  [{stock}]")
    if not found:
        print("no products match")
    return 0


async def describe_command(settings: Settings, args: argparse.Namespace) -> int:
    products = load_catalog(settings.catalog or SAMPLE_CATALOG)
    store = await open_store(settings.database_url)
    client = model_client(settings)
    try:
        result = await describe(
            client,
            store,
            products,
            model=args.model or settings.model,
            use_batch=not args.no_batch,
            only_missing=args.only_missing,
            limit=args.limit,
            usd_inr=settings.usd_inr,
            prices=settings.prices,
            poll_seconds=settings.batch_poll_seconds,
        )
    finally:
        await store.close()
        await client.close()
    print(f"{result.written} written, {result.skipped} skipped, {len(result.failed)} failed")
    for sku, reason in sorted(result.failed.items()):
        print(f"  failed: {sku} ({reason}); run again with --only-missing to retry")
    return 1 if result.failed else 0


def _since(raw: str) -> float:
    """`7d`, `24h` or `90m` as seconds."""
    units = {"d": 86400, "h": 3600, "m": 60}
    if len(raw) < 2 or raw[-1] not in units or not raw[:-1].isdigit():
        raise argparse.ArgumentTypeError(f"expected a span such as 24h, 7d or 30d, not {raw!r}")
    return int(raw[:-1]) * units[raw[-1]]


async def usage(settings: Settings, since_s: float, by: str, *, csv: bool) -> str:
    """The ledger since `since_s` seconds ago, grouped `by`, as a table or CSV."""
    store = await open_store(settings.database_url)
    try:
        rows = await store.ledger(time.time() - since_s)
    finally:
        await store.close()
    groups = grouped(rows, by, ZoneInfo(settings.timezone))
    return as_csv(groups, by) if csv else as_table(groups, by)


async def ask(
    settings: Settings,
    question: str,
    out: TextIO,
    model: anthropic.AsyncAnthropic | None = None,
) -> int:
    """Stream one answer to `out` the way the original ShopMax example did."""
    client = model or model_client(settings)
    tools = toolbox(settings)
    request = ModelRequest(
        model=settings.model,
        max_tokens=settings.max_tokens,
        system=system_prompt(settings.system_prompt_file, catalog=tools is not None),
        messages=build_messages([], question, settings.history_tokens),
    )
    out.write(texts.TERMINAL_PREFIX)
    out.flush()
    try:
        stream = stream_answer(
            client, request, time.monotonic, tools=tools, max_rounds=settings.tool_rounds
        )
        async for event in stream:
            if isinstance(event, TextDelta):
                out.write(event.text)
                out.flush()
            elif isinstance(event, Finished):
                stats = event.stats
                usage = stats.usage
                cost = texts.cost_text(
                    cost_usd(stats.model, usage, settings.prices), settings.usd_inr
                )
                out.write(
                    "\n\n"
                    + texts.terminal_stats(
                        input_tokens=usage.input_tokens,
                        output_tokens=usage.output_tokens,
                        duration_s=stats.duration_s,
                        ttft_s=stats.ttft_s,
                        stop_reason=stats.stop_reason,
                        cost=cost,
                    )
                    + "\n"
                )
    except ModelError as exc:
        out.write(f"\n\n{texts.NOTICE_MODEL_FAILED} ({exc})\n")
        return 1
    finally:
        if model is None:
            await client.close()
    return 0
