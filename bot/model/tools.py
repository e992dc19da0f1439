"""The tools Claude may call while it answers, and how one call is run.

`Tools` is what `stream.stream_answer` needs: the schemas to send, and a way to run one call.
`ToolSet` is the one way calls are run: the arguments are checked against the tool's own
`input_schema` (with `fastjsonschema`, not by hand) before its handler sees them, and whatever
goes wrong, an unknown tool, arguments of the wrong type or size, or a crash inside the
handler, becomes a `ToolResult` with `is_error`, which goes back to Claude as a `tool_result`
it can answer around. The model's arguments are untrusted input: nothing it sends can end an
answer unfinished. The catalog's tools (`bot.catalog.tools`) are the ones the bot ships.

Why `fastjsonschema` rather than `jsonschema`: the schemas use a handful of keywords (`type`,
`properties`, `required`, `additionalProperties`, `minimum`/`maximum`, `minLength`/`maxLength`,
`pattern`), which mean the same in every draft, and `jsonschema` with the metaschemas and the
`referencing` registry it loads at import held 2.3 MB of the bot's memory, against 0.2 MB
(issue 26's goal is 120 MB in all). It compiles each schema to a Python function once, so only
our own fixed schemas are compiled: the catalog's categories and cities are listed (`enum`) in
what is sent to Claude, never in what is checked (the handlers check them, naming the nearest
known values). Two differences: it stops at the first problem, so Claude is told one at a time,
and a `pattern`'s `$` ends the string (Python's `re` would also allow a newline before it),
which is stricter.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import fastjsonschema

from bot.model.citations import Reference

log = logging.getLogger(__name__)

SHOWN_VALUE = 60  # characters of a bad value repeated back
MAX_PROBLEM = 300  # characters of the problem told to Claude
MAX_NAMED = 3  # unexpected arguments named in one problem

Check = Callable[[Any], Any]  # returns the arguments, or raises JsonSchemaValueException


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
        self._checks = {tool.name: check_for(tool.input_schema) for tool in tools}
        self.schemas = [tool.schema for tool in tools]

    async def run(self, name: str, args: dict[str, Any]) -> ToolResult:
        tool = self._tools.get(name)
        if tool is None:
            log.warning("the model called a tool that does not exist: %s", _short(name))
            known = ", ".join(self._tools)
            return ToolResult(f"There is no tool called {_short(name)}; use one of: {known}.", True)
        try:
            self._checks[name](args)
        except fastjsonschema.JsonSchemaValueException as error:
            problem = _described(error)
            log.warning("the model called %s with bad input: %s", name, problem)
            return ToolResult(
                f"{name} was called with bad input: {problem}. "
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


def check_for(schema: dict[str, Any]) -> Check:
    """The check of `schema`, compiled (a bad schema is our mistake: it fails at start-up,
    where the first tools are made). Every answer makes its own tools, so checks are shared by
    schema: compiling one takes a millisecond, and a check holds no state of a call."""
    return _check(json.dumps(schema, sort_keys=True))


@functools.lru_cache(maxsize=64)
def _check(schema: str) -> Check:
    check: Check = fastjsonschema.compile(json.loads(schema), use_default=False)
    return check


def _described(error: fastjsonschema.JsonSchemaValueException) -> str:
    """The problem in words: which argument, what it must be, and the value given, cut short
    (a huge string or key the model sent must not go back to it, or into the log, whole)."""
    path = [str(part) for part in error.path or []][1:]  # the first is the arguments themselves
    where = ".".join(_short(part) if len(part) > SHOWN_VALUE else part for part in path)
    wrong = str(error.message).removeprefix(str(error.name)).strip()
    if error.rule == "additionalProperties" and isinstance(error.value, dict):
        known = (error.definition or {}).get("properties", {})
        extra = sorted(str(key) for key in error.value if key not in known)
        named = ", ".join(_short(key) for key in extra[:MAX_NAMED])
        more = f" and {len(extra) - MAX_NAMED:,} more" if len(extra) > MAX_NAMED else ""
        wrong = f"takes no argument {named}{more}; only {', '.join(known) or 'none'}"
    said = f"{where}: {wrong} (given {_short(error.value)})" if where else wrong
    return said if len(said) <= MAX_PROBLEM else f"{said[: MAX_PROBLEM - 1]}…"


def _short(value: Any) -> str:
    """`value`'s repr, cut to a readable length, saying how long it really was."""
    shown = repr(value)
    if len(shown) <= SHOWN_VALUE:
        return shown
    size = f"{len(value):,} characters" if isinstance(value, str) else f"{len(shown):,} long"
    return f"{shown[: SHOWN_VALUE - 1]}… ({size})"
