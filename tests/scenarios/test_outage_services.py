"""The real bot, as a process, with PostgreSQL or Redis stopped and started under it.

The model's answers are held at a chosen chunk until the test has stopped the service, so
every answer said to be in flight really is across the outage, whatever the machine's pace.
What is asserted is what people and the operator see: each answer finished in its one Slack
message, each newcomer answered once, one ledger row per answer given once the service is
back, the same process healthy throughout and no traceback in its log.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from tests.conftest import CHANNEL, METRICS_HEADERS, USER, payload
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.serve import free_port, wait_healthy
from tests.fakes.slack_server import BOT_USER, TEAM, FakeSlack, Message
from tests.scenarios.test_process import bot_env, start_bot
from tests.services import ThrowawayPostgres, ThrowawayRedis


@dataclass
class Running:
    """A bot process, its log as it comes, and every /healthz status seen while it ran."""

    process: asyncio.subprocess.Process
    port: int
    lines: list[str] = field(default_factory=list)
    health: list[int] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    async def readyz(self) -> dict[str, Any]:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{self.url}/readyz", headers=METRICS_HEADERS) as r,
        ):
            body: dict[str, Any] = await r.json()
            return body

    async def answered(self) -> int:
        """Answers this process has ended (their ledger row written or kept): /metrics."""
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{self.url}/metrics", headers=METRICS_HEADERS) as r,
        ):
            text = await r.text()
        return int(
            sum(
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith("shopmax_answers_total{")
            )
        )

    async def until_answered(self, count: int) -> None:
        for _ in range(600):
            if await self.answered() >= count:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"never {count} answers ended: {await self.answered()}")

    async def until_ready(self, condition: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """Poll /readyz until `condition` holds of its body."""
        for _ in range(600):
            body = await self.readyz()
            if condition(body):
                return body
            await asyncio.sleep(0.05)
        raise AssertionError(f"/readyz never got there: {body}")


@contextlib.asynccontextmanager
async def running_bot(env: dict[str, str], cwd: Path) -> AsyncIterator[Running]:
    """Start `python -m bot run`, read its log and watch /healthz while it runs; SIGTERM and
    a clean exit at the end."""
    bot = Running(await start_bot(env, cwd), int(env["PORT"]))
    bot.tasks = [asyncio.create_task(_read(bot)), asyncio.create_task(_watch(bot))]
    try:
        assert await wait_healthy(f"{bot.url}/healthz", bot.process) == 200
        yield bot
    except BaseException:
        print(f"the bot's log so far:\n{bot.log}")  # shown by pytest for a failing test
        raise
    finally:
        reading, watching = bot.tasks
        watching.cancel()  # /healthz is 503 from SIGTERM on, by design
        await asyncio.gather(watching, return_exceptions=True)
        if bot.process.returncode is None:
            bot.process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(bot.process.wait(), 30)
        await asyncio.wait_for(reading, 10)
    assert bot.process.returncode == 0, bot.log


async def _read(bot: Running) -> None:
    assert bot.process.stdout is not None
    async for raw in bot.process.stdout:
        line = raw.decode(errors="replace").rstrip()
        if "aiohttp.access" not in line:  # the health checks' own lines
            bot.lines.append(line)


async def _watch(bot: Running) -> None:
    async with aiohttp.ClientSession() as http:
        while bot.process.returncode is None:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"{bot.url}/healthz") as r:
                    bot.health.append(r.status)
            await asyncio.sleep(0.1)


def mention(ts: str, text: str, channel: str = CHANNEL) -> dict[str, Any]:
    return payload("app_mention", text=f"<@{BOT_USER}> {text}", ts=ts, channel=channel)


def finished(message: Message) -> bool:
    """The footer is there: the answer ended and the person saw it end."""
    return any(" out · " in text for text in message.context)


def answers_to(slack: FakeSlack, channel: str, ts: str) -> list[Message]:
    return slack.in_thread(channel, ts)


async def ledger_rows(url: str) -> list[asyncpg.Record]:
    db = await asyncpg.connect(url)
    try:
        return list(await db.fetch("SELECT channel, outcome, output_tokens FROM ledger"))
    finally:
        await db.close()


def held(chunks: int, *waits: tuple[int, asyncio.Event], delay: float = 0.02) -> Script:
    """An answer of `chunks` chunks that waits, before each chunk named in `waits`, for its
    event."""
    return Script(
        chunks=[f"Step {n}. " for n in range(chunks)],
        delay=delay,
        before_chunk={at: event.wait for at, event in waits},
    )


def warnings(log: str, start: str) -> list[str]:
    return [line for line in log.splitlines() if start in line]


async def test_postgres_crashes_under_five_answers_and_two_newcomers(
    slack: FakeSlack, model: FakeAnthropic, tmp_path: Path, throwaway_postgres: ThrowawayPostgres
) -> None:
    """PostgreSQL crashes (immediate shutdown) while 5 answers stream; 2 questions arrive
    while it is down (a new mention, and a follow-up in a thread answered during the outage,
    whose history is read back from Slack); it is back 8 s after the crash. Every answer
    finishes in its one message, the newcomers are answered during the outage, the ledger
    holds one row per answer given (7) once the spool is written, and the process serves
    throughout without a restart or a traceback."""
    port = free_port()
    env = bot_env(slack, model, tmp_path, port) | {
        "DATABASE_URL": throwaway_postgres.url,
        "SHOPMAX_SPOOL_FILE": str(tmp_path / "spool.jsonl"),
        "SHOPMAX_DATABASE_TIMEOUT": "1",
    }
    crashed, newcomers_in = asyncio.Event(), asyncio.Event()
    # Four long answers and a short one, each held at its 3rd chunk until the crash is done;
    # the long ones held again until both newcomers have arrived.
    for n in range(4):
        model.by_question[f"question {n}"] = held(150, (3, crashed), (100, newcomers_in))
    model.by_question["question 4"] = held(20, (3, crashed))
    first = [f"1700010{n}00.000100" for n in range(5)]
    async with running_bot(env, tmp_path) as bot:
        for n, ts in enumerate(first):
            await slack.send_envelope("events_api", mention(ts, f"question {n}"))
        await slack.wait_for(lambda: all(answers_to(slack, CHANNEL, ts) for ts in first), 20)
        await slack.wait_for(lambda: len(model.calls) == 5, 20)
        await throwaway_postgres.crash()
        crash_at = asyncio.get_running_loop().time()
        crashed.set()

        # A new question while the database is down.
        model.by_question["question 5"] = Script(chunks=["A fresh answer."])
        newcomer = mention("1700010500.000100", "question 5")
        for _ in range(2):  # and Slack's retry of it: answered once, deduplicated in memory
            await slack.send_envelope("events_api", newcomer)
        # The short answer and the new one end during the outage (their turns kept, so the
        # thread is known as the bot's); a follow-up in the short answer's thread comes next.
        await bot.until_answered(2)
        slack.threads[(CHANNEL, first[4])] = [
            {"type": "message", "ts": first[4], "user": USER, "text": "question 4"}
        ]
        model.by_question["and the follow-up?"] = Script(chunks=["The follow-up's answer."])
        follow_up = payload(
            "message", text="and the follow-up?", ts="1700010600.000100", thread_ts=first[4]
        )
        await slack.send_envelope("events_api", follow_up)
        await slack.wait_for(lambda: len(model.calls) == 7)
        newcomers_in.set()
        singles = [*first[:4], "1700010500.000100"]

        def all_finished() -> bool:
            one_each = all(
                [finished(m) for m in answers_to(slack, CHANNEL, ts)] == [True] for ts in singles
            )
            return one_each and [finished(m) for m in answers_to(slack, CHANNEL, first[4])] == [
                True,
                True,
            ]

        try:
            await slack.wait_for(all_finished, 30)
        except AssertionError:
            print(bot.log)
            for m in slack.messages:
                print(m.channel, m.ts, m.thread_ts, m.context, m.markdown[:80])
            raise
        during = await bot.readyz()
        assert during["dependencies"]["database"]["ok"] is False, "answered while it was down"
        assert during["ready"] is True and during["spool"]["entries"] > 0

        # Back 8 s after the crash; the kept bookkeeping is written, then nothing is waiting.
        await asyncio.sleep(max(0.0, crash_at + 8 - asyncio.get_running_loop().time()))
        await throwaway_postgres.start()
        await bot.until_ready(
            lambda body: body["dependencies"]["database"]["ok"] and body["spool"]["entries"] == 0
        )
        rows = await ledger_rows(throwaway_postgres.url)
        db = await asyncpg.connect(throwaway_postgres.url)
        try:
            in_flight = await db.fetchval("SELECT count(*) FROM in_flight")
            follow_up_turns = await db.fetch(
                "SELECT role, text FROM turns WHERE thread_key = $1 ORDER BY id",
                f"{TEAM}:{CHANNEL}:{first[4]}",
            )
        finally:
            await db.close()
        pid = bot.process.pid

    assert len(rows) == 7, rows
    assert {row["outcome"] for row in rows} == {"ok"}
    assert in_flight == 0, "every answer's trace ended"
    assert [role for role, _ in follow_up_turns] == ["user", "assistant"] * 2
    for ts in first[:4]:
        [answer] = answers_to(slack, CHANNEL, ts)
        assert answer.markdown.startswith("Step 0.") and "Step 149." in answer.markdown
    [fresh] = answers_to(slack, CHANNEL, "1700010500.000100")
    assert fresh.markdown == "A fresh answer."
    short, later = answers_to(slack, CHANNEL, first[4])
    assert "Step 19." in short.markdown and later.markdown == "The follow-up's answer."
    # The follow-up's history was read back from Slack (the stored turns could not be): the
    # thread's question, and our answer where Slack's copy shows it as ours — by the question's
    # id in its metadata, which answers carry once SlackReply posts it (the Slack part).
    read = [c.payload["ts"] for c in slack.calls_to("conversations.replies")]
    assert first[4] in read
    [asked] = [c for c in model.calls if c.body["messages"][-1]["content"] == "and the follow-up?"]
    roles = ["user", "assistant", "user"] if short.metadata else ["user"]
    assert [m["role"] for m in asked.body["messages"]] == roles
    assert bot.process.pid == pid and set(bot.health) == {200}, "never restarted, always live"
    assert len(warnings(bot.log, "the database is unreachable")) == 1, bot.log
    assert len(warnings(bot.log, "the database is back after")) == 1, bot.log
    assert len(warnings(bot.log, "deduplication is degraded")) == 1, bot.log
    assert "Traceback" not in bot.log, bot.log


async def test_redis_dies_under_two_replicas_sharing_slacks_budget_and_returns(
    slack: FakeSlack,
    model: FakeAnthropic,
    tmp_path: Path,
    throwaway_postgres: ThrowawayPostgres,
    throwaway_redis: ThrowawayRedis,
) -> None:
    """Two replicas (two processes) share Slack's `chat.update` budget through Redis, which
    the fake Slack enforces with 429s. Redis is killed while 10 answers stream (5 on each)
    and started again on the same port while they still do: every answer finishes in its one
    message, Slack never answers 429, both replicas stay healthy (and see Redis back), and
    the ledger holds one row per answer."""
    slack.per_minute["chat.update"] = 50  # Slack's Tier 3, as the bot's default assumes
    redis_gone, redis_back = asyncio.Event(), asyncio.Event()
    model.script(*[held(60, (15, redis_gone), (30, redis_back), delay=0.05) for _ in range(10)])
    envs = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        envs.append(
            bot_env(slack, model, tmp_path / name, free_port())
            | {
                "DATABASE_URL": throwaway_postgres.url,
                "SHOPMAX_REDIS_URL": throwaway_redis.url,
                "SHOPMAX_REPLICA_ID": f"replica-{name}",
            }
        )
    asked = {"C0ONE": [f"17000200{n}0.000100" for n in range(5)]}
    asked["C0TWO"] = [f"17000300{n}0.000100" for n in range(5)]
    calls = model.calls

    def streamed(chunks: int) -> bool:
        return len(calls) == 10 and all(len(call.chunk_times) >= chunks for call in calls)

    async with running_bot(envs[0], tmp_path / "a") as first:
        # Socket Mode hands each envelope to the newest connection: the first replica's
        # questions go while it is the only one, the second's once it has connected.
        for ts in asked["C0ONE"]:
            await slack.send_envelope("events_api", mention(ts, "TVs?", channel="C0ONE"))
        await slack.wait_for(lambda: len(calls) == 5, 20)
        async with running_bot(envs[1], tmp_path / "b") as second:
            for ts in asked["C0TWO"]:
                await slack.send_envelope("events_api", mention(ts, "ACs?", channel="C0TWO"))
            await slack.wait_for(lambda: streamed(15), 30)
            for bot in (first, second):  # the budget is shared through Redis
                await bot.until_ready(lambda body: body["dependencies"]["redis"]["ok"])
            await throwaway_redis.kill()
            redis_gone.set()
            await slack.wait_for(lambda: streamed(30), 30)
            for bot in (first, second):
                await bot.until_ready(lambda body: not body["dependencies"]["redis"]["ok"])
            await throwaway_redis.start()
            redis_back.set()
            await slack.wait_for(
                lambda: all(
                    [finished(m) for m in answers_to(slack, channel, ts)] == [True]
                    for channel, stamps in asked.items()
                    for ts in stamps
                ),
                60,
            )
            for bot in (first, second):  # each replica uses Redis again
                body = await bot.until_ready(lambda body: body["dependencies"]["redis"]["ok"])
                assert body["ready"] is True
        rows = await ledger_rows(throwaway_postgres.url)

    # The loading status keeps its own pace per replica (a 429 there turns into a reaction,
    # see bot/delivery/sign_of_life.py); the budget shared through Redis is never exceeded.
    shared = [c for c in slack.calls if c.method != "assistant.threads.setStatus"]
    assert [call.status for call in shared if call.status == 429] == []
    assert sorted(row["channel"] for row in rows) == ["C0ONE"] * 5 + ["C0TWO"] * 5
    assert {row["outcome"] for row in rows} == {"ok"}
    for channel, stamps in asked.items():
        for ts in stamps:
            [answer] = answers_to(slack, channel, ts)
            assert answer.markdown.startswith("Step 0.") and "Step 59." in answer.markdown
    for bot in (first, second):
        assert set(bot.health) == {200}, "live throughout"
        assert len(warnings(bot.log, "is unreachable (")) <= 1, "said once at most"
        assert "Traceback" not in bot.log, bot.log
