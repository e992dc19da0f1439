"""`search_knowledge`: Claude's tool for the chain's policies, offers and guides.

Its result is one `search_result` block per section found (the section's facts one text
block each, citations on), so what Claude says from it is cited to the document and section
it came from. Only documents valid at the moment of the call are searched: an expired offer
never reaches the model.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bot.knowledge.base import KnowledgeBase
from bot.model.citations import search_result
from bot.model.tools import Tool, ToolResult
from bot.wording import texts

NAME = "search_knowledge"
RESULTS = 4  # sections per search: enough to answer from, few enough to read
MAX_QUERY = 200
SHOWN = 60  # characters of the query in a status line

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "query": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_QUERY,
            "description": "a few words, e.g. 'return window TV', 'no-cost EMI tenure'",
        },
        "category": {
            "type": "string",
            "pattern": "^[a-z0-9_]{1,40}$",
            "description": "a product category such as tv, ac, refrigerator, washing_machine; "
            "leave it out for policies that apply to everything",
        },
    },
    "required": ["query"],
    "additionalProperties": False,
}
DESCRIPTION = (
    "Search ShopMax India's own documents: returns and exchange, extended warranty "
    "(ShopMax Care), no-cost EMI and bank offers currently running, delivery and installation "
    "charges, and troubleshooting guides. Returns the matching sections as search results to "
    "cite. Use it for any question about a policy, an offer, a charge or fixing a fault."
)


def search_tool(knowledge: KnowledgeBase, clock: Callable[[], float] = time.time) -> Tool:
    async def search(args: dict[str, Any]) -> ToolResult:
        sections = await knowledge.search(
            args["query"], category=args.get("category"), at=clock(), limit=RESULTS
        )
        if not sections:
            return ToolResult(texts.KNOWLEDGE_NOTHING_FOUND, data={"sections": []})
        return ToolResult(
            [search_result(s.reference, s.paragraphs) for s in sections],
            data={"sections": [list(s.paragraphs) for s in sections]},
            references=tuple(s.reference for s in sections),
        )

    return Tool(NAME, DESCRIPTION, SCHEMA, search)


def status_line(args: dict[str, Any]) -> str:
    """What staff see while the search runs; never fails on odd arguments."""
    query = args.get("query")
    shown = " ".join(query.split()) if isinstance(query, str) else ""
    if len(shown) > SHOWN:
        shown = shown[: SHOWN - 1] + "…"
    return texts.looking_in_documents(shown)
