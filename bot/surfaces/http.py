"""The bot's HTTP server: Slack's requests in HTTP mode, health, readiness and metrics in both
modes, and the browser chat and dashboard where they are on (`bot.surfaces.web`).

`POST /slack/events` faces the internet, so nothing reads a request before Slack's signature
over its raw bytes and its timestamp check out: junk gets 401 (unsigned, wrongly signed or
stale) or 400 (signed, but not a body Slack sends), never a 500 and a traceback, and refusals
are logged as one line a minute at most, so nobody can fill the logs. `GET /metrics` tells the
spend per model and `GET /readyz` which dependency is down: on `PORT` both need the metrics
token (`SHOPMAX_METRICS_TOKEN`) as their bearer, except in the credential-less local demo; on a
port of their own (`metrics_app`, `SHOPMAX_METRICS_PORT`) they need it too, unless that port is
on loopback, where only this machine (its scraper) can reach them. `GET /healthz` stays open:
it says only whether the process serves, and orchestrators probe it without credentials.

The browser pages answer only to their own host (`bot.surfaces.web.access`): a request naming
another `Host` is refused with 421 before a handler reads it. `CappedSite` bounds the open
connections (`SHOPMAX_MAX_CONNECTIONS`: past it a new one gets 503 and is closed) and idle
keep-alive connections close after `KEEPALIVE` seconds, so idle sockets cannot pile up.

`listen` binds a port before the bot starts anything else, so a port already in use stops
start-up with one line and nothing to clean up.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hmac
import logging
import socket
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import parse_body
from slack_sdk.signature import SignatureVerifier

from bot.accounting.health import Health, State
from bot.accounting.instruments import CONTENT_TYPE
from bot.accounting.metrics import Metrics
from bot.errors import CannotListen, StoreUnavailable
from bot.store import ResilientStore
from bot.surfaces.web import assets, catalog_feeds, chat, dashboard, slack_signin
from bot.surfaces.web.access import Access, Tries, names_this_socket
from bot.wording import texts

if TYPE_CHECKING:
    from bot.delivery.pacing.redis_window import RedisWindows

log = logging.getLogger(__name__)

REFUSAL_LOG_EVERY = 60.0  # seconds between log lines about refused Slack requests
SLACK_KEYS = frozenset({"type", "command", "ssl_check"})  # one is in every body Slack sends


class Served(Protocol):
    """What the server needs of the running bot (the composition root's `Services`)."""

    bolt: AsyncApp | None  # None: the web-only mode, no Slack
    metrics: Metrics
    health: Health
    store: ResilientStore
    redis_windows: RedisWindows | None
    shutting_down: bool


class SlackCheck:
    """Checks a request to `/slack/events` is Slack's before anything parses it, and keeps the
    log of refusals short."""

    def __init__(self, signing_secret: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.verifier = SignatureVerifier(signing_secret)
        self.clock = clock
        self.refused_since_log = 0
        self.logged_at: float | None = None

    def signed(self, body: bytes, headers: Mapping[str, str]) -> bool:
        """Slack's v0 signature over `body`, with a timestamp within five minutes."""
        try:
            return self.verifier.is_valid(
                body, headers.get("X-Slack-Request-Timestamp"), headers.get("X-Slack-Signature")
            )
        except ValueError:  # a timestamp that is not a number
            return False

    def refuse(self, status: int, why: str) -> web.Response:
        self.refused_since_log += 1
        now = self.clock()
        if self.logged_at is None or now - self.logged_at >= REFUSAL_LOG_EVERY:
            log.warning(
                "refused %d request(s) to /slack/events (latest: %s); this is logged at most "
                "once a minute",
                self.refused_since_log,
                why,
            )
            self.logged_at, self.refused_since_log = now, 0
        return web.Response(status=status, text=why)


SERVICES = web.AppKey("services", Served)
SLACK_CHECK = web.AppKey("slack_check", SlackCheck)
METRICS_TOKEN = web.AppKey("metrics_token", str)
OpenTo = Callable[[web.Request], bool]
METRICS_OPEN: web.AppKey[OpenTo] = web.AppKey("metrics_open")
PAGES_ACCESS = web.AppKey("pages_access", Access)
TRIES = web.AppKey("tries", Tries)
KEEPALIVE = 75.0  # seconds an idle connection stays open (longer than nginx's upstream 60 s)
# The browser's routes: these answer only to the pages' own host.
BROWSER_PATHS = ("/chat", "/dashboard", "/static/", "/api/")
# Machine-to-machine routes under /api/: a bearer token alone, no cookie or browser session a
# rebinding page could ride on, so a POS may call the bot by any name it is reachable by.
BEARER_ONLY_PATHS = ("/api/catalog/",)


def web_app(
    services: Served,
    *,
    serve_slack: bool,
    signing_secret: str | None = None,
    web_chat: chat.Chat | None = None,
    board: dashboard.Dashboard | None = None,
    serve_metrics: bool = True,
    metrics_token: str | None = None,
    access: Access | None = None,
    signin: slack_signin.SlackSignIn | None = None,
    tries: Tries | None = None,
    feeds: catalog_feeds.CatalogFeeds | None = None,
) -> web.Application:
    """Routes: `POST /slack/events` (HTTP mode only; `signing_secret` required), `GET
    /healthz`, `GET /metrics` and `/readyz` (unless they have a port of their own), and the
    browser chat and dashboard where they are on, and `POST /api/catalog/...` with `feeds`.
    `tries` counts wrong credentials per address (the chat's, the dashboard's and the catalog
    token's count in the same one)."""
    access = access or Access()
    app = web.Application(middlewares=[_own_host])
    app[SERVICES] = services
    app[PAGES_ACCESS] = access
    app[TRIES] = tries or Tries()
    if serve_slack:
        if not signing_secret:
            raise ValueError("serving /slack/events needs Slack's signing secret")
        app[SLACK_CHECK] = SlackCheck(signing_secret)
        app.router.add_post("/slack/events", slack_events)
    app.router.add_get("/healthz", healthz)
    if serve_metrics:
        _add_metrics(app, metrics_token, access.from_this_machine)
    if web_chat is not None:
        chat.add_routes(app, web_chat)
    if signin is not None:
        slack_signin.add_routes(app, signin)
    if board is not None:
        dashboard.add_routes(app, board)
    if feeds is not None:
        catalog_feeds.add_routes(app, feeds)
    if web_chat is not None or board is not None:
        assets.add_routes(app)
    return app


def metrics_app(
    services: Served, *, metrics_token: str | None = None, loopback: bool = False
) -> web.Application:
    """`GET /metrics` and `/readyz` alone, for a port of their own (`SHOPMAX_METRICS_PORT`):
    open without a token when that port is on loopback and the request names this machine
    (a web page rebinding a name of its own to 127.0.0.1 does not)."""
    app = web.Application()
    app[SERVICES] = services
    app[TRIES] = Tries()
    _add_metrics(app, metrics_token, lambda request: loopback and names_this_socket(request))
    return app


def _add_metrics(
    app: web.Application, token: str | None, open_to: Callable[[web.Request], bool]
) -> None:
    if token:
        app[METRICS_TOKEN] = token
    app[METRICS_OPEN] = open_to
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/readyz", readyz)


@web.middleware
async def _own_host(request: web.Request, handler: Any) -> web.StreamResponse:
    """The browser's routes answer only to the pages' host: DNS rebinding, a page elsewhere
    pointing a name of its own at this server, gets 421 and nothing else."""
    if (
        request.path.startswith(BROWSER_PATHS)
        and not request.path.startswith(BEARER_ONLY_PATHS)
        and not request.app[PAGES_ACCESS].host_ok(request)
    ):
        return web.json_response({"error": texts.WEB_WRONG_HOST}, status=421)
    response: web.StreamResponse = await handler(request)
    return response


def _metrics_allowed(request: web.Request) -> web.Response | None:
    """None when the request may read metrics or readiness; else the 401 that says how (or
    429: this address guessed wrong too often this minute)."""
    token = request.app.get(METRICS_TOKEN)
    if request.app[METRICS_OPEN](request):
        return None
    tries = request.app[TRIES]
    if tries.blocked(request):
        return web.Response(status=429, text=texts.WEB_TOO_MANY_TRIES)
    given = request.headers.get("Authorization", "")
    if token is not None and _bearer(given, token):
        return None
    if given:
        tries.note(request)
    return web.Response(
        status=401,
        text=texts.METRICS_UNAUTHORISED,
        headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
    )


async def slack_events(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    if services.shutting_down:
        # Slack retries a 503 later, by which time another replica or the restarted bot answers.
        return web.Response(status=503, text="shutting down")
    check = request.app[SLACK_CHECK]
    body = await request.read()
    if not check.signed(body, request.headers):
        return check.refuse(401, "missing, wrong or stale Slack signature")
    text = _slack_body(body, request.content_type)
    if text is None:
        return check.refuse(400, "signed, but not a body Slack sends")
    bolt_request = AsyncBoltRequest(
        body=text,
        query=request.query_string,
        headers=request.headers,  # type: ignore[arg-type]  # a multidict, as Bolt's adapter passes
    )
    assert services.bolt is not None  # the route exists only when Slack is served
    return await to_aiohttp_response(await services.bolt.async_dispatch(bolt_request))


def _slack_body(body: bytes, content_type: str) -> str | None:
    """`body` as text when it is what Slack sends, read the way Bolt reads it: an event (JSON
    with a `type`), a slash command (a form with `command`), a button press (a form whose
    `payload` is JSON with a `type`) or Slack's `ssl_check`; None otherwise."""
    try:
        text = body.decode("utf-8")
        parsed = parse_body(text, content_type)
    except (ValueError, RecursionError):  # bad JSON; or nested too deep to read
        return None
    if not isinstance(parsed, dict) or not SLACK_KEYS.intersection(parsed):
        return None
    return text


async def healthz(request: web.Request) -> web.Response:
    """503 while shutting down (the load balancer stops sending); otherwise 200, saying so when
    Redis is unreachable. That stays 200 on purpose: the replica still answers, within a share
    of the budget, and failing every replica's check over a Redis blip would stop them all."""
    services = request.app[SERVICES]
    if services.shutting_down:
        return web.Response(status=503, text="shutting down")
    shared = services.redis_windows
    if shared is not None and not await shared.ping():
        return web.Response(
            text=f"ok, but Redis at {shared.address} is unreachable: each replica keeps its own "
            "share of the Slack budget"
        )
    return web.Response(text="ok")


async def readyz(request: web.Request) -> web.Response:
    """Readiness: each dependency up or down, and since when, in a small JSON body.

    503 only when the bot can answer no one: shutting down, or Slack refusing its token. A
    database or Redis that is away, or Slack in an incident, leaves it 200: answers go on (the
    bookkeeping waits in the spool; Slack's calls wait for it), and taking every replica out
    of rotation over a shared outage would only stop the answers that still can be given.
    """
    refused = _metrics_allowed(request)
    if refused is not None:
        return refused
    services = request.app[SERVICES]
    await _look_again(services)
    ready = not services.shutting_down and services.health.can_answer
    body = {
        "ready": ready,
        "shutting_down": services.shutting_down,
        "dependencies": {
            name: _state(state) for name, state in sorted(services.health.states().items())
        },
        "spool": {"entries": services.store.spooled},
    }
    return web.json_response(body, status=200 if ready else 503)


async def _look_again(services: Served) -> None:
    """A cheap round trip to the database and Redis, so the answer is current. Slack is not
    called: its state is that of the bot's last call."""
    with contextlib.suppress(StoreUnavailable):  # the store notes it away (and logs once)
        await services.store.ping()
    shared = services.redis_windows
    if shared is not None:
        if await shared.ping():
            services.health.ok("redis")
        else:
            services.health.failed("redis", "unreachable")


def _state(state: State) -> dict[str, Any]:
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(state.since))
    shown: dict[str, Any] = {"ok": state.ok, "since": since}
    if not state.ok:
        shown["reason"] = state.reason
    return shown


async def metrics(request: web.Request) -> web.Response:
    refused = _metrics_allowed(request)
    if refused is not None:
        return refused
    body = request.app[SERVICES].metrics.exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


def _bearer(header: str, token: str) -> bool:
    """Whether `header` is `Bearer <token>`, compared in constant time. Compared as bytes: a
    header may carry any byte, and comparing non-ASCII text would raise."""
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(
        given.strip().encode("utf-8", "surrogateescape"), token.encode("utf-8")
    )


def listen(host: str, port: int, setting: str) -> socket.socket:
    """A socket listening on `host:port` for `web.SockSite`; `CannotListen` names the address,
    why, and the `setting` to change."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        return socket.create_server((host, port), family=family[0][0], backlog=128)
    except OSError as exc:
        reasons = {
            errno.EADDRINUSE: f"the port is already in use; stop what holds it or set {setting}",
            errno.EACCES: f"permission denied (ports below 1024 need root); change {setting}",
            errno.EADDRNOTAVAIL: "that address is not one of this machine's; check the host",
        }
        why = reasons.get(exc.errno or 0, exc.strerror or str(exc))
        raise CannotListen(f"cannot listen on {host}:{port}: {why}") from exc


class CappedSite(web.SockSite):
    """A `SockSite` that keeps at most `most` connections open: past it a new connection is
    answered 503 and closed at once, so idle or slow clients cannot take every socket."""

    __slots__ = ("_most",)

    def __init__(self, runner: web.BaseRunner, sock: socket.socket, *, most: int) -> None:
        super().__init__(runner, sock)
        self._most = most

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None
        most = self._most

        def protocol() -> asyncio.BaseProtocol:
            if len(server.connections) >= most:
                return _Busy()
            return server()

        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(protocol, sock=self._sock, backlog=self._backlog)


class _Busy(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(
            b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        )
        transport.close()
