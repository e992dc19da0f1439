"""The benchmark's lower bound, on cases small enough to work out by hand (pure)."""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.lower_bound import (
    FIRST_WORDS_DEADLINE,
    OFFSETS,
    _Answer,
    _convex,
    first_token_rule,
    first_words_wait,
    least_mean_lag,
    least_total_wait,
    least_total_wait_rolling,
    placeable,
    posted_wait,
    spread_wait,
)
from bench.measure import Figures, people_table
from bench.native_bound import least_native_mean_lag
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


# ---- with first words within FIRST_WORDS_DEADLINE of the question ------------------------


def test_first_words_before_the_end_need_a_charged_final() -> None:
    """Asked at -0.5 s, first words by 1 s, the answer runs to 10 s: the post at 1 s shows
    chunks 0 and 1 (1 s of waiting), the final edit at 10 s the rest (8 + 7 + ... + 0 = 36),
    and that edit is a call of the window: with none, no schedule exists."""
    assert least_mean_lag([ELEVEN], per_minute=0, asked=[-0.5]) == math.inf
    assert least_mean_lag([ELEVEN], per_minute=1, asked=[-0.5]) == pytest.approx(37 / 11)
    assert least_mean_lag([ELEVEN], per_minute=1) == pytest.approx(25 / 11)  # post at 5 s


def test_two_calls_after_a_post_at_the_deadline_are_spread_over_the_rest() -> None:
    """Two calls: the post at 1 s (1), edits at 5.5 s (3.5 + 2.5 + 1.5 + 0.5) and 10 s
    (4 + 3 + 2 + 1 + 0): 19, where the even spread of three versions waits 18 1/3."""
    assert first_words_wait(ELEVEN, -0.5, versions=2) == pytest.approx(19.0)
    assert least_mean_lag([ELEVEN], per_minute=2, asked=[-0.5]) == pytest.approx(19 / 11)


def test_an_answer_ended_by_its_deadline_may_go_whole_in_one_post() -> None:
    """Asked at 9 s, the answer ends at 10 s, before 10.5 s: one post at its end is allowed,
    and without a call the least is the unconstrained one (55)."""
    assert least_mean_lag([ELEVEN], per_minute=0, asked=[9.0]) == 5.0
    assert first_words_wait(ELEVEN, 9.0, versions=0) == 55.0
    assert first_words_wait(ELEVEN, -0.5, versions=0) == math.inf


def test_a_deadline_past_the_best_post_does_not_bind() -> None:
    """Asked at 4 s, first words by 5.5 s: one call puts the post at 5 s, as without the
    deadline (25), not as late as allowed (5.5 s would wait 25.5 at best)."""
    assert first_words_wait(ELEVEN, 4.0, versions=1) == 25.0
    assert least_mean_lag([ELEVEN], per_minute=1, asked=[4.0]) == pytest.approx(25 / 11)


def test_a_question_before_the_first_chunk_minus_the_deadline_posts_at_the_first_chunk() -> None:
    """The model's first chunk 3 s after the question: no schedule meets 1.5 s; the bound
    asks for the first words at the first chunk (0 s), then one edit at 10 s: 0 + 45."""
    assert first_words_wait(ELEVEN, -3.0, versions=1) == 45.0


def test_the_mandatory_final_takes_the_windows_call() -> None:
    """One call a minute, two answers: the one that runs past its deadline must spend it on
    its final (37, the other whole at its end, 55); unconstrained the call goes to either
    (25 + 55). Two answers both past their deadlines cannot both be shown: no schedule."""
    answers = [ELEVEN, ELEVEN]
    assert least_mean_lag(answers, per_minute=1, asked=[-0.5, 9.0]) == pytest.approx(92 / 22)
    assert least_mean_lag(answers, per_minute=1) == pytest.approx(80 / 22)
    assert least_mean_lag(answers, per_minute=1, asked=[-0.5, -0.5]) == math.inf
    assert least_total_wait(answers, 1, 0.0, asked=[-0.5, -0.5]) == math.inf
    assert least_total_wait_rolling(answers, 1, asked=[-0.5, -0.5]) == math.inf


def test_a_final_on_stop_stream_is_free_of_the_window() -> None:
    """Native: the final text rides on chat.stopStream (its own window, left out), so with no
    append to spend the post at 1 s and the stop at 10 s still show the answer (1 + 36), and
    without the deadline the post goes at 5 s (25)."""
    assert least_mean_lag([ELEVEN], 0, asked=[-0.5], final_free=True) == pytest.approx(37 / 11)
    assert least_mean_lag([ELEVEN], 0, final_free=True) == pytest.approx(25 / 11)


def test_waits_are_made_convex_and_non_increasing() -> None:
    """More calls never hurt (they may stay idle) and gains never grow: the greatest such
    sequence below the waits, infinite ones kept first."""
    assert _convex([math.inf, 10.0, 9.0, 3.0, 4.0, 1.0]) == pytest.approx(
        [math.inf, 10.0, 6.5, 3.0, 2.0, 1.0]
    )


def _steady(start: float, life: float, per_second: float) -> list[float]:
    count = max(round(life * per_second), 1) + 1
    return [start + life * n / (count - 1) for n in range(count)]


def test_the_post_is_at_the_deadline_or_the_best_spot_whichever_is_sooner() -> None:
    """Trying every post time from the first chunk to the deadline (a steady answer of 100
    chunks a second, versions spread evenly after the post) finds the same least as the rule
    p = min(deadline, s + (e - s) / (m + 1)), within the chunks' spacing."""
    times = _steady(0.0, 10.0, 100)
    for asked, versions in [(-0.5, 1), (-0.5, 3), (2.0, 1), (2.0, 4), (8.0, 1), (-1.4, 9)]:
        latest = asked + FIRST_WORDS_DEADLINE
        grid = [max(latest, 0.0) * n / 400 for n in range(401)]
        tried = min(posted_wait(times, p, 10.0, versions) for p in grid)
        assert first_words_wait(times, asked, versions) == pytest.approx(tried, rel=2e-3)


def _brute_force(
    answers: list[list[float]], asked: list[float], per_minute: int, final_free: bool
) -> float:
    """Every split of one minute's calls between answers that all live within it (at least
    the mandatory final each), each answer at its least for its count."""
    choices = [
        [(k, first_words_wait(times, q, k + final_free)) for k in range(per_minute + 1)]
        for times, q in zip(answers, asked, strict=True)
    ]
    return min(
        sum(w for _, w in combo)
        for combo in itertools.product(*choices)
        if sum(k for k, _ in combo) <= per_minute
    )


def _convex_waits(times: list[float], asked: float, most: int, final_free: bool) -> bool:
    waits = [first_words_wait(times, asked, k + final_free) for k in range(most + 1)]
    finite = [w for w in waits if w < math.inf]
    return all(
        a - b >= b - c - 1e-9 for a, b, c in zip(finite, finite[1:], finite[2:], strict=False)
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lives=st.lists(st.floats(0.5, 12.0), min_size=1, max_size=3),
    delays=st.lists(st.floats(0.0, 2.5), min_size=3, max_size=3),
    per_minute=st.integers(1, 4),
    final_free=st.booleans(),
)
def test_the_bound_equals_a_brute_force_optimum_on_tiny_cases(
    lives: list[float], delays: list[float], per_minute: int, final_free: bool
) -> None:
    """Up to three steady answers within one minute: the bound is never above the best split
    of the minute's calls found by trying every one, and equals it when each answer's waits
    fall by less with each further call (then making them convex changes nothing)."""
    answers = [_steady(2.0 * n, life, 10) for n, life in enumerate(lives)]
    asked = [times[0] - delays[n] for n, times in enumerate(answers)]
    chunks = sum(map(len, answers))
    tried = _brute_force(answers, asked, per_minute, final_free)
    bound = least_mean_lag(answers, per_minute, asked=asked, final_free=final_free) * chunks
    if tried == math.inf:
        assert bound == math.inf
        return
    assert bound <= tried + 1e-6
    if all(
        _convex_waits(a, q, 2 * per_minute, final_free) for a, q in zip(answers, asked, strict=True)
    ):
        assert bound == pytest.approx(tried)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    answers=st.lists(
        st.tuples(st.floats(0, 150), st.floats(0.2, 40), st.floats(1, 20), st.floats(0, 3)),
        min_size=1,
        max_size=6,
    ),
    per_minute=st.integers(0, 8),
    final_free=st.booleans(),
)
def test_the_first_words_bound_is_never_below_the_unconstrained_one(
    answers: list[tuple[float, float, float, float]], per_minute: int, final_free: bool
) -> None:
    """Random workloads (start, life, chunks a second, seconds from question to first chunk):
    every schedule showing first words in time is a schedule, so its least is never less."""
    times = [_steady(start, life, rate) for start, life, rate, _ in answers]
    asked = [start - delay for start, _, _, delay in answers]
    free = least_mean_lag(times, per_minute, final_free=final_free)
    bound = least_mean_lag(times, per_minute, asked=asked, final_free=final_free)
    assert bound >= free - 1e-9


def test_no_schedule_showing_first_words_in_time_beats_the_bound() -> None:
    """Random schedules as above, each answer posted at a random time between its first chunk
    and its deadline (or whole at its end, when it ended by then), its final edit and then
    random updates let through only if Slack's rolling minute has room: none waits less than
    the constrained bound (and most of them qualify: their finals found room)."""
    rng = random.Random(26)
    qualified = 0
    for _ in range(40):
        answers, asked = [], []
        for _ in range(rng.randint(2, 8)):
            start, life = rng.uniform(0, 150), rng.uniform(1, 40)
            count = max(int(life * 4), 2)
            answers.append([start + life * n / (count - 1) for n in range(count)])
            asked.append(start - rng.uniform(0, 1.4))
        per_minute = rng.randint(3, 8)
        sent: list[float] = []
        total = 0.0
        for times, q in sorted(zip(answers, asked, strict=True), key=lambda a: a[0][-1]):
            start, end = times[0], times[-1]
            if end <= q + FIRST_WORDS_DEADLINE and rng.random() < 0.5:
                total += sum(end - t for t in times)
                continue
            versions = [rng.uniform(start, min(q + FIRST_WORDS_DEADLINE, end))]
            wanted = [rng.uniform(versions[0], end) for _ in range(rng.randint(0, 6))]
            for at in [end, *wanted]:
                if sum(1 for t in sent if at - 60 < t <= at) < per_minute and all(
                    not (t - 60 < at <= t) for t in sent if t > at
                ):
                    sent.append(at)
                    versions.append(at)
            if max(versions) < end:  # no room for the final: this schedule does not qualify
                total = math.inf
                break
            total += sum(min(v for v in versions if v >= t) - t for t in times)
        bound = least_mean_lag(answers, per_minute, asked=asked) * sum(map(len, answers))
        assert bound <= total + 1e-6
        qualified += total < math.inf
    assert qualified >= 20


def test_the_people_table_shows_both_ratios() -> None:
    """`ratio` against the unconstrained least, `ratio@1.5s` against the least with first
    words in time, "none" where no schedule can show them in time."""
    run = Figures(
        "5 update cold",
        20,
        20,
        70,
        50,
        20,
        0,
        5.6,
        9.0,
        3.3,
        29.0,
        28.0,
        29.0,
        0.6,
        0.01,
        20,
        least_first_words=4.4,
    )
    assert run.ratio == pytest.approx(5.6 / 3.3)
    assert run.ratio_first_words == pytest.approx(5.6 / 4.4)
    header, _, line = people_table([run]).splitlines()
    assert "ratio@1.5s" in header
    assert "1.70x" in line and "1.27x" in line
    assert "@rule" in header and "nan" in line  # not measured here
    assert "1.40x" in people_table([replace(run, least_rule=4.0)]).splitlines()[-1]
    never = replace(run, least_first_words=math.inf)
    assert math.isnan(never.ratio_first_words)
    assert "none" in people_table([never]).splitlines()[-1]


def test_the_people_table_shows_both_native_windows_spent() -> None:
    """A native run spends two windows: its edits read appends + `chat.update` calls, and how
    many answers streamed (the rest were posted and edited)."""
    native = Figures(
        "7 native cold", 60, 60, 400, 228, 20, 0, 2.3, 5.0, 1.5, 143.0, 27.0, 28.0, 1.0, 0.01,
        60, native=True, also_updated=112, streamed=40,
    )  # fmt: skip
    assert "228+112 s40" in people_table([native]).splitlines()[-1]
    update = replace(native, name="7 update cold", native=False, also_updated=0, streamed=0)
    assert "228+" not in people_table([update]).splitlines()[-1]


def test_under_the_first_token_rule_a_long_answer_posts_its_first_chunk() -> None:
    """Issue 26's rule fixes a long answer's first version at its first token: the least is
    that post, then the window's calls spread evenly to its end — above the least with first
    words merely within 1.5 s of the question, itself above the unconstrained least."""
    answer = [0.4 + n / 4 for n in range(81)]  # 20 s, four chunks a second, asked at 0
    (rule,) = first_token_rule([answer])
    under_rule = least_mean_lag([answer], 3, asked=[rule])
    assert under_rule == pytest.approx(posted_wait(answer, 0.4, 20.4, 3) / len(answer))
    in_time = least_mean_lag([answer], 3, asked=[0.0])
    assert under_rule > in_time > least_mean_lag([answer], 3)


def test_under_the_first_token_rule_a_short_answer_may_go_out_whole() -> None:
    """An answer ending within 2 s of its first token may wait to go out whole: the rule
    binds it no more than no rule at all, with calls or without."""
    short = [0.4 + n / 80 for n in range(121)]  # 1.5 s
    for per_minute in (0, 5):
        rule = first_token_rule([short])
        assert least_mean_lag([short], per_minute, asked=rule) == pytest.approx(
            least_mean_lag([short], per_minute)
        )


def test_the_native_bound_under_the_rule_lies_above_the_one_in_time() -> None:
    """Workload 5's shape (twenty 25 s answers at once): streamed or posted, each answer's
    first version at its first token costs the bound what the 1.5 s deadline does not."""
    answers = [[0.4 + n / 10 for n in range(250)] for _ in range(20)]
    asked = [0.0] * 20
    in_time = least_native_mean_lag(answers, asked, first_words=True)
    under_rule = least_native_mean_lag(answers, first_token_rule(answers), first_words=True)
    assert under_rule > 1.05 * in_time
