"""Running a tool call: the schema decides what reaches a handler, and nothing escapes it."""

from __future__ import annotations

from typing import Any

import pytest

from bot.catalog.base import MAX_TERMS, search_terms
from bot.catalog.index import Catalog
from bot.catalog.load import SAMPLE_CATALOG, load_catalog
from bot.catalog.tools import PRODUCT_SCHEMA, SEARCH_SCHEMA, STOCK_SCHEMA
from bot.model.tools import Tool, ToolResult, ToolSet


async def test_a_crash_inside_a_tool_is_an_error_result_and_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A handler that fails after its input passed the schema does not reach the answer."""

    async def broken(args: dict[str, Any]) -> ToolResult:
        raise RuntimeError("catalog file vanished")

    tools = ToolSet([Tool("lookup", "Looks up.", {"type": "object"}, broken)])
    result = await tools.run("lookup", {})
    assert result.is_error and "failed inside the tool" in result.content
    assert "catalog file vanished" not in result.content, "internals stay in the log"
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "the lookup tool failed" in caplog.records[0].getMessage()


def test_a_search_matches_on_at_most_a_dozen_distinct_words() -> None:
    """2,000 one-letter words are cut to MAX_TERMS before full-text search sees them."""
    terms = search_terms(" ".join("abcdefghijklmnopqrstuvwxyz"[n % 26] for n in range(2000)))
    assert len(terms) == MAX_TERMS == 12
    assert terms == list("abcdefghijkl")
    catalog = Catalog(load_catalog(SAMPLE_CATALOG))
    assert catalog.search("a " * 2000) == catalog.search("a")


SCHEMA = {
    "type": "object",
    "properties": {
        "sku": {"type": "string", "pattern": "^[A-Z0-9-]{1,40}$"},
        "limit": {"type": "integer", "minimum": 1, "maximum": 10},
        "city": {"type": "string", "enum": ["Mumbai", "Pune"]},
    },
    "required": ["sku"],
    "additionalProperties": False,
}


@pytest.mark.parametrize(
    ("args", "said"),
    [
        ({"sku": "TV-1", "limit": True}, "limit: must be integer (given True)"),
        ({"sku": "TV-1", "limit": 2.5}, "limit: must be integer (given 2.5)"),
        ({"sku": "TV-1", "limit": float("nan")}, "limit: must be integer (given nan)"),
        ({"sku": "TV-1", "limit": 10**400}, "limit: must be smaller than or equal to 10"),
        ({"sku": "TV-1", "city": "Goa"}, "city: must be one of ['Mumbai', 'Pune'] (given 'Goa')"),
        ({"sku": "tv 1; DROP TABLE"}, "sku: must match pattern"),
        ({"limit": 3}, "must contain ['sku'] properties"),
        ({"sku": "TV-1", "k" * 10_000: 1}, "takes no argument 'kkkk"),
        (
            {"sku": "TV-1", "b": 1, "a": 2, "d": 3, "c": 4},
            "'a', 'b', 'c' and 1 more; only city, limit, sku",
        ),
        ({"sku": "X" * 10_000}, "(10,000 characters)"),
    ],
    ids=[
        "bool",
        "fraction",
        "nan",
        "10**400",
        "unknown city",
        "injection",
        "missing",
        "huge key",
        "four unknown",
        "huge sku",
    ],
)
async def test_arguments_outside_the_schema_never_reach_the_handler(
    args: dict[str, Any], said: str
) -> None:
    """Claude is told which argument is wrong and what it must be, in a few hundred characters
    whatever it sent; the handler never runs."""
    ran: list[dict[str, Any]] = []

    async def lookup(given: dict[str, Any]) -> ToolResult:
        ran.append(given)
        return ToolResult.json({"ok": True})

    result = await ToolSet([Tool("lookup", "Looks up.", SCHEMA, lookup)]).run("lookup", args)
    assert result.is_error and ran == []
    assert isinstance(result.content, str) and said in result.content
    assert len(result.content) < 500


async def test_arguments_inside_the_schema_reach_the_handler_unchanged() -> None:
    ran: list[dict[str, Any]] = []

    async def lookup(given: dict[str, Any]) -> ToolResult:
        ran.append(given)
        return ToolResult.json({"ok": True})

    args = {"sku": "TV-1", "limit": 10, "city": "Pune"}
    result = await ToolSet([Tool("lookup", "Looks up.", SCHEMA, lookup)]).run("lookup", dict(args))
    assert not result.is_error and ran == [args]


@pytest.mark.parametrize(
    ("schema", "args"),
    [
        (PRODUCT_SCHEMA, {"sku": " SMX-TV-0037 "}),
        (SEARCH_SCHEMA, {"query": "55 inch oled", "limit": 5.0, "min_price": 0}),
        (SEARCH_SCHEMA, {"category": "washing machine", "max_price": 10_000_000}),
        (STOCK_SCHEMA, {"sku": "SMX-TV-0037", "city": "Mumbai", "store": "MUM-ANW"}),
    ],
    ids=["spaced sku", "whole float", "top price", "city and store"],
)
async def test_the_catalog_tools_take_what_claude_sends_them(
    schema: dict[str, Any], args: dict[str, Any]
) -> None:
    """The shipped schemas accept what they always did: a SKU with spaces around it (the
    handler trims it), a whole number written as 5.0, the top of the price range."""
    ran: list[dict[str, Any]] = []

    async def lookup(given: dict[str, Any]) -> ToolResult:
        ran.append(given)
        return ToolResult.json({"ok": True})

    result = await ToolSet([Tool("lookup", "Looks up.", schema, lookup)]).run("lookup", dict(args))
    assert not result.is_error, result.content
    assert ran == [args]
