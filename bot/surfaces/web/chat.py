"""The browser chat: `POST /api/chat` answers with Server-Sent Events, `GET /chat` serves the page.

Enabled when `SHOPMAX_WEB_TOKEN` is set; every request must carry it as a bearer token. Each
Claude text delta is written to the browser the moment it arrives (nothing is buffered in the
backend), catalog lookups are `status` events, and the stream ends with `done` (the usage
stats) or `error` (a clear message). A browser that disconnects stops the model stream: the
next write fails, the loop ends and the HTTP stream to Anthropic is closed.

Events, in order: `start` {conversation_id}, then `text` {text} and `status` {status} as they
come, then one of `done` {input_tokens, output_tokens, duration_s, ttft_s, stop_reason, cost}
or `error` {error}.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
import uuid
from datetime import tzinfo
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.accounting.ledger import LedgerRow
from bot.accounting.totals import grouped
from bot.answering.answerer import Answerer
from bot.answering.conversation import build_messages
from bot.catalog.tools import status_line
from bot.errors import ModelError
from bot.model.pricing import cost_usd
from bot.model.stream import Finished, ModelRequest, Progress, TextDelta, ToolCall, stream_answer
from bot.question import Question, Surface, Turn
from bot.wording import texts
from bot.wording.ending import ending_for

log = logging.getLogger(__name__)

CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
ANSWERER = web.AppKey("answerer", Answerer)
TOKEN = web.AppKey("web_token", str)
TIMEZONE = web.AppKey("timezone", str)


def add_routes(app: web.Application, answerer: Answerer, token: str, timezone: str) -> None:
    app[ANSWERER] = answerer
    app[TOKEN] = token
    app[TIMEZONE] = timezone
    app.router.add_get("/chat", chat_page)
    app.router.add_post("/api/chat", chat)
    app.router.add_get("/api/conversations/{conversation_id}", history)
    app.router.add_get("/dashboard", dashboard_page)
    app.router.add_get("/api/dashboard", dashboard_data)


async def chat_page(request: web.Request) -> web.Response:
    return _static("chat.html")


async def dashboard_page(request: web.Request) -> web.Response:
    return _static("dashboard.html")


def _static(name: str) -> web.Response:
    page = (
        resources.files("bot.surfaces.web").joinpath(f"static/{name}").read_text(encoding="utf-8")
    )
    return web.Response(text=page, content_type="text/html", charset="utf-8")


async def dashboard_data(request: web.Request) -> web.Response:
    """The ledger of the last `days` (default 14) for the dashboard's charts."""
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    try:
        days = max(1, min(int(request.query.get("days", "14")), 90))
    except ValueError:
        return web.json_response({"error": "days must be a whole number"}, status=400)
    answerer = request.app[ANSWERER]
    rows = await answerer.store.ledger(time.time() - days * 86400)
    tz = ZoneInfo(request.app[TIMEZONE])
    return web.json_response(dashboard(rows, tz))


def _refusal(request: web.Request) -> web.Response | None:
    """401 unless the request carries the configured bearer token (compared in constant time)."""
    header = request.headers.get("Authorization", "")
    given = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    if not given or not hmac.compare_digest(given.encode(), request.app[TOKEN].encode()):
        return web.json_response({"error": texts.WEB_UNAUTHORISED}, status=401)
    return None


async def history(request: web.Request) -> web.Response:
    """The conversation's earlier turns, for the page to show after a reload."""
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    conversation_id = request.match_info["conversation_id"]
    if not CONVERSATION_ID.match(conversation_id):
        return web.json_response({"error": texts.WEB_BAD_CONVERSATION}, status=400)
    turns = await request.app[ANSWERER].store.turns(f"web:{conversation_id}")
    return web.json_response({"turns": [{"role": t.role, "text": t.text} for t in turns]})


async def chat(request: web.Request) -> web.StreamResponse:
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    answerer = request.app[ANSWERER]
    try:
        message, conversation_id = _parse(await request.read(), answerer)
    except ValueError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",  # proxies such as nginx must not buffer the stream
        }
    )
    await response.prepare(request)
    await _send(response, "start", {"conversation_id": conversation_id})
    await _answer(answerer, response, message, conversation_id)
    return response


def _parse(raw: bytes, answerer: Answerer) -> tuple[str, str]:
    try:
        body = json.loads(raw or b"null")
    except json.JSONDecodeError:
        raise ValueError(texts.WEB_BAD_JSON) from None
    if not isinstance(body, dict):
        raise ValueError(texts.WEB_BAD_JSON)
    message = body.get("message")
    if not isinstance(message, str) or not message.strip():
        raise ValueError(texts.WEB_NO_MESSAGE)
    limit = answerer.gate.limits.max_question_chars
    if len(message) > limit:
        raise ValueError(texts.too_long(len(message), limit))
    conversation_id = body.get("conversation_id") or uuid.uuid4().hex
    if not isinstance(conversation_id, str) or not CONVERSATION_ID.match(conversation_id):
        raise ValueError(texts.WEB_BAD_CONVERSATION)
    return message.strip(), conversation_id


async def _send(response: web.StreamResponse, event: str, data: dict[str, Any]) -> None:
    await response.write(
        f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()
    )


async def _answer(
    answerer: Answerer, response: web.StreamResponse, message: str, conversation_id: str
) -> None:
    config = answerer.config
    key = f"web:{conversation_id}"
    history_turns = await answerer.store.turns(key)
    request = ModelRequest(
        model=config.model,
        max_tokens=config.max_tokens,
        system=config.system_prompt,
        messages=build_messages(history_turns, message, config.history_tokens),
    )
    progress = Progress()
    text = ""
    question = Question("web", "web", "web", message, Surface.WEB, uuid.uuid4().hex, key)
    stream = stream_answer(
        answerer.model, request, answerer.clock, progress, config.tools, config.tool_rounds
    )
    try:
        async for event in stream:
            if isinstance(event, TextDelta):
                text += event.text
                await _send(response, "text", {"text": event.text})
            elif isinstance(event, ToolCall):
                await _send(response, "status", {"status": status_line(event.name, event.args)})
            elif isinstance(event, Finished):
                await _finish(answerer, response, question, event, progress)
    except ModelError as exc:
        ending = ending_for(None, exc, usd_inr=config.usd_inr)
        await _send(response, "error", {"error": _plain(ending.notices[0])})
    except (ConnectionResetError, ConnectionError):
        # The browser went away: leaving the loop closed the model stream.
        log.info("browser disconnected; model stream closed")
        stats = progress.partial_stats(text, answerer.clock, "stopped")
        await answerer.bookkeeper.record(question, stats, "stopped", None, 0)
    finally:
        await stream.aclose()
        turns = [Turn("user", message)] + ([Turn("assistant", text)] if text else [])
        await answerer.store.add_turns(key, turns)


async def _finish(
    answerer: Answerer,
    response: web.StreamResponse,
    question: Question,
    event: Finished,
    progress: Progress,
) -> None:
    stats = event.stats
    config = answerer.config
    cost = texts.cost_text(cost_usd(stats.model, stats.usage, config.prices), config.usd_inr)
    notices = ending_for(stats, None, usd_inr=config.usd_inr, prices=config.prices).notices
    await _send(
        response,
        "done",
        {
            "input_tokens": stats.usage.input_tokens,
            "output_tokens": stats.usage.output_tokens,
            "cache_read_tokens": stats.usage.cache_read_tokens,
            "cache_write_tokens": stats.usage.cache_write_tokens,
            "duration_s": round(stats.duration_s, 3),
            "ttft_s": None if stats.ttft_s is None else round(stats.ttft_s, 3),
            "stop_reason": stats.stop_reason,
            "cost": cost,
            "notices": [_plain(n) for n in notices],
        },
    )
    await answerer.bookkeeper.record(question, stats, "ok", progress.ttft, 0)


def dashboard(rows: list[LedgerRow], tz: tzinfo) -> dict[str, Any]:
    """What the dashboard draws: per day, and the top channels and users. Pure."""
    days = grouped(rows, "day", tz)
    return {
        "days": [
            {
                "day": day,
                "answers": t.answers,
                "cost_usd": round(t.cost_usd, 6),
                "ttft_p50_ms": t.ttft_p50_ms,
                "ttft_p95_ms": t.ttft_p95_ms,
            }
            for day, t in days
        ],
        "top_channels": [
            {"name": n, "answers": t.answers, "cost_usd": round(t.cost_usd, 6)}
            for n, t in grouped(rows, "channel", tz)[:8]
        ],
        "top_users": [
            {"name": n, "answers": t.answers, "cost_usd": round(t.cost_usd, 6)}
            for n, t in grouped(rows, "user", tz)[:8]
        ],
    }


def _plain(mrkdwn: str) -> str:
    """A Slack notice as plain text for the browser (no emoji codes or underscores)."""
    return re.sub(r":[a-z_]+: ", "", mrkdwn).strip("_")
