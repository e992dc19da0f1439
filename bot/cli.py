"""The `shopmax-bot` command: `run` serves the bot, `ask` streams one answer in the terminal,
`catalog` checks, searches and describes the catalog, `usage` reports from the ledger."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Coroutine, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot import logs
from bot.accounting.totals import GROUPS, as_csv, as_table, grouped
from bot.app import ask, catalog_for, model_client, run, toolbox
from bot.catalog import SAMPLE_CATALOG, load_catalog, open_catalog
from bot.catalog.describe import describe
from bot.catalog.feed import read_any, read_partial
from bot.errors import CannotStart, CatalogError, KnowledgeError, SettingsError
from bot.knowledge import open_knowledge, read_folder
from bot.settings import Settings, load_settings
from bot.store import open_store
from bot.wording import texts


def build_parser() -> argparse.ArgumentParser:
    """The command line, with a help text for every command, argument and option."""
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="shopmax-bot", description=texts.CLI_DESCRIPTION, formatter_class=raw
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "run",
        help="serve the bot (Socket Mode, HTTP mode or web only)",
        description=texts.RUN_DESCRIPTION,
        formatter_class=raw,
    )
    ask_parser = commands.add_parser("ask", help="stream one answer in the terminal")
    ask_parser.add_argument("question", help="what to ask, in quotes")
    catalog_parser = commands.add_parser(
        "catalog",
        help="import and update the catalog, check feeds, search, describe products",
        description="The catalog lives in the store's database (DATABASE_URL); feeds are "
        "described in docs/catalog.md.",
    )
    catalog_commands = catalog_parser.add_subparsers(
        dest="catalog_command", required=True, metavar="CATALOG_COMMAND"
    )
    check_parser = catalog_commands.add_parser(
        "check",
        help="validate a full feed folder or a catalog file",
        description="Validate a full feed (a folder) or a single-file catalog: every bad row "
        "and field is named. Nothing is imported.",
    )
    check_parser.add_argument(
        "file", type=Path, help="a feed folder, or a .json or .csv catalog (docs/catalog.md)"
    )
    feed_import = catalog_commands.add_parser(
        "import",
        help="replace the catalog with a full feed",
        description="Make the catalog in DATABASE_URL hold exactly the feed in DIR (products, "
        "stores, stock; or a single-file catalog): checked whole first, nothing changed if any "
        "row is bad, then applied in one transaction. Running bots see it at their next answer.",
    )
    feed_import.add_argument("folder", type=Path, metavar="DIR", help="the full feed's folder")
    feed_update = catalog_commands.add_parser(
        "update",
        help="apply a partial feed: prices (sku,price,mrp) or stock (sku,store,units)",
        description="Change the prices or stock figures FILE names; its header says which. "
        "Every SKU and store must be in the catalog; a bad file changes nothing.",
    )
    feed_update.add_argument("file", type=Path, metavar="FILE", help="a .csv or .json file")
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
    search_parser = catalog_commands.add_parser(
        "search",
        help="search the catalog",
        description="Search the catalog in DATABASE_URL as Claude's search_products tool does "
        "(the sample catalog is imported while it is empty).",
    )
    search_parser.add_argument(
        "query", nargs="?", default="", help="words to match, e.g. '55 inch oled' (default: all)"
    )
    search_parser.add_argument("--category", help="only this category, e.g. tv")
    search_parser.add_argument("--brand", help="only this brand (any case), e.g. LG")
    search_parser.add_argument("--min-price", type=int, metavar="RUPEES", help="lowest price")
    search_parser.add_argument("--max-price", type=int, metavar="RUPEES", help="highest price")
    search_parser.add_argument("--city", help="only products in stock in this city")
    search_parser.add_argument("--store", help="only products in stock in this store (code)")
    search_parser.add_argument(
        "--limit", type=int, default=10, metavar="N", help="most results (default 10)"
    )
    web_parser = commands.add_parser("web", help="the browser chat's sessions")
    web_commands = web_parser.add_subparsers(
        dest="web_command", required=True, metavar="WEB_COMMAND"
    )
    web_commands.add_parser(
        "rotate-key",
        help="a new session signing key; every browser is signed out",
        description="Replace the key browser sessions are signed with (kept in the store, "
        "shared by every replica) and revoke every session: everyone signs in again.",
    )
    knowledge_parser = commands.add_parser(
        "knowledge", help="import, check and search the knowledge base (docs/knowledge.md)"
    )
    knowledge_commands = knowledge_parser.add_subparsers(
        dest="knowledge_command", required=True, metavar="KNOWLEDGE_COMMAND"
    )
    import_parser = knowledge_commands.add_parser(
        "import",
        help="import a folder of policies, offers and guides into the store",
        description="Make the knowledge base in DATABASE_URL hold exactly the documents of DIR: "
        "every file is checked first (each problem named, nothing imported if any), then new "
        "documents are added, changed ones replaced and gone ones removed, in one transaction.",
    )
    import_parser.add_argument("folder", type=Path, metavar="DIR", help="the documents' folder")
    check_knowledge = knowledge_commands.add_parser(
        "check", help="check a folder without importing it"
    )
    check_knowledge.add_argument("folder", type=Path, metavar="DIR", help="the documents' folder")
    find_parser = knowledge_commands.add_parser(
        "search", help="search the knowledge base as Claude's search_knowledge tool does"
    )
    find_parser.add_argument("query", help="words to match, e.g. 'return window tv'")
    find_parser.add_argument("--category", help="only documents about this category (or all)")
    usage_parser = commands.add_parser("usage", help="answers, tokens and cost from the ledger")
    usage_parser.add_argument(
        "--since",
        default="7d",
        type=_since,
        metavar="SPAN",
        help="how far back from now: 90m, 24h, 7d, 30d (default 7d)",
    )
    usage_parser.add_argument(
        "--by", default="day", choices=GROUPS, help="one line per ... (default day)"
    )
    usage_parser.add_argument("--csv", action="store_true", help="CSV for a spreadsheet")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_since_joined(sys.argv[1:] if argv is None else list(argv)))
    try:
        settings = load_settings()
        # A one-shot command's output is its answer, not a log: INFO lines stay out of it, and
        # out of `ask` (whose answer says what went wrong) warnings too. SHOPMAX_LOG_LEVEL=DEBUG
        # still shows everything.
        level = settings.log_level
        if args.command != "run" and level == "INFO":
            level = "ERROR" if args.command == "ask" else "WARNING"
        logs.configure(level, settings.log_format)
        if args.command == "run":
            serve(run(settings))
            return 0
        if args.command == "catalog":
            if args.catalog_command == "describe":
                settings.require_anthropic()
                return asyncio.run(describe_command(settings, args))
            return asyncio.run(catalog_command(settings, args))
        if args.command == "web":
            asyncio.run(rotate_key(settings))
            print(texts.KEY_ROTATED)
            return 0
        if args.command == "knowledge":
            return asyncio.run(knowledge_command(settings, args))
        if args.command == "usage":
            print(asyncio.run(usage(settings, args.since, args.by, csv=args.csv)).rstrip("\n"))
            return 0
        return asyncio.run(ask(settings, args.question, sys.stdout))
    except (SettingsError, CatalogError, KnowledgeError) as exc:
        print(f"shopmax-bot: {exc}", file=sys.stderr)
        return 2
    except CannotStart as exc:  # a port in use, a database out of reach: one line, no traceback
        print(f"shopmax-bot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def serve(main: Coroutine[Any, Any, None]) -> None:
    """Run the bot on uvloop where it is installed (Linux and macOS), else on asyncio's own
    loop. Under load the event loop's own work, a wake-up per streamed token of every answer,
    is much of what the bot does; uvloop does it for a fraction of the CPU, and a question
    arriving meanwhile reaches the model sooner."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


async def catalog_command(settings: Settings, args: argparse.Namespace) -> int:
    """`catalog check|import|update|search`; prints and returns the exit status (a bad feed
    raises `CatalogError`, which names every problem: exit 2)."""
    if args.catalog_command == "check":
        feed = read_any(args.file)
        cities = sorted({s.city for s in feed.stores})
        shown = ", ".join(cities[:10]) + (
            f" and {len(cities) - 10} more" if len(cities) > 10 else ""
        )
        print(
            f"{args.file}: {len(feed.products)} products, {len(feed.stores)} stores, "
            f"{len(feed.stock)} stock figures, OK ({shown or 'no stores'})"
        )
        return 0
    if args.catalog_command == "import":
        feed = read_any(args.folder)  # checked whole before the database is opened
        catalog = await open_catalog(settings.database_url)
        try:
            changes = await catalog.replace(feed, at=time.time())
        finally:
            await catalog.close()
        print(texts.catalog_applied(str(args.folder), changes.lines()))
        return 0
    if args.catalog_command == "update":
        partial = read_partial(args.file)
        catalog = await open_catalog(settings.database_url)
        try:
            if partial.kind == "prices":
                changes = await catalog.update_prices(partial.prices, at=time.time())
            else:
                changes = await catalog.update_stock(partial.stock, at=time.time())
        finally:
            await catalog.close()
        print(texts.catalog_applied(str(args.file), changes.lines()))
        return 0
    found = await catalog_for(settings, None)  # a search reads; SHOPMAX_CATALOG applies at start
    if found is None:
        print("the catalog tools are off (SHOPMAX_CATALOG_TOOLS=off)")
        return 1
    try:
        tools = toolbox(settings, found)
        assert tools is not None
        answer_tools = await tools.for_asker(None)
        wanted = {
            "query": args.query,
            "category": args.category,
            "brand": args.brand,
            "min_price": args.min_price,
            "max_price": args.max_price,
            "city": args.city,
            "store": args.store,
            "limit": max(1, min(args.limit, 10)),
        }
        result = await answer_tools.run(
            "search_products", {k: v for k, v in wanted.items() if v not in (None, "")}
        )
    finally:
        await found.close()
    if result.is_error:
        print(result.text, file=sys.stderr)
        return 1
    for product in result.data["products"]:
        held = ", ".join(product["in_stock_in"]) or "out of stock"
        print(f"{product['sku']:<13} ₹{product['price_inr']:>9,}  {product['name']}  [{held}]")
    if not result.data["products"]:
        print("no products match")
    return 0


async def knowledge_command(settings: Settings, args: argparse.Namespace) -> int:
    """`knowledge import DIR`, `knowledge check DIR`, `knowledge search QUERY`."""
    if args.knowledge_command in ("import", "check"):
        documents = read_folder(args.folder)  # KnowledgeError names every problem
        sections = sum(len(d.sections) for d in documents)
        if args.knowledge_command == "check":
            print(f"{args.folder}: {len(documents)} documents, {sections} sections, OK")
            return 0
    knowledge = await open_knowledge(settings.database_url)
    try:
        if args.knowledge_command == "import":
            report = await knowledge.replace_all(documents, at=time.time())
            print(texts.knowledge_imported(str(args.folder), report))
            return 0
        found = await knowledge.search(args.query, category=args.category, at=time.time(), limit=5)
    finally:
        await knowledge.close()
    for section in found:
        print(f"{section.title} › {section.heading or '(top)'}  [{section.path}]")
        for paragraph in section.paragraphs[:3]:
            print(f"    {paragraph[:100]}")
    if not found:
        print("nothing valid today matches")
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
        raise argparse.ArgumentTypeError(texts.bad_since(raw))
    if int(raw[:-1]) == 0:
        raise argparse.ArgumentTypeError(texts.empty_since(raw))
    return int(raw[:-1]) * units[raw[-1]]


def _since_joined(argv: list[str]) -> list[str]:
    """`--since -7d` as `--since=-7d`: argparse would take `-7d` for an option and answer
    `expected one argument`; joined, `_since` says what is wrong with it."""
    joined: list[str] = []
    for arg in argv:
        if joined and joined[-1] == "--since" and arg.startswith("-") and arg != "--":
            joined[-1] = f"--since={arg}"
        else:
            joined.append(arg)
    return joined


async def usage(settings: Settings, since_s: float, by: str, *, csv: bool) -> str:
    """The ledger since `since_s` seconds ago, grouped `by`, as a table with a total line or
    CSV; a table of nothing is one line saying so."""
    since = time.time() - since_s
    store = await open_store(settings.database_url)
    try:
        rows = await store.ledger(since)
    finally:
        await store.close()
    tz = ZoneInfo(settings.timezone)
    groups = grouped(rows, by, tz)
    if csv:
        return as_csv(groups, by)
    if not groups:
        return texts.no_answers_since(
            datetime.fromtimestamp(since, tz).strftime("%Y-%m-%d %H:%M %Z")
        )
    return as_table(groups, by)


async def rotate_key(settings: Settings) -> None:
    """`shopmax-bot web rotate-key`: a new session key in the store, every session revoked."""
    from bot.surfaces.web.sessions import SESSIONS_KEY

    store = await open_store(settings.database_url)
    try:
        await store.rotate_key(SESSIONS_KEY)
    finally:
        await store.close()
