"""HTTP mode: Slack's signed requests on POST /slack/events, health and metrics."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import aiohttp
import pytest

from bot.app import Services, build_services, http_app
from bot.settings import Settings
from bot.surfaces.http import web_app
from tests.conftest import METRICS_HEADERS, SIGNING_SECRET, payload, signed_headers
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.serve import serve
from tests.fakes.slack_server import BOT_USER, FakeSlack


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[tuple[str, Services]]:
    services = await build_services(settings)
    runner, url = await serve(
        web_app(
            services,
            serve_slack=True,
            signing_secret=SIGNING_SECRET,
            metrics_token=services.settings.metrics_token,
        )
    )
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
        async with http.get(f"{url}/metrics", headers=METRICS_HEADERS) as r:
            assert r.status == 200
            assert r.headers["Content-Type"].startswith("text/plain")
            assert "shopmax_answers_in_flight 0.0" in await r.text()


FORM = "application/x-www-form-urlencoded"
JUNK = [
    pytest.param(b"garbage", FORM, id="garbage"),
    pytest.param(b"[" * 100_000, "application/json", id="[ x 100,000"),
    pytest.param(b"payload=%7Bnot+json", FORM, id="broken form payload"),
    pytest.param(b'{"a": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", "application/json", id="deep"),
    pytest.param(b"[1, 2]", "application/json", id="a JSON list"),
]
# Slack signs UTF-8 text; other bytes cannot carry a valid signature, so they get 401 too.
NOT_UTF8 = pytest.param(b'{"type": "\xff\xfe"}', "application/json", id="not UTF-8")


async def post_raw(url: str, body: bytes, headers: dict[str, str]) -> int:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/slack/events", data=body, headers=headers) as r:
            return r.status


def assert_quiet(caplog: pytest.LogCaptureFixture) -> None:
    """One warning line at most, and no traceback anywhere in the log."""
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(loud) <= 1, [r.getMessage() for r in loud]
    assert all("refused" in r.getMessage() for r in loud)
    assert not any(r.exc_info for r in caplog.records) and "Traceback" not in caplog.text


@pytest.mark.parametrize(("body", "content_type"), [*JUNK, NOT_UTF8])
async def test_unsigned_junk_is_refused_before_anything_reads_it(
    served: tuple[str, Services],
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    content_type: str,
) -> None:
    """No signature, no parsing: 401 every time, and one log line for all of them."""
    url, _ = served
    caplog.set_level(logging.INFO)
    statuses = [await post_raw(url, body, {"content-type": content_type}) for _ in range(3)]
    assert statuses == [401, 401, 401]
    assert_quiet(caplog)


@pytest.mark.parametrize(("body", "content_type"), JUNK)
async def test_signed_junk_is_a_bad_request_not_a_crash(
    served: tuple[str, Services],
    caplog: pytest.LogCaptureFixture,
    model: FakeAnthropic,
    body: bytes,
    content_type: str,
) -> None:
    """Even with a good signature, a body Slack would never send gets 400, not a 500."""
    url, _ = served
    caplog.set_level(logging.INFO)
    assert await post_raw(url, body, signed_headers(body, content_type=content_type)) == 400
    assert_quiet(caplog)
    assert model.calls == []


async def test_a_timestamp_that_is_not_a_number_is_refused(served: tuple[str, Services]) -> None:
    url, _ = served
    body = json.dumps(payload("app_mention", text=f"<@{BOT_USER}> hi", ts="1700001200.000100"))
    headers = {**signed_headers(body), "x-slack-request-timestamp": "soon"}
    assert await post_raw(url, body.encode(), headers) == 401


METRICS_TOKEN = "metrics-token-0123456789"


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (None, 401),
        ("Bearer not-the-metrics-token", 401),
        ("Basic " + METRICS_TOKEN, 401),
        ("Bearer caf\u00e9-\u2603", 401),
        (f"Bearer {METRICS_TOKEN}", 200),
        (f"bearer {METRICS_TOKEN}", 200),
    ],
    ids=["none", "wrong", "not bearer", "non-ASCII", "right", "lower-case scheme"],
)
async def test_metrics_can_require_a_bearer_token(
    settings: Settings, authorization: str | None, status: int
) -> None:
    """With SHOPMAX_METRICS_TOKEN set, spend per model is shown only to who holds it."""
    services = await build_services(replace(settings, metrics_token=METRICS_TOKEN))
    runner, url = await serve(http_app(services))
    headers = {"Authorization": authorization} if authorization else {}
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/metrics", headers=headers) as r:
                assert r.status == status
                text = await r.text()
        assert ("shopmax_answers_in_flight" in text) is (status == 200)
    finally:
        await runner.cleanup()
        await services.close()
