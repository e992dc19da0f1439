"""The catalog as Claude tools: what Claude may call, what each call does, and the status line
staff see while it runs.

`Toolbox(catalog)` is built once; each answer gets its own tools with
`await toolbox.for_asker(store_code)`: they read one view of the catalog pinned when the answer
starts (`Catalog.view()`), so a feed applied meanwhile never gives an answer half of each
catalog, and the next answer sees it. `store_code` is the asker's store (or None): `check_stock`
without a store or city answers for it, and names the other stores in its city that have the
product.

The schemas are the tools' contract and are enforced (`bot.model.tools.ToolSet` validates every
call against them): types, lengths, price bounds, no other fields. The known categories and
cities are listed in the schemas sent to Claude, built from the catalog as it is now (up to
`MAX_LISTED` of each); the values themselves are checked by the tools against the data, so a
category, brand, city or store the catalog does not know is an error naming the nearest known
ones, never a silent empty result. Results say when each price and stock figure last changed
(`changed_at`, IST), and stock not changed for `stale_hours` is marked `"stale": true`.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from bot.catalog.base import (
    MAX_QUERY_CHARS,
    Catalog,
    CatalogView,
    Filters,
    Product,
    Stock,
    Vocabulary,
)
from bot.model.tools import Tool, ToolResult, ToolSet
from bot.wording import texts

IST = timezone(timedelta(hours=5, minutes=30), "IST")
MAX_RESULTS = 10
MAX_PRICE = 10_000_000  # rupees: ₹1 crore, far above anything a store sells
MAX_LISTED = 300  # known values listed in a schema; more are checked but not listed
MAX_STORES_SHOWN = 20  # stores in one stock answer; the rest are counted
MAX_CITIES_SHOWN = 8  # cities in a search result's `in_stock_in`
NEAREST = 5
LISTED_IN_ERROR = 12  # known values named when none is near the one given
SHOWN_ARG = 80  # characters of a tool argument shown in a status line

_PRICE = {"type": "integer", "minimum": 0, "maximum": MAX_PRICE, "description": "rupees"}
_SKU = {
    "type": "string",
    "pattern": r"^\s*[A-Za-z0-9][A-Za-z0-9-]{0,39}\s*$",
    "description": "a ShopMax SKU such as SMX-TV-0037",
}
_NAME = {"type": "string", "minLength": 1, "maxLength": 60}
_STORE = {
    **_NAME,
    "description": "a ShopMax store's code (or its name); only that store",
}

SEARCH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "query": {
            "type": "string",
            "maxLength": MAX_QUERY_CHARS,
            "description": "a few words to match, e.g. '55 inch oled' or part of a model number",
        },
        "category": _NAME,
        "brand": {"type": "string", "minLength": 1, "maxLength": 60},
        "min_price": _PRICE,
        "max_price": _PRICE,
        "city": {**_NAME, "description": "only products in stock in a store in this city"},
        "store": {**_STORE, "description": "only products in stock in this store (its code)"},
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
    "properties": {
        "sku": _SKU,
        "city": {**_NAME, "description": "every store in this city"},
        "store": _STORE,
    },
    "required": ["sku"],
    "additionalProperties": False,
}


class UnknownValue(Exception):
    """A value the catalog does not know; the message names the nearest known ones."""


class Toolbox:
    """The catalog tools for Claude, over the catalog in the store (see the module
    docstring). `for_asker` gives one answer's tools."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        stale_hours: float = 24.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.catalog = catalog
        self.stale_s = stale_hours * 3600
        self.clock = clock
        self._schemas: tuple[Vocabulary, list[dict[str, Any]]] | None = None

    async def for_asker(self, store: str | None = None) -> AnswerTools:
        """The tools for one answer: its own view of the catalog, pinned now, and the asker's
        store code (None: not known). An unknown store code is treated as none."""
        view = await self.catalog.view()
        vocabulary = await view.vocabulary()
        asker = store.strip().upper() if store else None
        return AnswerTools(
            view,
            vocabulary,
            self._schemas_for(vocabulary),
            asker=asker if asker in vocabulary.stores else None,
            stale_s=self.stale_s,
            clock=self.clock,
        )

    def _schemas_for(self, vocabulary: Vocabulary) -> list[dict[str, Any]]:
        """The schemas Claude is sent, the same object while the known values stay the same
        (so the request's tools, and their prompt cache, stay the same too)."""
        if self._schemas is not None and _same_lists(self._schemas[0], vocabulary):
            return self._schemas[1]
        schemas = [
            _with_known(SEARCH_SCHEMA, vocabulary),
            PRODUCT_SCHEMA,
            _with_known(STOCK_SCHEMA, vocabulary),
        ]
        self._schemas = (vocabulary, schemas)
        return schemas


class AnswerTools(ToolSet):
    """One answer's catalog tools over its pinned view (`bot.model.tools.Tools`)."""

    def __init__(
        self,
        view: CatalogView,
        vocabulary: Vocabulary,
        schemas: list[dict[str, Any]],
        *,
        asker: str | None,
        stale_s: float,
        clock: Callable[[], float],
    ) -> None:
        self.view = view
        self.vocabulary = vocabulary
        self.asker = asker
        self.stale_s = stale_s
        self.clock = clock
        super().__init__(
            [
                Tool(
                    "search_products",
                    "Search the ShopMax India catalog. Returns matching products with SKU, "
                    "name, brand, price and MRP in rupees (and when the price last changed) and "
                    "the cities with stock. Use it for any question about what ShopMax sells, "
                    "prices or availability; part of a model number finds it too.",
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
                    "Units in stock for one SKU: in one store, in every store of a city, or "
                    "(with neither) in the asker's own store and the other stores of its city "
                    "that have it. Each figure says when it last changed; stale ones are marked.",
                    STOCK_SCHEMA,
                    self._stock,
                ),
            ]
        )
        # Claude is sent the schemas listing the catalog's categories and cities; the checks
        # stay the fixed ones above, compiled once (`bot.model.tools`): a feed's values are
        # never compiled, and an unknown one gets the handler's nearest known values.
        self.schemas = [
            {**tool, "input_schema": schema}
            for tool, schema in zip(self.schemas, schemas, strict=True)
        ]

    async def _search(self, args: dict[str, Any]) -> ToolResult:
        try:
            filters = Filters(
                category=_known(args.get("category"), self.vocabulary.categories, "category"),
                brand=_known(args.get("brand"), self.vocabulary.brands, "brand"),
                min_price=_whole(args.get("min_price")),
                max_price=_whole(args.get("max_price")),
                city=_known(args.get("city"), self.vocabulary.cities, "city"),
                store=self._store(args.get("store")),
            )
        except UnknownValue as exc:
            return ToolResult(str(exc), True)
        limit = _whole(args.get("limit")) or 8
        found = await self.view.search(args.get("query") or "", filters, limit)
        cities = await self._cities([p.sku for p in found])
        return ToolResult.json(
            {"count": len(found), "products": [self._summary(p, cities) for p in found]}
        )

    async def _product(self, args: dict[str, Any]) -> ToolResult:
        sku = args["sku"].strip().upper()
        product = (await self.view.products([sku])).get(sku)
        if product is None:
            return ToolResult(f"No product with SKU {args['sku'].strip()!r}.", True)
        stock = await self.view.stock([sku])
        cities = await self._cities([sku])
        shown, more = self._ranked(stock)
        details = {
            **self._summary(product, cities),
            "specs": dict(product.specs),
            "warranty": product.warranty,
            **self._stock_fields(shown, more),
        }
        return ToolResult.json(details)

    async def _stock(self, args: dict[str, Any]) -> ToolResult:
        sku = args["sku"].strip().upper()
        try:
            store = self._store(args.get("store"))
            city = _known(args.get("city"), self.vocabulary.cities, "city")
        except UnknownValue as exc:
            return ToolResult(str(exc), True)
        product = (await self.view.products([sku])).get(sku)
        if product is None:
            return ToolResult(f"No product with SKU {args['sku'].strip()!r}.", True)
        result: dict[str, Any] = {"sku": product.sku, "name": product.name}
        here = store or (None if city else self.asker)
        if here is not None:
            own = self.vocabulary.stores[here]
            rows = await self.view.stock([sku], city=own.city)
            mine = [r for r in rows if r.store.code == here] or [
                Stock(sku, own, 0, product.changed_at)
            ]
            others = [r for r in rows if r.store.code != here and r.units > 0]
            shown, more = self._ranked(others)
            result["store"] = here if store else None
            result["your_store"] = None if store else here
            result = {k: v for k, v in result.items() if v is not None}
            fields = self._stock_fields([*mine, *shown], more)
            result.update(fields)
            result["other_stores_in_city_with_stock"] = len(others)
            return ToolResult.json(result)
        rows = await self.view.stock([sku], city=city)
        if city is None and len(rows) > MAX_STORES_SHOWN:
            rows = [r for r in rows if r.units > 0]  # at chain scale: where it is in stock
        shown, more = self._ranked(rows)
        if city:
            result["city"] = city
        result.update(self._stock_fields(shown, more))
        if not rows:
            result["note"] = "no store has it in stock" if city is None else f"no store in {city}"
        return ToolResult.json(result)

    # ---- pieces --------------------------------------------------------------------------

    def _store(self, value: Any) -> str | None:
        """A store code from a code or a store's name (any case), or `UnknownValue`."""
        if not isinstance(value, str) or not value.strip():
            return None
        wanted = value.strip()
        stores = self.vocabulary.stores
        if wanted.upper() in stores:
            return wanted.upper()
        for code, store in stores.items():
            if store.name.lower() == wanted.lower():
                return code
        names = {**{c: c for c in stores}, **{s.name: c for c, s in stores.items()}}
        nearest = difflib.get_close_matches(wanted, list(names), n=NEAREST, cutoff=0.5)
        if not nearest:
            nearest = difflib.get_close_matches(wanted.upper(), list(stores), n=NEAREST, cutoff=0.3)
        shown = ", ".join(
            f"{names[n]} ({stores[names[n]].name}, {stores[names[n]].city})" for n in nearest
        )
        raise UnknownValue(
            f"The catalog has no store {_arg(wanted)!r}. "
            + (f"Nearest known stores: {shown}." if shown else "Give a store's code.")
            + " Search without it to look everywhere."
        )

    async def _cities(self, skus: Sequence[str]) -> dict[str, list[str]]:
        rows = await self.view.stock(skus) if skus else []
        cities: dict[str, list[str]] = {}
        for row in rows:
            if row.units > 0 and row.store.city not in cities.setdefault(row.sku, []):
                cities[row.sku].append(row.store.city)
        return cities

    def _summary(self, product: Product, cities: Mapping[str, list[str]]) -> dict[str, Any]:
        held = sorted(cities.get(product.sku, []))
        summary: dict[str, Any] = {
            "sku": product.sku,
            "name": product.name,
            "brand": product.brand,
            "category": product.category,
            "price_inr": product.price,
            "mrp_inr": product.mrp,
            "price_changed_at": _iso(product.changed_at),
            "in_stock_in": held[:MAX_CITIES_SHOWN],
        }
        if len(held) > MAX_CITIES_SHOWN:
            summary["in_stock_in_more_cities"] = len(held) - MAX_CITIES_SHOWN
        return summary

    def _ranked(self, rows: Sequence[Stock]) -> tuple[list[Stock], int]:
        """The rows to show (the asker's city first, then most units) and how many more."""
        city = self.vocabulary.stores[self.asker].city if self.asker else None
        ordered = sorted(
            rows, key=lambda r: (r.store.city != city, -r.units, r.store.city, r.store.code)
        )
        return ordered[:MAX_STORES_SHOWN], max(0, len(ordered) - MAX_STORES_SHOWN)

    def _stock_fields(self, rows: Sequence[Stock], more: int) -> dict[str, Any]:
        """`stock` (units by store name, what an answer quotes) and `stores` (each figure
        with its store, city and when it last changed, marked stale when old)."""
        now = self.clock()
        stores = []
        for row in rows:
            entry: dict[str, Any] = {
                "store": row.store.code,
                "name": row.store.name,
                "city": row.store.city,
                "units": row.units,
                "changed_at": _iso(row.changed_at),
            }
            if row.store.area:
                entry["area"] = row.store.area
            if now - row.changed_at > self.stale_s:
                entry["stale"] = True
            stores.append(entry)
        fields: dict[str, Any] = {
            "stock": {row.store.name: row.units for row in rows},
            "stores": stores,
        }
        if rows:
            fields["as_of"] = _iso(min(row.changed_at for row in rows))
        if more:
            fields["more_stores"] = more
        return fields


def status_line(name: str, args: dict[str, Any]) -> str:
    """What staff see while a tool runs, e.g. "Looking up tv under ₹50,000…".

    It is shown before the call is validated, so it takes only values of the expected type and
    a readable length, and never fails: a wrong argument is simply not described.
    """
    if name == "search_products":
        category = _category_label(_text(args.get("category")))
        what = category or _text(args.get("query")) or "products"
        brand = _text(args.get("brand"))
        if brand and category:
            what = f"{brand} {what}"
        parts = [what]
        max_price = _whole(args.get("max_price"), bounded=True)
        if max_price:
            parts.append(f"under ₹{max_price:,}")
        where = _text(args.get("store")) or _text(args.get("city"))
        if where:
            parts.append(f"in stock in {where}")
        return texts.looking_up(" ".join(parts))
    if name == "check_stock":
        where = _text(args.get("store")) or _text(args.get("city"))
        return texts.checking_stock(_text(args.get("sku")), where or None)
    return texts.looking_up(_text(args.get("sku")) or "the product")


def _category_label(category: str) -> str:
    """A category as staff read it: "tv" → "TVs", "washing_machine" → "washing machines"."""
    words = category.replace("_", " ").split()
    if not words:
        return ""
    last = words[-1]
    if len(last) <= 3 and last.isalpha():
        last = last.upper()
    words[-1] = last if last.lower().endswith("s") else last + "s"
    return " ".join(words)


def _with_known(schema: dict[str, Any], vocabulary: Vocabulary) -> dict[str, Any]:
    """`schema` with the catalog's categories and cities listed (when not too many)."""
    properties = dict(schema["properties"])
    for field_name, values in (("category", vocabulary.categories), ("city", vocabulary.cities)):
        if field_name in properties and values and len(values) <= MAX_LISTED:
            properties[field_name] = {**properties[field_name], "enum": list(values)}
    return {**schema, "properties": properties}


def _same_lists(a: Vocabulary, b: Vocabulary) -> bool:
    return a.categories == b.categories and a.cities == b.cities


def _known(value: Any, known: Sequence[str], what: str) -> str | None:
    """`value` as the catalog spells it (any case), None when not given, or `UnknownValue`
    naming the nearest known values."""
    if not isinstance(value, str) or not value.strip():
        return None
    wanted = value.strip()
    lowered = {k.lower(): k for k in known}
    singular = {k.rstrip("s"): v for k, v in lowered.items()}
    for form in (wanted.lower(), wanted.lower().replace(" ", "_")):
        if form in lowered:
            return lowered[form]
        if form.rstrip("s") in singular:  # "headphone" is "headphones", "tvs" is "tv"
            return singular[form.rstrip("s")]
    nearest = difflib.get_close_matches(wanted.lower(), list(lowered), n=NEAREST, cutoff=0.6)
    if not nearest:
        nearest = [k for k in lowered if wanted.lower()[:3] in k][:NEAREST]
    plural = {"category": "categories", "city": "cities"}.get(what, what + "s")
    if nearest:
        known_part = f"Nearest known {plural}: {', '.join(lowered[n] for n in nearest)}."
    else:
        shown = ", ".join(known[:LISTED_IN_ERROR])
        more = f" and {len(known) - LISTED_IN_ERROR} more" if len(known) > LISTED_IN_ERROR else ""
        known_part = f"Known {plural}: {shown}{more}."
    hint = " Search without it to look everywhere." if what in ("city", "store") else ""
    raise UnknownValue(f"The catalog has no {what} {_arg(wanted)!r}. {known_part}{hint}")


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).astimezone(IST).isoformat(timespec="minutes")


def _arg(value: str) -> str:
    return value if len(value) <= SHOWN_ARG else value[: SHOWN_ARG - 1] + "…"


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
