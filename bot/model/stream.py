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

import json
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx2
import pydantic

from bot.errors import ModelInterrupted, ModelUnavailable
from bot.model.events import EventReader, StreamError, malformed
from bot.model.tools import Tools
from bot.model.usage import AnswerStats, Usage, estimate_tokens, usage_from

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
class Finished:
    """The model is done; `text` is all text it wrote, `stats` what the footer shows."""

    text: str
    stats: AnswerStats


ModelEvent = TextDelta | ToolCall | Finished


@dataclass(frozen=True)
class ModelRequest:
    """What one answer asks of the model."""

    model: str
    max_tokens: int
    system: str
    messages: Sequence[dict[str, Any]]


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
) -> AsyncGenerator[ModelEvent, None]:
    """Stream one answer. See the module docstring for the error contract.

    With `tools`, a `tool_use` stop runs the tools (a `ToolCall` event each, for the status
    line), sends their results back and streams on; after `max_rounds` rounds Claude must
    answer without tools. Usage adds up across rounds. `partial`, when given, is kept up to
    date as the stream goes.
    """
    partial = partial or Partial()
    partial.started, partial.model = clock(), request.model
    messages = list(request.messages)
    turn = _Turn(clock, partial)
    for round_number in range(max_rounds + 1):
        params: dict[str, Any] = {
            "model": request.model,
            "max_tokens": request.max_tokens,
            "system": cached_system(request.system),
            "messages": messages,
        }
        if tools is not None:
            params["tools"] = tools.schemas
            if round_number == max_rounds:
                params["tool_choice"] = {"type": "none"}
        async for delta in turn.stream(client, params):
            yield delta
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
        self, client: anthropic.AsyncAnthropic, params: dict[str, Any]
    ) -> AsyncIterator[TextDelta]:
        partial, separate = self.partial, bool(self.parts)
        request_id: str | None = None
        message = _Message()
        try:
            # The SDK makes the request (headers, retries, status errors); the events are read
            # from the raw bytes (`events.py`): the SDK's stream would build a typed object for
            # every token, most of the CPU a token costs. `_Message` keeps what the end needs.
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
        usage = _object(_object(data.get("message")).get("usage"))
        partial = self.partial
        partial.input_tokens = self.usage.input_tokens + _count(usage, "input_tokens")
        partial.cache_write_tokens = self.usage.cache_write_tokens + _count(
            usage, "cache_creation_input_tokens"
        )
        partial.cache_read_tokens = self.usage.cache_read_tokens + _count(
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


class _Message:
    """The message a raw event stream describes, as the SDK's own `Message` at its end: its
    content blocks (text, tool calls with their input), stop reason and cumulative usage.

    Events are plain JSON objects from the network: each field is checked for its type where
    it is read, and anything else is a `StreamError` ("malformed_stream").
    """

    def __init__(self) -> None:
        self.message: dict[str, Any] | None = None
        self.blocks: dict[int, dict[str, Any]] = {}
        self.texts: dict[int, list[str]] = {}
        self.inputs: dict[int, list[str]] = {}

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

    def final(self) -> anthropic.types.Message | None:
        """The message, or None if the stream never said it began."""
        if self.message is None:
            return None
        content = []
        for index in sorted(self.blocks):
            block = self.blocks[index]
            if block.get("type") == "text":
                block["text"] = _string(block.get("text", "")) + "".join(self.texts.get(index, []))
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


def _index(event: dict[str, Any]) -> int:
    index = event.get("index")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 1024:
        raise malformed("a content block index expected")
    return index


def _count(usage: dict[str, Any], name: str) -> int:
    value = usage.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def cached_system(system: str) -> list[dict[str, Any]]:
    """The system prompt as a cacheable block: every question starts with the same prompt, so
    after the first, its tokens are read from Anthropic's cache (cheaper, and faster to the
    first token). Prompts shorter than the model's minimum cacheable length are simply not
    cached; the request is the same."""
    return [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}]


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
