"""Claude's streaming answer as our own small events, with the SDK's errors mapped to ours.

`stream_answer` yields `TextDelta` for every piece of text as it arrives and ends with one
`Finished` carrying the final message's usage. Time to first token is taken at the first text
delta, not at `message_start`: newer models think before they write, and staff wait for words.

Failures before any text raise `ModelUnavailable` (after the SDK's own retries, which happen on
entering the stream); failures after text has arrived raise `ModelInterrupted`, because after
the first byte nothing is retried. Leaving the `async with` early (the caller stops iterating)
closes the HTTP stream, so a stopped answer stops costing tokens.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx2

from bot.errors import ModelInterrupted, ModelUnavailable
from bot.model.citations import Reference, references_for
from bot.model.events import EventReader, StreamError
from bot.model.message import Citation, Message, as_object, count
from bot.model.tools import ToolResult, Tools
from bot.model.usage import AnswerStats, Usage, estimate_tokens, usage_from

log = logging.getLogger(__name__)

Clock = Callable[[], float]


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ToolCall:
    """Claude asked for a catalog tool; it runs right after this event."""

    name: str
    args: dict[str, Any]


@dataclass(frozen=True)
class ToolRan:
    """A tool call's result, as it went back to Claude (its figures and sources count)."""

    name: str
    args: dict[str, Any]
    result: ToolResult


@dataclass(frozen=True)
class Cited:
    """The text block that just ended cites these search results (in the order cited)."""

    references: tuple[Reference, ...]


@dataclass(frozen=True)
class Finished:
    """The model is done; `text` is all text it wrote, `stats` what the footer shows.
    `out_of_tokens`: it wanted another tool round, which the asker's allowance could not cover
    (`RoundCheck`), so the answer ends here."""

    text: str
    stats: AnswerStats
    out_of_tokens: bool = False


ModelEvent = TextDelta | ToolCall | ToolRan | Cited | Finished
# Before each further tool round: the usage so far and the next request's parameters; False
# ends the answer instead (the asker's allowance cannot cover the round).
RoundCheck = Callable[[Usage, dict[str, Any]], Awaitable[bool]]


@dataclass(frozen=True)
class ModelRequest:
    """What one answer asks of the model."""

    model: str
    max_tokens: int
    system: str
    messages: Sequence[dict[str, Any]]
    # The part of the system prompt about this asker (their store): sent after the cached
    # prompt, so every asker shares the cache of the tools and the prompt before it.
    asker: str = ""


@dataclass
class Partial:
    """What is known of an answer while it streams: enough for its stats if it never finishes."""

    started: float = 0.0
    input_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    ttft: float | None = None
    request_id: str | None = None
    model: str = ""

    def stats(self, text: str, clock: Clock, stop_reason: str) -> AnswerStats:
        """Stats of an answer cut short: output tokens are estimated from its text."""
        return AnswerStats(
            model=self.model,
            usage=Usage(
                input_tokens=self.input_tokens,
                output_tokens=estimate_tokens(text) if text else 0,
                cache_write_tokens=self.cache_write_tokens,
                cache_read_tokens=self.cache_read_tokens,
            ),
            stop_reason=stop_reason,
            duration_s=clock() - self.started,
            ttft_s=self.ttft,
            request_id=self.request_id,
            output_estimated=True,
        )


async def stream_answer(
    client: anthropic.AsyncAnthropic,
    request: ModelRequest,
    clock: Clock = time.monotonic,
    partial: Partial | None = None,
    tools: Tools | None = None,
    max_rounds: int = 4,
    before_round: RoundCheck | None = None,
) -> AsyncGenerator[ModelEvent, None]:
    """Stream one answer. See the module docstring for the error contract.

    With `tools`, a `tool_use` stop runs the tools (a `ToolCall` event each, for the status
    line), sends their results back and streams on; after `max_rounds` rounds Claude must
    answer without tools. Usage adds up across rounds. `partial`, when given, is kept up to
    date as the stream goes. `before_round` is asked before each round after the first; when
    it says no, the answer finishes there (`Finished.out_of_tokens`).
    """
    partial = partial or Partial()
    partial.started, partial.model = clock(), request.model
    messages = list(request.messages)
    turn = _Turn(clock, partial)
    # Every search result sent so far, in request order: a citation names one by position.
    references: list[Reference] = []
    for round_number in range(max_rounds + 1):
        params: dict[str, Any] = {
            "model": request.model,
            "max_tokens": request.max_tokens,
            "system": cached_system(request.system, request.asker),
            "messages": messages,
        }
        if tools is not None:
            params["tools"] = cached_tools(tools.schemas)
            if round_number == max_rounds:
                params["tool_choice"] = {"type": "none"}
        if round_number and before_round is not None and not await before_round(turn.usage, params):
            yield Finished(turn.text, turn.stats(turn.final, request.model), out_of_tokens=True)
            return
        async for event in turn.stream(client, params, references):
            yield event
        final = turn.final
        assert final is not None
        if final.stop_reason != "tool_use" or tools is None:
            yield Finished(text=turn.text, stats=turn.stats(final, request.model))
            return
        results = []
        for block in final.content:
            if block.type != "tool_use":
                continue
            args = dict(block.input) if isinstance(block.input, dict) else {}
            yield ToolCall(block.name, args)
            result = await tools.run(block.name, args)
            references.extend(references_for(result.content, result.references))
            yield ToolRan(block.name, args, result)
            results.append(
                {
                    "type": "tool_result",
                    "tool_use_id": block.id,
                    "content": result.content,
                    "is_error": result.is_error,
                }
            )
        messages = [
            *messages,
            {"role": "assistant", "content": [b.to_dict() for b in final.content]},
            {"role": "user", "content": results},
        ]
    raise AssertionError("unreachable: the last round runs without tools")


class _Turn:
    """The rounds of one answer: their text, summed usage, and errors mapped to ours."""

    def __init__(self, clock: Clock, partial: Partial) -> None:
        self.clock = clock
        self.partial = partial
        self.parts: list[str] = []
        self.usage = Usage()
        self.final: Any = None

    @property
    def text(self) -> str:
        return "".join(self.parts)

    async def stream(
        self,
        client: anthropic.AsyncAnthropic,
        params: dict[str, Any],
        references: Sequence[Reference],
    ) -> AsyncIterator[TextDelta | Cited]:
        partial, separate = self.partial, bool(self.parts)
        request_id: str | None = None
        message = Message()
        try:
            # The SDK makes the request (headers, retries, status errors); the events are read
            # from the raw bytes (`events.py`): the SDK's stream would build a typed object for
            # every token, most of the CPU a token costs. `Message` keeps what the end needs.
            async with client.messages.with_streaming_response.create(
                stream=True, **params
            ) as response:
                request_id = partial.request_id = response.headers.get("request-id")
                reader = EventReader()
                async for chunk in response.iter_bytes():
                    for event in reader.feed(chunk):
                        text = message.add(event.data)
                        if text is None:
                            self._started(event.data)
                            cited = _cited(message.cited(), references)
                            if cited:
                                yield cited
                            continue
                        if partial.ttft is None:
                            partial.ttft = self.clock() - partial.started
                        if separate and not self.text.endswith(("\n", " ")):
                            text = "\n\n" + text  # a new round's text starts a new paragraph
                        separate = False
                        self.parts.append(text)
                        yield TextDelta(text)
                reader.end()
                self.final = message.final()
        except anthropic.APIStatusError as exc:
            raise _status_error(exc, text_started=bool(self.parts)) from exc
        except anthropic.APIConnectionError as exc:
            raise _connection_error(
                exc, text_started=bool(self.parts), request_id=request_id
            ) from exc
        except httpx2.HTTPError as exc:
            # A connection dropped mid-stream surfaces as the HTTP library's own read error.
            raise _connection_error(
                exc, text_started=bool(self.parts), request_id=request_id
            ) from exc
        except StreamError as exc:
            failure = ModelInterrupted if self.parts else ModelUnavailable
            raise failure(
                f"model request failed: {exc.kind}", kind=exc.kind, request_id=request_id
            ) from exc
        if self.final is None or self.final.stop_reason is None:
            # The body ended without `message_delta`/`message_stop`: the stream was cut off.
            raise ModelInterrupted(
                "the model stream ended before the message was complete",
                kind="incomplete_stream",
                request_id=request_id,
            )
        self.usage = self.usage + usage_from(self.final.usage)

    def _started(self, data: dict[str, Any]) -> None:
        """At `message_start`: the input tokens (billed whatever happens next)."""
        if data.get("type") != "message_start":
            return
        usage = as_object(as_object(data.get("message")).get("usage"))
        partial = self.partial
        partial.input_tokens = self.usage.input_tokens + count(usage, "input_tokens")
        partial.cache_write_tokens = self.usage.cache_write_tokens + count(
            usage, "cache_creation_input_tokens"
        )
        partial.cache_read_tokens = self.usage.cache_read_tokens + count(
            usage, "cache_read_input_tokens"
        )

    def stats(self, final: Any, model: str) -> AnswerStats:
        return AnswerStats(
            model=final.model or model,
            usage=self.usage,
            stop_reason=final.stop_reason,
            duration_s=self.clock() - self.partial.started,
            ttft_s=self.partial.ttft,
            request_id=self.partial.request_id,
        )


def _cited(citations: list[Citation], references: Sequence[Reference]) -> Cited | None:
    """The references a stopped text block cites, each once, in order. A citation naming a
    search result the request did not hold is left out (it cannot be shown as a source)."""
    found: list[Reference] = []
    for citation in citations:
        if citation.search_result_index >= len(references):
            log.warning(
                "a citation names search result %d of %d",
                citation.search_result_index,
                len(references),
            )
            continue
        reference = references[citation.search_result_index]
        if reference not in found:
            found.append(reference)
    return Cited(tuple(found)) if found else None


def cached_tools(schemas: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tools with a cache breakpoint on the last one: the tools come first in the prompt,
    so every question after the first reads them from Anthropic's cache, whatever follows."""
    if not schemas:
        return schemas
    return [*schemas[:-1], {**schemas[-1], "cache_control": {"type": "ephemeral"}}]


def cached_system(system: str, asker: str = "") -> list[dict[str, Any]]:
    """The system prompt as a cacheable block: every question starts with the same prompt, so
    after the first, its tokens are read from Anthropic's cache (cheaper, and faster to the
    first token). Prompts shorter than the model's minimum cacheable length are simply not
    cached; the request is the same. What differs per asker (`asker`: their store) is a block
    after the breakpoint, so it never splits the cache."""
    blocks = [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}]
    return [*blocks, {"type": "text", "text": asker}] if asker else blocks


def _status_error(exc: anthropic.APIStatusError, *, text_started: bool) -> Exception:
    # A mid-stream `error` event arrives as APIStatusError with the stream's 200 status;
    # its `type` (overloaded_error, api_error, ...) says what happened.
    kind = exc.type or f"http_{exc.status_code}"
    message = f"model request failed: {kind} (HTTP {exc.status_code})"
    if text_started:
        return ModelInterrupted(message, kind=kind, request_id=exc.request_id)
    return ModelUnavailable(message, kind=kind, request_id=exc.request_id)


def _connection_error(exc: Exception, *, text_started: bool, request_id: str | None) -> Exception:
    if isinstance(exc, httpx2.TimeoutException):
        # The read timeout is the idle timeout: nothing, not even a ping, for that long.
        kind = "stalled"
    elif isinstance(exc, anthropic.APITimeoutError):
        kind = "timeout"
    else:
        kind = "connection"
    message = f"model connection failed: {type(exc).__name__}"
    if text_started:
        return ModelInterrupted(message, kind=kind, request_id=request_id)
    return ModelUnavailable(message, kind=kind, request_id=request_id)
