"""The benchmark's lower bound, on cases small enough to work out by hand (pure)."""

from __future__ import annotations

import random

import pytest

from bench.lower_bound import (
    OFFSETS,
    _Answer,
    least_mean_lag,
    least_total_wait,
    least_total_wait_rolling,
    placeable,
    spread_wait,
)
from bench.simulate import simulate

ELEVEN = [float(t) for t in range(11)]  # a chunk a second from 0 to 10 s


def test_one_version_shows_everything_at_the_end() -> None:
    """A whole answer posted once: each chunk waits for the end (10 + 9 + ... + 0)."""
    assert spread_wait(ELEVEN, 0.0, 10.0, 1) == 55.0


def test_versions_are_spread_evenly_with_the_last_at_the_end() -> None:
    """Two versions, at 5 s and 10 s: 5+4+3+2+1+0 and 4+3+2+1+0."""
    assert spread_wait(ELEVEN, 0.0, 10.0, 2) == 25.0


def test_a_version_at_a_chunk_shows_it_at_once() -> None:
    """Chunks at 0..3 s and versions at 1, 2 and 3 s: only the first chunk waits (1 s)."""
    assert spread_wait([0.0, 1.0, 2.0, 3.0], 0.0, 3.0, 3) == 1.0


def test_without_any_update_the_post_is_the_only_version() -> None:
    """No chat.update to spend: the least is one post with the whole answer (55 / 11)."""
    assert least_mean_lag([ELEVEN], per_minute=0) == 5.0


def test_an_update_goes_where_it_cuts_the_most_waiting() -> None:
    """One update for a long answer (0-10 s) and a short one (0-1 s): it cuts 30 chunk-seconds
    from the long one (55 -> 25) and only 0.5 from the short one, so the long one gets it:
    (25 + 1) over 13 chunks."""
    assert least_mean_lag([ELEVEN, [0.0, 1.0]], per_minute=1) == pytest.approx(26 / 13)


def test_answers_a_minute_apart_each_get_a_minute_of_calls() -> None:
    """Slack's window rolls: 100 s apart, each answer gets the one update a minute allows."""
    later = [t + 100 for t in ELEVEN]
    assert least_mean_lag([ELEVEN, later], per_minute=1) == pytest.approx(50 / 22)


def test_answers_in_the_same_minute_share_it() -> None:
    """Two answers in the same minute with one update a minute: only one of them gets it."""
    assert least_mean_lag([ELEVEN, ELEVEN], per_minute=1) == pytest.approx(80 / 22)


def test_updates_fit_only_in_the_blocks_an_answer_overlaps() -> None:
    """Two answers within one block and one a minute: two updates do not fit, one does; an
    answer spanning two blocks may use either."""
    inside = [_Answer([0.0, 1.0], 0, 0, updates=1), _Answer([0.0, 1.0], 0, 0, updates=1)]
    assert not placeable(inside, per_minute=1)
    inside[1].updates = 0
    assert placeable(inside, per_minute=1)
    spanning = [_Answer([0.0, 1.0], 0, 0, updates=1), _Answer([50.0, 70.0], 0, 1, updates=1)]
    assert placeable(spanning, per_minute=1)


def test_the_bound_never_exceeds_what_a_real_schedule_reaches() -> None:
    """A schedule obeying the window: twenty answers of 0-10 s at once, fifty updates a minute,
    each answer posted at 4 s and edited at 7 s and 10 s (40 updates). Its mean lag is an
    upper limit for the least possible."""
    answers = [ELEVEN] * 20
    real = sum(
        sum(next(v for v in (4.0, 7.0, 10.0) if v >= t) - t for t in answer) for answer in answers
    ) / sum(len(a) for a in answers)
    assert least_mean_lag(answers, per_minute=50) <= real


def test_the_rolling_bound_agrees_with_hand_worked_cases() -> None:
    """The same cases as above, through the rolling program: one answer and no update (55),
    one update for the long answer of two (25 + 1), two answers sharing a minute (80)."""
    assert least_total_wait_rolling([ELEVEN], per_minute=0) == 55.0
    assert least_total_wait_rolling([ELEVEN, [0.0, 1.0]], per_minute=1) == pytest.approx(26)
    assert least_total_wait_rolling([ELEVEN, ELEVEN], per_minute=1) == pytest.approx(80)
    later = [t + 100 for t in ELEVEN]
    assert least_total_wait_rolling([ELEVEN, later], per_minute=1) == pytest.approx(50)


def test_the_rolling_bound_is_tighter_where_blocks_leave_a_spare_minute() -> None:
    """Thirty questions, one every 2 s, answers of 1-25 s at ten chunks a second, ten updates a
    minute: the answers end 83 s in, so every way of cutting the run into minutes leaves a
    last (or first) block holding a few seconds of answers and a whole minute's updates. The
    rolling program counts every minute at once and finds more waiting (all of it still a
    bound: see the test below)."""
    lives = (2, 25, 8, 15, 4, 20, 1, 12)
    answers = [[n * 2.0 + i / 10 for i in range(10 * lives[n % 8])] for n in range(30)]
    blocks = max(least_total_wait(answers, per_minute=10, offset=o) for o in OFFSETS)
    rolling = least_total_wait_rolling(answers, per_minute=10)
    assert rolling > 1.1 * blocks
    chunks = sum(map(len, answers))
    assert least_mean_lag(answers, per_minute=10) == pytest.approx(rolling / chunks)


def test_no_schedule_obeying_the_window_beats_the_bound() -> None:
    """Random schedules of posts and updates over random answers, each call let through only if
    Slack's rolling minute has room: every one waits at least as long as the bound says."""
    rng = random.Random(14)
    for _ in range(30):
        answers = []
        for _ in range(rng.randint(2, 8)):
            start, life = rng.uniform(0, 150), rng.uniform(1, 40)
            count = max(int(life * 4), 2)
            answers.append([start + life * n / (count - 1) for n in range(count)])
        per_minute = rng.randint(1, 6)
        sent: list[float] = []
        total = 0.0
        for times in sorted(answers, key=lambda a: a[-1]):
            start, end = times[0], times[-1]
            versions = [rng.uniform(start, end)]  # the post, counted per channel
            wanted = sorted(rng.uniform(versions[0], end) for _ in range(rng.randint(0, 6)))
            for at in [*wanted, end]:
                if sum(1 for t in sent if at - 60 < t <= at) < per_minute and all(
                    not (t - 60 < at <= t) for t in sent if t > at
                ):
                    sent.append(at)
                    versions.append(at)
            if versions[-1] < end:  # no room for the final edit: the post waits for the end
                versions = [end]
            total += sum(min(v for v in versions if v >= t) - t for t in times)
        assert least_total_wait_rolling(answers, per_minute) <= total + 1e-6
        assert least_mean_lag(answers, per_minute) * sum(map(len, answers)) <= total + 1e-6


def test_the_planner_simulation_never_beats_the_bound() -> None:
    """Five answers of 3-20 s a few seconds apart under ten updates a minute, through the
    planner on a fake clock: every answer is shown whole in the end, and no schedule the
    planner makes waits less than the least possible."""
    result = simulate([(0.4, 20.0), (2.4, 3.0), (4.4, 12.0), (6.4, 8.0), (8.4, 15.0)], 10)
    assert result.ratio >= 1.0
    assert 0 < result.updates <= 10
