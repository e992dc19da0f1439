"""The bot's HTTP server: Slack's requests in HTTP mode, health and metrics in both modes, and
the browser chat and dashboard where they are on (`bot.surfaces.web`)."""

from __future__ import annotations

from typing import Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.accounting.metrics import Metrics
from bot.delivery.pacing.redis_window import RedisWindows
from bot.surfaces.web import assets, chat, dashboard


class Served(Protocol):
    """What the server needs of the running bot (the composition root's `Services`)."""

    bolt: AsyncApp
    metrics: Metrics
    redis_windows: RedisWindows | None
    shutting_down: bool


SERVICES = web.AppKey("services", Served)


def web_app(
    services: Served,
    *,
    serve_slack: bool,
    web_chat: chat.Chat | None = None,
    board: dashboard.Dashboard | None = None,
) -> web.Application:
    """Routes: `POST /slack/events` (HTTP mode only), `GET /healthz`, `GET /metrics`, and the
    browser chat and dashboard where they are on."""
    app = web.Application()
    app[SERVICES] = services
    if serve_slack:
        app.router.add_post("/slack/events", slack_events)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    if web_chat is not None:
        chat.add_routes(app, web_chat)
    if board is not None:
        dashboard.add_routes(app, board)
    if web_chat is not None or board is not None:
        assets.add_routes(app)
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


async def metrics(request: web.Request) -> web.Response:
    body = request.app[SERVICES].metrics.exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
