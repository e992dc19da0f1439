"""Running a tool call: the schema decides what reaches a handler, and nothing escapes it."""

from __future__ import annotations

from typing import Any

import pytest

from bot.catalog.base import MAX_TERMS, search_terms
from bot.catalog.index import Catalog
from bot.catalog.load import SAMPLE_CATALOG, load_catalog
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
