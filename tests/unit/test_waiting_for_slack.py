"""Waiting Slack out: how long to pause between tries and when to give up (a table of cases on
a fake clock), and the scheduler keeping a message dirty through an outage so that its newest
text goes out once Slack answers again."""

from __future__ import annotations

import asyncio

import pytest

from bot.delivery.pacing.core import SchedulerCore
from bot.delivery.pacing.scheduler import UpdateScheduler
from bot.delivery.pacing.window import LocalWindow
from bot.delivery.slack_retry import Patience, Waiting, wait_before
from bot.errors import SlackUnavailable

KEY = ("C0SHOPFLOOR", 1)


def unavailable(retry_after: float = 1.0) -> SlackUnavailable:
    return SlackUnavailable(
        "Slack chat.update failed: service_unavailable",
        code="service_unavailable",
        retry_after=retry_after,
        may_have_landed=True,
    )


@pytest.mark.parametrize(
    ("attempt", "cap", "expected"),
    [(1, 30.0, 1.0), (3, 30.0, 4.0), (3, 2.0, 2.0), (9, 0.5, 0.5)],
)
def test_the_pause_doubles_up_to_the_cap(attempt: int, cap: float, expected: float) -> None:
    assert wait_before(attempt, 1.0, jitter=0.0, cap=cap) == expected


def test_jitter_is_never_more_than_the_cap_itself() -> None:
    """A cap shortened for tests (or a fast-moving deployment) keeps its jitter as short."""
    waits = {wait_before(5, 1.0, cap=0.1) for _ in range(50)}
    assert all(0.1 <= w <= 0.2 for w in waits)


def test_waiting_gives_up_once_slack_has_been_away_longer_than_the_limit() -> None:
    """Pauses double from the first failure (plus under a second of jitter); the last one is
    cut to what the limit leaves; past the limit the error is raised; a call that gets
    through starts afresh."""
    now = [100.0]
    waiting = Waiting(Patience(cap=8.0, limit=20.0), clock=lambda: now[0])
    pauses = []
    for at in (100.0, 101.5, 104.0, 108.5, 117.0):
        now[0] = at
        pauses.append(waiting.pause(unavailable()))
    floors = [1.0, 2.0, 4.0, 8.0]
    assert all(floor <= pause < floor + 1 for floor, pause in zip(floors, pauses, strict=False))
    assert pauses[4] <= 3.0, "only 3 s of the 20 s were left"
    now[0] = 120.0
    with pytest.raises(SlackUnavailable):
        waiting.pause(unavailable())
    waiting.reset()
    assert 1.0 <= waiting.pause(unavailable()) < 2.0


class FlakySync:
    """A message's sync against a Slack that is away for the first `failures` calls; it
    records the text each call would have sent (the reply's newest text at that moment)."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.text = "first"
        self.sent: list[str] = []
        self.tried = 0
        self.called = asyncio.Event()

    async def __call__(self) -> int:
        self.tried += 1
        self.called.set()
        if self.tried <= self.failures:
            self.text = f"{self.text} more"  # the model writes on meanwhile
            raise unavailable(retry_after=0.001)
        self.sent.append(self.text)
        return 1


async def scheduler(patience: Patience) -> UpdateScheduler:
    core = SchedulerCore(per_minute=6000, min_interval=0.01, burst=100)
    driver = UpdateScheduler(core, LocalWindow(6000, 100), patience=patience)
    driver.start()
    return driver


async def test_an_edit_that_meets_an_outage_is_sent_with_the_newest_text_when_slack_is_back() -> (
    None
):
    """`flush` waits through the failures, and what finally goes out is the text as it is
    then, not what it was when Slack first failed."""
    driver = await scheduler(Patience(cap=0.01, limit=60.0))
    sync = FlakySync(failures=3)
    driver.arrive(KEY)
    driver.posted(KEY)
    try:
        await asyncio.wait_for(driver.flush(KEY, sync), 10)
    finally:
        await driver.close()
    assert sync.sent == ["first more more more"]
    assert sync.tried == 4


async def test_an_outage_longer_than_the_limit_fails_the_flush() -> None:
    driver = await scheduler(Patience(cap=0.01, limit=0.05))
    sync = FlakySync(failures=10_000)
    driver.arrive(KEY)
    driver.posted(KEY)
    try:
        with pytest.raises(SlackUnavailable):
            await asyncio.wait_for(driver.flush(KEY, sync), 10)
    finally:
        await driver.close()
    assert sync.sent == []


async def test_a_flush_ends_when_its_message_is_forgotten() -> None:
    """A reply that carries on elsewhere (or is abandoned) forgets its message: a `flush`
    waiting for Slack then returns instead of waiting for ever."""
    driver = await scheduler(Patience(cap=60.0, limit=600.0))
    sync = FlakySync(failures=10_000)
    driver.arrive(KEY)
    driver.posted(KEY)
    flushing = asyncio.create_task(driver.flush(KEY, sync))
    try:
        await sync.called.wait()
        driver.forget(KEY)
        await asyncio.wait_for(flushing, 10)
    finally:
        await driver.close()
    assert sync.sent == [] and flushing.done() and flushing.exception() is None
