"""A local Anthropic Messages API that streams scripted answers in the real SSE wire format.

Each request to `POST /v1/messages` takes the next `Script` (or the default one) and streams it:
`message_start`, a text block of `content_block_delta` events with pings between, then
`message_delta` with cumulative usage and the stop reason, and `message_stop`. A script can also
fail before the stream (an HTTP status), send an `error` event mid-stream, or drop the
connection. Every request body is recorded, and so is whether the client hung up early.

Citations stream as the API streams them: a script's `citations` end a text block after the
chunk they are keyed by, with one `citations_delta` event per citation on it (after its text,
as in the API's own example, or before it with `citations_first`), and the rest of the text
goes on in a new block. `split_bytes` writes every event in pieces of that many bytes, so one
event (a ₹ sign or a citation included) arrives across several reads.
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
    # A number, or counted from the request body (a stand-in for the real tokenizer).
    input_tokens: int | Callable[[dict[str, Any]], int] = 42
    output_tokens: int | None = None  # default: one per chunk
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    stop_reason: str = "end_turn"
    model: str = "claude-haiku-5-5"
    delay: float = 0.0  # seconds between chunks
    status: int | None = None  # answer this HTTP status instead of a stream
    error_after: int | None = None  # send an `error` event after this many chunks
    drop_after: int | None = None  # cut the connection after this many chunks
    garbage_after: int | None = None  # send `garbage` (raw bytes) after this many chunks
    garbage: bytes = b"event: content_block_delta\ndata: {not json\n\n"
    before_chunk: dict[int, Callable[[], Awaitable[None]]] = field(default_factory=dict)
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # after the text
    tokens_per_second: float | None = None  # pace chunks on a wall-clock schedule
    first_token_delay: float = 0.0
    # After chunk N, end the text block with these citations (search_result_location JSON).
    citations: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    citations_first: bool = False  # send a block's citations before its text
    split_bytes: int | None = None  # write each event in pieces of this many bytes

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
        # Message Batches: requests per batch, polls before a batch ends, custom ids that fail.
        self.batches: dict[str, list[dict[str, Any]]] = {}
        self.batch_polls: dict[str, int] = {}
        self.polls_until_done = 2
        self.failing: set[str] = set()
        self.created: list[dict[str, Any]] = []  # non-streaming messages.create bodies
        self.default = Script()
        self.calls: list[ModelCall] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/messages", self._messages)
        app.router.add_post("/v1/messages/batches", self._batch_create)
        app.router.add_get("/v1/messages/batches/{id}", self._batch_get)
        app.router.add_get("/v1/messages/batches/{id}/results", self._batch_results)
        self._runner, self.url = await serve(app)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def script(self, *scripts: Script) -> None:
        self.scripts.extend(scripts)

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if not body.get("stream"):
            return self._created(body)
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
        except ConnectionResetError:  # the client went away mid-stream, as a Stop does
            call.disconnected = True
        except asyncio.CancelledError:
            call.disconnected = True
            raise
        return response

    def _created(self, body: dict[str, Any]) -> web.Response:
        """A non-streaming `messages.create`: the whole message as one JSON body."""
        self.created.append(body)
        product = _product_name(body)
        if product in self.failing:
            return _error_response(500)
        return web.json_response(_message(body, f"{product}: a description."))

    async def _batch_create(self, request: web.Request) -> web.Response:
        body = await request.json()
        batch_id = f"msgbatch_{len(self.batches) + 1:03d}"
        self.batches[batch_id] = body["requests"]
        self.batch_polls[batch_id] = 0
        return web.json_response(self._batch(batch_id, request))

    async def _batch_get(self, request: web.Request) -> web.Response:
        batch_id = request.match_info["id"]
        if batch_id not in self.batches:
            return _error_response(404)
        self.batch_polls[batch_id] += 1
        return web.json_response(self._batch(batch_id, request))

    def _batch(self, batch_id: str, request: web.Request) -> dict[str, Any]:
        count = len(self.batches[batch_id])
        ended = self.batch_polls[batch_id] >= self.polls_until_done
        failed = sum(1 for r in self.batches[batch_id] if r["custom_id"] in self.failing)
        return {
            "id": batch_id,
            "type": "message_batch",
            "processing_status": "ended" if ended else "in_progress",
            "request_counts": {
                "processing": 0 if ended else count,
                "succeeded": count - failed if ended else 0,
                "errored": failed if ended else 0,
                "canceled": 0,
                "expired": 0,
            },
            "created_at": "2026-11-23T10:00:00Z",
            "expires_at": "2026-11-24T10:00:00Z",
            "ended_at": "2026-11-23T10:05:00Z" if ended else None,
            "archived_at": None,
            "cancel_initiated_at": None,
            "results_url": f"{self.url}/v1/messages/batches/{batch_id}/results" if ended else None,
        }

    async def _batch_results(self, request: web.Request) -> web.Response:
        lines = []
        for item in self.batches[request.match_info["id"]]:
            if item["custom_id"] in self.failing:
                result = {
                    "type": "errored",
                    "error": {
                        "type": "error",
                        "error": {"type": "api_error", "message": "Internal error"},
                    },
                }
            else:
                text = f"{_product_name(item['params'])}: a description."
                result = {"type": "succeeded", "message": _message(item["params"], text)}
            lines.append(json.dumps({"custom_id": item["custom_id"], "result": result}))
        return web.Response(text="\n".join(lines) + "\n", content_type="application/binary")

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
        send = _sender(response, script.split_bytes)
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
                        "input_tokens": _input_tokens(script, body),
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
        block = 0
        if script.citations_first and script.citations:
            await _citations(send, block, script.citations[_cited_blocks(script)[0]])
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
            if script.garbage_after == index:
                await response.write(script.garbage)
                await asyncio.sleep(0.5)  # the bot must give up on its own, not at the stream's end
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
                    "index": block,
                    "delta": {"type": "text_delta", "text": chunk},
                },
            )
            call.chunk_times.append(time.monotonic())
            if index in script.citations and index < len(script.chunks) - 1:
                block = await _next_block(send, block, script, index)
        if len(script.chunks) - 1 in script.citations and not script.citations_first:
            await _citations(send, block, script.citations[len(script.chunks) - 1])
        await send("content_block_stop", {"type": "content_block_stop", "index": block})
        for number, (name, args) in enumerate(script.tool_calls, start=block + 1):
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


def _input_tokens(script: Script, body: dict[str, Any]) -> int:
    counted = script.input_tokens
    return counted(body) if callable(counted) else counted


def about_four_bytes_a_token(body: dict[str, Any]) -> int:
    """Input tokens as Claude's tokenizers count English text, about four bytes a token, of
    the system prompt, tools and messages the request sent."""
    sent = [body.get("system"), body.get("tools"), body.get("messages")]
    return len(json.dumps(sent, ensure_ascii=False).encode()) // 4


def _product_name(body: dict[str, Any]) -> str:
    """The SKU a description request is about (the first line of its user message)."""
    content = body["messages"][-1]["content"]
    return str(content).splitlines()[0].removeprefix("SKU: ")


def _message(body: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "id": "msg_created",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "claude-haiku-5-5"),
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 150,
            "output_tokens": 40,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }


def _pieces(text: str, size: int = 7) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


Send = Callable[[str, dict[str, Any]], Awaitable[None]]


def _cited_blocks(script: Script) -> list[int]:
    """The chunks after which a cited text block ends, in order."""
    return sorted(script.citations)


async def _citations(send: Send, block: int, citations: list[dict[str, Any]]) -> None:
    for citation in citations:
        await send(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": block,
                "delta": {"type": "citations_delta", "citation": citation},
            },
        )


async def _next_block(send: Send, block: int, script: Script, index: int) -> int:
    """End the cited text block after chunk `index` and start the next one."""
    if not script.citations_first:
        await _citations(send, block, script.citations[index])
    await send("content_block_stop", {"type": "content_block_stop", "index": block})
    block += 1
    await send(
        "content_block_start",
        {
            "type": "content_block_start",
            "index": block,
            "content_block": {"type": "text", "text": ""},
        },
    )
    if script.citations_first:
        later = [i for i in _cited_blocks(script) if i > index]
        if later:
            await _citations(send, block, script.citations[later[0]])
    return block


def _sender(response: web.StreamResponse, split: int | None = None) -> Send:
    async def send(event: str, data: dict[str, Any]) -> None:
        raw = f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()
        if split is None:
            await response.write(raw)
            return
        for at in range(0, len(raw), split):
            await response.write(raw[at : at + split])
            await asyncio.sleep(0.001)  # a read of its own on the other side

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
