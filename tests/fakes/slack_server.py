"""A local Slack Web API that keeps the messages it was sent, version by version.

It speaks what `slack_sdk` expects: `POST /api/<method>` with a form or JSON body and a bearer
token, answering `{"ok": true, ...}` or `{"ok": false, "error": "..."}` with HTTP 200, and 429
with `Retry-After` beyond Slack's rate limits where a test sets them: a method's calls in a
rolling minute for the workspace (`per_minute`; one token, so one workspace), and
`chat.postMessage` per channel, about one a second with short bursts (`posts_per_channel`, a
token bucket), and `assistant.threads.setStatus` per channel the same way (`status_per_channel`,
on by default: what the bot assumes of Slack's "special" limit; a test may tighten it). It
enforces Slack's size limits (`msg_too_long`, `invalid_blocks`, `msg_blocks_too_long`) so a
test fails the way real Slack would. `POST /response/<id>` plays a
slash command's `response_url`.

Tests read `messages` (what a person would see) and `calls` (what was sent, in order, with
when each request arrived and when it was answered); `statuses` (channel, thread) -> the
loading state shown now, `reactions` the reactions on messages, and `prompts` the suggested
prompts set per (channel, thread or None for the Messages tab). Streams are checked the way
Slack checks them: `chunks` of known types only (`task_update` with an id, a title and a known
status), blocks of known types (`invalid_chunks`, `invalid_blocks`).

Outages are played on the wire: `outage("503")` answers every call 503 `service_unavailable`,
`outage("reset")` drops every connection without an answer, `outage("refuse")` stops
listening (connections are refused) — each for `seconds`, or until `end_outage()`. And
`lose_responses["chat.postMessage"] = 1` lets the next post land but drops its answer, as a
connection lost on the way back would. Messages keep their `metadata`; `conversations.replies`
and `conversations.history` return it when asked (`include_all_metadata`), as Slack does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

from tests.fakes.serve import serve

TEAM = "T111"
BOT_USER = "UBOT"
BOT_ID = "BBOT"
TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-1-test-token"


@dataclass
class Message:
    """One Slack message and every version of it that Slack accepted."""

    channel: str
    ts: str
    thread_ts: str | None
    versions: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False
    streaming: bool = False
    times: list[float] = field(default_factory=list)  # when Slack accepted each version
    metadata: dict[str, Any] | None = None  # event_type and event_payload, as posted
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)  # a stream's task timeline

    @property
    def latest(self) -> dict[str, Any]:
        return self.versions[-1]

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return list(self.latest.get("blocks") or [])

    @property
    def markdown(self) -> str:
        """The answer text as shown: all markdown blocks of the latest version."""
        return markdown_of(self.latest)

    @property
    def context(self) -> list[str]:
        """Texts of the context blocks (footer, notices) of the latest version."""
        return [
            element["text"]
            for block in self.blocks
            if block["type"] == "context"
            for element in block["elements"]
        ]


def streamed_text(payload: dict[str, Any]) -> str:
    """The text a stream call carried: its `markdown_text`, or its `markdown_text` chunks."""
    chunks = payload.get("chunks") or []
    text = "".join(c.get("text", "") for c in chunks if c.get("type") == "markdown_text")
    return str(payload.get("markdown_text") or "") + text


def markdown_of(payload: dict[str, Any]) -> str:
    return "".join(b["text"] for b in payload.get("blocks") or [] if b["type"] == "markdown")


OutageMode = Literal["503", "reset", "refuse"]


@dataclass
class Call:
    method: str
    payload: dict[str, Any]
    at: float  # when the fake answered it
    status: int
    error: str | None = None
    received: float = 0.0  # when the request reached the fake


@dataclass
class Bucket:
    """Slack's "about one a second, with short bursts": `burst` calls at once, refilled at
    `per_second`."""

    burst: float
    per_second: float
    tokens: float = -1.0
    at: float = 0.0

    def take(self, now: float) -> float:
        """0 if a call may go now (and it is counted), else the seconds until one may."""
        if self.tokens < 0:
            self.tokens, self.at = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.per_second)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.per_second


class FakeSlack:
    """Start with `await fake.start()`; give `fake.api_url` to the `AsyncWebClient`."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.calls: list[Call] = []
        self.responses: list[dict[str, Any]] = []  # bodies posted to response_url
        self.ephemeral: list[dict[str, Any]] = []  # chat.postEphemeral payloads
        self.home: dict[str, dict[str, Any]] = {}  # user -> App Home view published
        # channels where posting (and editing) fails with not_in_channel
        self.not_member: set[str] = set()
        self.per_minute: dict[str, int] = {}  # method -> limit enforced with 429s
        # (burst, per second) of chat.postMessage in each channel, enforced with 429s
        self.posts_per_channel: tuple[float, float] | None = None
        self._post_buckets: dict[str, Bucket] = {}
        # (burst, per second) of assistant.threads.setStatus in each channel, enforced with 429s
        self.status_per_channel: tuple[float, float] | None = (4, 1)
        self._status_buckets: dict[str, Bucket] = {}
        self.statuses: dict[tuple[str, str], str] = {}  # (channel, thread) -> status shown
        self.no_status: set[str] = set()  # channels where setStatus is refused (not_allowed)
        self.reactions: dict[tuple[str, str], set[str]] = {}  # (channel, ts) -> names
        self.prompts: dict[tuple[str, str | None], dict[str, Any]] = {}
        self.latency = 0.0
        self.delay: dict[str, float] = {}  # method -> seconds before it is handled
        self.throttle_next: dict[str, int] = {}  # method -> how many next calls get a 429
        self.threads: dict[tuple[str, str], list[dict[str, Any]]] = {}  # earlier messages
        self.no_streaming: set[str] = set()  # channels where chat.startStream is refused
        self.streams_end_after: int | None = None  # appends before Slack ends every stream
        self.retry_after = 1
        self.lose_responses: dict[str, int] = {}  # method -> next calls handled, answer lost
        self.refusing: str | None = None  # an error Slack answers every call with
        self.outage_mode: OutageMode | None = None
        self._outage_end: asyncio.TimerHandle | None = None
        self._stopping: list[asyncio.Task[None]] = []  # the listener stopping or restarting
        self._sent: dict[str, list[float]] = {}
        self._ts = 0
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""
        # Socket Mode: envelopes to deliver, and the acks the app sent back.
        self.socket_acks: list[dict[str, Any]] = []
        self._sockets: list[web.WebSocketResponse] = []
        self._socket_connected = asyncio.Event()
        # Sign in with Slack, when a test sets it (`tests/fakes/openid_provider.FakeOpenID`).
        self.openid: Any = None
        # users.info: the workspace admins and owners (everyone else is a member), and the
        # workspace of people from another organisation (Slack Connect; TEAM otherwise).
        self.workspace_admins: set[str] = set()
        self.user_teams: dict[str, str] = {}

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def response_url(self, name: str = "cmd") -> str:
        return f"{self.url}/response/{name}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response_url)
        app.router.add_get("/socket", self._socket)
        app.router.add_get("/openid/connect/authorize", self._openid_authorize)
        self._runner, self.url = await serve(app)

    def outage(self, mode: OutageMode = "503", seconds: float | None = None) -> None:
        """Every Web API call fails the way `mode` says, for `seconds` (None: until
        `end_outage`)."""
        self.end_outage()
        self.outage_mode = mode
        if mode == "refuse":
            self._stop_listening()
        if seconds is not None:
            loop = asyncio.get_running_loop()
            self._outage_end = loop.call_later(seconds, self.end_outage)

    def end_outage(self) -> None:
        """Slack is back: calls are answered again (on the same port)."""
        if self._outage_end is not None:
            self._outage_end.cancel()
            self._outage_end = None
        if self.outage_mode == "refuse":
            self._stopping.append(asyncio.get_running_loop().create_task(self._listen_again()))
        self.outage_mode = None
        self._changed.set()

    def _stop_listening(self) -> None:
        assert self._runner is not None
        for site in list(self._runner.sites):
            self._stopping.append(asyncio.get_running_loop().create_task(site.stop()))
        server = self._runner.server
        for connection in server.connections if server is not None else []:
            connection.force_close()

    async def _listen_again(self) -> None:
        assert self._runner is not None
        port = int(self.url.rsplit(":", 1)[1])
        stopped = [task for task in self._stopping if task is not asyncio.current_task()]
        await asyncio.gather(*stopped)
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self._changed.set()

    async def close(self) -> None:
        if self._outage_end is not None:
            self._outage_end.cancel()
        while self._stopping:
            await self._stopping.pop()
        for ws in self._sockets:
            # A bot killed with -9 leaves its socket half-closed: saying goodbye may fail.
            with contextlib.suppress(ConnectionError, aiohttp.ClientConnectionResetError):
                await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def send_envelope(self, kind: str, body: dict[str, Any]) -> str:
        """Deliver a Socket Mode envelope (`events_api`, `slash_commands`, `interactive`)."""
        await asyncio.wait_for(self._socket_connected.wait(), 20)
        envelope_id = f"env-{len(self.socket_acks)}-{time.monotonic_ns()}"
        await self._sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": body,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        return envelope_id

    # ---- what tests read -------------------------------------------------------------

    def in_thread(self, channel: str, thread_ts: str) -> list[Message]:
        return [m for m in self.messages if m.channel == channel and m.thread_ts == thread_ts]

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, condition: Callable[[], Any], within: float = 10.0) -> Any:
        """Wait until `condition()` is truthy (re-checked on every Slack call); return it."""
        deadline = time.monotonic() + within
        while True:
            result = condition()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("Slack never reached the expected state")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.05))
            except TimeoutError:
                pass

    # ---- the wire ----------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        received = time.monotonic()
        method = request.match_info["method"]
        payload = await _payload(request)
        if self.latency or method in self.delay:
            await asyncio.sleep(self.latency + self.delay.get(method, 0.0))
        if self.outage_mode is not None:
            return self._down(request, method, payload)
        if method.startswith("openid.connect.") and self.openid is not None:
            return self._answer(
                method, payload, self.openid.api(method, request, payload), received
            )
        expected = APP_TOKEN if method == "apps.connections.open" else TOKEN
        if request.headers.get("Authorization") != f"Bearer {expected}":
            body = {"ok": False, "error": "invalid_auth"}
            return self._answer(method, payload, body, received)
        if self.refusing:
            return self._answer(method, payload, {"ok": False, "error": self.refusing}, received)
        limited = self._rate_limited(method, payload)
        if limited:
            call = Call(method, payload, time.monotonic(), 429, "ratelimited", received)
            self.calls.append(call)
            self._changed.set()
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(limited)},
            )
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        body = handler(payload) if handler else {"ok": False, "error": "unknown_method"}
        if self.lose_responses.get(method):
            self.lose_responses[method] -= 1
            self.calls.append(Call(method, payload, time.monotonic(), 0, "response_lost"))
            return self._hang_up(request)
        return self._answer(method, payload, body, received)

    def _down(self, request: web.Request, method: str, payload: dict[str, Any]) -> web.Response:
        """A call during an outage: 503, or a dropped connection (one that slipped in as the
        listener closed is dropped too)."""
        status = 503 if self.outage_mode == "503" else 0
        self.calls.append(Call(method, payload, time.monotonic(), status, "service_unavailable"))
        self._changed.set()
        if status:
            return web.json_response({"ok": False, "error": "service_unavailable"}, status=503)
        return self._hang_up(request)

    def _hang_up(self, request: web.Request) -> web.Response:
        """Close the connection without an answer; the client sees it dropped."""
        self._changed.set()
        assert request.transport is not None
        request.transport.abort()
        raise asyncio.CancelledError  # nothing more to send on this connection

    def _answer(
        self, method: str, payload: dict[str, Any], body: dict[str, Any], received: float
    ) -> web.Response:
        call = Call(method, payload, time.monotonic(), 200, body.get("error"), received)
        self.calls.append(call)
        self._changed.set()
        return web.json_response(body)

    def _rate_limited(self, method: str, payload: dict[str, Any]) -> int:
        if self.throttle_next.get(method):
            self.throttle_next[method] -= 1
            return self.retry_after
        if method == "chat.postMessage" and self.posts_per_channel is not None:
            channel = str(payload.get("channel", ""))
            bucket = self._post_buckets.setdefault(channel, Bucket(*self.posts_per_channel))
            wait = bucket.take(time.monotonic())
            if wait > 0:
                return max(1, math.ceil(wait))
        if method == "assistant.threads.setStatus" and self.status_per_channel is not None:
            channel = str(payload.get("channel_id", ""))
            bucket = self._status_buckets.setdefault(channel, Bucket(*self.status_per_channel))
            wait = bucket.take(time.monotonic())
            if wait > 0:
                return max(1, math.ceil(wait))
        limit = self.per_minute.get(method)
        if limit is None:
            return 0
        now = time.monotonic()
        recent = [t for t in self._sent.get(method, []) if now - t < 60]
        self._sent[method] = recent
        if len(recent) >= limit:
            return max(1, int(60 - (now - recent[0])) + 1)
        recent.append(now)
        return 0

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A111"}}
        )
        self._socket_connected.set()
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                self.socket_acks.append(json.loads(message.data))
                self._changed.set()
        return ws

    async def _openid_authorize(self, request: web.Request) -> web.Response:
        if self.openid is None:
            return web.Response(status=404)
        response: web.Response = await self.openid.authorize(request)
        return response

    async def _response_url(self, request: web.Request) -> web.Response:
        self.responses.append(await request.json())
        self._changed.set()
        return web.Response(text="ok")

    # ---- methods -----------------------------------------------------------------------

    def _auth_test(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://shopmax.slack.com/",
            "team": "ShopMax India",
            "user": "shopmax",
            "team_id": TEAM,
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
        }

    def _users_info(self, payload: dict[str, Any]) -> dict[str, Any]:
        """A user as `users.info` describes one (the fields the bot reads)."""
        user = str(payload.get("user") or "")
        if not user.startswith("U"):
            return {"ok": False, "error": "user_not_found"}
        admin = user in self.workspace_admins
        return {
            "ok": True,
            "user": {
                "id": user,
                "team_id": self.user_teams.get(user, TEAM),
                "is_admin": admin,
                "is_owner": False,
            },
        }

    def _apps_connections_open(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": self.url.replace("http://", "ws://") + "/socket"}

    def _next_ts(self, channel: str, thread_ts: Any) -> str:
        """A new message's ts: unique in its channel, and for a reply just after the latest
        message this fake knows of in the thread (Slack's ts is the time of posting, so a reply
        sorts after what it answers, and before a question the test asks later on)."""
        self._ts += 1
        parent = str(thread_ts or "")
        known = [parent, *(str(m.get("ts", "")) for m in self.threads.get((channel, parent), []))]
        known += [m.ts for m in self.messages if m.channel == channel and m.thread_ts == parent]
        latest = max((t for t in map(_micros, known) if t is not None), default=None)
        if latest is None or _micros(parent) is None:
            micros = 1_700_000_000_000_000 + self._ts
        else:
            micros = latest + 1
        taken = {_micros(m.ts) for m in self.messages if m.channel == channel}
        while micros in taken:  # a ts names one message in its channel
            micros += 1
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _chat_postMessage(self, payload: dict[str, Any]) -> dict[str, Any]:
        channel = payload.get("channel", "")
        if channel in self.not_member:
            return {"ok": False, "error": "not_in_channel"}
        problem = _too_big(payload)
        if problem:
            return {"ok": False, "error": problem}
        self._replied(channel, payload.get("thread_ts"))
        ts = self._next_ts(channel, payload.get("thread_ts"))
        message = Message(
            channel,
            ts,
            payload.get("thread_ts"),
            [payload],
            times=[time.monotonic()],
            metadata=_metadata(payload),
        )
        self.messages.append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts}}

    def _chat_update(self, payload: dict[str, Any]) -> dict[str, Any]:
        if payload.get("channel", "") in self.not_member:  # removed from the channel mid-answer
            return {"ok": False, "error": "not_in_channel"}
        message = self._find(payload.get("channel", ""), payload.get("ts", ""))
        if message is None or message.deleted:
            return {"ok": False, "error": "message_not_found"}
        problem = _too_big(payload)
        if problem:
            return {"ok": False, "error": problem}
        message.versions.append(payload)
        message.times.append(time.monotonic())
        message.metadata = _metadata(payload) or message.metadata
        return {"ok": True, "channel": message.channel, "ts": message.ts}

    def _chat_startStream(self, payload: dict[str, Any]) -> dict[str, Any]:
        channel = payload.get("channel", "")
        if channel in self.not_member:
            return {"ok": False, "error": "not_in_channel"}
        if channel in self.no_streaming:
            return {"ok": False, "error": "channel_type_not_supported"}
        self._replied(channel, payload.get("thread_ts"))
        if not payload.get("thread_ts"):
            return {"ok": False, "error": "invalid_arguments"}
        if not channel.startswith("D") and not (
            payload.get("recipient_user_id") and payload.get("recipient_team_id")
        ):
            return {"ok": False, "error": "invalid_arguments"}
        problem = _chunk_problem(payload.get("chunks"), payload.get("markdown_text"), empty=True)
        if problem:
            return {"ok": False, "error": problem}
        ts = self._next_ts(channel, payload["thread_ts"])
        message = Message(channel, ts, payload["thread_ts"], streaming=True)
        text = self._take_chunks(message, payload)
        self._add_version(message, text, [])
        self.messages.append(message)
        return {"ok": True, "channel": channel, "ts": ts}

    def _chat_appendStream(self, payload: dict[str, Any]) -> dict[str, Any]:
        message = self._find(payload.get("channel", ""), payload.get("ts", ""))
        if message is None or message.deleted:
            return {"ok": False, "error": "message_not_found"}
        appends = len(message.versions) - 1
        if self.streams_end_after is not None and appends >= self.streams_end_after:
            message.streaming = False
        if not message.streaming:
            return {"ok": False, "error": "message_not_in_streaming_state"}
        problem = _chunk_problem(payload.get("chunks"), payload.get("markdown_text"), empty=False)
        if problem:
            return {"ok": False, "error": problem}
        text = self._take_chunks(message, payload)
        if len(text) > 12_000:
            return {"ok": False, "error": "invalid_arguments"}
        self._add_version(message, message.markdown + text, [])
        return {"ok": True, "channel": message.channel, "ts": message.ts}

    def _chat_stopStream(self, payload: dict[str, Any]) -> dict[str, Any]:
        message = self._find(payload.get("channel", ""), payload.get("ts", ""))
        if message is None or message.deleted:
            return {"ok": False, "error": "message_not_found"}
        if not message.streaming:
            return {"ok": False, "error": "message_not_in_streaming_state"}
        problem = _chunk_problem(
            payload.get("chunks"), payload.get("markdown_text"), empty=True
        ) or _block_problem(payload.get("blocks"))
        if problem:
            return {"ok": False, "error": problem}
        message.streaming = False
        text = message.markdown + self._take_chunks(message, payload)
        self._add_version(message, text, list(payload.get("blocks") or []))
        return {"ok": True, "channel": message.channel, "ts": message.ts}

    def _take_chunks(self, message: Message, payload: dict[str, Any]) -> str:
        """A stream call's text (its `markdown_text`, or its markdown chunks); its task
        updates go to the message's timeline."""
        text = payload.get("markdown_text") or ""
        for chunk in payload.get("chunks") or []:
            if chunk["type"] == "markdown_text":
                text += chunk["text"]
            elif chunk["type"] == "task_update":
                message.tasks[chunk["id"]] = {**message.tasks.get(chunk["id"], {}), **chunk}
        return str(text)

    def _add_version(self, message: Message, markdown: str, extra: list[dict[str, Any]]) -> None:
        """What a streamed message shows: its text so far as markdown, then any stop blocks."""
        blocks = ([{"type": "markdown", "text": markdown}] if markdown else []) + extra
        message.versions.append({"text": "", "blocks": blocks})
        message.times.append(time.monotonic())

    def _assistant_threads_setStatus(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Slack's loading state in a thread (channel threads too, with `chat:write`);
        `status` "" clears it."""
        channel, thread_ts = payload.get("channel_id"), payload.get("thread_ts")
        status, loading = payload.get("status"), payload.get("loading_messages")
        if not channel or not thread_ts or not isinstance(status, str):
            return {"ok": False, "error": "invalid_arguments"}
        if channel in self.no_status:
            return {"ok": False, "error": "not_allowed"}
        if _micros(str(thread_ts)) is None:
            return {"ok": False, "error": "invalid_thread_ts"}
        if loading is not None and not (
            isinstance(loading, list)
            and 0 < len(loading) <= 10
            and all(isinstance(line, str) and line for line in loading)
        ):
            return {"ok": False, "error": "invalid_arguments"}
        if status:
            self.statuses[(channel, thread_ts)] = status
        else:
            self.statuses.pop((channel, thread_ts), None)
        return {"ok": True}

    def _replied(self, channel: str, thread_ts: object) -> None:
        """The app sent a reply in a thread: Slack clears the thread's status by itself ("The
        status will be automatically cleared when the app sends a reply", setStatus's docs)."""
        if isinstance(thread_ts, str):
            self.statuses.pop((channel, thread_ts), None)

    def _assistant_threads_setTitle(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True}

    def _assistant_threads_setSuggestedPrompts(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Up to four prompts, each a title and a message; `thread_ts` optional (the
        Messages tab has no thread)."""
        channel, prompts = payload.get("channel_id"), payload.get("prompts")
        if not channel or not isinstance(prompts, list) or not 0 < len(prompts) <= 4:
            return {"ok": False, "error": "invalid_arguments"}
        for prompt in prompts:
            if not (
                isinstance(prompt, dict)
                and set(prompt) == {"title", "message"}
                and all(isinstance(v, str) and v for v in prompt.values())
            ):
                return {"ok": False, "error": "invalid_arguments"}
        self.prompts[(channel, payload.get("thread_ts"))] = payload
        return {"ok": True}

    def _reactions_add(self, payload: dict[str, Any]) -> dict[str, Any]:
        key = (str(payload.get("channel", "")), str(payload.get("timestamp", "")))
        name = payload.get("name")
        if not all(key) or not name:
            return {"ok": False, "error": "invalid_arguments"}
        if name in self.reactions.get(key, set()):
            return {"ok": False, "error": "already_reacted"}
        self.reactions.setdefault(key, set()).add(str(name))
        return {"ok": True}

    def _reactions_remove(self, payload: dict[str, Any]) -> dict[str, Any]:
        key = (str(payload.get("channel", "")), str(payload.get("timestamp", "")))
        if payload.get("name") not in self.reactions.get(key, set()):
            return {"ok": False, "error": "no_reaction"}
        self.reactions[key].discard(str(payload["name"]))
        return {"ok": True}

    def _views_publish(self, payload: dict[str, Any]) -> dict[str, Any]:
        view = payload.get("view")
        self.home[payload.get("user_id", "")] = json.loads(view) if isinstance(view, str) else view
        return {"ok": True, "view": {"id": "V1"}}

    def _conversations_replies(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The thread's earlier messages (`threads`) and the bot's own messages in it, oldest
        first; metadata only with `include_all_metadata`."""
        channel, ts = payload.get("channel", ""), payload.get("ts", "")
        with_metadata = _flag(payload.get("include_all_metadata"))
        ours = [
            self._as_read(m, with_metadata)
            for m in self.messages
            if m.channel == channel and ts in (m.ts, m.thread_ts) and not m.deleted
        ]
        if (channel, ts) not in self.threads and not ours:
            return {"ok": False, "error": "thread_not_found"}
        messages = sorted([*self.threads.get((channel, ts), []), *ours], key=_ts_order)
        return {"ok": True, "messages": messages, "has_more": False}

    def _conversations_history(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The bot's top-level messages in the channel after `oldest`, newest first."""
        channel, oldest = payload.get("channel", ""), payload.get("oldest") or "0"
        with_metadata = _flag(payload.get("include_all_metadata"))
        found = [
            self._as_read(m, with_metadata)
            for m in self.messages
            if m.channel == channel
            and m.thread_ts in (None, m.ts)
            and not m.deleted
            and float(m.ts) > float(oldest)
        ]
        return {"ok": True, "messages": sorted(found, key=_ts_order, reverse=True)}

    def _as_read(self, message: Message, with_metadata: bool) -> dict[str, Any]:
        """A message as Slack's read methods return it."""
        read: dict[str, Any] = {
            "type": "message",
            "ts": message.ts,
            "user": BOT_USER,
            "bot_id": BOT_ID,
            "text": message.latest.get("text") or "",
            "blocks": message.blocks,
        }
        if message.thread_ts:
            read["thread_ts"] = message.thread_ts
        if with_metadata and message.metadata:
            read["metadata"] = message.metadata
        return read

    def _chat_postEphemeral(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.ephemeral.append(payload)
        return {"ok": True, "message_ts": "1700000000.999999"}

    def _find(self, channel: str, ts: str) -> Message | None:
        return next((m for m in self.messages if m.channel == channel and m.ts == ts), None)


async def _payload(request: web.Request) -> dict[str, Any]:
    """The call's arguments, wherever slack_sdk put them: JSON body, form body or query."""
    payload: dict[str, Any] = dict(request.query)
    raw = await request.text()
    if request.content_type == "application/json":
        payload.update(json.loads(raw) if raw else {})
        return payload
    payload.update(parse_qsl(raw))
    for key in ("blocks", "attachments"):
        if isinstance(payload.get(key), str):
            payload[key] = json.loads(payload[key])
    return payload


def _metadata(payload: dict[str, Any]) -> dict[str, Any] | None:
    """A call's `metadata` argument (JSON in a form body, an object in a JSON body)."""
    value = payload.get("metadata")
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else None


def _flag(value: Any) -> bool:
    """A boolean argument as slack_sdk sends it (`1` in a query, `true` in JSON)."""
    return value in (True, 1, "1", "true")


def _micros(ts: str) -> int | None:
    seconds, _, fraction = ts.partition(".")
    if not (seconds.isdigit() and fraction.isdigit() and len(fraction) == 6):
        return None
    return int(seconds) * 1_000_000 + int(fraction)


def _ts_order(message: dict[str, Any]) -> float:
    return float(message["ts"])


def _too_big(payload: dict[str, Any]) -> str | None:
    """Slack's documented and observed size limits, as errors Slack would answer."""
    if len(payload.get("text") or "") > 40_000:
        return "msg_too_long"
    blocks = payload.get("blocks") or []
    if len(blocks) > 50:
        return "invalid_blocks"
    if sum(len(b.get("text", "")) for b in blocks if b.get("type") == "markdown") > 12_000:
        return "invalid_blocks"
    if sum(len(text) for block in blocks for text in _texts(block)) > 13_000:
        return "msg_blocks_too_long"
    for block in blocks:
        if block.get("type") == "section" and len(block.get("text", {}).get("text", "")) > 3_000:
            return "invalid_blocks"
    return None


CHUNK_FIELDS = {
    "markdown_text": ({"type", "text"}, {"type", "text"}),
    "task_update": (
        {"type", "id", "title", "status"},
        {"type", "id", "title", "status", "details", "output", "sources"},
    ),
    "plan_update": ({"type", "title"}, {"type", "title"}),
    "blocks": ({"type", "blocks"}, {"type", "blocks"}),
}
TASK_STATUSES = {"pending", "in_progress", "complete", "error"}
BLOCK_TYPES = {"markdown", "section", "context", "actions", "divider", "header", "rich_text"}


def _chunk_problem(chunks: Any, markdown_text: Any, *, empty: bool) -> str | None:
    """What Slack would say of a stream call's `chunks` (None: fine). A call carries
    `markdown_text` or `chunks`, not both; an append must carry one of them."""
    if chunks is None:
        return None if empty or markdown_text else "invalid_arguments"
    if markdown_text:
        return "invalid_arguments"
    if not isinstance(chunks, list) or not chunks:
        return "invalid_chunks"
    for chunk in chunks:
        if not isinstance(chunk, dict) or chunk.get("type") not in CHUNK_FIELDS:
            return "invalid_chunks"
        required, allowed = CHUNK_FIELDS[chunk["type"]]
        if not required <= set(chunk) <= allowed:
            return "invalid_chunks"
        if chunk["type"] == "markdown_text" and not (
            isinstance(chunk["text"], str) and chunk["text"]
        ):
            return "invalid_chunks"
        if chunk["type"] == "task_update" and not (
            isinstance(chunk["id"], str)
            and chunk["id"]
            and isinstance(chunk["title"], str)
            and 0 < len(chunk["title"]) <= 256
            and chunk["status"] in TASK_STATUSES
        ):
            return "invalid_chunks"
    return None


def _block_problem(blocks: Any) -> str | None:
    if blocks is None:
        return None
    if not isinstance(blocks, list) or len(blocks) > 50:
        return "invalid_blocks"
    if any(not isinstance(b, dict) or b.get("type") not in BLOCK_TYPES for b in blocks):
        return "invalid_blocks"
    return _too_big({"blocks": blocks})


def _texts(block: dict[str, Any]) -> list[str]:
    """Every visible text in a block (markdown, section and context elements)."""
    text = block.get("text")
    if isinstance(text, str):
        return [text]
    if isinstance(text, dict):
        return [text.get("text", "")]
    return [e.get("text", "") for e in block.get("elements", []) if isinstance(e.get("text"), str)]
