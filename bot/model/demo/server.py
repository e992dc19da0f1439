"""The offline demo model: a small Messages API server on loopback for the real Anthropic SDK.

`anthropic.AsyncAnthropic(base_url=demo.url, api_key=DEMO_API_KEY)` streams from it exactly as
from Claude: `message_start`, content blocks (text, or `tool_use` with its input arriving as
`input_json_delta` pieces), a `ping`, `message_delta` with the cumulative usage and the stop
reason, and `message_stop`. Non-streaming `POST /v1/messages` and `count_tokens` answer too.
So the bot's whole answering path — tools, streaming, usage, the ledger — runs for real without
an API key or a network. What it says is decided by `plan.next_step` and written by
`answer.write_answer`.

Its pace is a model's: by default the first token after 0.4 s and then 40 tokens a second
(`Pace`; tests pass `INSTANT`). Token counts are honest: input is estimated from the request's
text, output is counted from what was sent. Requests the API would refuse (bad JSON, no
messages, a prompt over the context window, a body over 32 MB) get the API's error shapes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from aiohttp import web

from bot.model.demo.answer import Draft, write_answer
from bot.model.demo.cache import PromptCache
from bot.model.demo.identity import DEMO_MODEL
from bot.model.demo.names import Names, NamesSource
from bot.model.demo.plan import BadRequest, CallTools, Request, next_step, read_request
from bot.model.usage import estimate_tokens

log = logging.getLogger(__name__)

CONTEXT_TOKENS = 200_000
MAX_BODY = 32 * 1024 * 1024  # the Messages API's own request size limit
TOKENS_PER_DELTA = 3
# A rough tokenizer, near Claude's counts for English and Markdown: short runs of letters, up
# to three digits, up to three punctuation marks, runs of space, anything else alone. Joined
# back together the pieces are the text again.
_TOKEN = re.compile(r" ?[^\W\d_]{1,8}| ?\d{1,3}| ?[^\w\s]{1,3}|\s+|.", re.DOTALL)


@dataclass(frozen=True)
class Pace:
    """How fast the demo writes: seconds before the first token, then tokens per second
    (None: as fast as it can)."""

    first_token_s: float = 0.4
    tokens_per_second: float | None = 40.0


INSTANT = Pace(first_token_s=0.0, tokens_per_second=None)


def tokens(text: str) -> list[str]:
    """`text` cut into token-sized pieces (what the output count counts)."""
    return _TOKEN.findall(text)


class DemoModel:
    """`async with DemoModel.start() as demo:` serves on `demo.url` until the block ends."""

    def __init__(
        self,
        pace: Pace = Pace(),
        escalate_to: str = "your store manager",
        *,
        caching: bool = False,
    ) -> None:
        self.pace = pace
        self.escalate_to = escalate_to  # whom it tells staff to ask when nothing is found
        self.cache = PromptCache() if caching else None  # prompt caching counted, as the API
        # The catalog's names, asked on every request (the bot sets it once its catalog is
        # open: see `names.py`); without it the tool schemas' own values are read.
        self.names: NamesSource | None = None
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._served = 0

    @classmethod
    @contextlib.asynccontextmanager
    async def start(
        cls, pace: Pace = Pace(), escalate_to: str = "your store manager", *, caching: bool = False
    ) -> AsyncIterator[DemoModel]:
        demo = cls(pace, escalate_to, caching=caching)
        await demo.open()
        try:
            yield demo
        finally:
            await demo.close()

    async def open(self) -> None:
        """Listen on 127.0.0.1, on a port the system picks."""
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post("/v1/messages", self._messages)
        app.router.add_post("/v1/messages/count_tokens", self._count_tokens)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = site._server.sockets[0].getsockname()[:2]  # type: ignore[union-attr]
        self.url = f"http://{host}:{port}"

    async def _names(self) -> Names:
        """The catalog's names now; none when it cannot say (the schemas' values still work)."""
        if self.names is None:
            return Names()
        try:
            return await self.names()
        except Exception as exc:  # a demo answer without the catalog's names, not a failure
            log.warning("the demo model answers without the catalog's names: %r", exc)
            return Names()

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _messages(self, http: web.Request) -> web.StreamResponse:
        try:
            body, request, input_tokens = await _read(http)
        except _Refusal as refusal:
            return refusal.response
        self._served += 1
        request_id = f"req_demo_{self._served:06d}"
        request = replace(request, names=await self._names())
        cached = (
            (input_tokens, 0, 0) if self.cache is None else self.cache.usage(body, input_tokens)
        )
        reply = _Reply.for_request(request, cached, self.escalate_to)
        if not body.get("stream"):
            return web.json_response(reply.message(), headers={"request-id": request_id})
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "request-id": request_id,
            }
        )
        await response.prepare(http)
        try:
            await reply.stream(_sender(response), self.pace)
            await response.write_eof()
        except ConnectionResetError:
            log.debug("the client closed the demo stream early")  # a Stop, or a closed tab
        return response

    async def _count_tokens(self, http: web.Request) -> web.Response:
        try:
            _body, _request, input_tokens = await _read(http, counting=True)
        except _Refusal as refusal:
            return refusal.response
        return web.json_response({"input_tokens": input_tokens})


class _Refusal(Exception):
    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        body = {"type": "error", "error": {"type": kind, "message": message}}
        self.response = web.json_response(body, status=status, headers={"request-id": "req_demo"})


async def _read(
    http: web.Request, *, counting: bool = False
) -> tuple[dict[str, Any], Request, int]:
    try:
        raw = await http.read()
    except web.HTTPRequestEntityTooLarge:
        raise _Refusal(413, "request_too_large", "Request exceeds the maximum size") from None
    try:
        body = json.loads(raw or b"null")
        request = read_request(body, counting=counting)
    except (ValueError, BadRequest) as exc:
        message = str(exc) if isinstance(exc, BadRequest) else "the body is not valid JSON"
        raise _Refusal(400, "invalid_request_error", message) from None
    input_tokens = _input_tokens(body)
    if input_tokens > CONTEXT_TOKENS:
        message = f"prompt is too long: {input_tokens} tokens > {CONTEXT_TOKENS} maximum"
        raise _Refusal(400, "invalid_request_error", message)
    return body, request, input_tokens


def _input_tokens(body: dict[str, Any]) -> int:
    """The request's tokens, estimated from the text of its system prompt, messages and tools
    (JSON punctuation and keys included, as the model reads them too)."""
    parts = [body.get("system"), body.get("messages"), body.get("tools")]
    return estimate_tokens(json.dumps([p for p in parts if p], ensure_ascii=False))


Send = Callable[[str, dict[str, Any]], Awaitable[None]]


def _sender(response: web.StreamResponse) -> Send:
    async def send(event: str, data: dict[str, Any]) -> None:
        line = f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
        await response.write(line.encode())

    return send


@dataclass(frozen=True)
class _Reply:
    """One assistant message: either tool calls or text, with its usage and stop reason."""

    input: tuple[int, int, int]  # input, cache write and cache read tokens
    pieces: tuple[tuple[str, dict[str, Any] | None], ...] = ()
    calls: tuple[tuple[str, dict[str, Any]], ...] = ()
    max_tokens: int = 1024

    @classmethod
    def for_request(
        cls, request: Request, tokens: tuple[int, int, int], escalate_to: str = ""
    ) -> _Reply:
        step = next_step(request)
        if isinstance(step, CallTools):
            return cls(tokens, calls=step.calls, max_tokens=request.max_tokens)
        draft = Draft()
        text = write_answer(step, draft, escalate_to)
        return cls(tokens, tuple(draft.pieces(text)), max_tokens=request.max_tokens)

    @property
    def text(self) -> str:
        return "".join(piece for piece, _ in self.pieces)

    @property
    def stop_reason(self) -> str:
        if self.calls:
            return "tool_use"
        return "max_tokens" if len(tokens(self.text)) > self.max_tokens else "end_turn"

    def blocks(self) -> list[tuple[str, dict[str, Any], list[str], dict[str, Any] | None]]:
        """(kind, content_block_start body, the pieces of its deltas, its citation) for each
        block: a text block per cited span and per text between them, as Claude cites."""
        if not self.calls:
            blocks: list[tuple[str, dict[str, Any], list[str], dict[str, Any] | None]] = []
            left = self.max_tokens
            for piece, citation in self.pieces or (("", None),):
                cut = tokens(piece)[: max(left, 0)]
                left -= len(cut)
                if cut or not blocks:
                    blocks.append(("text", {"type": "text", "text": ""}, cut, citation))
            return blocks
        return [
            (
                "tool_use",
                {"type": "tool_use", "id": _id("toolu"), "name": name, "input": {}},
                tokens(json.dumps(args, ensure_ascii=False)),
                None,
            )
            for name, args in self.calls
        ]

    def message(self) -> dict[str, Any]:
        """The whole message, as a non-streaming request gets it."""
        content: list[dict[str, Any]] = []
        output = 0
        for kind, start, pieces, citation in self.blocks():
            output += len(pieces)
            whole = "".join(pieces)
            if kind == "text":
                content.append(
                    {**start, "text": whole, "citations": [citation] if citation else None}
                )
            else:
                content.append({**start, "input": json.loads(whole)})
        return {
            "id": _id("msg"),
            "type": "message",
            "role": "assistant",
            "model": DEMO_MODEL,
            "content": content,
            "stop_reason": self.stop_reason,
            "stop_sequence": None,
            "usage": self._usage(output),
        }

    async def stream(self, send: Send, pace: Pace) -> None:
        """The message as Server-Sent Events, paced like a model writing it."""
        start = {**self.message(), "content": [], "stop_reason": None, "usage": self._usage(1)}
        await send("message_start", {"type": "message_start", "message": start})
        clock = _Clock(pace)
        for index, (kind, block, pieces, citation) in enumerate(self.blocks()):
            await send(
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": block},
            )
            if index == 0:
                await send("ping", {"type": "ping"})
            for at in range(0, len(pieces), TOKENS_PER_DELTA):
                chunk = pieces[at : at + TOKENS_PER_DELTA]
                await clock.wait(len(chunk))
                delta = (
                    {"type": "text_delta", "text": "".join(chunk)}
                    if kind == "text"
                    else {"type": "input_json_delta", "partial_json": "".join(chunk)}
                )
                await send(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": delta},
                )
            if citation is not None:  # after the text it cites, as in the API's own example
                cited = {"type": "citations_delta", "citation": citation}
                await send(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": cited},
                )
            await send("content_block_stop", {"type": "content_block_stop", "index": index})
        await send(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": self.stop_reason, "stop_sequence": None},
                "usage": self._usage(clock.sent),
            },
        )
        await send("message_stop", {"type": "message_stop"})

    def _usage(self, output_tokens: int) -> dict[str, int]:
        fresh, written, read = self.input
        return {
            "input_tokens": fresh,
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": written,
            "cache_read_input_tokens": read,
        }


class _Clock:
    """Keeps the stream on its schedule: token n is due `first_token_s + n / rate` after the
    start, so slow writes never add up to a slower pace."""

    def __init__(self, pace: Pace) -> None:
        self.pace = pace
        self.started = time.monotonic()
        self.sent = 0

    async def wait(self, count: int) -> None:
        self.sent += count
        rate = self.pace.tokens_per_second
        due = self.started + self.pace.first_token_s + (self.sent / rate if rate else 0.0)
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


def _id(prefix: str) -> str:
    return f"{prefix}_demo_{uuid.uuid4().hex[:20]}"
