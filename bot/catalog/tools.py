"""The catalog as Claude tools: what Claude may call, running a call, and the status line staff
see while it runs.

Tools never raise into the answer: a bad input or an unknown SKU becomes a tool result with
`is_error`, which Claude reads and answers around ("I couldn't find that SKU").
"""

from __future__ import annotations

import json
from typing import Any

from bot.catalog import CATEGORIES, CITIES, Catalog, SearchFilters
from bot.model.tools import ToolResult
from bot.wording import texts

MAX_RESULTS = 10

SCHEMAS: list[dict[str, Any]] = [
    {
        "name": "search_products",
        "description": (
            "Search the ShopMax India catalog. Returns matching products with SKU, name, brand, "
            "price and MRP in rupees and the store cities that have stock. Use it for any "
            "question about what ShopMax sells, prices or availability."
        ),
        "input_schema": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "words to match, e.g. '55 inch oled'"},
                "category": {"type": "string", "enum": list(CATEGORIES)},
                "brand": {"type": "string"},
                "min_price": {"type": "integer", "description": "rupees"},
                "max_price": {"type": "integer", "description": "rupees"},
                "city": {
                    "type": "string",
                    "enum": list(CITIES),
                    "description": "only products in stock in this store city",
                },
                "limit": {"type": "integer", "minimum": 1, "maximum": MAX_RESULTS},
            },
        },
    },
    {
        "name": "get_product",
        "description": "Full details of one product by SKU: specs, warranty, price, MRP, stock.",
        "input_schema": {
            "type": "object",
            "properties": {"sku": {"type": "string"}},
            "required": ["sku"],
        },
    },
    {
        "name": "check_stock",
        "description": "Units in stock for one SKU, in one store city or all of them.",
        "input_schema": {
            "type": "object",
            "properties": {
                "sku": {"type": "string"},
                "city": {"type": "string", "enum": list(CITIES)},
            },
            "required": ["sku"],
        },
    },
]


class Toolbox:
    """Runs catalog tool calls for Claude."""

    schemas = SCHEMAS

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    async def run(self, name: str, args: dict[str, Any]) -> ToolResult:
        try:
            if name == "search_products":
                return self._search(args)
            if name == "get_product":
                product = self.catalog.get(str(args["sku"]))
                if product is None:
                    return ToolResult(f"No product with SKU {args['sku']!r}.", True)
                return _json(product.details())
            if name == "check_stock":
                return self._stock(args)
        except (KeyError, TypeError, ValueError) as exc:
            return ToolResult(f"Bad input for {name}: {exc}", True)
        return ToolResult(f"There is no tool called {name!r}.", True)

    def _search(self, args: dict[str, Any]) -> ToolResult:
        filters = SearchFilters(
            category=args.get("category"),
            brand=args.get("brand"),
            min_price=_int(args.get("min_price")),
            max_price=_int(args.get("max_price")),
            city=args.get("city"),
        )
        limit = max(1, min(_int(args.get("limit")) or 8, MAX_RESULTS))
        found = self.catalog.search(str(args.get("query") or ""), filters, limit)
        return _json({"count": len(found), "products": [p.summary() for p in found]})

    def _stock(self, args: dict[str, Any]) -> ToolResult:
        product = self.catalog.get(str(args["sku"]))
        if product is None:
            return ToolResult(f"No product with SKU {args['sku']!r}.", True)
        city = args.get("city")
        stock = {city: product.stock.get(city, 0)} if city else product.stock
        return _json({"sku": product.sku, "name": product.name, "stock": stock})


def status_line(name: str, args: dict[str, Any]) -> str:
    """What staff see while a tool runs, e.g. "Looking up TVs under ₹50,000…"."""
    if name == "search_products":
        what = CATEGORIES.get(str(args.get("category")), "") or str(args.get("query") or "products")
        if args.get("brand") and args.get("category"):
            what = f"{args['brand']} {what}"
        parts = [what]
        if args.get("max_price"):
            parts.append(f"under ₹{_int(args['max_price']):,}")
        if args.get("city"):
            parts.append(f"in stock in {args['city']}")
        return texts.looking_up(" ".join(parts))
    if name == "check_stock":
        return texts.checking_stock(str(args.get("sku", "")), args.get("city"))
    return texts.looking_up(str(args.get("sku", "the product")))


def _int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def _json(value: Any) -> ToolResult:
    return ToolResult(json.dumps(value, ensure_ascii=False))
