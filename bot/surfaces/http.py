"""The bot's HTTP server: Slack's requests in HTTP mode, health, readiness and metrics in both
modes, and the browser chat (`/chat`, `/api/chat`) when `SHOPMAX_WEB_TOKEN` is set."""

from __future__ import annotations

import contextlib
import time
from typing import Any, Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.accounting.health import Health, State
from bot.accounting.metrics import Metrics
from bot.answering.answerer import Answerer
from bot.delivery.pacing.redis_window import RedisWindows
from bot.errors import StoreUnavailable
from bot.store import ResilientStore
from bot.surfaces.web import chat as webchat


class Served(Protocol):
    """What the server needs of the running bot (the composition root's `Services`)."""

    bolt: AsyncApp
    answerer: Answerer
    metrics: Metrics
    health: Health
    store: ResilientStore
    redis_windows: RedisWindows | None
    shutting_down: bool


SERVICES = web.AppKey("services", Served)


def web_app(
    services: Served,
    *,
    serve_slack: bool,
    web_token: str | None = None,
    timezone: str = "Asia/Kolkata",
) -> web.Application:
    """Routes: `POST /slack/events` (HTTP mode only), `GET /healthz`, `GET /metrics`, and the
    browser chat and dashboard when `web_token` is given."""
    app = web.Application()
    app[SERVICES] = services
    if serve_slack:
        app.router.add_post("/slack/events", slack_events)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    if web_token:
        webchat.add_routes(app, services.answerer, web_token, timezone)
    return app


async def slack_events(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    if services.shutting_down:
        # Slack retries a 503 later, by which time another replica or the restarted bot answers.
        return web.Response(status=503, text="shutting down")
    bolt_response = await services.bolt.async_dispatch(await to_bolt_request(request))
    return await to_aiohttp_response(bolt_response)


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
    body = request.app[SERVICES].metrics.exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
