"""Every tool result Claude gets as search results it can cite: the knowledge base's sections
and the catalog's products alike (citations are all on or all off in one request).

`CitedTools` puts the catalog's tools and `search_knowledge` into one tool set. It is a layer
over what the catalog tools return, not a change to them: a result that is a product (a JSON
object with a `sku`) becomes one `search_result`, and one holding a list of `products` becomes
one per product, after a text block with its other fields. Each product's source names its SKU
(`sku:SMX-TV-0002`), and its facts carry the time its price and stock were read (the
product's own `as_of`, Unix or ISO time, when the catalog gives one; else the moment the tool
returned).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.model.citations import Reference, facts_of, search_result
from bot.model.tools import Tool, ToolResult, Tools, ToolSet, tools_for_asker


class CitedTools:
    """The tools for Claude (`bot.model.tools.Tools`), every product a search result."""

    def __init__(
        self,
        catalog: Tools | None,
        knowledge: Sequence[Tool] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.catalog = catalog
        self._knowledge = tuple(knowledge)
        self.knowledge = ToolSet(knowledge)
        self.clock = clock
        self.names = {tool.name for tool in knowledge}
        self.schemas = [*(catalog.schemas if catalog else []), *self.knowledge.schemas]

    async def for_asker(self, store: str | None) -> Tools:
        """These tools with the catalog's made for the asker's store (`ForAsker`)."""
        catalog = await tools_for_asker(self.catalog, store)
        if catalog is self.catalog:
            return self
        return CitedTools(catalog, self._knowledge, self.clock)

    async def run(self, name: str, args: dict[str, Any]) -> ToolResult:
        if name in self.names or self.catalog is None:
            return await self.knowledge.run(name, args)
        return as_search_results(await self.catalog.run(name, args), at=self.clock())


def as_search_results(result: ToolResult, *, at: float) -> ToolResult:
    """A catalog result with its products as search results (see the module docstring);
    an error, or a result with no product in it, as it is."""
    data = result.data
    if result.is_error or not isinstance(data, Mapping):
        return result
    if isinstance(data.get("sku"), str):
        products, lead = [data], None
    elif isinstance(data.get("products"), list) and data["products"]:
        products = [p for p in data["products"] if isinstance(p, Mapping) and p.get("sku")]
        lead = {k: v for k, v in data.items() if k != "products"}
    else:
        return result
    blocks, references = [], []
    for product in products:
        reference = product_reference(product, at)
        blocks.append(search_result(reference, facts_of(_with_time(product, reference))))
        references.append(reference)
    content = [{"type": "text", "text": json.dumps(lead, ensure_ascii=False)}] if lead else []
    return ToolResult([*content, *blocks], data=data, references=tuple(references))


def product_reference(product: Mapping[str, Any], at: float) -> Reference:
    sku, name = str(product["sku"]), str(product.get("name") or product["sku"])
    return Reference(
        source=f"sku:{sku}", title=f"{name} ({sku})", sku=sku, as_of=_as_of(product, at)
    )


def _with_time(product: Mapping[str, Any], reference: Reference) -> dict[str, Any]:
    """The product's fields, with the time its price and stock are as of (IST, to the minute)."""
    fields = dict(product)
    if reference.as_of is not None and "as_of" not in fields:
        from bot.knowledge.documents import IST

        moment = datetime.fromtimestamp(reference.as_of, IST)
        fields["price_and_stock_as_of"] = moment.strftime("%Y-%m-%d %H:%M IST")
    return fields


def _as_of(product: Mapping[str, Any], at: float) -> float:
    value = product.get("as_of")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            pass
    return at
