"""The message a raw event stream describes, built as the events arrive. Pure.

`Message` takes each event's JSON (read from the bytes by `events.py`) and returns the text a
text delta adds; at its end it is the SDK's own `Message` (content blocks, tool calls with
their input, citations, stop reason, cumulative usage). Events are plain JSON objects from the
network: each field is checked for its type where it is read, and anything else is a
`StreamError` ("malformed_stream"), never a crash elsewhere.

Citations arrive as `citations_delta` events on a text block, before or after its text (the
API's own example sends the text first). A text block's citations are known whole once the
block stops, so that is when `cited()` hands them over: the answer marks the cited text then,
after it. Only `search_result_location` citations are kept (the bot sends no documents); any
other kind is left out of the message rather than breaking the stream.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import anthropic
import pydantic

from bot.model.events import StreamError, malformed

MAX_CITATIONS = 64  # per text block: far more than any answer cites in one sentence
MAX_INDEX = 10_000  # a search result or content block index past this is not one we sent


@dataclass(frozen=True)
class Citation:
    """A `search_result_location` citation: which search result of the request (counted in
    order across all of them) and which of its text blocks (end exclusive)."""

    search_result_index: int
    start_block_index: int
    end_block_index: int
    source: str
    title: str | None
    cited_text: str

    def as_json(self) -> dict[str, Any]:
        return {
            "type": "search_result_location",
            "search_result_index": self.search_result_index,
            "start_block_index": self.start_block_index,
            "end_block_index": self.end_block_index,
            "source": self.source,
            "title": self.title,
            "cited_text": self.cited_text,
        }


class Message:
    """See the module docstring."""

    def __init__(self) -> None:
        self.message: dict[str, Any] | None = None
        self.blocks: dict[int, dict[str, Any]] = {}
        self.texts: dict[int, list[str]] = {}
        self.inputs: dict[int, list[str]] = {}
        self.citations: dict[int, list[Citation]] = {}
        self._stopped: list[Citation] = []

    def add(self, event: dict[str, Any]) -> str | None:
        """Take one event; the text it adds, if it is a text delta (else None)."""
        kind = event.get("type")
        if kind == "content_block_delta":
            index, delta = _index(event), _object(event.get("delta"))
            if delta.get("type") == "text_delta":
                text = _string(delta.get("text"))
                self.texts.setdefault(index, []).append(text)
                return text
            if delta.get("type") == "input_json_delta":
                self.inputs.setdefault(index, []).append(_string(delta.get("partial_json")))
            elif delta.get("type") == "citations_delta":
                self._cite(index, _object(delta.get("citation")))
        elif kind == "content_block_stop":
            self._stopped.extend(self.citations.get(_index(event), ()))
        elif kind == "message_start":
            self.message = dict(_object(event.get("message")))
        elif kind == "content_block_start":
            self.blocks[_index(event)] = dict(_object(event.get("content_block")))
        elif kind == "message_delta" and self.message is not None:
            delta = _object(event.get("delta"))
            self.message.update({k: v for k, v in delta.items() if v is not None})
            # Usage in message_delta is cumulative: it replaces what message_start said.
            usage = _object(event.get("usage"))
            self.message["usage"] = {
                **_object(self.message.get("usage")),
                **{k: v for k, v in usage.items() if v is not None},
            }
        elif kind == "error":
            error = _object(event.get("error"))
            raise StreamError(_string(error.get("type") or "api_error"))
        return None

    def cited(self) -> list[Citation]:
        """The citations of the text blocks that stopped since the last call, in order."""
        stopped, self._stopped = self._stopped, []
        return stopped

    def _cite(self, index: int, raw: dict[str, Any]) -> None:
        kind = _string(raw.get("type"))
        if kind != "search_result_location":
            return  # a kind of citation the bot never asks for: not ours to show
        citation = Citation(
            search_result_index=_whole(raw.get("search_result_index")),
            start_block_index=_whole(raw.get("start_block_index")),
            end_block_index=_whole(raw.get("end_block_index")),
            source=_string(raw.get("source")),
            title=None if raw.get("title") is None else _string(raw.get("title")),
            cited_text=_string(raw.get("cited_text", "")),
        )
        if citation.end_block_index <= citation.start_block_index:
            raise malformed("a citation's block range is empty")
        cited = self.citations.setdefault(index, [])
        if len(cited) >= MAX_CITATIONS:
            raise malformed(f"more than {MAX_CITATIONS} citations on one text block")
        cited.append(citation)

    def final(self) -> anthropic.types.Message | None:
        """The message, or None if the stream never said it began."""
        if self.message is None:
            return None
        content = []
        for index in sorted(self.blocks):
            block = self.blocks[index]
            if block.get("type") == "text":
                block["text"] = _string(block.get("text", "")) + "".join(self.texts.get(index, []))
                cited = self.citations.get(index)
                block["citations"] = [c.as_json() for c in cited] if cited else None
            elif index in self.inputs:
                raw = "".join(self.inputs[index])
                try:
                    block["input"] = json.loads(raw) if raw else {}
                except (ValueError, RecursionError) as exc:
                    raise malformed("a tool call's input is not JSON") from exc
            content.append(block)
        try:
            return anthropic.types.Message.model_validate({**self.message, "content": content})
        except pydantic.ValidationError as exc:
            raise malformed("the message does not validate") from exc


def _object(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise malformed("an object expected")
    return value


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise malformed("a string expected")
    return value


def _whole(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_INDEX:
        raise malformed("a whole number index expected")
    return value


def _index(event: dict[str, Any]) -> int:
    index = event.get("index")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 1024:
        raise malformed("a content block index expected")
    return index


def count(usage: dict[str, Any], name: str) -> int:
    """A token count from a usage object; 0 for anything that is not a whole number."""
    value = usage.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def as_object(value: Any) -> dict[str, Any]:
    """`value` as a JSON object (None is an empty one); anything else is a broken stream."""
    return _object(value)
