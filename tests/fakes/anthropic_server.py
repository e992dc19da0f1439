"""A local Anthropic Messages API that streams scripted answers in the real SSE wire format.

Each request to `POST /v1/messages` takes the next `Script` (or the default one) and streams it:
`message_start`, a text block of `content_block_delta` events with pings between, then
`message_delta` with cumulative usage and the stop reason, and `message_stop`. A script can also
fail before the stream (an HTTP status), send an `error` event mid-stream, or drop the
connection. Every request body is recorded, and so is whether the client hung up early.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.serve import serve


@dataclass
class Script:
    """One scripted model answer."""

    chunks: list[str] = field(default_factory=lambda: ["Hello", " from", " ShopMax."])
    input_tokens: int = 42
    output_tokens: int | None = None  # default: one per chunk
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    stop_reason: str = "end_turn"
    model: str = "claude-haiku-5-5"
    delay: float = 0.0  # seconds between chunks
    status: int | None = None  # answer this HTTP status instead of a stream
    error_after: int | None = None  # send an `error` event after this many chunks
    drop_after: int | None = None  # cut the connection after this many chunks
    before_chunk: dict[int, Callable[[], Awaitable[None]]] = field(default_factory=dict)
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # after the text
    tokens_per_second: float | None = None  # pace chunks on a wall-clock schedule
    first_token_delay: float = 0.0

    @property
    def text(self) -> str:
        return "".join(self.chunks)


@dataclass
class ModelCall:
    body: dict[str, Any]
    headers: dict[str, str]
    finished: bool = False
    disconnected: bool = False
    chunk_times: list[float] = field(default_factory=list)  # monotonic time each chunk was sent


class FakeAnthropic:
    """Start with `await fake.start()`; point `ANTHROPIC_BASE_URL` at `fake.url`."""

    def __init__(self) -> None:
        self.scripts: list[Script] = []
        self.by_question: dict[str, Script] = {}  # answers chosen by the last user message
        self.default = Script()
        self.calls: list[ModelCall] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/messages", self._messages)
        self._runner, self.url = await serve(app)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def script(self, *scripts: Script) -> None:
        self.scripts.extend(scripts)

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        call = ModelCall(body=body, headers=dict(request.headers))
        self.calls.append(call)
        question = body["messages"][-1]["content"] if body.get("messages") else ""
        if isinstance(question, str) and question in self.by_question:
            script = self.by_question[question]
        else:
            script = self.scripts.pop(0) if self.scripts else self.default
        if script.status is not None:
            return _error_response(script.status)
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "request-id": f"req_{len(self.calls)}"}
        )
        await response.prepare(request)
        try:
            await self._stream(response, script, body, call)
            call.finished = True
        except (ConnectionResetError, asyncio.CancelledError):
            call.disconnected = True
            raise
        return response

    async def _tool_use(
        self,
        send: Callable[[str, dict[str, Any]], Awaitable[None]],
        index: int,
        name: str,
        args: dict[str, Any],
    ) -> None:
        """A tool_use block, its input arriving as input_json_delta pieces as the API sends it."""
        await send(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": index,
                "content_block": {
                    "type": "tool_use",
                    "id": f"toolu_{len(self.calls)}_{index}",
                    "name": name,
                    "input": {},
                },
            },
        )
        for piece in _pieces(json.dumps(args)):
            await send(
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "input_json_delta", "partial_json": piece},
                },
            )
        await send("content_block_stop", {"type": "content_block_stop", "index": index})

    async def _stream(
        self, response: web.StreamResponse, script: Script, body: dict[str, Any], call: ModelCall
    ) -> None:
        send = _sender(response)
        await send(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_fake",
                    "type": "message",
                    "role": "assistant",
                    "content": [],
                    "model": body.get("model", script.model),
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": script.input_tokens,
                        "output_tokens": 1,
                        "cache_creation_input_tokens": script.cache_write_tokens,
                        "cache_read_input_tokens": script.cache_read_tokens,
                    },
                },
            },
        )
        await send(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        )
        await send("ping", {"type": "ping"})
        if script.first_token_delay:
            await asyncio.sleep(script.first_token_delay)
        started = time.monotonic()
        for index, chunk in enumerate(script.chunks):
            if script.error_after == index:
                await send(
                    "error",
                    {
                        "type": "error",
                        "error": {"type": "overloaded_error", "message": "Overloaded"},
                    },
                )
                return
            if script.drop_after == index:
                response.force_close()
                transport = response._req.transport if response._req else None  # type: ignore[attr-defined]
                if transport is not None:
                    transport.close()
                return
            if index in script.before_chunk:
                await script.before_chunk[index]()
            elif script.tokens_per_second:
                due = started + index / script.tokens_per_second
                if due - time.monotonic() > 0.01:
                    await asyncio.sleep(due - time.monotonic())
            elif script.delay and index:
                await asyncio.sleep(script.delay)
            await send(
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": chunk},
                },
            )
            call.chunk_times.append(time.monotonic())
        await send("content_block_stop", {"type": "content_block_stop", "index": 0})
        for number, (name, args) in enumerate(script.tool_calls, start=1):
            await self._tool_use(send, number, name, args)
        output_tokens = script.output_tokens
        if output_tokens is None:
            output_tokens = len(script.chunks)
        await send(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": script.stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": output_tokens},
            },
        )
        await send("message_stop", {"type": "message_stop"})
        await response.write_eof()


def _pieces(text: str, size: int = 7) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _sender(response: web.StreamResponse) -> Callable[[str, dict[str, Any]], Awaitable[None]]:
    async def send(event: str, data: dict[str, Any]) -> None:
        await response.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())

    return send


def _error_response(status: int) -> web.Response:
    kinds = {
        429: "rate_limit_error",
        529: "overloaded_error",
        500: "api_error",
        400: "invalid_request_error",
    }
    kind = kinds.get(status, "api_error")
    return web.json_response(
        {"type": "error", "error": {"type": kind, "message": kind.replace("_", " ")}},
        status=status,
        headers={"request-id": "req_error"},
    )
