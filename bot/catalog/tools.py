"""The catalog as Claude tools: what Claude may call, what each call does, and the status line
staff see while it runs.

The schemas are the tools' contract and are enforced (`bot.model.tools.ToolSet` validates every
call against them), so they say exactly what a call may hold: types, lengths, price bounds, the
known categories and cities, no other fields. A search runs on a worker thread: full-text search
is the one piece of catalog work that grows with its input, and the event loop must stay free
to acknowledge Slack within its three seconds.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.catalog import CATEGORIES, CITIES, Catalog, SearchFilters
from bot.catalog.index import MAX_QUERY_CHARS
from bot.model.tools import Tool, ToolResult, ToolSet
from bot.wording import texts

MAX_RESULTS = 10
MAX_PRICE = 10_000_000  # rupees: ₹1 crore, far above anything a store sells
SHOWN_ARG = 80  # characters of a tool argument shown in a status line

_PRICE = {"type": "integer", "minimum": 0, "maximum": MAX_PRICE, "description": "rupees"}
_SKU = {
    "type": "string",
    "pattern": r"^\s*[A-Za-z0-9][A-Za-z0-9-]{0,39}\s*$",
    "description": "a ShopMax SKU such as SMX-TV-0037",
}
_CITY = {"type": "string", "enum": list(CITIES)}

SEARCH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "query": {
            "type": "string",
            "maxLength": MAX_QUERY_CHARS,
            "description": "a few words to match, e.g. '55 inch oled'",
        },
        "category": {"type": "string", "enum": list(CATEGORIES)},
        "brand": {"type": "string", "minLength": 1, "maxLength": 40},
        "min_price": _PRICE,
        "max_price": _PRICE,
        "city": {**_CITY, "description": "only products in stock in this store city"},
        "limit": {"type": "integer", "minimum": 1, "maximum": MAX_RESULTS},
    },
    "additionalProperties": False,
}
PRODUCT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"sku": _SKU},
    "required": ["sku"],
    "additionalProperties": False,
}
STOCK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"sku": _SKU, "city": _CITY},
    "required": ["sku"],
    "additionalProperties": False,
}


class Toolbox(ToolSet):
    """The catalog tools for Claude, over one `Catalog`."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        super().__init__(
            [
                Tool(
                    "search_products",
                    "Search the ShopMax India catalog. Returns matching products with SKU, name, "
                    "brand, price and MRP in rupees and the store cities that have stock. Use it "
                    "for any question about what ShopMax sells, prices or availability.",
                    SEARCH_SCHEMA,
                    self._search,
                ),
                Tool(
                    "get_product",
                    "Full details of one product by SKU: specs, warranty, price, MRP, stock.",
                    PRODUCT_SCHEMA,
                    self._product,
                ),
                Tool(
                    "check_stock",
                    "Units in stock for one SKU, in one store city or all of them.",
                    STOCK_SCHEMA,
                    self._stock,
                ),
            ]
        )

    async def _search(self, args: dict[str, Any]) -> ToolResult:
        filters = SearchFilters(
            category=args.get("category"),
            brand=args.get("brand"),
            min_price=_whole(args.get("min_price")),
            max_price=_whole(args.get("max_price")),
            city=args.get("city"),
        )
        limit = _whole(args.get("limit")) or 8
        query = args.get("query") or ""
        found = await asyncio.to_thread(self.catalog.search, query, filters, limit)
        return ToolResult.json({"count": len(found), "products": [p.summary() for p in found]})

    async def _product(self, args: dict[str, Any]) -> ToolResult:
        product = self.catalog.get(args["sku"])
        if product is None:
            return ToolResult(f"No product with SKU {args['sku']!r}.", True)
        return ToolResult.json(product.details())

    async def _stock(self, args: dict[str, Any]) -> ToolResult:
        product = self.catalog.get(args["sku"])
        if product is None:
            return ToolResult(f"No product with SKU {args['sku']!r}.", True)
        city = args.get("city")
        stock = {city: product.stock.get(city, 0)} if city else product.stock
        return ToolResult.json({"sku": product.sku, "name": product.name, "stock": stock})


def status_line(name: str, args: dict[str, Any]) -> str:
    """What staff see while a tool runs, e.g. "Looking up TVs under ₹50,000…".

    It is shown before the call is validated, so it takes only values of the expected type and
    a readable length, and never fails: a wrong argument is simply not described.
    """
    if name == "search_products":
        category = CATEGORIES.get(_text(args.get("category")))
        what = category or _text(args.get("query")) or "products"
        brand = _text(args.get("brand"))
        if brand and category:
            what = f"{brand} {what}"
        parts = [what]
        max_price = _whole(args.get("max_price"), bounded=True)
        if max_price:
            parts.append(f"under ₹{max_price:,}")
        if _text(args.get("city")):
            parts.append(f"in stock in {_text(args.get('city'))}")
        return texts.looking_up(" ".join(parts))
    if name == "check_stock":
        return texts.checking_stock(_text(args.get("sku")), _text(args.get("city")) or None)
    return texts.looking_up(_text(args.get("sku")) or "the product")


def _text(value: Any) -> str:
    """A string argument as shown to staff: one line, cut to a readable length."""
    if not isinstance(value, str):
        return ""
    shown = " ".join(value.split())
    return shown if len(shown) <= SHOWN_ARG else shown[: SHOWN_ARG - 1] + "…"


def _whole(value: Any, *, bounded: bool = False) -> int | None:
    """A whole number argument (JSON Schema counts 5.0 as an integer); None for anything else,
    or, when `bounded`, for anything outside the schema's price range."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    if bounded and not 0 <= value <= MAX_PRICE:
        return None
    return int(value)
