"""The composition root: builds every dependency once, wires them together, and runs the bot.

Nothing below this module constructs a client, opens a database or reads a setting; it is all
passed in from here, which is what lets the tests swap Slack and Anthropic for local fakes.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import anthropic
import httpx2
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.accounting.metrics import Metrics
from bot.answering.answerer import AnswerConfig, Answerer
from bot.answering.bookkeeping import Bookkeeper
from bot.answering.gate import Gate, Limits
from bot.answering.prompt import system_prompt
from bot.answering.recovery import Leases
from bot.catalog import SAMPLE_CATALOG, Catalog, load_catalog
from bot.catalog.tools import Toolbox
from bot.delivery.pacing.redis_window import RedisWindows
from bot.delivery.pacing.scheduler import Schedulers
from bot.delivery.slack_api import SlackApi
from bot.model.stream import Clock
from bot.settings import Settings
from bot.store import Store, open_store
from bot.surfaces import slack as listeners
from bot.surfaces.http import web_app
from bot.surfaces.slack.authorization import OneToken
from bot.surfaces.slack.usage_views import UsageReports

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything a running bot holds; `close()` releases it."""

    settings: Settings
    store: Store
    model: anthropic.AsyncAnthropic
    slack_client: AsyncWebClient
    schedulers: Schedulers
    answerer: Answerer
    bolt: AsyncApp
    metrics: Metrics
    leases: Leases
    redis_windows: RedisWindows | None = None
    shutting_down: bool = False

    async def start(self) -> None:
        """Start what runs beside answering: the lease heartbeat and sweep (after finishing
        this replica's own cut-off answers) and the listener for Stop presses relayed from
        other replicas."""
        await self.leases.sweep(own_too=True)
        self.leases.start()
        await self.store.listen_stops(self.answerer.stop_here)

    async def close(self, grace: float = 10.0) -> None:
        """Let answers in flight finish (up to `grace` seconds), end the rest with a notice,
        then release everything."""
        self.shutting_down = True
        await self.answerer.shutdown(grace)
        await self.leases.close()
        await self.schedulers.close()
        if self.redis_windows is not None:
            await self.redis_windows.close()
        await self.store.close()
        await self.model.close()


def toolbox(settings: Settings) -> Toolbox | None:
    """The catalog tools, or None when `SHOPMAX_CATALOG_TOOLS=off`. Raises `CatalogError`
    (listing each bad row) when the catalog file cannot be used."""
    if not settings.catalog_enabled:
        return None
    return Toolbox(Catalog(load_catalog(settings.catalog or SAMPLE_CATALOG)))


def answer_config(settings: Settings, tools: Toolbox | None = None) -> AnswerConfig:
    return AnswerConfig(
        model=settings.model,
        max_tokens=settings.max_tokens,
        system_prompt=system_prompt(settings.system_prompt_file, catalog=tools is not None),
        tools=tools,
        tool_rounds=settings.tool_rounds,
        history_tokens=settings.history_tokens,
        usd_inr=settings.usd_inr,
        thinking_after=settings.thinking_after,
        native_streaming=settings.stream_transport == "native",
        admins=settings.admin_users,
        ttft_warn_ms=settings.ttft_warn_ms,
        prices=settings.prices,
    )


def limits(settings: Settings) -> Limits:
    return Limits(
        allowed_teams=settings.allowed_teams,
        allowed_channels=settings.allowed_channels,
        max_question_chars=settings.max_question_chars,
        questions_per_window=settings.user_questions,
        window_s=settings.user_window,
        tokens_per_day=settings.user_tokens_per_day,
    )


def model_client(settings: Settings) -> anthropic.AsyncAnthropic:
    """The Claude client. Its read timeout is the stream's idle timeout: Anthropic sends pings
    while the model thinks, so silence that long means a stalled stream. There is no total
    timeout, which would cut long answers off mid-sentence."""
    idle = settings.stream_idle_timeout
    return anthropic.AsyncAnthropic(
        api_key=settings.anthropic_api_key,
        base_url=settings.anthropic_base_url,
        max_retries=settings.model_retries,
        timeout=httpx2.Timeout(connect=10.0, read=idle, write=30.0, pool=30.0),
    )


async def build_services(settings: Settings, *, clock: Clock = time.monotonic) -> Services:
    """Build the bot from settings (Slack and Anthropic settings must be present)."""
    settings.require_slack()
    settings.require_anthropic()
    tools = toolbox(settings)
    store = await open_store(settings.database_url)
    model = model_client(settings)
    slack_client = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
    redis_windows = None
    if settings.redis_url:
        redis_windows = RedisWindows(settings.redis_url, settings.replica_id, clock=clock)
    schedulers = Schedulers(
        per_minute={
            "chat.update": settings.updates_per_minute,
            "chat.appendStream": settings.appends_per_minute,
        },
        burst=settings.update_burst,
        min_interval=settings.update_interval,
        clock=clock,
        windows=redis_windows,
        max_tokens=settings.max_tokens,
    )
    metrics = Metrics()
    slack = SlackApi(slack_client, metrics)
    leases = Leases(store, slack, replica=settings.replica_id, lease=settings.answer_lease)
    answerer = Answerer(
        config=answer_config(settings, tools),
        slack=slack,
        model=model,
        store=store,
        schedulers=schedulers,
        metrics=metrics,
        gate=Gate(limits(settings), store),
        leases=leases,
        bookkeeper=Bookkeeper(
            store,
            metrics,
            usd_inr=settings.usd_inr,
            prices=settings.prices,
            ttft_warn_ms=settings.ttft_warn_ms,
        ),
        clock=clock,
    )
    one_token = OneToken(slack_client)
    await one_token.start()  # auth.test once, here, rather than on the requests' way to an ack
    bolt = AsyncApp(
        # Bolt's own client carries no token: each request's comes from `one_token`.
        client=AsyncWebClient(base_url=settings.slack_api_url),
        authorize=one_token,
        signing_secret=settings.slack_signing_secret or "",
        # Bolt acks events before running listeners, so a long answer never delays the ack.
        process_before_response=False,
    )
    reports = UsageReports(store, settings.admin_users, ZoneInfo(settings.timezone))
    listeners.register(bolt, answerer, reports)
    return Services(
        settings=settings,
        store=store,
        model=model,
        slack_client=slack_client,
        schedulers=schedulers,
        answerer=answerer,
        bolt=bolt,
        metrics=metrics,
        leases=leases,
        redis_windows=redis_windows,
    )


def http_app(services: Services) -> web.Application:
    """The bot's HTTP server for these services: Slack's requests only in HTTP mode."""
    settings = services.settings
    return web_app(
        services,
        serve_slack=not settings.socket_mode,
        web_token=settings.web_token,
        timezone=settings.timezone,
    )


async def run(settings: Settings) -> None:
    """Run the bot in Socket Mode (when `SLACK_APP_TOKEN` is set) or HTTP mode.

    On SIGTERM or SIGINT: `/healthz` and `/slack/events` answer 503 (Slack retries elsewhere
    or later), the Socket Mode connection closes, answers in flight get `SHOPMAX_SHUTDOWN_GRACE`
    seconds to finish and are otherwise ended with a notice, then the process exits 0.
    """
    services = await build_services(settings)
    await services.start()
    runner = web.AppRunner(http_app(services))
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    socket_mode = None
    if settings.socket_mode:
        socket_mode = AsyncSocketModeHandler(services.bolt, settings.slack_app_token)
        await socket_mode.connect_async()  # type: ignore[no-untyped-call]  # Bolt leaves it unannotated
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
            await socket_mode.close_async()  # type: ignore[no-untyped-call]
        await services.close(settings.shutdown_grace)
    finally:
        await runner.cleanup()
