"""The native transport's least lag with Slack's minute of stream starts (pure): where a rule
does not bind it agrees with the one-window bounds, it is never above what a schedule obeying
every native rule reaches, and past 20 starts a minute it rises as it must."""

from __future__ import annotations

import math
import random

import pytest

from bench.lower_bound import least_mean_lag, least_total_wait_rolling, spread_wait
from bench.native_bound import least_native_mean_lag


def steady(start: float, life: float, rate: float = 4.0) -> list[float]:
    count = max(int(life * rate), 2)
    return [start + life * n / (count - 1) for n in range(count)]


def test_with_starts_to_spare_and_no_updates_it_is_the_appends_bound() -> None:
    """Every answer may stream and `chat.update` has no calls: the appends' window alone, the
    final on the stop — `lower_bound`'s rolling program with the final free."""
    answers = [steady(0.0, 20.0), steady(5.0, 12.0), steady(30.0, 40.0)]
    asked = [a[0] for a in answers]
    alone = least_native_mean_lag(answers, asked, starts=10, appends=3, updates=0)
    rolling = least_total_wait_rolling(answers, 3, final_free=True) / sum(map(len, answers))
    assert alone == pytest.approx(rolling, rel=1e-6)


def test_without_starts_every_answer_is_posted_and_edited() -> None:
    """No stream can start: the `chat.update` bound, whatever the appends' window allows."""
    answers = [steady(0.0, 20.0), steady(5.0, 12.0)]
    asked = [a[0] for a in answers]
    posted = least_native_mean_lag(answers, asked, starts=0, appends=100, updates=2)
    rolling = least_total_wait_rolling(answers, 2) / sum(map(len, answers))
    assert posted == pytest.approx(rolling, rel=1e-6)


def test_past_the_minutes_starts_the_bound_rises() -> None:
    """Forty answers of 10 s at once: with 20 starts a minute half of them are posted and pay
    their edits from `chat.update`'s 50. The bound lies above the one letting every answer
    stream and below the one streaming none."""
    answers = [steady(0.0, 10.0) for _ in range(40)]
    asked = [0.0] * 40
    every = least_native_mean_lag(answers, asked, starts=40)
    twenty = least_native_mean_lag(answers, asked, starts=20)
    none = least_native_mean_lag(answers, asked, starts=0)
    assert every < twenty < none


def test_a_short_burst_cannot_stream_every_answer() -> None:
    """A hundred answers of under a second at once (workload 2's shape): the bound letting all
    of them stream is far below this one, which lets 20."""
    answers = [steady(0.3 + n / 100, 0.6 + 0.4 * (n % 7) / 6, rate=80.0) for n in range(100)]
    asked = [n / 100 for n in range(100)]
    loose = least_mean_lag(answers, 100, final_free=True)
    assert least_native_mean_lag(answers, asked) > 1.3 * loose


class Windows:
    """Slack's rolling minutes for the three native methods: a call goes only if every minute
    it falls in stays within the method's limit."""

    def __init__(self, **limits: int) -> None:
        self.limits = limits
        self.sent: dict[str, list[float]] = {kind: [] for kind in limits}

    def take(self, kind: str, at: float) -> bool:
        calls = [*self.sent[kind], at]
        # The fullest minute ends at a call.
        if any(sum(1 for t in calls if c - 60 < t <= c) > self.limits[kind] for c in calls):
            return False
        self.sent[kind].append(at)
        return True


def test_no_schedule_obeying_the_native_rules_beats_the_bound() -> None:
    """Random answers, each streamed (if a start is left in the rolling minute) or posted, with
    random appends and updates let through only while each window has room; a posted answer
    whose final finds no room goes out whole at its end. Every such schedule waits at least as
    long as the bound."""
    rng = random.Random(26)
    for _ in range(25):
        answers = [steady(rng.uniform(0, 90), rng.uniform(1, 30)) for _ in range(rng.randint(2, 9))]
        asked = [a[0] - rng.uniform(0, 1) for a in answers]
        starts, appends, updates = rng.randint(0, 3), rng.randint(1, 5), rng.randint(1, 4)
        windows = Windows(start=starts, append=appends, update=updates)
        total = 0.0
        for times, question in sorted(zip(answers, asked, strict=True), key=lambda p: p[0][-1]):
            end = times[-1]
            first = rng.uniform(question, end)
            wanted = sorted(rng.uniform(first, end) for _ in range(rng.randint(0, 6)))
            if rng.random() < 0.6 and windows.take("start", first):
                versions = [first, end]  # the stop carries the final
                versions += [
                    at for at in wanted if windows.take(rng.choice(("append", "update")), at)
                ]
            else:
                versions = [first] + [at for at in [*wanted, end] if windows.take("update", at)]
                if max(versions) < end:
                    versions = [end]  # no room for the final edit: whole, at its end
            total += sum(min(v for v in versions if v >= t) - t for t in times)
        chunks = sum(map(len, answers))
        bound = least_native_mean_lag(
            answers, asked, starts=starts, appends=appends, updates=updates
        )
        assert bound * chunks <= total + 1e-6


def test_with_first_words_due_the_bound_is_no_lower() -> None:
    """Showing first words within 1.5 s of each question only removes schedules."""
    answers = [steady(0.4, 20.0), steady(0.4, 8.0), steady(2.0, 25.0)]
    asked = [0.0, 0.0, 1.6]
    free = least_native_mean_lag(answers, asked, starts=1, appends=2, updates=1)
    due = least_native_mean_lag(answers, asked, first_words=True, starts=1, appends=2, updates=1)
    assert free <= due + 1e-9


def test_when_no_final_can_be_paid_no_schedule_shows_first_words_in_time() -> None:
    """Two long answers, no stream start and no `chat.update`: first words by 1.5 s would
    leave a final owed with no call to pay it."""
    answers = [steady(0.4, 20.0), steady(0.4, 30.0)]
    assert (
        least_native_mean_lag(answers, [0.0, 0.0], first_words=True, starts=0, updates=0)
        == math.inf
    )


def test_one_answer_streamed_with_nothing_else_waits_for_its_stop() -> None:
    """One answer, one start and no other calls: start and stop spread evenly (the start at
    the middle) is the least."""
    times = steady(0.0, 10.0)
    expected = spread_wait(times, 0.0, 10.0, 2) / len(times)
    assert least_native_mean_lag([times], [0.0], starts=1, appends=0, updates=0) == pytest.approx(
        expected
    )
