"""Shared fixtures: the fake Slack and Anthropic servers, and a real bot wired to them."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.accounting.ledger import LedgerRow
from bot.app import Services, build_services
from bot.settings import Settings
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.slack_server import TEAM, TOKEN, FakeSlack, Message
from tests.services import POSTGRES_URL, drop_schema, fresh_redis, postgres_schema

# Fixtures for every test: a PostgreSQL cluster a test may crash (from a template made once)
# and a Redis server a test may kill.
from tests.services import postgres_template as postgres_template
from tests.services import throwaway_postgres as throwaway_postgres
from tests.services import throwaway_redis as throwaway_redis

PAYLOADS = Path(__file__).parent / "payloads"
SIGNING_SECRET = "test-signing-secret"
# /metrics and /readyz need a token off the local demo: the bots of the tests carry this one.
METRICS_TOKEN = "metrics-token-for-every-test-0123"
METRICS_HEADERS = {"Authorization": f"Bearer {METRICS_TOKEN}"}
CHANNEL = "C0SHOPFLOOR"
USER = "U0PRIYA"


def payload(name: str, **event: Any) -> dict[str, Any]:
    """A real Slack payload from tests/payloads with our ids and the given event fields."""
    body: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text())
    body = copy.deepcopy(body)
    body["team_id"] = TEAM
    body.pop("enterprise_id", None)
    body.pop("authorizations", None)
    body["event"].update({"team": TEAM, "channel": CHANNEL, "user": USER}, **event)
    body["event"].pop("blocks", None)
    body["event_id"] = "Ev" + body["event"]["ts"].replace(".", "")
    return body


def signed_headers(
    body: str | bytes,
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    content_type: str = "application/json",
) -> dict[str, str]:
    """The headers Slack sends: a v0 HMAC-SHA256 signature over `v0:<timestamp>:<body>`."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    raw = body if isinstance(body, bytes) else body.encode()
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + raw, hashlib.sha256).hexdigest()
    return {
        "content-type": content_type,
        "x-slack-request-timestamp": ts,
        "x-slack-signature": f"v0={digest}",
    }


class Bot:
    """A real bot (Bolt app, Answerer, store, scheduler) talking to the fakes."""

    def __init__(self, services: Services, slack: FakeSlack) -> None:
        self.services = services
        self.slack = slack

    async def event(self, body: dict[str, Any], **headers: str) -> BoltResponse:
        raw = json.dumps(body)
        request = AsyncBoltRequest(body=raw, headers={**signed_headers(raw), **headers})
        return await self.services.bolt.async_dispatch(request)

    async def command(
        self, text: str, *, channel: str = CHANNEL, user: str = USER, **fields: str
    ) -> BoltResponse:
        """`/shopmax text` as Slack sends it (form-encoded), with `fields` added or changed."""
        raw = urlencode(
            {
                "token": "verification-token",
                "team_id": TEAM,
                "team_domain": "shopmax",
                "channel_id": channel,
                "channel_name": "shop-floor",
                "user_id": user,
                "user_name": "priya",
                "command": "/shopmax",
                "text": text,
                "api_app_id": "A111",
                "response_url": self.slack.response_url(),
                "trigger_id": f"trigger.{time.monotonic_ns()}",
                **fields,
            }
        )
        headers = signed_headers(raw, content_type="application/x-www-form-urlencoded")
        return await self.services.bolt.async_dispatch(AsyncBoltRequest(body=raw, headers=headers))

    async def press(
        self, message: Message, action_id: str, *, user: str = USER, team: str = TEAM, **extra: Any
    ) -> BoltResponse:
        """Press a button on `message`, as Slack delivers it (form-encoded `payload=`), as
        `user` of workspace `team` (another one: a Slack Connect member), with `extra`
        fields at the payload's top level."""
        body: dict[str, Any] = json.loads((PAYLOADS / "block_actions.json").read_text())
        [button] = [
            element
            for block in message.blocks
            if block["type"] == "actions"
            for element in block["elements"]
            if element["action_id"] == action_id
        ]
        body["user"] = {"id": user, "username": "staff", "name": "staff", "team_id": team}
        body["team"] = {"id": TEAM, "domain": "shopmax"}
        body["channel"] = {"id": message.channel, "name": "shop-floor"}
        body["container"] = {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": message.channel,
            "is_ephemeral": False,
        }
        body["message"] = {"ts": message.ts, "thread_ts": message.thread_ts, "text": ""}
        body["response_url"] = self.slack.response_url("action")
        body["actions"] = [{**button, "block_id": action_id, "action_ts": str(time.time())}]
        raw = urlencode({"payload": json.dumps({**body, **extra})})
        headers = signed_headers(raw, content_type="application/x-www-form-urlencoded")
        return await self.services.bolt.async_dispatch(AsyncBoltRequest(body=raw, headers=headers))

    async def handled(self, count: int) -> None:
        """Wait until listeners have finished with `count` events (answered or not)."""
        metrics = self.services.metrics
        await self.slack.wait_for(lambda: metrics.events_handled() >= count, within=30)

    async def finished_answers(self, count: int = 1, **where: Any) -> list[Message]:
        """Wait until `count` answer messages carry a footer; return them in posting order."""

        def done() -> list[Message]:
            found = [m for m in self.slack.messages if _matches(m, where) and _finished(m)]
            return found if len(found) >= count else []

        return list(await self.slack.wait_for(done, within=30))


async def run_bot(*args: str, env: dict[str, str], cwd: Path | str = "/") -> tuple[int, str, str]:
    """Run `python -m bot ARGS` as a real process with only `env` (and PATH); return its exit
    status, stdout and stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env={"PATH": os.environ.get("PATH", ""), **env},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), 60)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"shopmax-bot {' '.join(args)} hung for 60 s") from None
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def ledger_row(**changes: Any) -> LedgerRow:
    """A usage ledger row: an ordinary answer a minute ago, with `changes` applied."""
    row = LedgerRow(
        at=time.time() - 60,
        team=TEAM,
        channel="C0STORE",
        user=USER,
        surface="mention",
        model="claude-haiku-5-5",
        input_tokens=1000,
        output_tokens=500,
        cache_write_tokens=0,
        cache_read_tokens=0,
        ttft_ms=400.0,
        first_visible_ms=650.0,
        duration_ms=4000.0,
        slack_edits=5,
        stop_reason="end_turn",
        outcome="ok",
        cost_usd=0.01,
        cost_inr=0.84,
    )
    return replace(row, **changes)


def _matches(message: Message, where: dict[str, Any]) -> bool:
    return all(getattr(message, key) == value for key, value in where.items())


def _finished(message: Message) -> bool:
    return any(" out · " in text or "cost" in text for text in message.context)


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def model() -> AsyncIterator[FakeAnthropic]:
    fake = FakeAnthropic()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    """The store every bot of a test shares: a SQLite file, or with SHOPMAX_TEST_STORE=postgres
    a fresh schema on the machine's PostgreSQL (`scripts/dev.py test` runs the bot tests both
    ways)."""
    if os.environ.get("SHOPMAX_TEST_STORE", "sqlite") != "postgres":
        yield f"sqlite:///{tmp_path / 'shopmax.db'}"
        return
    schema = await postgres_schema()
    yield f"{POSTGRES_URL}?search_path={schema}"
    await drop_schema(schema)


@pytest.fixture
def settings(slack: FakeSlack, model: FakeAnthropic, database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        stream_transport="update",  # most tests read chat.update; native ones ask for it
        slack_bot_token=TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.api_url,
        anthropic_api_key="sk-ant-test-key",
        anthropic_base_url=model.url,
        database_url=database_url,
        spool_path=tmp_path / "spool.jsonl",
        update_interval=0.05,
        updates_per_minute=6000,
        appends_per_minute=6000,
        update_burst=20,
        metrics_token=METRICS_TOKEN,
    )


BotFactory = Callable[..., Awaitable[Bot]]


@pytest.fixture
async def make_bot(settings: Settings, slack: FakeSlack) -> AsyncIterator[BotFactory]:
    """Build bots with some settings changed: `await make_bot(stream_transport="native")`."""
    built: list[Services] = []

    async def make(**changes: Any) -> Bot:
        services = await build_services(replace(settings, **changes))
        built.append(services)
        return Bot(services, slack)

    yield make
    for services in built:
        await services.close()


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A database URL on the machine's PostgreSQL with a schema of this test's own."""
    schema = await postgres_schema()
    yield f"{POSTGRES_URL}?search_path={schema}"
    await drop_schema(schema)


@pytest.fixture
async def redis_url() -> str:
    """The machine's Redis (an emptied test database)."""
    return await fresh_redis()


@pytest.fixture
async def bot(make_bot: BotFactory) -> Bot:
    return await make_bot()


# A bot whose browser chat signs in with Slack (defined beside its helpers in tests/sites.py).
from tests.sites import slack_site as slack_site  # noqa: E402
