"""Readiness tells the truth: which dependency is down and since when, and 503 only when the bot
can answer no one. Liveness (`/healthz`) stays 200 through a dependency's outage."""

from __future__ import annotations

import asyncio
import calendar
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import aiohttp
import pytest

from bot.app import Services, build_services
from bot.delivery.slack_api import SlackApi
from bot.errors import SlackRefused, SlackUnavailable
from bot.settings import Settings
from bot.surfaces.http import web_app
from bot.wording.markdown import Rendered
from tests.conftest import CHANNEL, METRICS_HEADERS
from tests.fakes.serve import free_port, serve
from tests.fakes.slack_server import FakeSlack
from tests.services import ThrowawayPostgres

Serve = Callable[..., Awaitable[tuple[str, Services]]]


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[Serve]:
    """Start the bot's HTTP server with some settings changed; returns its URL and services."""
    started: list[tuple[Any, Services]] = []

    async def start(**changes: Any) -> tuple[str, Services]:
        services = await build_services(replace(settings, **changes))
        runner, url = await serve(
            web_app(services, serve_slack=False, metrics_token=services.settings.metrics_token)
        )
        started.append((runner, services))
        return url, services

    yield start
    for runner, services in started:
        await runner.cleanup()
        await services.close()


async def until(condition: Callable[[], bool], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        await asyncio.sleep(0.02)


def slack_of(services: Services) -> SlackApi:
    """Slack calls as the bot makes them: its client, reporting to its health board."""
    return SlackApi(services.slack_client, services.metrics, services.health)


async def get(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.get(url, headers=METRICS_HEADERS) as response:
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, body


async def test_all_dependencies_up(served: Serve) -> None:
    url, _ = await served()
    status, body = await get(f"{url}/readyz")
    assert status == 200 and body["ready"] is True
    assert {name: state["ok"] for name, state in body["dependencies"].items()} == {
        "database": True,
        "slack": True,
    }
    assert body["spool"] == {"entries": 0}
    assert body["dependencies"]["database"]["since"].endswith("Z")


async def test_a_database_that_crashed_is_down_but_the_bot_stays_ready_and_alive(
    served: Serve, throwaway_postgres: ThrowawayPostgres
) -> None:
    """PostgreSQL crashes: readiness says database down (since when), still 200 — answers
    go on, their bookkeeping waits in the spool, which readiness and the metrics count."""
    url, services = await served(database_url=throwaway_postgres.url)
    await throwaway_postgres.crash()
    status, body = await get(f"{url}/readyz")
    assert status == 200 and body["ready"] is True
    database = body["dependencies"]["database"]
    assert database["ok"] is False and database["reason"]
    since = calendar.timegm(time.strptime(database["since"], "%Y-%m-%dT%H:%M:%SZ"))
    assert 0 <= time.time() - since < 60, "down since the crash, in UTC"
    assert (await get(f"{url}/healthz"))[0] == 200
    await services.store.end_answer("a1")
    assert (await get(f"{url}/readyz"))[1]["spool"] == {"entries": 1}
    metrics = services.metrics.exposition().decode()
    assert 'shopmax_dependency_failures_total{dependency="database"}' in metrics
    assert 'shopmax_dependency_up{dependency="database"} 0.0' in metrics
    assert "shopmax_spool_entries 1.0" in metrics
    await throwaway_postgres.start()
    await until(lambda: services.store.up)
    status, body = await get(f"{url}/readyz")
    assert body["dependencies"]["database"]["ok"] is True and body["spool"] == {"entries": 0}


async def test_slack_refusing_the_token_makes_the_bot_unready(
    served: Serve, slack: FakeSlack
) -> None:
    """Slack says the token was revoked: no one can be answered until a person fixes it."""
    url, services = await served()
    slack.refusing = "token_revoked"
    with pytest.raises(SlackRefused):
        await slack_of(services).post(CHANNEL, Rendered("hi", []))
    status, body = await get(f"{url}/readyz")
    assert status == 503 and body["ready"] is False
    assert body["dependencies"]["slack"] == {
        "ok": False,
        "since": body["dependencies"]["slack"]["since"],
        "reason": "token_revoked",
    }
    assert (await get(f"{url}/healthz"))[0] == 200, "alive: restarting would not help"


async def test_slack_in_an_incident_is_down_but_the_bot_stays_ready(
    served: Serve, slack: FakeSlack
) -> None:
    url, services = await served()
    slack.outage("503")
    with pytest.raises(SlackUnavailable):  # after the SDK's own retries
        await slack_of(services).update(CHANNEL, "1.1", Rendered("hi", []))
    status, body = await get(f"{url}/readyz")
    assert status == 200
    assert body["dependencies"]["slack"]["reason"] == "service_unavailable"


async def test_redis_that_is_unreachable_is_down_but_the_bot_stays_ready(served: Serve) -> None:
    url, _ = await served(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    status, body = await get(f"{url}/readyz")
    assert status == 200
    assert body["dependencies"]["redis"]["ok"] is False


async def test_shutting_down_is_unready(served: Serve) -> None:
    url, services = await served()
    services.shutting_down = True
    status, body = await get(f"{url}/readyz")
    assert status == 503 and body["shutting_down"] is True
