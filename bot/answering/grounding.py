"""What one answer is grounded in: the facts its tools returned (for checking its figures)
and the sources it cited, numbered in the order first cited.

The stream's `ToolRan` events feed `Grounding.ran`, its `Cited` events `Grounding.cite` (which
gives the markers, "[1]", put in the text after what was cited); before the answer's final
edit, `Grounding.check` asks the catalog for the current prices and stock of every SKU
involved and checks the text (`bot.wording.figures`). The catalog now is any object with
`prices_now` and `names_now` (`CatalogNow`): the bot's is the store-backed catalog's
(`bot.catalog.now.CatalogFigures`); `CatalogPrices` is the in-memory index's (tests, bench).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from bot.catalog.index import Catalog
from bot.model.citations import Reference
from bot.model.stream import Cited, ToolRan
from bot.wording.figures import (
    CatalogNow,
    Checked,
    Facts,
    Names,
    ProductNow,
    check,
    find,
    vocabulary,
)

log = logging.getLogger(__name__)


class Grounding:
    def __init__(self, question: str = "") -> None:
        self.facts = Facts(asked=question)
        self.sources: list[Reference] = []
        self.tools_used = 0  # calls that returned something: a failed one grounds nothing

    def ran(self, event: ToolRan) -> None:
        """A tool's result: its products and text count as returned; what the model asked it
        (a budget, a SKU) counts as asked. A failed call counts for nothing but what it asked."""
        self.facts.asked += "\n" + _asked(event.args)
        result = event.result
        if result.is_error:
            return
        self.tools_used += 1
        data = result.data
        if isinstance(data, Mapping) and isinstance(data.get("sku"), str):
            self.facts.add_product(data)
        elif isinstance(data, Mapping) and isinstance(data.get("products"), list):
            for product in data["products"]:
                if isinstance(product, Mapping):
                    self.facts.add_product(product)
        else:
            self.facts.add_text(result.text)

    def cite(self, event: Cited) -> str:
        """The markers for a cited block, numbering each source the first time it is cited."""
        numbers = []
        for reference in event.references:
            if reference not in self.sources:
                self.sources.append(reference)
            numbers.append(self.sources.index(reference) + 1)
        return "".join(f"[{n}]" for n in numbers)

    async def check(self, text: str, catalog: CatalogNow | None) -> Checked:
        """`text` checked against the tools' results and, where it can be asked, the catalog
        now (a catalog that fails leaves the tools' results to check against)."""
        if catalog is not None:
            try:
                self.facts.catalog = await catalog.names_now()
            except Exception as exc:  # the SKUs are then found by the demo's pattern
                log.warning("could not ask the catalog for its names: %r", exc)
            found = find(text, vocabulary(self.facts))
            skus = set(self.facts.skus) | {f.text.upper() for f in found if f.kind == "sku"}
            try:
                self.facts.add_now(await catalog.prices_now(sorted(skus)))
            except Exception as exc:  # the catalog's database away: one line, no traceback
                log.warning("could not ask the catalog for current prices: %r", exc)
        return check(text, self.facts)


class CatalogPrices:
    """`CatalogNow` over the in-memory index of a catalog file (tests and the bench's baseline)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    async def prices_now(self, skus: Sequence[str]) -> dict[str, ProductNow]:
        found = {}
        for sku in skus:
            product = self.catalog.get(sku)
            if product is not None:
                found[product.sku] = ProductNow(product.price, product.mrp, dict(product.stock))
        return found

    async def names_now(self) -> Names:
        products = self.catalog.products.values()
        places = {city.lower() for product in products for city in product.stock}
        return Names(frozenset(self.catalog.products), frozenset(places))


def _asked(args: Mapping[str, Any]) -> str:
    """A tool call's arguments as text the figure finder reads: prices as rupees."""
    parts = []
    for name, value in args.items():
        if "price" in name and isinstance(value, int | float) and not isinstance(value, bool):
            parts.append(f"₹{int(value)}")
        elif isinstance(value, str):
            parts.append(value[:200])
    return " ".join(parts)
