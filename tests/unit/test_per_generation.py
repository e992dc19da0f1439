"""What changes only with a catalog feed is read once per generation, however many answers ask
for it at the same moment (`bot.catalog.per_generation`)."""

from __future__ import annotations

import asyncio

import pytest

from bot.catalog.per_generation import PerGeneration


class Reads:
    """A read that counts its runs and finishes when the test lets it."""

    def __init__(self) -> None:
        self.runs = 0
        self.release = asyncio.Event()
        self.fail_with: Exception | None = None

    async def __call__(self) -> str:
        self.runs += 1
        run = self.runs
        await self.release.wait()
        if self.fail_with is not None:
            raise self.fail_with
        return f"read {run}"


async def test_a_hundred_answers_asking_at_once_share_one_read() -> None:
    kept, read = PerGeneration[str](), Reads()
    asking = [asyncio.create_task(kept.get(7, read)) for _ in range(100)]
    await asyncio.sleep(0)
    read.release.set()
    assert await asyncio.gather(*asking) == ["read 1"] * 100
    assert await kept.get(7, read) == "read 1"
    assert read.runs == 1


async def test_a_failed_read_reaches_everyone_waiting_and_is_read_again_next_time() -> None:
    kept, read = PerGeneration[str](), Reads()
    read.fail_with = ConnectionError("the database went away")
    asking = [asyncio.create_task(kept.get(7, read)) for _ in range(3)]
    await asyncio.sleep(0)
    read.release.set()
    outcomes = await asyncio.gather(*asking, return_exceptions=True)
    assert [type(o) for o in outcomes] == [ConnectionError] * 3
    read.fail_with = None
    assert await kept.get(7, read) == "read 2"


async def test_an_answer_stopped_while_waiting_does_not_stop_the_read_for_the_others() -> None:
    kept, read = PerGeneration[str](), Reads()
    stopped = asyncio.create_task(kept.get(7, read))
    waiting = asyncio.create_task(kept.get(7, read))
    await asyncio.sleep(0)
    stopped.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopped
    read.release.set()
    assert await waiting == "read 1"
    assert read.runs == 1


async def test_the_latest_generations_are_kept_and_an_older_one_is_read_again() -> None:
    kept, read = PerGeneration[str](keep=2), Reads()
    read.release.set()
    assert [await kept.get(gen, read) for gen in (1, 2, 2, 3)] == [
        "read 1",
        "read 2",
        "read 2",
        "read 3",
    ]
    assert await kept.get(2, read) == "read 2"  # still kept: one of the latest two
    assert await kept.get(1, read) == "read 4"  # dropped when 3 came: read again


async def test_a_read_that_hangs_fails_for_everyone_waiting_and_is_read_again() -> None:
    """A query stuck on a dead connection must not hold every answer of the generation until
    the next feed: past the timeout it fails for all who waited, and the next asker reads."""
    kept, hung = PerGeneration[str](timeout=0.05), Reads()
    outcomes = await asyncio.gather(kept.get(7, hung), kept.get(7, hung), return_exceptions=True)
    assert [type(o) for o in outcomes] == [TimeoutError] * 2 and hung.runs == 1
    fresh = Reads()
    fresh.release.set()
    assert await kept.get(7, fresh) == "read 1"


def test_a_read_still_running_in_another_event_loop_is_made_again_in_this_one() -> None:
    """The catalog may outlive an event loop (tests share one): a read another loop has not
    finished, and may never run again, is not awaited from this loop: it is read here."""
    kept, hung = PerGeneration[str](), Reads()
    first = asyncio.new_event_loop()
    try:
        asking = first.create_task(kept.get(7, hung))
        first.run_until_complete(asyncio.sleep(0.01))
        assert not asking.done() and hung.runs == 1

        async def ask_again() -> str:
            fresh = Reads()
            fresh.release.set()
            return await asyncio.wait_for(kept.get(7, fresh), 5)

        assert asyncio.run(ask_again()) == "read 1"
    finally:
        left = asyncio.all_tasks(first)  # the asker and the read it started
        for task in left:
            task.cancel()
        first.run_until_complete(asyncio.gather(*left, return_exceptions=True))
        first.close()
