"""The tools Claude may call while it answers, and how one call is run.

`Tools` is what `stream.stream_answer` needs: the schemas to send, and a way to run one call.
`ToolSet` is the one way calls are run: the arguments are checked against the tool's own
`input_schema` (with `jsonschema`, not by hand) before its handler sees them, and whatever goes
wrong, an unknown tool, arguments of the wrong type or size, or a crash inside the handler,
becomes a `ToolResult` with `is_error`, which goes back to Claude as a `tool_result` it can
answer around. The model's arguments are untrusted input: nothing it sends can end an answer
unfinished. The catalog's tools (`bot.catalog.tools`) are the ones the bot ships.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from jsonschema import Draft202012Validator

from bot.model.citations import Reference

log = logging.getLogger(__name__)

MAX_ERRORS = 3  # validation problems told to Claude at once
SHOWN_VALUE = 60  # characters of a bad value repeated back


@dataclass(frozen=True)
class ToolResult:
    """What a tool call gave back: JSON text for Claude, or an error Claude should read, or
    content blocks (`search_result` blocks Claude can cite, see `bot.model.citations`).

    `data` is the value a JSON result was made from, and `references` say what each search
    result in `content` stands for: the answering path checks the answer's figures against
    the one and names its sources from the other.
    """

    content: str | list[dict[str, Any]]
    is_error: bool = False
    data: Any = None
    references: tuple[Reference, ...] = ()

    @classmethod
    def json(cls, value: Any) -> ToolResult:
        return cls(json.dumps(value, ensure_ascii=False), data=value)

    @property
    def text(self) -> str:
        """The result's text: the JSON, or the text of its blocks (search results included)."""
        if isinstance(self.content, str):
            return self.content
        parts: list[str] = []
        for block in self.content:
            inner = block.get("content") if block.get("type") == "search_result" else [block]
            for item in inner if isinstance(inner, list) else []:
                if isinstance(item, dict) and isinstance(item.get("text"), str):
                    parts.append(item["text"])
        return "\n".join(parts)


class Tools(Protocol):
    @property
    def schemas(self) -> list[dict[str, Any]]:
        """The tools' definitions as the Messages API takes them."""
        ...

    async def run(self, name: str, args: dict[str, Any]) -> ToolResult:
        """Run one call; never raises."""
        ...


@runtime_checkable
class ForAsker(Protocol):
    """Tools that answer differently for the asker's store (`check_stock` without a store
    answers for it and the other stores in its city): one set per answer."""

    async def for_asker(self, store: str | None) -> Tools:
        """These tools for an asker at the store with this code (None: no store)."""
        ...


async def tools_for_asker(tools: Tools | None, store: str | None) -> Tools | None:
    """The tools one answer uses: `tools` made for the asker's store where they take one."""
    if tools is not None and store is not None and isinstance(tools, ForAsker):
        return await tools.for_asker(store)
    return tools


Handler = Callable[[dict[str, Any]], Awaitable[ToolResult]]


@dataclass(frozen=True)
class Tool:
    """One tool: its definition for the Messages API and the handler that runs a call.

    The handler gets arguments that passed `input_schema`, so the schema is the tool's real
    contract: types, lengths, bounds and `additionalProperties: false` belong there.
    """

    name: str
    description: str
    input_schema: dict[str, Any]
    handler: Handler

    @property
    def schema(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": self.input_schema,
        }


class ToolSet:
    """Runs calls to a fixed set of tools for Claude (see the module docstring)."""

    def __init__(self, tools: Sequence[Tool]) -> None:
        self._tools = {tool.name: tool for tool in tools}
        self._validators = {tool.name: validator_for(tool.input_schema) for tool in tools}
        self.schemas = [tool.schema for tool in tools]

    async def run(self, name: str, args: dict[str, Any]) -> ToolResult:
        tool = self._tools.get(name)
        if tool is None:
            log.warning("the model called a tool that does not exist: %s", _short(name))
            known = ", ".join(self._tools)
            return ToolResult(f"There is no tool called {_short(name)}; use one of: {known}.", True)
        problems = self._problems(name, args)
        if problems:
            log.warning("the model called %s with bad input: %s", name, "; ".join(problems))
            return ToolResult(
                f"{name} was called with bad input: {'; '.join(problems)}. "
                "Call it again with input that fits its schema, or answer without it.",
                True,
            )
        try:
            return await tool.handler(args)
        except Exception:
            log.warning("the %s tool failed", name, exc_info=True)
            return ToolResult(
                f"{name} failed inside the tool, not because of its input. "
                "Answer without it, and say the catalog could not be checked.",
                True,
            )

    def _problems(self, name: str, args: dict[str, Any]) -> list[str]:
        errors = sorted(self._validators[name].iter_errors(args), key=lambda e: e.json_path)
        return [_described(error) for error in errors[:MAX_ERRORS]]


def validator_for(schema: dict[str, Any]) -> Draft202012Validator:
    """The validator of `schema`, checked (a bad schema is our mistake: it fails at start-up,
    where the first tools are made). Every answer makes its own tools, so validators are
    shared by schema: checking one against the metaschema takes milliseconds and thousands of
    objects, and a validator holds no state of a call (`iter_errors` keeps its own)."""
    return _validator(json.dumps(schema, sort_keys=True))


@functools.lru_cache(maxsize=64)
def _validator(schema: str) -> Draft202012Validator:
    parsed = json.loads(schema)
    Draft202012Validator.check_schema(parsed)
    return Draft202012Validator(parsed)


def _described(error: Any) -> str:
    """One validation error in words, with an oversized value cut short (a huge string the
    model sent must not be sent back to it, or into the log, whole)."""
    message = str(error.message)
    shown = repr(error.instance)
    if len(shown) > SHOWN_VALUE:
        message = message.replace(shown, _short(error.instance), 1)
    where = ".".join(str(part) for part in error.absolute_path)
    return f"{where}: {message}" if where else message


def _short(value: Any) -> str:
    """`value`'s repr, cut to a readable length, saying how long it really was."""
    shown = repr(value)
    if len(shown) <= SHOWN_VALUE:
        return shown
    size = f"{len(value):,} characters" if isinstance(value, str) else f"{len(shown):,} long"
    return f"{shown[: SHOWN_VALUE - 1]}… ({size})"
