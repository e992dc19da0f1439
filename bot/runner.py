"""`shopmax-bot run`: serve Slack until SIGTERM or SIGINT, then stop cleanly."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.app import build_services
from bot.settings import Settings
from bot.surfaces.http import web_app

log = logging.getLogger(__name__)


async def run(settings: Settings) -> None:
    """Run the bot in Socket Mode (when `SLACK_APP_TOKEN` is set) or HTTP mode.

    On SIGTERM or SIGINT: `/healthz` and `/slack/events` answer 503 (Slack retries elsewhere
    or later), the Socket Mode connection closes, answers in flight get `SHOPMAX_SHUTDOWN_GRACE`
    seconds to finish and are otherwise ended with a notice, then the process exits 0.
    """
    services = await build_services(settings)
    await services.start()
    runner = web.AppRunner(web_app(services, serve_slack=not settings.socket_mode))
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    socket_mode = None
    if settings.socket_mode:
        socket_mode = AsyncSocketModeHandler(services.bolt, settings.slack_app_token)
        await socket_mode.connect_async()
        log.info("connected to Slack in Socket Mode; health on port %s", settings.port)
    else:
        log.info("listening for Slack on http://%s:%s/slack/events", settings.host, settings.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down: finishing answers in flight")
    services.shutting_down = True
    try:
        if socket_mode is not None:
            await socket_mode.close_async()
        await services.close(settings.shutdown_grace)
    finally:
        await runner.cleanup()
