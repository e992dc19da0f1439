"""What the demo model does next with a Messages API request: call a catalog tool, or write the
answer. Pure.

It works like Claude with tools, from the conversation alone and with no state of its own: the
request carries the question, the tool calls made for it so far and their results. A product
question first gets `search_products` (or `get_product` for a SKU); a search that found nothing
is tried once more without its words; a question about stock then gets `check_stock` for the
best matches; a question about a policy, an offer, a charge or a fault gets `search_knowledge`
(beside `get_product` when it names a SKU); after that, or when tools are not offered, it
writes the answer from what the tools returned. A question neither can answer gets a polite
answer without tools.

Tool results may be search results (`search_result` blocks): the demo reads a product's fields
back from them (`bot.model.citations.fields_of`) and counts them in request order, as a
citation names them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.model.citations import fields_of, search_results
from bot.model.demo.names import Names
from bot.model.demo.question import Wants, read_question

KNOWLEDGE = "search_knowledge"


class BadRequest(ValueError):
    """The request is not one the Messages API would accept; the message says why."""


@dataclass(frozen=True)
class Exchange:
    """One tool call made for the question, and what it gave back."""

    name: str
    input: Mapping[str, Any]
    result: str
    is_error: bool = False
    # The search results it returned, each with its position among the request's.
    results: tuple[tuple[int, dict[str, Any]], ...] = ()

    def data(self) -> Any:
        """The result as JSON data (products read back from search results), or None when it
        is an error or not JSON."""
        if self.is_error:
            return None
        if self.results and self.name != KNOWLEDGE:
            products = [fields_of(block) for _, block in self.results]
            if self.name != "search_products":
                return products[0]
            lead = _json(self.result)
            return {**(lead if isinstance(lead, dict) else {}), "products": products}
        return _json(self.result)


@dataclass(frozen=True)
class Request:
    """The parts of a Messages API request the demo reads."""

    question: str
    exchanges: tuple[Exchange, ...] = ()
    tools: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    tools_allowed: bool = True
    max_tokens: int = 1024
    names: Names = field(default_factory=Names)  # the catalog's, where the bot gives them

    def enum(self, tool: str, prop: str) -> list[str]:
        """The values the tool schema allows for `prop` (a category, a city)."""
        props = self.tools.get(tool, {}).get("properties", {})
        values = props.get(prop, {}).get("enum", []) if isinstance(props, Mapping) else []
        return [v for v in values if isinstance(v, str)] if isinstance(values, list) else []

    def can_call(self, tool: str) -> bool:
        return self.tools_allowed and tool in self.tools

    def takes(self, tool: str, prop: str) -> bool:
        """Whether the tool's schema has the argument `prop` (a store, on a newer catalog)."""
        props = self.tools.get(tool, {}).get("properties", {})
        return isinstance(props, Mapping) and prop in props

    def wants(self) -> Wants:
        names = self.names
        cities = self.enum("search_products", "city") or self.enum("check_stock", "city")
        stores = names.stores if self.takes("check_stock", "store") else {}
        return read_question(
            self.question,
            _merged(self.enum("search_products", "category"), names.categories),
            _merged(cities, names.cities),
            stores,
        )


@dataclass(frozen=True)
class CallTools:
    calls: tuple[tuple[str, dict[str, Any]], ...]


@dataclass(frozen=True)
class Write:
    """Write the answer; `exchanges` are what it is built from."""

    wants: Wants
    exchanges: tuple[Exchange, ...]
    tools_offered: bool


Step = CallTools | Write


def read_request(body: Any, *, counting: bool = False) -> Request:
    """The request as the demo needs it; raises `BadRequest` as the API would answer 400.
    `counting`: a `count_tokens` request, which has no `max_tokens`."""
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages: at least one message is required")
    max_tokens = 1 if counting else body.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        raise BadRequest("max_tokens: a whole number of 1 or more is required")
    if not all(isinstance(m, dict) and m.get("role") in ("user", "assistant") for m in messages):
        raise BadRequest("messages: each message needs a role of user or assistant")
    listed = body.get("tools")
    listed = listed if isinstance(listed, list) else []
    tools: dict[str, Mapping[str, Any]] = {
        t["name"]: t["input_schema"] if isinstance(t.get("input_schema"), dict) else {}
        for t in listed
        if isinstance(t, dict) and isinstance(t.get("name"), str)
    }
    choice = body.get("tool_choice")
    question, exchanges = _question_and_exchanges(messages)
    return Request(
        question=question,
        exchanges=exchanges,
        tools=tools,
        tools_allowed=not (isinstance(choice, dict) and choice.get("type") == "none"),
        max_tokens=max_tokens,
    )


def next_step(request: Request) -> Step:
    wants, done = request.wants(), request.exchanges
    names = [e.name for e in done]
    if not done:
        calls: list[tuple[str, dict[str, Any]]] = []
        if wants.skus and request.can_call("get_product"):
            calls += [("get_product", {"sku": sku}) for sku in wants.skus]
        if wants.about_knowledge and request.can_call(KNOWLEDGE):
            calls.append((KNOWLEDGE, wants.knowledge_args()))
            shopping = wants.max_price or wants.min_price or wants.city
            if shopping and not wants.skus and request.can_call("search_products"):
                calls.append(("search_products", _search(request, wants)))
        if calls:
            return CallTools(tuple(calls))
        if wants.about_products and request.can_call("search_products"):
            return CallTools((("search_products", _search(request, wants)),))
    elif names[-1] == "search_products" and request.can_call("search_products"):
        last = done[-1]
        found = _count(last)
        filtered = set(_search(request, wants, with_query=False))
        if found == 0 and "query" in last.input and filtered and names.count(names[-1]) == 1:
            return CallTools((("search_products", _search(request, wants, with_query=False)),))
        if found and wants.about_stock and request.can_call("check_stock"):
            skus = [p.get("sku") for p in _products(last)[:2]]
            where = wants.where()
            return CallTools(tuple(("check_stock", {"sku": s, **where}) for s in skus if s))
    return Write(wants, done, tools_offered=bool(request.tools))


def _search(request: Request, wants: Wants, *, with_query: bool = True) -> dict[str, Any]:
    """`search_products` input, with only the arguments its schema takes."""
    args = wants.search_args(with_query=with_query)
    return {k: v for k, v in args.items() if k != "store" or request.takes("search_products", k)}


def _merged(listed: Sequence[str], known: Sequence[str]) -> list[str]:
    """The schema's values, then the catalog's others (each once)."""
    return list(dict.fromkeys([*listed, *known]))


def _question_and_exchanges(messages: Sequence[dict[str, Any]]) -> tuple[str, tuple[Exchange, ...]]:
    """The last user message with text in it, and the tool calls answered after it."""
    start = 0
    for index, message in enumerate(messages):
        if message["role"] == "user" and _text(message.get("content")):
            start = index
    calls: dict[str, tuple[str, Mapping[str, Any]]] = {}
    exchanges: list[Exchange] = []
    counted = sum(len(_results(m.get("content"))) for m in messages[: start + 1])
    for message in messages[start + 1 :]:
        for block in _blocks(message.get("content")):
            if block.get("type") == "tool_use" and isinstance(block.get("input"), dict):
                calls[str(block.get("id"))] = (str(block.get("name")), block["input"])
            elif block.get("type") == "tool_result":
                found = search_results(block.get("content"))
                numbered = tuple(enumerate(found, start=counted))
                counted += len(found)
                if str(block.get("tool_use_id")) not in calls:
                    continue
                name, args = calls[str(block.get("tool_use_id"))]
                result = _text(block.get("content"))
                error = bool(block.get("is_error"))
                exchanges.append(Exchange(name, args, result, error, numbered))
    return _text(messages[start].get("content")), tuple(exchanges)


def _results(content: Any) -> list[dict[str, Any]]:
    """The search results in a message's content, in tool results or on their own."""
    found = search_results(content)
    for block in _blocks(content):
        if block.get("type") == "tool_result":
            found += search_results(block.get("content"))
    return found


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _blocks(content: Any) -> list[dict[str, Any]]:
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


def _text(content: Any) -> str:
    """The text of a message's content: a string, or the text of its text blocks."""
    if isinstance(content, str):
        return content
    return "\n".join(
        b["text"]
        for b in _blocks(content)
        if b.get("type") == "text" and isinstance(b.get("text"), str)
    )


def _count(exchange: Exchange) -> int:
    return len(_products(exchange))


def _products(exchange: Exchange) -> list[dict[str, Any]]:
    data = exchange.data()
    products = data.get("products") if isinstance(data, dict) else None
    return [p for p in products if isinstance(p, dict)] if isinstance(products, list) else []
