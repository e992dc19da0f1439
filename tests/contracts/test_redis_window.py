"""Slack's budget shared by replicas through the machine's real Redis, and the fallback when
Redis goes away."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import AsyncIterator

import pytest

from bot.delivery.pacing.core import SchedulerCore
from bot.delivery.pacing.redis_window import RedisWindows
from bot.delivery.pacing.scheduler import UpdateScheduler
from bot.delivery.pacing.window import MARGIN, CallWindow, Share
from tests.fakes.serve import free_port

TEAM = "T0SHOPMAX"
ONE = Share(1, 10.0)  # one answer streaming here, ten seconds to go


@pytest.fixture
async def replicas(redis_url: str) -> AsyncIterator[list[RedisWindows]]:
    """Three replicas' connections to one Redis."""
    opened = [RedisWindows(redis_url, f"replica-{n}") for n in range(3)]
    yield opened
    for shared in opened:
        await shared.close()


def budgets(replicas: list[RedisWindows], per_minute: int, burst: int) -> list[CallWindow]:
    return [r(TEAM, "chat.update", per_minute, burst) for r in replicas]


async def test_replicas_together_never_take_more_than_the_minute_allows(
    replicas: list[RedisWindows],
) -> None:
    """30 racing requests from three replicas for a 10-a-minute budget: exactly 10 granted,
    and the rest told to wait until the first call is a minute (and the margin) old."""
    shared = budgets(replicas, per_minute=10, burst=100)
    grants = await asyncio.gather(*(b.acquire(ONE) for b in shared for _ in range(10)))
    granted = [g for g in grants if g.granted]
    assert len(granted) == 10
    assert all(59 + MARGIN < g.wait <= 60 + MARGIN for g in grants if not g.granted)


async def test_the_burst_limit_is_shared_too(replicas: list[RedisWindows]) -> None:
    shared = budgets(replicas, per_minute=100, burst=3)
    grants = [await shared[n % 3].acquire(ONE) for n in range(4)]
    assert [g.granted for g in grants] == [True, True, True, False]
    assert 0 < grants[3].wait <= 1


async def test_a_429_on_one_replica_pauses_them_all(replicas: list[RedisWindows]) -> None:
    first, second, _ = budgets(replicas, per_minute=100, burst=100)
    await first.pause(2.0)
    grant = await second.acquire(ONE)
    assert not grant.granted and 1.5 < grant.wait <= 2.0
    await second.pause(0.5)  # a shorter pause never cuts the longer one short
    assert (await first.acquire(ONE)).wait > 1.0


async def test_calls_given_back_or_added_change_what_is_left(
    replicas: list[RedisWindows],
) -> None:
    first, second, _ = budgets(replicas, per_minute=3, burst=100)
    unused = await first.acquire(ONE)
    await first.settle(unused, 0)  # the edit changed nothing: its call comes back
    rollover = await second.acquire(ONE)
    await second.settle(rollover, 2)  # the edit posted a second message: two calls
    assert (await first.acquire(ONE)).granted
    assert not (await second.acquire(ONE)).granted


async def test_every_replica_learns_what_streams_in_the_workspace(
    replicas: list[RedisWindows],
) -> None:
    """The planner shares the minute over the answers on all replicas and their remaining
    life, so each replica hears the workspace's totals."""
    first, second, third = budgets(replicas, per_minute=50, burst=100)
    await first.report(Share(7, 70.0))
    await second.report(Share(6, 30.0))
    assert (await third.acquire(Share(7, 14.0))).heard.total == Share(20, 114.0)
    assert (await first.report(Share(0, 0.0))).total == Share(13, 44.0)


async def test_every_replica_hears_when_the_windows_calls_come_back(
    replicas: list[RedisWindows],
) -> None:
    """The calls of the last minute, and how long ago the oldest were made, are the same for
    every replica (Redis's clock, not theirs)."""
    first, second, _ = budgets(replicas, per_minute=50, burst=100)
    for _ in range(3):
        await first.acquire(ONE)
    await asyncio.sleep(0.2)
    heard = (await second.acquire(ONE)).heard
    assert heard.count == 4
    assert len(heard.ages) == 4 and all(age >= 0.19 for age in heard.ages[:3])
    assert heard.ages[3] == 0  # the call just granted, oldest first


async def test_budgets_of_other_workspaces_and_methods_are_separate(
    replicas: list[RedisWindows],
) -> None:
    update = replicas[0](TEAM, "chat.update", 1, 10)
    append = replicas[1](TEAM, "chat.appendStream", 1, 10)
    other = replicas[2]("T0OTHER", "chat.update", 1, 10)
    assert all([(await b.acquire(ONE)).granted for b in (update, append, other)])
    assert not (await update.acquire(ONE)).granted


async def start_redis(port: int) -> asyncio.subprocess.Process:
    """A password-protected Redis of the test's own, once it answers."""
    server = await asyncio.create_subprocess_exec(
        *["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        *["--appendonly", "no", "--requirepass", "secret-pw"],
        stdout=asyncio.subprocess.DEVNULL,
    )
    probe = RedisWindows(f"redis://:secret-pw@127.0.0.1:{port}/0", "probe")
    try:
        for _ in range(100):
            if await probe.ping():
                return server
            await asyncio.sleep(0.05)
    finally:
        await probe.close()
    raise AssertionError("redis-server did not start")


async def stop(server: asyncio.subprocess.Process) -> None:
    if server.returncode is None:
        server.terminate()
        await server.wait()


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
async def test_without_redis_each_replica_keeps_a_share_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A Redis of the test's own is stopped and started again: the replica warns once, keeps
    answering within its share of the budget, and shares again (saying so) when Redis is back."""
    port = free_port()
    server = await start_redis(port)
    shared = [RedisWindows(f"redis://:secret-pw@127.0.0.1:{port}/0", f"r{n}") for n in range(2)]
    try:
        first, second = [s(TEAM, "chat.update", 10, 100) for s in shared]
        await second.report(ONE)  # Redis now knows of two replicas
        assert (await first.acquire(ONE)).granted
        assert not caplog.records
        await stop(server)
        with caplog.at_level(logging.WARNING, logger="bot.delivery.pacing.redis_window"):
            grants = [await first.acquire(ONE) for _ in range(8)]
        # Half of the workspace's 10 for each of the two replicas Redis last knew about.
        assert [g.granted for g in grants] == [True] * 5 + [False] * 3
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and "5 calls a minute" in warnings[0]
        assert "secret-pw" not in caplog.text
        server = await start_redis(port)
        await asyncio.sleep(5.1)  # the fallback tries Redis again every 5 seconds
        with caplog.at_level(logging.INFO, logger="bot.delivery.pacing.redis_window"):
            assert (await first.acquire(ONE)).granted
        assert "is back" in caplog.text
    finally:
        await stop(server)
        for s in shared:
            await s.close()


class CountingSync:
    """A message's sync that makes one call and counts it."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> int:
        self.calls += 1
        return 1


async def test_replicas_deciding_at_once_never_spend_the_finals_reserve(
    replicas: list[RedisWindows],
) -> None:
    """Three replicas, three answers posted on each, 10 calls a minute: the window keeps 9 for
    the finals, so one routine edit in all may go. Each replica decides on what it last heard,
    so all three may ask at once; the window's answer to a routine ask says what the others
    spent meanwhile, and a call that would eat into the reserve is given back unused. Then
    every final goes at once (before: two of them waited a minute for calls to age out)."""
    drivers, syncs = [], {}
    for n, shared in enumerate(replicas):
        core = SchedulerCore(per_minute=10, min_interval=0.01, burst=100)
        core.lives.extend([3.0] * 5)  # recent answers ran 3 s: a short horizon, a short gap
        driver = UpdateScheduler(core, shared(TEAM, "chat.update", 10, 100))
        driver.start()
        drivers.append(driver)
        for a in range(3):
            key = f"{n}-{a}"
            syncs[key] = CountingSync()
            driver.arrive(key)
            driver.posted(key)
    try:
        await asyncio.sleep(1.2)  # every replica has heard what streams on the others
        for n, driver in enumerate(drivers):  # text, due on every replica at the same moment
            for a in range(3):
                driver.request(f"{n}-{a}", syncs[f"{n}-{a}"], chars=400)
        await asyncio.sleep(2.0)  # the routine edits' turn comes and goes
        routine = sum(s.calls for s in syncs.values())
        assert routine <= 1, "routine edits spent calls kept for the finals"
        finals = [
            driver.flush(f"{n}-{a}", syncs[f"{n}-{a}"])
            for n, driver in enumerate(drivers)
            for a in range(3)
        ]
        try:
            await asyncio.wait_for(asyncio.gather(*finals), 5.0)
        except TimeoutError:
            pytest.fail("a final waited for the window: its call had been spent")
    finally:
        for driver in drivers:
            await driver.close()
    calls = [s.calls for s in syncs.values()]
    assert min(calls) >= 1 and sum(calls) <= 10  # every final sent, within the minute's 10
