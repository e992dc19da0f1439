"""HTTP mode: Slack's signed requests on POST /slack/events, health and metrics."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.app import Services, build_services
from bot.settings import Settings
from bot.surfaces.http import web_app
from tests.conftest import payload, signed_headers
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.serve import serve
from tests.fakes.slack_server import BOT_USER, FakeSlack


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[tuple[str, Services]]:
    services = await build_services(settings)
    runner, url = await serve(web_app(services, serve_slack=True))
    yield url, services
    await runner.cleanup()
    await services.close()


async def test_signed_mention_over_http_is_acked_and_answered(
    served: tuple[str, Services], slack: FakeSlack, model: FakeAnthropic
) -> None:
    url, _services = served
    model.script(Script(chunks=["Over HTTP."]))
    body = json.dumps(payload("app_mention", text=f"<@{BOT_USER}> hi", ts="1700001000.000100"))
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/slack/events", data=body, headers=signed_headers(body)) as r:
            assert r.status == 200
    await slack.wait_for(lambda: any(m.context for m in slack.messages))
    assert slack.messages[0].markdown == "Over HTTP."


@pytest.mark.parametrize(
    "headers",
    [
        {"secret": "not-the-secret"},
        {"timestamp": int(time.time()) - 60 * 10},
    ],
    ids=["wrong secret", "stale timestamp"],
)
async def test_unsigned_or_stale_requests_are_refused(
    served: tuple[str, Services], slack: FakeSlack, model: FakeAnthropic, headers: dict
) -> None:
    """A wrong signature or a replayed old request gets 401 and never reaches the model."""
    url, services = served
    body = json.dumps(payload("app_mention", text=f"<@{BOT_USER}> hi", ts="1700001100.000100"))
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{url}/slack/events", data=body, headers=signed_headers(body, **headers)
        ) as r:
            assert r.status == 401
    await services.answerer.wait_idle(5)
    assert model.calls == []
    assert slack.messages == []


async def test_url_verification_challenge_is_answered(served: tuple[str, Services]) -> None:
    url, _ = served
    body = json.dumps(
        {
            "token": "t",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    )
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/slack/events", data=body, headers=signed_headers(body)) as r:
            assert r.status == 200
            assert (await r.json())["challenge"].startswith("3eZbrw1a")


async def test_healthz_is_ok_until_shutdown(served: tuple[str, Services]) -> None:
    url, services = served
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{url}/healthz") as r:
            assert (r.status, await r.text()) == (200, "ok")
        services.shutting_down = True
        async with http.get(f"{url}/healthz") as r:
            assert r.status == 503


async def test_metrics_are_prometheus_text(served: tuple[str, Services]) -> None:
    url, _ = served
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{url}/metrics") as r:
            assert r.status == 200
            assert r.headers["Content-Type"].startswith("text/plain")
            assert "shopmax_answers_in_flight 0.0" in await r.text()
