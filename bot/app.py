"""The composition root: builds every dependency once, wires them together, and runs the bot.

Nothing below this module constructs a client, opens a database or reads a setting; it is all
passed in from here, which is what lets the tests swap Slack and Anthropic for local fakes.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, TextIO
from zoneinfo import ZoneInfo

import anthropic
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.accounting.health import Health
from bot.accounting.metrics import Metrics
from bot.answering.answerer import AnswerConfig, Answerer
from bot.answering.gate import Gate, Limits
from bot.answering.history import ThreadReader
from bot.answering.prompt import system_prompt
from bot.answering.recovery import Leases
from bot.catalog import Catalog, Feed, open_catalog
from bot.catalog.feed import read_any
from bot.catalog.load import SAMPLE_CATALOG
from bot.catalog.now import CatalogFigures
from bot.catalog.stores import CatalogStores, StoreDirectory
from bot.catalog.tools import Toolbox
from bot.delivery.pacing.scheduler import Schedulers
from bot.delivery.replies.base import ReplyFor
from bot.delivery.replies.slack import SlackReplies
from bot.delivery.slack_api import SlackApi
from bot.delivery.slack_retry import Patience, http_session, web_client
from bot.errors import CannotOpenStore
from bot.knowledge import SAMPLE_KNOWLEDGE, Document, KnowledgeBase, open_knowledge, read_folder
from bot.knowledge.cited import CitedTools
from bot.knowledge.tool import search_tool
from bot.model.demo import DEMO_API_KEY, DEMO_MODEL, Names, NamesSource
from bot.model.stream import Clock
from bot.model.tools import Tools
from bot.question import Question
from bot.settings import Settings
from bot.store import ResilientStore, Store, open_resilient_store, open_store
from bot.store.opening import cannot_open
from bot.store.retention import Retention
from bot.surfaces import terminal
from bot.surfaces.http import KEEPALIVE, CappedSite, listen, metrics_app, web_app
from bot.surfaces.slack import SlackSurface, StopPresses, bolt_app
from bot.surfaces.slack.authorization import OneToken
from bot.surfaces.slack.store_command import Admins
from bot.surfaces.slack.usage_views import UsageViews
from bot.surfaces.web.access import Access, Tries, is_loopback
from bot.surfaces.web.catalog_feeds import CatalogFeeds
from bot.surfaces.web.chat import Chat
from bot.surfaces.web.dashboard import Dashboard
from bot.surfaces.web.sessions import CONVERSATIONS_KEY, SESSIONS_KEY, WEB_TEAM, Sessions
from bot.surfaces.web.slack_signin import SlackSignIn
from bot.wording import texts

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.delivery.pacing.redis_window import RedisWindows

log = logging.getLogger(__name__)

DEMO_TTFT_WARN_MS = 5_000


@dataclass
class Services:
    """Everything a running bot holds; `close()` releases it."""

    settings: Settings
    store: ResilientStore
    model: anthropic.AsyncAnthropic
    schedulers: Schedulers
    answerer: Answerer
    metrics: Metrics
    leases: Leases
    health: Health
    retention: Retention
    # Slack's side; None in the web-only mode (no Slack tokens).
    slack_client: AsyncWebClient | None = None
    slack: SlackApi | None = None
    bolt: AsyncApp | None = None
    stops: StopPresses | None = None
    redis_windows: RedisWindows | None = None
    knowledge: KnowledgeBase | None = None
    catalog: Catalog | None = None
    shutting_down: bool = False
    one_token: OneToken | None = None
    web_keys: dict[str, bytes] = field(default_factory=dict)  # the browser sessions' keys
    catalog_names: NamesSource | None = None  # what the catalog calls things, for the demo

    async def home_team(self) -> str | None:
        """The installing workspace (the bot token's team), or None without Slack."""
        if self.one_token is None:
            return None
        result = await self.one_token.result()
        return result.team_id

    async def start(self) -> None:
        """Start what runs beside answering: the lease heartbeat and sweep (after finishing
        this replica's own cut-off answers), the listener for Stop presses relayed from
        other replicas, and retention."""
        await self.leases.sweep(own_too=True)
        self.leases.start()
        if self.stops is not None:
            await self.store.listen_stops(self.stops.relayed)
        self.retention.start()

    async def close(self, grace: float = 10.0) -> None:
        """Let answers in flight finish (up to `grace` seconds), end the rest with a notice,
        then release everything."""
        self.shutting_down = True
        await self.answerer.shutdown(grace)
        await self.leases.close()
        await self.retention.close()
        await self.schedulers.close()
        if self.redis_windows is not None:
            await self.redis_windows.close()
        await self.store.close()
        if self.knowledge is not None:
            await self.knowledge.close()
        if self.catalog is not None:
            await self.catalog.close()
        await self.model.close()
        if self.slack_client is not None and self.slack_client.session is not None:
            await self.slack_client.session.close()


def catalog_feed(settings: Settings) -> Feed | None:
    """The catalog `SHOPMAX_CATALOG` names, checked (`CatalogError` lists every bad row and
    field), or None when it is not set or the catalog tools are off."""
    if not settings.catalog_enabled or settings.catalog is None:
        return None
    return read_any(settings.catalog)


async def catalog_for(settings: Settings, feed: Feed | None) -> Catalog | None:
    """The catalog in the store's database (None when the tools are off). With
    `SHOPMAX_CATALOG` set, its file is applied at start (only what differs changes, so an
    unchanged file changes nothing); otherwise, while the catalog is empty, the sample catalog
    is imported, so the demo answers at once. Feeds (`catalog import`, `catalog update`,
    `POST /api/catalog/...`) change it while the bot runs."""
    if not settings.catalog_enabled:
        return None
    try:
        catalog = await open_catalog(settings.database_url)
    except Exception as exc:
        error = cannot_open(settings.database_url, exc)
        if error is None:
            raise
        raise CannotOpenStore(f"{error} (for the catalog)") from exc
    try:
        if feed is not None:
            changes = await catalog.replace(feed, at=time.time())
            log.info(texts.catalog_applied(str(settings.catalog), changes.lines()))
        elif await catalog.generation() == 0:
            await catalog.replace(read_any(SAMPLE_CATALOG), at=time.time())
            log.info(texts.CATALOG_SAMPLE)
    except BaseException:
        await catalog.close()
        raise
    return catalog


def toolbox(settings: Settings, catalog: Catalog | None) -> Toolbox | None:
    """The catalog tools over `catalog` (None when it is off)."""
    if catalog is None:
        return None
    return Toolbox(catalog, stale_hours=settings.stock_stale_hours)


def store_directory(tools: Toolbox | None) -> StoreDirectory | None:
    """The catalog's stores, as they are now (a feed's new stores are known at once)."""
    return None if tools is None else CatalogStores(tools.catalog)


def names_of(tools: Toolbox | None) -> NamesSource | None:
    """What the catalog calls things now (categories, cities, stores), for the demo model."""
    if tools is None:
        return None
    catalog = tools.catalog

    async def names() -> Names:
        known = await (await catalog.view()).vocabulary()
        stores = {code: store.city for code, store in known.stores.items()}
        return Names(categories=known.categories, cities=known.cities, stores=stores)

    return names


class LateNames:
    """The demo model's `NamesSource` before the catalog is open: it is started first (the
    settings point at it), and given the catalog's names once they can be read."""

    def __init__(self) -> None:
        self.source: NamesSource | None = None

    async def __call__(self) -> Names:
        return Names() if self.source is None else await self.source()


def knowledge_documents(settings: Settings) -> list[Document] | None:
    """The documents of `SHOPMAX_KNOWLEDGE_DIR`, checked (`KnowledgeError` lists every bad
    file and field), or None when it is not set or the knowledge base is off."""
    if not settings.knowledge_enabled or settings.knowledge_dir is None:
        return None
    return read_folder(settings.knowledge_dir)


async def knowledge_for(
    settings: Settings, documents: list[Document] | None
) -> KnowledgeBase | None:
    """The knowledge base in the store's database, holding `documents` when given; while it
    holds none, the sample one is imported, so a first try shows sources. None when off."""
    if not settings.knowledge_enabled:
        return None
    try:
        knowledge = await open_knowledge(settings.database_url)
    except Exception as exc:
        error = cannot_open(settings.database_url, exc)
        if error is None:
            raise
        raise CannotOpenStore(f"{error} (for the knowledge base)") from exc
    try:
        if documents is not None:
            report = await knowledge.replace_all(documents, at=time.time())
            log.info(texts.knowledge_imported(str(settings.knowledge_dir), report))
        elif await knowledge.documents() == 0:
            await knowledge.replace_all(read_folder(SAMPLE_KNOWLEDGE), at=time.time())
            log.info(texts.KNOWLEDGE_SAMPLE)
    except BaseException:
        await knowledge.close()
        raise
    return knowledge


def tools_for(
    catalog: Toolbox | None, knowledge: KnowledgeBase | None
) -> Callable[[Question], Awaitable[Tools | None]]:
    """Claude's tools for one answer: the catalog's (over the catalog as it is when the
    answer starts, for the asker's store) and `search_knowledge`, every result a search
    result it can cite (None when both are off)."""
    found = [search_tool(knowledge)] if knowledge is not None else []

    async def tools(question: Question) -> Tools | None:
        if catalog is None and knowledge is None:
            return None
        answer_tools = None if catalog is None else await catalog.for_asker(asker_store(question))
        return CitedTools(answer_tools, found)

    return tools


def asker_store(question: Question) -> str | None:
    """The asker's store code, for `check_stock` to default to: the answering path found it
    (the browser's sign-in, the channel's mapping or the person's own: docs/catalog.md)."""
    return question.store or None


def answer_config(
    settings: Settings,
    tools: Toolbox | None = None,
    knowledge: KnowledgeBase | None = None,
) -> AnswerConfig:
    prompt = system_prompt(
        settings.system_prompt_file,
        catalog=tools is not None,
        knowledge=knowledge is not None,
        escalate_to=settings.escalate_to,
    )
    return AnswerConfig(
        model=settings.model,
        max_tokens=settings.max_tokens,
        system_prompt=prompt,
        tools_for=tools_for(tools, knowledge),
        catalog_now=None if tools is None else CatalogFigures(tools.catalog),
        tool_rounds=settings.tool_rounds,
        history_tokens=settings.history_tokens,
        usd_inr=settings.usd_inr,
        admins=settings.admin_users,
        ttft_warn_ms=settings.ttft_warn_ms,
        prices=settings.prices,
        replica=settings.replica_id,
        lease=settings.answer_lease,
    )


def limits(settings: Settings) -> Limits:
    return Limits(
        allowed_teams=settings.allowed_teams,
        allowed_channels=settings.allowed_channels,
        max_question_chars=settings.max_question_chars,
        questions_per_window=settings.user_questions,
        window_s=settings.user_window,
        tokens_per_day=settings.user_tokens_per_day,
        shared_teams=frozenset({WEB_TEAM}),
        shared_people=settings.web_token_people,
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
        timeout=anthropic.Timeout(connect=10.0, read=idle, write=30.0, pool=30.0),
        # The SDK's aiohttp transport: its C parser reads a streamed event for about half the
        # CPU of the default one, and every token of every answer is one event.
        http_client=anthropic.DefaultAioHttpClient(),
    )


def answerer_for(
    settings: Settings,
    store: Store,
    model: anthropic.AsyncAnthropic,
    metrics: Metrics,
    *,
    tools: Toolbox | None,
    knowledge: KnowledgeBase | None = None,
    replies: ReplyFor | None = None,
    threads: ThreadReader | None = None,
    clock: Clock = time.monotonic,
) -> Answerer:
    """The one answering path every surface uses."""
    return Answerer(
        config=answer_config(settings, tools, knowledge),
        model=model,
        store=store,
        metrics=metrics,
        gate=Gate(limits(settings), store),
        replies=replies,
        threads=threads,
        clock=clock,
        stores=store_directory(tools),
    )


async def build_services(settings: Settings, *, clock: Clock = time.monotonic) -> Services:
    """Build the bot from settings: Slack's side when any Slack setting is given (and then all
    it needs must be), the web-only mode otherwise; the Anthropic settings must be present."""
    if settings.serves_slack:
        settings.require_slack()
    settings.require_web()
    settings.require_anthropic()
    feed = catalog_feed(settings)  # a bad catalog stops start-up before anything is opened
    documents = knowledge_documents(settings)  # and so does a bad knowledge folder
    metrics = Metrics()
    health = Health(metrics)
    store = await open_resilient_store(
        settings.database_url,
        spool_path=settings.spool_path,
        spool_limit=settings.spool_limit,
        call_timeout=settings.database_timeout,
        redis_url=settings.redis_url,
        health=health,
    )
    # The browser's signing keys, read while the database is known to answer: a tablet can
    # then sign in and be checked even if it goes away later.
    web_keys = {name: await store.signing_key(name) for name in (SESSIONS_KEY, CONVERSATIONS_KEY)}
    try:
        knowledge = await knowledge_for(settings, documents)
    except BaseException:
        await store.close()
        raise
    try:
        catalog = await catalog_for(settings, feed)
    except BaseException:
        await store.close()
        if knowledge is not None:
            await knowledge.close()
        raise
    tools = toolbox(settings, catalog)
    model = model_client(settings)
    redis_windows = None
    if settings.redis_url:
        # Imported only where Redis is configured (its client is ~7 MB of memory).
        from bot.delivery.pacing.redis_window import RedisWindows

        redis_windows = RedisWindows(settings.redis_url, settings.replica_id, clock=clock)
    schedulers = Schedulers(
        per_minute={
            "chat.update": settings.updates_per_minute,
            "chat.appendStream": settings.appends_per_minute,
            "chat.startStream": settings.stream_starts_per_minute,
            "chat.stopStream": settings.stream_starts_per_minute,  # Tier 2 as well
        },
        burst=settings.update_burst,
        min_interval=settings.update_interval,
        clock=clock,
        windows=redis_windows,
        max_tokens=settings.max_tokens,
        patience=Patience(cap=settings.slack_retry_max, limit=settings.slack_outage_wait),
    )
    client = slack = replies = None
    if settings.serves_slack:
        session = http_session()
        client = web_client(settings.slack_bot_token, settings.slack_api_url, session=session)
        slack = SlackApi(client, metrics, health)
        replies = SlackReplies(
            slack,
            schedulers,
            store,
            native=settings.stream_transport == "native",
            thinking_after=settings.thinking_after,
            clock=clock,
        )
    answerer = answerer_for(
        settings,
        store,
        model,
        metrics,
        tools=tools,
        knowledge=knowledge,
        replies=replies,
        threads=None if slack is None else slack.thread,
        clock=clock,
    )
    services = Services(
        settings=settings,
        store=store,
        model=model,
        schedulers=schedulers,
        answerer=answerer,
        metrics=metrics,
        leases=Leases(store, slack, replica=settings.replica_id, lease=settings.answer_lease),
        health=health,
        retention=Retention(store, history_days=settings.history_days),
        slack_client=client,
        slack=slack,
        redis_windows=redis_windows,
        web_keys=web_keys,
        knowledge=knowledge,
        catalog=catalog,
        catalog_names=names_of(tools),
    )
    if client is not None and slack is not None:
        views = UsageViews(store, settings.admin_users, ZoneInfo(settings.timezone))
        admins = Admins(settings.admin_users, slack)
        stores = answerer.stores
        surface = SlackSurface(answerer, store, slack, metrics, views, stores, admins)
        one_token = OneToken(client)
        await one_token.start()  # auth.test once, here, not on the requests' way to an ack
        services.one_token = one_token
        services.bolt, services.stops = bolt_app(
            client, settings.slack_signing_secret, surface, one_token
        )
    return services


def http_app(services: Services) -> web.Application:
    """The bot's HTTP server for these services: Slack's requests only in HTTP mode, and the
    browser pages that are on (docs/security.md says what opens each)."""
    settings = services.settings
    access = Access(
        chat_token=settings.web_token,
        dashboard_token=settings.dashboard_token,
        local_demo=settings.local_demo,
        loopback=is_loopback(settings.bind_host),
        public_url=settings.public_url,
    )
    sessions = Sessions(
        services.store,
        lifetime_s=settings.web_session_hours * 3600,
        idle_s=settings.web_idle_minutes * 60,
        keys=services.web_keys,
    )
    signin = _chat_signin(settings, access)
    tries = Tries()  # wrong credentials per address, wherever they are given
    web_chat = board = slack = None
    if signin is not None:
        web_chat = Chat(
            services.answerer,
            services.store,
            sessions,
            access,
            signin=signin,
            idle_minutes=settings.web_idle_minutes,
            tries=tries,
            stores=services.answerer.stores,
        )
    if signin == "slack":
        slack = _slack_signin(services, sessions, tries)
    if settings.dashboard_token or access.trusts_local:
        board = Dashboard(services.store, access, settings.timezone, sessions, tries=tries)
    feeds = None
    if settings.catalog_token and services.catalog is not None:
        feeds = CatalogFeeds(services.catalog, settings.catalog_token, tries)
    return web_app(
        services,
        serve_slack=settings.serves_slack and not settings.socket_mode,
        signing_secret=settings.slack_signing_secret,
        web_chat=web_chat,
        board=board,
        serve_metrics=settings.metrics_port is None,
        metrics_token=settings.metrics_token,
        access=access,
        signin=slack,
        tries=tries,
        feeds=feeds,
    )


def _chat_signin(settings: Settings, access: Access) -> str | None:
    """How the chat signs in (`local`, `slack`, `token`), or None when it is off."""
    if access.trusts_local:
        return "local"
    method = settings.web_signin_method
    if method == "slack" and settings.slack_client_id and settings.slack_client_secret:
        return "slack"
    if method == "token" and settings.web_token:
        return "token"
    return None


def _slack_signin(services: Services, sessions: Sessions, tries: Tries) -> SlackSignIn:
    settings = services.settings
    assert settings.slack_client_id and settings.slack_client_secret and settings.public_url

    async def allowed_teams() -> frozenset[str]:
        """`SHOPMAX_ALLOWED_TEAMS`, else the installing workspace (auth.test's team)."""
        if settings.allowed_teams:
            return settings.allowed_teams
        home = await services.home_team()
        return frozenset({home}) if home else frozenset()

    return SlackSignIn(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        public_url=settings.public_url,
        authorize_url=settings.slack_authorize_url,
        api_url=settings.slack_api_url,
        sessions=sessions,
        allowed_teams=allowed_teams,
        tries=tries,
    )


async def ask(settings: Settings, text: str, out: TextIO) -> int:
    """`shopmax-bot ask`: one question from the terminal, through the one answering path
    (the gate and the ledger included), printed as it streams."""
    feed = catalog_feed(settings)
    documents = knowledge_documents(settings)
    async with AsyncExitStack() as stack:
        names = LateNames()
        settings = await model_or_demo(settings, stack, announce=False, names=names)
        store = await open_store(settings.database_url)
        stack.push_async_callback(store.close)
        knowledge = await knowledge_for(settings, documents)
        if knowledge is not None:
            stack.push_async_callback(knowledge.close)
        catalog = await catalog_for(settings, feed)
        if catalog is not None:
            stack.push_async_callback(catalog.close)
        tools = toolbox(settings, catalog)
        names.source = names_of(tools)
        model = model_client(settings)
        stack.push_async_callback(model.close)
        answerer = answerer_for(settings, store, model, Metrics(), tools=tools, knowledge=knowledge)
        return await terminal.ask(answerer, text, out)


def listen_all(settings: Settings) -> list[socket.socket]:
    """Bind the HTTP port (and the metrics port, when it has one) before anything else starts:
    a port in use stops start-up with one line, with nothing started that needs closing."""
    settings.require_ports()
    wanted = [(settings.bind_host, settings.port, "PORT")]
    if settings.metrics_port is not None:
        host = settings.metrics_host or settings.bind_host
        wanted.append((host, settings.metrics_port, "SHOPMAX_METRICS_PORT"))
    bound: list[socket.socket] = []
    try:
        for host, port, setting in wanted:
            bound.append(listen(host, port, setting))
    except BaseException:
        for sock in bound:
            sock.close()
        raise
    return bound


async def run(settings: Settings) -> None:
    """Run the bot: Socket Mode (`SLACK_APP_TOKEN`), HTTP mode (`SLACK_SIGNING_SECRET`), or,
    without Slack tokens, the browser chat and dashboard only; with the offline demo model
    when there is no `ANTHROPIC_API_KEY`.

    The ports are bound first and the services built next; what cannot be had (a port in use,
    an unreachable database) stops start-up with one line and leaves nothing running. On
    SIGTERM or SIGINT: `/healthz` and `/slack/events` answer 503 (Slack retries elsewhere or
    later), the Socket Mode connection closes, answers in flight get `SHOPMAX_SHUTDOWN_GRACE`
    seconds to finish and are otherwise ended with a notice, then the process exits 0.
    """
    sockets = listen_all(settings)
    try:
        async with AsyncExitStack() as stack:
            names = LateNames()
            settings = await model_or_demo(settings, stack, names=names)
            services = await build_services(settings)
            names.source = services.catalog_names
            await _serve(services, sockets)
    finally:
        for sock in sockets:
            sock.close()


async def model_or_demo(
    settings: Settings,
    stack: AsyncExitStack,
    *,
    announce: bool = True,
    names: NamesSource | None = None,
) -> Settings:
    """The settings to answer with: as they are with an Anthropic key; without one, pointed
    at the offline demo model, started on loopback for as long as `stack` lasts (and said so
    in the log, unless the answer itself is the output: `ask`, whose demo answers say it),
    reading questions against the catalog's `names`."""
    if settings.anthropic_api_key:
        return settings
    from bot.model.demo.server import DemoModel  # only without a key (see bot.model.demo)

    demo = await stack.enter_async_context(DemoModel.start(escalate_to=settings.escalate_to))
    demo.names = names
    if announce:
        log.warning(texts.DEMO_STARTED)
    return replace(
        settings,
        anthropic_api_key=DEMO_API_KEY,
        anthropic_base_url=demo.url,
        model=DEMO_MODEL,
        # Its first text comes after a catalog tool round (about 1.4 s): no network latency
        # to warn of.
        ttft_warn_ms=max(settings.ttft_warn_ms, DEMO_TTFT_WARN_MS),
    )


async def _serve(services: Services, sockets: list[socket.socket]) -> None:
    settings = services.settings
    runners = [web.AppRunner(http_app(services), keepalive_timeout=KEEPALIVE)]
    if settings.metrics_port is not None:
        loopback = is_loopback(settings.metrics_host or settings.bind_host)
        metrics = metrics_app(services, metrics_token=settings.metrics_token, loopback=loopback)
        runners.append(web.AppRunner(metrics, keepalive_timeout=KEEPALIVE))
    socket_mode = None
    # Listen for SIGTERM before anything is served: a signal that comes as soon as /healthz
    # answers must shut down cleanly, not kill the process.
    stop = _stop_on_signals(services)
    try:
        await services.start()
        for runner, sock in zip(runners, sockets, strict=True):
            await runner.setup()
            await CappedSite(runner, sock, most=settings.max_connections).start()
        socket_mode = await _connect(services)
        await stop.wait()
        log.info("shutting down: finishing answers in flight")
    finally:
        services.shutting_down = True
        try:
            if socket_mode is not None:
                await socket_mode.close_async()  # type: ignore[no-untyped-call]
            await services.close(settings.shutdown_grace)
        finally:
            for runner in runners:
                await runner.cleanup()


async def _connect(services: Services) -> AsyncSocketModeHandler | None:
    """Connect to Slack in Socket Mode when it is configured (None otherwise), and say in one
    line how the bot is reached."""
    settings = services.settings
    url = f"http://{settings.bind_host}:{settings.port}".replace("//0.0.0.0:", "//127.0.0.1:")
    if services.bolt is None:
        log.warning(texts.web_only(url))
        if settings.local_demo and is_loopback(settings.bind_host) and not _demo_model(settings):
            log.warning(texts.DEMO_OPEN_WITH_KEY)
        return None
    if not settings.socket_mode:
        log.info("listening for Slack on %s/slack/events", url)
        return None
    # Imported only in Socket Mode (HTTP mode and the web-only mode never need its client).
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    socket_mode = AsyncSocketModeHandler(services.bolt, settings.slack_app_token)
    await socket_mode.connect_async()  # type: ignore[no-untyped-call]  # Bolt leaves it unannotated
    log.info("connected to Slack in Socket Mode; health on port %s", settings.port)
    return socket_mode


def _demo_model(settings: Settings) -> bool:
    """Whether answers come from the offline demo model (no Anthropic key was set)."""
    return settings.anthropic_api_key == DEMO_API_KEY


def _stop_on_signals(services: Services) -> asyncio.Event:
    """An event set by the first SIGTERM or SIGINT. The services are marked as shutting down
    in the signal's own callback: `/healthz` says 503 from the next request on, not only once
    the task waiting for the event has run (a load balancer asking right after the signal
    must not be told the replica is healthy)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def stopping() -> None:
        services.shutting_down = True
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping)
    return stop
