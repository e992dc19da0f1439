"""The benchmark's lower bound, on cases small enough to work out by hand (pure)."""

from __future__ import annotations

import pytest

from bench.lower_bound import _Answer, least_mean_lag, placeable, spread_wait

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
