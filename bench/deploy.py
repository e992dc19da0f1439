"""Run a workload against real bot processes and measure what people would have seen.

Each run starts `shopmax-bot run` processes in HTTP mode against the fake Slack (with Slack's
rate limits on: `slack_limits`) and the fake model, and delivers each question as a signed
`app_mention` at its time, round-robin over the replicas the way a load balancer would; with
`duplicates`, as Slack does, every mention again as a retry (`X-Slack-Retry-Num: 1`) to the
next replica and its `message` twin to the one after. The bot runs in its own process, so the
fakes and the benchmark's own bookkeeping do not take its CPU.

* one process: SQLite and a budget kept in the process;
* replicas sharing PostgreSQL (dedup, leases, ledger) and, with `redis`, Redis (the budget).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import redis.asyncio as aioredis

from bench.measure import Figures, event_ts, finished, summarise
from bench.memory import largest
from bench.workloads import Ask, Workload
from tests.conftest import signed_headers
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.serve import free_port, wait_healthy
from tests.fakes.slack_server import BOT_USER, TEAM, TOKEN, FakeSlack

SIGNING_SECRET = "bench-signing-secret"
POSTGRES_URL = os.environ.get("SHOPMAX_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1/test")
REDIS_URL = os.environ.get("SHOPMAX_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


@dataclass(frozen=True)
class Deployment:
    name: str
    replicas: int = 1
    postgres: bool = False  # PostgreSQL, or SQLite (one process)
    redis: bool = False  # the Slack budget in Redis, or each process's own


def events(ask: Ask, duplicates: bool) -> list[tuple[dict[str, Any], dict[str, str]]]:
    """What Slack delivers for one mention (with `duplicates`: its retry and `message` twin)."""
    ts = event_ts(ask.n)
    event = {
        "user": ask.user,
        "team": TEAM,
        "channel": ask.channel,
        "ts": ts,
        "text": f"<@{BOT_USER}> {ask.question}",
        "event_ts": ts,
    }
    mention = {
        "type": "event_callback",
        "team_id": TEAM,
        "event_id": f"Ev{ask.n:05d}",
        "event_time": int(time.time()),
        "event": {"type": "app_mention", **event},
    }
    if not duplicates:
        return [(mention, {})]
    twin = {
        **mention,
        "event_id": f"Ev{ask.n:05d}m",
        "event": {"type": "message", "channel_type": "channel", **event},
    }
    retry = {"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"}
    return [(mention, {}), (mention, retry), (twin, {})]


async def deliver(
    http: aiohttp.ClientSession, port: int, body: dict[str, Any], extra: dict[str, str]
) -> float:
    """Send one event; return how long the bot took to acknowledge it."""
    raw = json.dumps(body)
    headers = {**signed_headers(raw, secret=SIGNING_SECRET), **extra}
    started = time.monotonic()
    async with http.post(f"http://127.0.0.1:{port}/slack/events", data=raw, headers=headers) as r:
        await r.read()
        if r.status != 200:
            raise RuntimeError(f"replica on port {port} answered {r.status}")
    return time.monotonic() - started


def deadline(workload: Workload) -> float:
    """How long a run may take before it is stopped: three times its length, and a minute."""
    longest = max(len(a.script.chunks) / workload.tokens_per_second for a in workload.asks)
    return max(a.at for a in workload.asks) + 3 * longest + 60


# Slack's documented rate-limit tiers: calls a minute per workspace, per method.
TIER_2, TIER_3, TIER_4 = 20, 50, 100
APPENDS_PER_MINUTE = TIER_4  # chat.appendStream
STREAM_ENDS_PER_MINUTE = TIER_2  # chat.startStream and chat.stopStream, each


def slack_limits(workload: Workload) -> dict[str, int]:
    """The per-workspace windows the fake Slack enforces with 429s in the benchmark: the
    workload's `chat.update` window (Tier 3, 50, in every workload) and the streaming
    methods' tiers, so that the native transport is measured under Slack's rules too."""
    return {
        "chat.update": workload.per_minute,
        "chat.appendStream": APPENDS_PER_MINUTE,
        "chat.startStream": STREAM_ENDS_PER_MINUTE,
        "chat.stopStream": STREAM_ENDS_PER_MINUTE,
    }


def warmed(workload: Workload) -> Workload:
    """The same questions again, numbered apart (a warm pass on the same processes)."""
    asks = [replace(ask, n=ask.n + WARM) for ask in workload.asks]
    return replace(workload, asks=asks)


WARM = 1000  # question numbers of the warm pass start here
WINDOW_AGE = 61.0  # seconds until the cold pass's calls have left Slack's rolling minute


async def start_fakes(workload: Workload) -> tuple[FakeSlack, FakeAnthropic]:
    slack, model = FakeSlack(), FakeAnthropic()
    await slack.start()
    await model.start()
    for asks in (workload.asks, warmed(workload).asks):
        model.by_question.update({ask.question: ask.script for ask in asks})
    slack.per_minute.update(slack_limits(workload))
    slack.posts_per_channel = workload.posts_per_channel
    return slack, model


async def start_replica(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("wb") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, stdout=out, stderr=out, cwd=log.parent
        )


def bot_env(
    slack: FakeSlack, model: FakeAnthropic, workload: Workload, transport: str = "update"
) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "ANTHROPIC_API_KEY": "sk-ant-bench",
        "ANTHROPIC_BASE_URL": model.url,
        "HOST": "127.0.0.1",
        "SHOPMAX_UPDATES_PER_MINUTE": str(workload.per_minute),
        "SHOPMAX_APPENDS_PER_MINUTE": str(APPENDS_PER_MINUTE),
        "SHOPMAX_STREAM_TRANSPORT": transport,
        "SHOPMAX_LOG_LEVEL": "WARNING",
    }


async def run(
    workload: Workload,
    deployment: Deployment,
    tmp: Path,
    transport: str = "update",
    warm: bool = False,
) -> list[Figures]:
    """One workload on one deployment, from a clean start (cold), then with `warm` again on
    the same processes (warm: they have seen the first pass's answers); the figures of each."""
    slack, model = await start_fakes(workload)
    schema = f"shopmax_bench_{uuid.uuid4().hex[:10]}"
    base = bot_env(slack, model, workload, transport)
    if deployment.redis:
        client = aioredis.Redis.from_url(REDIS_URL)
        await client.flushdb()
        await client.aclose()
        base["SHOPMAX_REDIS_URL"] = REDIS_URL
    if deployment.postgres:
        db = await asyncpg.connect(POSTGRES_URL)
        await db.execute(f"CREATE SCHEMA {schema}")
        await db.close()
        base["DATABASE_URL"] = f"{POSTGRES_URL}?search_path={schema}"
    else:
        # One database per transport: a second run on the first's would see its questions
        # as answered already (Slack's event ids repeat across runs).
        label = f"{workload.number}-{transport}-{deployment.name.replace(' ', '-')}"
        base["DATABASE_URL"] = f"sqlite:///{tmp / (label + '.db')}"
    ports = [free_port() for _ in range(deployment.replicas)]
    processes = []
    try:
        for n, port in enumerate(ports):
            env = base | {"PORT": str(port), "SHOPMAX_REPLICA_ID": f"replica-{n}"}
            log = tmp / f"{workload.number}-{deployment.name.replace(' ', '-')}-{n}.log"
            processes.append(await start_replica(env, log))
        for port, process in zip(ports, processes, strict=True):
            if await wait_healthy(f"http://127.0.0.1:{port}/healthz", process) != 200:
                raise RuntimeError(f"the replica on port {port} is not healthy")
        pids = [p.pid for p in processes]
        started = largest(pids).now
        window = ("chat.update", workload.per_minute)
        if transport == "native":
            window = ("chat.appendStream", APPENDS_PER_MINUTE)
        name = f"{workload.number} {transport}"
        cold = await drive(workload, deployment, slack, model, ports, f"{name} cold", window)
        results = [replace(cold, rss_start=started, rss_peak=largest(pids).peak)]
        if warm:  # the same bot, with history, once Slack's minute has forgotten the cold pass
            await asyncio.sleep(WINDOW_AGE)
            again = warmed(workload)
            hot = await drive(again, deployment, slack, model, ports, f"{name} warm", window)
            results.append(replace(hot, rss_start=started, rss_peak=largest(pids).peak))
        return results
    finally:
        for process in processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        await asyncio.gather(*(p.wait() for p in processes))
        await slack.close()
        await model.close()
        if deployment.postgres:
            db = await asyncpg.connect(POSTGRES_URL)
            await db.execute(f"DROP SCHEMA {schema} CASCADE")
            await db.close()


async def drive(
    workload: Workload,
    deployment: Deployment,
    slack: FakeSlack,
    model: FakeAnthropic,
    ports: list[int],
    name: str = "",
    window: tuple[str, int] = ("chat.update", 50),
) -> Figures:
    """Ask every question at its time; wait until every answer is finished (or the deadline)."""
    asked: dict[int, float] = {}
    acks: list[float] = []
    before = sum(1 for m in slack.messages if finished(m))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        started = time.monotonic()

        async def ask(question: Ask) -> None:
            await asyncio.sleep(max(started + question.at - time.monotonic(), 0.0))
            asked[question.n] = time.monotonic()
            deliveries = [
                deliver(http, ports[(question.n + k) % len(ports)], body, extra)
                for k, (body, extra) in enumerate(events(question, workload.duplicates))
            ]
            acks.extend(await asyncio.gather(*deliveries))

        await asyncio.gather(*(ask(question) for question in workload.asks))
        try:
            await slack.wait_for(
                lambda: (
                    sum(1 for m in slack.messages if finished(m)) >= before + len(workload.asks)
                ),
                within=deadline(workload),
            )
        except AssertionError:  # some never finished: the figures say so
            pass
        await asyncio.sleep(1.0)  # anything doubled would show up by now
        return summarise(
            workload,
            slack,
            model,
            asked,
            acks,
            time.monotonic(),
            name or deployment.name,
            since=started,
            edit_window=window,
        )
