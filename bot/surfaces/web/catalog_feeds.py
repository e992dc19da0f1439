"""`POST /api/catalog/{products,stores,stock,prices}`: a POS or ERP pushing a feed (the
contract: docs/catalog.md), with its own bearer credential, `SHOPMAX_CATALOG_TOKEN`.

The route exists only when the token is set (404 otherwise). A wrong or missing bearer is
401 and counts toward the address's wrong credentials (`Tries`, shared with every other
token: 429 once it has guessed too often this minute). The body is CSV (JSON when sent as
`application/json`), at most `FEED_LIMIT` bytes (413). It is checked whole: a bad one is 422
with every problem named (up to the limit) and changes nothing; a good one is applied in one
transaction and answered 200 with the rows added, changed and removed per table.

* `products`: the products table pushed whole (stock of a product not in it goes with it);
* `stores`: the stores table pushed whole (stock in a store not in it goes with it);
* `stock`: `sku,store,units` figures to change (others stay as they are);
* `prices`: `sku,price,mrp` to change (others stay as they are).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.catalog.base import Catalog, Changes
from bot.catalog.feed import table_from
from bot.errors import CatalogError
from bot.surfaces.web.access import Tries, bearer, error, same
from bot.wording import texts

log = logging.getLogger(__name__)

# A whole chain's products are about 3 MB; a push is parsed in the bot's own memory (about 30
# times its size at its peak), so bigger feeds go through `shopmax-bot catalog import/update`.
FEED_LIMIT = 16 * 1024 * 1024
BUSY_RETRY = 5  # seconds a push that finds another being applied is told to wait
KINDS = ("products", "stores", "stock", "prices")


@dataclass
class CatalogFeeds:
    catalog: Catalog
    token: str
    tries: Tries
    applying: asyncio.Lock = field(default_factory=asyncio.Lock)  # one push at a time


FEEDS = web.AppKey("catalog_feeds", CatalogFeeds)


def add_routes(app: web.Application, feeds: CatalogFeeds) -> None:
    app[FEEDS] = feeds
    app.router.add_post("/api/catalog/{kind}", push)


async def push(request: web.Request) -> web.Response:
    feeds = request.app[FEEDS]
    kind = request.match_info["kind"]
    if kind not in KINDS:
        return error(404, texts.CATALOG_NO_SUCH_FEED)
    given = bearer(request)
    # The token is compared first: wrong guesses from the POS's address (behind a proxy, every
    # client's) must not lock the POS itself out, so only wrong bearers meet the limiter.
    if given is None or not same(given, feeds.token):
        if feeds.tries.blocked(request):
            return error(429, texts.WEB_TOO_MANY_TRIES)
        if request.headers.get("Authorization"):
            feeds.tries.note(request)
        response = error(401, texts.CATALOG_UNAUTHORISED)
        response.headers["WWW-Authenticate"] = 'Bearer realm="catalog"'
        return response
    if feeds.applying.locked():
        response = error(429, texts.CATALOG_BUSY)
        response.headers["Retry-After"] = str(BUSY_RETRY)
        return response
    async with feeds.applying:
        return await _take(request, feeds, kind)


async def _take(request: web.Request, feeds: CatalogFeeds, kind: str) -> web.Response:
    body = await _body(request)
    if body is None:
        return error(413, texts.catalog_too_big(FEED_LIMIT))
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return error(400, texts.CATALOG_NOT_UTF8)
    fmt = "json" if request.content_type == "application/json" else "csv"
    try:
        rows = await asyncio.to_thread(table_from, text, kind, fmt, f"the {kind} feed")
        changes = await _apply(feeds.catalog, kind, rows)
    except CatalogError as exc:
        return web.json_response({"error": exc.args[0], "problems": exc.problems}, status=422)
    log.info(texts.catalog_applied(f"a pushed {kind} feed", changes.lines()))
    return web.json_response({"generation": changes.generation, **changes.as_dict()})


async def _apply(catalog: Catalog, kind: str, rows: Any) -> Changes:
    at = time.time()
    if kind == "products":
        return await catalog.replace_products(rows, at=at)
    if kind == "stores":
        return await catalog.replace_stores(rows, at=at)
    if kind == "stock":
        return await catalog.update_stock(rows, at=at)
    return await catalog.update_prices(rows, at=at)


async def _body(request: web.Request) -> bytes | None:
    """The whole body, or None when it is larger than `FEED_LIMIT` (read in pieces as it
    arrives; aiohttp's own one-megabyte cap on `read()` is for the other routes)."""
    if request.content_length is not None and request.content_length > FEED_LIMIT:
        return None
    raw = bytearray()
    while len(raw) <= FEED_LIMIT:
        piece = await request.content.read(min(1 << 20, FEED_LIMIT + 1 - len(raw)))
        if not piece:
            break
        raw += piece
    return None if len(raw) > FEED_LIMIT else bytes(raw)
