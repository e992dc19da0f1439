"""The browser chat's reply: Server-Sent Events on one HTTP response.

Events, in order: `start` {conversation_id}, then `text` {text} and `status` {status} as they
come, then one of `done` {input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
duration_s, ttft_s, stop_reason, cost, footer, notices, sources, text} or `error` {error,
notices}. `sources` are the answer's footnotes ({number, label, url, sku}, numbered as the
text's [1] markers); `text`, when not null, is the whole answer with its unchecked figures
marked ⚠, to show instead of the text streamed.

Each text delta is written the moment it arrives (a writer task drains a queue, so the model
stream never waits on the browser). A browser that goes away makes the next write fail: the
reply is then `gone`, the answering path leaves the model stream, and the HTTP stream to
Anthropic is closed, so a closed tab stops costing tokens.

A refusal is not streamed: the surface answers it as plain JSON with an HTTP status.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.question import Refusal
from bot.wording import markdown, sources
from bot.wording.ending import Ending

HEADERS = {
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # proxies such as nginx must not buffer the stream
}


class EventStreamReply:
    def __init__(
        self,
        request: web.Request,
        conversation_id: str,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.request = request
        self.conversation_id = conversation_id
        self.clock = clock
        self.response: web.StreamResponse | None = None
        self.refusal: Refusal | None = None
        self.text = ""
        self.gone = False
        self.slack_failure = None  # no Slack here
        self.calls = 0
        self.first_shown_at: float | None = None
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self.revised: str | None = None

    @property
    def thread_ts(self) -> str:
        return self.conversation_id

    async def refuse(self, refusal: Refusal) -> None:
        self.refusal = refusal

    async def open(self) -> None:
        # Queued first, before the response is ready: text may follow at once (the answerer
        # hands it over as soon as this has begun), and is written in order once it is.
        self._send("start", {"conversation_id": self.conversation_id})
        self.response = web.StreamResponse(headers=HEADERS)
        await self.response.prepare(self.request)
        self._writer = asyncio.create_task(self._write_all(self.response))

    def add(self, delta: str) -> None:
        self.text += delta
        self._send("text", {"text": delta})

    def status(self, line: str) -> None:
        self._send("status", {"status": markdown.plain(line)})

    def revise(self, text: str) -> None:
        self.text = self.revised = text

    async def finish(self, ending: Ending) -> None:
        notices = [markdown.plain(notice) for notice in ending.notices]
        if ending.retry or ending.stats is None:
            failure = notices[0] if notices else ""
            self._send("error", {"error": failure, "notices": notices})
        else:
            shown = {"sources": sources.as_data(ending.sources), "text": self.revised}
            self._send("done", {**_stats(ending), "notices": notices, **shown})
        await self._drained()

    def abandon(self) -> None:
        if self._writer is not None:
            self._writer.cancel()

    def _send(self, event: str, data: dict[str, Any]) -> None:
        if self.gone:
            return
        body = json.dumps(data, ensure_ascii=False)
        self._queue.put_nowait(f"event: {event}\ndata: {body}\n\n".encode())

    async def _drained(self) -> None:
        """Wait until every event is written (or the browser has gone)."""
        if self._writer is None:
            return
        self._queue.put_nowait(None)
        await asyncio.gather(self._writer, return_exceptions=True)

    async def _write_all(self, response: web.StreamResponse) -> None:
        while (chunk := await self._queue.get()) is not None:
            try:
                await response.write(chunk)
            except (ConnectionError, RuntimeError):
                # The browser went away (aiohttp raises ConnectionResetError, or RuntimeError
                # once the transport is closed).
                self.gone = True
                return
            if self.first_shown_at is None and chunk.startswith(b"event: text"):
                self.first_shown_at = self.clock()


def _stats(ending: Ending) -> dict[str, Any]:
    stats = ending.stats
    assert stats is not None
    usage = stats.usage
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "output_estimated": stats.output_estimated,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "duration_s": round(stats.duration_s, 3),
        "ttft_s": None if stats.ttft_s is None else round(stats.ttft_s, 3),
        "stop_reason": stats.stop_reason,
        "cost": ending.cost,
        "footer": None if ending.footer is None else markdown.plain(ending.footer),
    }
