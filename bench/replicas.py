"""Three replicas behind a load balancer against one process, under one Slack budget.

Each run starts real `shopmax-bot run` processes in HTTP mode and delivers the scheduler
benchmark's 20 questions to them as signed Slack events, round-robin, the way a load balancer
would — and, as Slack does, with duplicates: every `app_mention` is delivered again to the next
replica as a retry (`X-Slack-Retry-Num: 1`) and its `message` twin goes to the one after. The
fake Slack enforces 50 `chat.update` a minute for the whole workspace.

* **1 process** is the default single deployment: SQLite and a budget kept in the process.
* **3 replicas** share PostgreSQL (dedup, leases, ledger) and Redis (the Slack budget).
* **3, no Redis** shares PostgreSQL only, each replica keeping Slack's whole budget to itself:
  what the shared budget saves a deployment from.

Figures are those of `bench/scheduler.py` (lag per model chunk against the least mean lag the
budget allows) plus how many questions were answered exactly once.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import redis.asyncio as aioredis

from bench.scheduler import Config, Result, channel_for, deadline, start_fakes, summarise
from tests.conftest import signed_headers
from tests.fakes.serve import free_port, wait_healthy
from tests.fakes.slack_server import BOT_USER, TEAM, TOKEN, Message

SIGNING_SECRET = "bench-signing-secret"
POSTGRES_URL = os.environ.get("SHOPMAX_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1/test")
REDIS_URL = os.environ.get("SHOPMAX_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


@dataclass(frozen=True)
class Deployment:
    name: str
    replicas: int
    postgres: bool  # PostgreSQL, or SQLite (one process)
    redis: bool  # the Slack budget in Redis, or each process's own


@dataclass(frozen=True)
class Outcome:
    result: Result
    exactly_once: int
    model_calls: int
    posts: int


def events(n: int, question: str) -> list[tuple[dict[str, Any], dict[str, str]]]:
    """What Slack delivers for one mention: the event, its retry and its `message` twin."""
    ts = f"1700200000.{n:06d}"
    event = {
        "user": "U0STAFF",
        "team": TEAM,
        "channel": channel_for(question),
        "ts": ts,
        "text": f"<@{BOT_USER}> {question}",
        "event_ts": ts,
    }
    mention = {
        "type": "event_callback",
        "team_id": TEAM,
        "event_id": f"Ev{n:04d}",
        "event_time": int(time.time()),
        "event": {"type": "app_mention", **event},
    }
    twin = {
        **mention,
        "event_id": f"Ev{n:04d}m",
        "event": {"type": "message", "channel_type": "channel", **event},
    }
    retry = {"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"}
    return [(mention, {}), (mention, retry), (twin, {})]


async def deliver(
    http: aiohttp.ClientSession, port: int, body: dict[str, Any], extra: dict[str, str]
) -> None:
    raw = json.dumps(body)
    headers = {**signed_headers(raw, secret=SIGNING_SECRET), **extra}
    async with http.post(f"http://127.0.0.1:{port}/slack/events", data=raw, headers=headers) as r:
        if r.status != 200:
            raise RuntimeError(f"replica on port {port} answered {r.status}")


def finished(message: Message) -> bool:
    return bool(message.context) and "▍" not in message.markdown


async def start_replica(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("wb") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, stdout=out, stderr=out, cwd=log.parent
        )


async def run(deployment: Deployment, config: Config, tmp: Path) -> Outcome:
    slack, model, plan = await start_fakes(config)
    schema = f"shopmax_bench_{uuid.uuid4().hex[:10]}"
    base = {
        "PATH": os.environ.get("PATH", ""),
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "ANTHROPIC_API_KEY": "sk-ant-bench",
        "ANTHROPIC_BASE_URL": model.url,
        "HOST": "127.0.0.1",
        "SHOPMAX_UPDATE_INTERVAL": str(config.interval),
        "SHOPMAX_UPDATES_PER_MINUTE": str(config.per_minute),
        "SHOPMAX_LOG_LEVEL": "WARNING",
    }
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
        base["DATABASE_URL"] = f"sqlite:///{tmp / (deployment.name.replace(' ', '-') + '.db')}"
    ports = [free_port() for _ in range(deployment.replicas)]
    processes = []
    try:
        async with aiohttp.ClientSession() as http:
            for n, port in enumerate(ports):
                env = base | {"PORT": str(port), "SHOPMAX_REPLICA_ID": f"replica-{n}"}
                processes.append(await start_replica(env, tmp / f"{deployment.name}-{n}.log"))
            for port, process in zip(ports, processes, strict=True):
                if await wait_healthy(f"http://127.0.0.1:{port}/healthz", process) != 200:
                    raise RuntimeError(f"the replica on port {port} is not healthy")
            started = time.monotonic()
            deliveries = []
            for n, question in enumerate(plan):
                for k, (body, extra) in enumerate(events(n, question)):
                    port = ports[(n + k) % len(ports)]
                    deliveries.append(deliver(http, port, body, extra))
            await asyncio.gather(*deliveries)
            try:
                await slack.wait_for(
                    lambda: sum(1 for m in slack.messages if finished(m)) >= config.answers,
                    within=deadline(config),
                )
            except TimeoutError:
                pass
            await asyncio.sleep(1.0)  # anything doubled would show up by now
            result = summarise(deployment.name, config, model, slack, plan, started)
        asked = [c.body["messages"][-1]["content"] for c in model.calls]
        once = sum(
            1
            for q in plan
            if asked.count(q) == 1
            and sum(1 for m in slack.messages if m.channel == channel_for(q)) == 1
        )
        return Outcome(result, once, len(model.calls), len(slack.calls_to("chat.postMessage")))
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


def table(outcomes: list[Outcome], config: Config) -> str:
    header = (
        f"{'deployment':<11} {'once':>7} {'model':>6} {'posts':>6} {'calls':>6} {'updates':>8} "
        f"{'429 %':>6} {'mean lag':>9} {'p95 lag':>8} {'least':>7} {'ratio':>6}"
    )
    lines = [header, "-" * len(header)]
    for o in outcomes:
        r = o.result
        lines.append(
            f"{r.name:<11} {o.exactly_once:>3}/{config.answers:<3} {o.model_calls:>6} "
            f"{o.posts:>6} {r.calls:>6} {r.updates:>8} "
            f"{100 * r.throttled / max(r.calls, 1):>5.1f}% {r.mean_lag:>8.2f}s "
            f"{r.p95_lag:>7.2f}s {r.least_mean_lag:>6.2f}s "
            f"{r.mean_lag / r.least_mean_lag:>5.2f}x"
        )
    return "\n".join(lines)


async def main(config: Config) -> list[Outcome]:
    with tempfile.TemporaryDirectory() as tmp:
        one = await run(Deployment("1 process", 1, False, False), config, Path(tmp))
        three = await run(Deployment("3 replicas", 3, True, True), config, Path(tmp))
        alone = await run(Deployment("3, no Redis", 3, True, False), config, Path(tmp))
    return [one, three, alone]


def report(outcomes: list[Outcome], config: Config) -> str:
    one, three, _ = outcomes
    ratio_one = one.result.mean_lag / one.result.least_mean_lag
    ratio_three = three.result.mean_lag / three.result.least_mean_lag
    r = three.result
    return (
        f"{table(outcomes, config)}\n\n3 replicas: {three.exactly_once}/{config.answers} answered "
        f"exactly once and complete ({r.complete}/{config.answers} complete); 429s "
        f"{100 * r.throttled / max(r.calls, 1):.1f}% of calls (target <= 1%); lag "
        f"{ratio_three:.2f}x the least possible against {ratio_one:.2f}x for one process = "
        f"{ratio_three / ratio_one:.2f}x (target <= 1.25x)."
    )
