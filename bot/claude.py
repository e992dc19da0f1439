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

import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx2

from bot.conversation import estimate_tokens
from bot.errors import ModelInterrupted, ModelUnavailable
from bot.usage import AnswerStats, Usage

Clock = Callable[[], float]


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class Finished:
    """The model is done; `text` is all text it wrote, `stats` what the footer shows."""

    text: str
    stats: AnswerStats


ModelEvent = TextDelta | Finished


@dataclass(frozen=True)
class ModelRequest:
    """What one answer asks of the model."""

    model: str
    max_tokens: int
    system: str
    messages: Sequence[dict[str, Any]]


@dataclass
class Progress:
    """What is known of an answer while it streams, for a footer if it never finishes."""

    started: float = 0.0
    input_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    ttft: float | None = None
    request_id: str | None = None
    model: str = ""

    def partial_stats(self, text: str, clock: Clock, stop_reason: str) -> AnswerStats:
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
    progress: Progress | None = None,
) -> AsyncIterator[ModelEvent]:
    """Stream one answer. See the module docstring for the error contract.

    `progress`, when given, is kept up to date as the stream goes.
    """
    progress = progress or Progress()
    progress.started, progress.model = clock(), request.model
    started = progress.started
    ttft: float | None = None
    parts: list[str] = []
    request_id: str | None = None
    try:
        async with client.messages.stream(
            model=request.model,
            max_tokens=request.max_tokens,
            system=cached_system(request.system),  # type: ignore[arg-type]
            messages=list(request.messages),  # type: ignore[arg-type]
        ) as stream:
            request_id = progress.request_id = stream.request_id
            async for event in stream:
                if event.type == "text":
                    if ttft is None:
                        ttft = progress.ttft = clock() - started
                    parts.append(event.text)
                    yield TextDelta(event.text)
                elif event.type == "message_start":
                    usage = event.message.usage
                    progress.input_tokens = usage.input_tokens or 0
                    progress.cache_write_tokens = usage.cache_creation_input_tokens or 0
                    progress.cache_read_tokens = usage.cache_read_input_tokens or 0
            final = await stream.get_final_message()
    except anthropic.APIStatusError as exc:
        raise _status_error(exc, text_started=bool(parts)) from exc
    except anthropic.APIConnectionError as exc:
        raise _connection_error(exc, text_started=bool(parts), request_id=request_id) from exc
    except httpx2.HTTPError as exc:
        # A connection dropped mid-stream surfaces as the HTTP library's own read error.
        raise _connection_error(exc, text_started=bool(parts), request_id=request_id) from exc
    if final.stop_reason is None:
        # The body ended without `message_delta`/`message_stop`: the stream was cut off.
        raise ModelInterrupted(
            "the model stream ended before the message was complete",
            kind="incomplete_stream",
            request_id=request_id,
        )
    yield Finished(
        text="".join(parts),
        stats=AnswerStats(
            model=final.model or request.model,
            usage=_usage(final.usage),
            stop_reason=final.stop_reason,
            duration_s=clock() - started,
            ttft_s=ttft,
            request_id=request_id,
        ),
    )


def cached_system(system: str) -> list[dict[str, Any]]:
    """The system prompt as a cacheable block: every question starts with the same prompt, so
    after the first, its tokens are read from Anthropic's cache (cheaper, and faster to the
    first token). Prompts shorter than the model's minimum cacheable length are simply not
    cached; the request is the same."""
    return [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}]


def _usage(usage: Any) -> Usage:
    return Usage(
        input_tokens=usage.input_tokens or 0,
        output_tokens=usage.output_tokens or 0,
        cache_write_tokens=usage.cache_creation_input_tokens or 0,
        cache_read_tokens=usage.cache_read_input_tokens or 0,
    )


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
