"""Search results Claude can cite, and what each one stands for. Pure.

A tool may answer with Anthropic's `search_result` content blocks instead of JSON text
(`search_result`): a source, a title and the text as a list of blocks, one per fact, with
citations enabled. Claude's answer then cites them (`search_result_location` citations, which
name a search result by its position among all the request's search results). Each block a
tool returns comes with a `Reference`: what the bot shows for it under the answer (a
document's title, section and link; a product's SKU, name and when its price was read).

Citations are all on or all off in one request, so every search result the bot sends has them
on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

MAX_TITLE = 200  # characters of a title or section kept (the API wants a title, not a page)


@dataclass(frozen=True)
class Reference:
    """What one search result stands for, as the sources under an answer name it."""

    source: str  # the search result's `source`: a link, `kb:FILE#section` or `sku:SKU`
    title: str  # a document's title, or a product's name
    section: str = ""  # a document's section heading
    url: str | None = None  # where staff can read it (http or https only)
    sku: str | None = None  # a product's SKU
    as_of: float | None = None  # Unix time a product's price and stock were read


def search_result(reference: Reference, texts: Iterable[str]) -> dict[str, Any]:
    """The `search_result` block for `reference`, its text one block per fact (one text
    block per fact gives tight citations; empty facts are left out, and the API needs one)."""
    title = reference.title if not reference.section else f"{reference.title} — {reference.section}"
    content = [{"type": "text", "text": text} for text in texts if text.strip()]
    return {
        "type": "search_result",
        "source": reference.source,
        "title": title[:MAX_TITLE],
        "content": content or [{"type": "text", "text": title[:MAX_TITLE]}],
        "citations": {"enabled": True},
    }


def search_results(content: Any) -> list[dict[str, Any]]:
    """The `search_result` blocks in a tool result's content, in order."""
    if not isinstance(content, list):
        return []
    return [b for b in content if isinstance(b, dict) and b.get("type") == "search_result"]


def references_for(content: Any, references: tuple[Reference, ...]) -> list[Reference]:
    """One `Reference` per search result in `content`, in order: the tool's own, or (for a
    block it did not describe) one made from the block's source and title."""
    found = []
    for number, block in enumerate(search_results(content)):
        if number < len(references):
            found.append(references[number])
        else:
            found.append(Reference(str(block.get("source", "")), str(block.get("title", ""))))
    return found


def facts_of(fields: dict[str, Any]) -> list[str]:
    """A record (a product as a tool returns it) as one fact per field, `name: JSON value`:
    as readable as the JSON was, one citable block per fact, and read back by `fields_of`."""
    return [f"{name}: {json.dumps(value, ensure_ascii=False)}" for name, value in fields.items()]


def fields_of(block: dict[str, Any]) -> dict[str, Any]:
    """The record a search result made by `facts_of` holds (lines that are not one left out)."""
    fields: dict[str, Any] = {}
    for item in block.get("content") or []:
        text = item.get("text") if isinstance(item, dict) else None
        name, sep, raw = text.partition(": ") if isinstance(text, str) else ("", "", "")
        if not sep or not name.isidentifier():
            continue
        try:
            fields[name] = json.loads(raw)
        except ValueError:
            continue
    return fields
