"""The planner's arithmetic and how it learns answers' lives (pure, no clock)."""

from __future__ import annotations

import math

import pytest

from bot.delivery.pacing.lives import DEFAULT_RATE, FIRST_FEW, Lives
from bot.delivery.pacing.planner import (
    POST_NOW_EDITS,
    Load,
    Plan,
    Window,
    calls_left,
    first_post_at,
    next_edit,
    plan,
)

EMPTY = Window(per_minute=50, burst=3)


def test_calls_left_counts_the_calls_that_come_back_within_the_horizon() -> None:
    """Ten calls at 0..9 s; at 30 s looking 35 s ahead, the ones made by 5 s age out in time:
    50 - 10 + 6."""
    window = Window(per_minute=50, burst=3, count=10, calls=[float(t) for t in range(10)])
    assert calls_left(window, now=30.0, horizon=35.0) == 46


def test_calls_older_than_a_minute_no_longer_count() -> None:
    window = Window(per_minute=50, burst=3, count=10, calls=[float(t) for t in range(10)])
    assert calls_left(window, now=65.0, horizon=0.0) == 46  # those of 0..5 s are gone


def test_one_answer_is_edited_about_every_second() -> None:
    """With one answer in flight nothing changes: the window could pay for far more, so the
    rate is capped at one edit per `min_interval`."""
    one = plan(EMPTY, 0.0, Load(remaining=[25.0]), min_interval=1.0)
    assert one.rate == 1.0
    at = next_edit(one, last_sent=0.0, now=0.0, remaining=25.0, min_interval=1.0)
    assert at == 1.0


def test_twenty_answers_share_what_is_left_after_their_finals() -> None:
    """Twenty answers with 25 s to go under 50 a minute: 30 calls beyond the finals, over 500
    answer-seconds: 0.06 edits per second of each answer's life."""
    twenty = plan(EMPTY, 0.0, Load(remaining=[25.0] * 20), min_interval=1.0)
    assert twenty.spare == 30
    assert twenty.rate == pytest.approx(0.06)


def test_edits_are_spread_evenly_up_to_the_final() -> None:
    """0.06 a second over 25 s is 1.5 routine edits; with the final, 2.5 gaps of 10 s."""
    twenty = Plan(rate=0.06, spare=30, reserve=20)
    at = next_edit(twenty, last_sent=0.0, now=0.0, remaining=25.0, min_interval=1.0)
    assert at == pytest.approx(10.0)


def test_without_spare_calls_only_the_final_is_left() -> None:
    """When the window has nothing beyond the finals of the answers posted, no routine edit
    is planned."""
    window = Window(50, 3, count=40, calls=[0.0] * 40)
    starved = plan(window, 1.0, Load([5.0] * 10, committed=10), 1.0)
    assert starved.rate == 0.0 and starved.free == 0
    assert next_edit(starved, last_sent=1.0, now=1.0, remaining=5.0, min_interval=1.0) == math.inf


def test_answers_not_posted_yet_owe_the_window_no_final() -> None:
    """The same window with the ten answers not posted yet: each can still go out whole, so
    the ten calls left may be spent on edits of the answers posted (none are owed)."""
    window = Window(50, 3, count=40, calls=[0.0] * 40)
    waiting = plan(window, 1.0, Load([5.0] * 10), 1.0)
    assert waiting.free == 10
    assert next_edit(waiting, last_sent=1.0, now=1.0, remaining=5.0, min_interval=1.0) < math.inf


def test_answers_expected_to_arrive_keep_their_finals() -> None:
    """One new answer every 2 s, each expected to stream 10 s: a minute holds the finals of
    the answers in flight and of those that arrive and end within it (25), and the rate
    shares the rest with their lives too."""
    load = Load(remaining=[10.0] * 5, arrival_rate=0.5, life=10.0)
    steady = plan(EMPTY, 0.0, load, min_interval=1.0)
    in_minute = (50 - 5 - 0.5 * 50) / (50 + 0.5 * 60 * 10 * (1 - 10 / 120))
    soon = (50 - 5 - 0.5 * 10) / (50 + 0.5 * 10 * 5)
    assert steady.rate == pytest.approx(min(in_minute, soon))


def test_the_first_post_goes_at_once_with_edits_to_spare() -> None:
    generous = Plan(rate=1.0, spare=40, reserve=2, affordable=40)
    assert first_post_at(generous, first_text=0.4, now=0.4, remaining=20.0) == 0.4


def test_the_first_post_waits_for_an_even_share_of_the_life_when_edits_are_few() -> None:
    """0.06 a second over a 25 s life is 1.5 edits: post, edits and final spread over 3.5
    gaps, the post after the first one (25 / 3.5 s after the first text)."""
    scarce = Plan(rate=0.06, spare=30, reserve=20, affordable=30)
    at = first_post_at(scarce, first_text=0.4, now=0.4, remaining=25.0)
    assert at == pytest.approx(0.4 + 25 / 3.5)
    assert 0.06 * 25 < POST_NOW_EDITS


def test_an_early_post_waits_for_the_end_when_its_final_cannot_be_paid() -> None:
    """No room for the final edit an early post commits to: the answer goes out whole."""
    broke = Plan(rate=0.0, spare=0, reserve=100, affordable=0.5)
    assert first_post_at(broke, first_text=0.3, now=0.3, remaining=1.0) == math.inf


def test_before_any_answer_an_answer_is_expected_to_use_half_its_max_tokens() -> None:
    lives = Lives(max_marks=2048)
    assert lives.length(0) == 1024
    assert lives.remaining(0, 0.0) == pytest.approx(1024 / DEFAULT_RATE)


def test_an_answer_past_every_recent_one_is_expected_to_go_on_as_long_again() -> None:
    """Nothing says how much longer it runs: as likely in its first half as in its second, or,
    closer to max_tokens, as likely to end before half way there as after."""
    lives = Lives(max_marks=2048)
    for _ in range(FIRST_FEW):
        lives.record(80, 1.0)
    assert lives.length(100) == 200
    assert lives.length(1500) == (1500 + 2048) / 2
    assert Lives(max_marks=2048).length(1200) == (1200 + 2048) / 2  # past the cold guess
    assert lives.length(3000) == 3000  # never less than written


def test_recent_answers_say_how_long_the_next_ones_run() -> None:
    """Answers of 80 and 400 marks seen (enough of them): a new one is expected to reach their
    mean; one past 80 marks, what the longer ones reached."""
    lives = Lives(max_marks=2048)
    for _ in range(FIRST_FEW):
        lives.record(80, 1.0)
        lives.record(400, 5.0)
    assert lives.length(0) == 240
    assert lives.length(100) == 400


def test_the_first_answers_seen_say_little_on_their_own() -> None:
    """One short answer seen: the cold guess (half of max_tokens) still counts as the
    `FIRST_FEW - 1` answers not seen yet, so the next one is not expected to be as short; an
    answer past the guess is expected to end half way to max_tokens."""
    lives = Lives(max_marks=2048)
    lives.record(160, 2.0)
    assert lives.length(0) == pytest.approx((160 + (FIRST_FEW - 1) * 1024) / FIRST_FEW)
    assert lives.length(200) == 1024
    assert lives.length(1100) == (1100 + 2048) / 2


def test_an_answer_soon_streams_at_its_own_pace() -> None:
    """Before it has streamed a quarter of a second, recent answers' pace; after, its own."""
    lives = Lives(max_marks=2048)
    lives.record(80, 1.0)
    assert lives.rate(2, 0.1) == 80.0
    assert lives.rate(20, 0.5) == 40.0


def test_the_share_of_answers_needing_edits_is_learnt() -> None:
    lives = Lives(max_marks=2048)
    assert lives.edited_share() == 1.0
    lives.record(80, 1.0, edited=False)
    lives.record(800, 10.0, edited=True)
    assert lives.edited_share() == 0.5


def test_versions_are_one_density_over_every_answers_span() -> None:
    """Twenty answers with 20 s to go, none posted, under an empty window of 50: 50 calls and
    20 posts are 70 versions over 400 answer-seconds (the lower density of the two horizons,
    here the answers' own), one every 400 / 70 s of each answer's life."""
    load = Load(remaining=[20.0] * 20, unseen=[0.0] * 20)
    twenty = plan(EMPTY, 0.0, load, min_interval=1.0)
    assert twenty.versions == pytest.approx(70 / 400)


def test_the_time_since_a_version_is_part_of_the_span_to_cover() -> None:
    """Posted answers 4 s unseen with 16 s to go need as many versions as new ones with 20."""
    fresh = plan(EMPTY, 0.0, Load(remaining=[20.0] * 20, committed=20), min_interval=1.0)
    seen = Load(remaining=[16.0] * 20, committed=20, unseen=[4.0] * 20)
    assert plan(EMPTY, 0.0, seen, min_interval=1.0).versions == pytest.approx(fresh.versions)
    assert fresh.versions == pytest.approx(50 / 400)


def test_a_message_s_versions_to_come_are_spread_evenly_over_its_span() -> None:
    """One version every 5 s: 2 s since the last and 13 s to go are three versions, 5 s apart
    (the last the final)."""
    spread = Plan(rate=0.1, spare=10, reserve=20, versions=0.2)
    at = next_edit(spread, last_sent=8.0, now=10.0, remaining=13.0, min_interval=1.0)
    assert at == pytest.approx(13.0)


def test_no_routine_edit_just_before_the_final() -> None:
    """A span that holds about one version holds the final only: an edit a moment before it
    would show little, and its call serves another answer better."""
    spread = Plan(rate=0.1, spare=10, reserve=20, versions=0.2)
    assert next_edit(spread, last_sent=8.0, now=10.0, remaining=5.0, min_interval=1.0) == math.inf
    assert next_edit(spread, last_sent=8.0, now=10.0, remaining=6.0, min_interval=1.0) < math.inf


def test_at_full_density_edits_go_one_interval_apart() -> None:
    """The window pays for more than one version a `min_interval`: about one a second."""
    capped = Plan(rate=1.0, spare=40, reserve=1, versions=1.0, ample=True)
    assert next_edit(capped, last_sent=3.0, now=3.5, remaining=20.4, min_interval=1.0) == 4.0


def test_the_first_post_waits_for_its_first_share_of_the_density() -> None:
    """One version every 5 s and a 20 s life: four versions, the post the first, 5 s after the
    first text."""
    spread = Plan(rate=0.1, spare=10, reserve=20, affordable=5, versions=0.2)
    assert first_post_at(spread, first_text=0.4, now=0.4, remaining=20.0) == pytest.approx(5.4)


def test_an_answer_holding_about_one_version_goes_out_whole() -> None:
    """A 6 s life at one version every 5 s is one version: the whole answer, one post."""
    spread = Plan(rate=0.1, spare=10, reserve=20, affordable=5, versions=0.2)
    assert first_post_at(spread, first_text=0.4, now=0.4, remaining=6.0) == math.inf


def test_the_odds_of_recent_lengths_time_the_edit_within_the_planners_guards() -> None:
    """When recent answers' lengths say when (`timed`, from `timing.py`), that is when the
    edit goes: no sooner than a `min_interval` after the last version, and not at all while
    every call the window has is some posted answer's final."""
    spread = Plan(rate=0.1, spare=10, reserve=20, versions=0.2)
    edit = {"last_sent": 8.0, "now": 10.0, "remaining": 5.0, "min_interval": 1.0}
    assert next_edit(spread, **edit, timed=12.5) == 12.5  # the span alone would say: none
    assert next_edit(spread, **edit, timed=8.5) == 9.0
    assert next_edit(spread, **edit, timed=math.inf) == math.inf
    starved = Plan(rate=0.1, spare=10, reserve=20, versions=0.2, free=0.5)
    assert next_edit(starved, **edit, timed=12.5) == math.inf


def test_the_odds_time_the_first_post_unless_it_goes_at_once_or_cannot_be_paid() -> None:
    post = {"first_text": 0.4, "now": 1.0, "remaining": 20.0}
    spread = Plan(rate=0.1, spare=10, reserve=20, affordable=5, versions=0.2)
    assert first_post_at(spread, **post, timed=3.0) == 3.0
    assert first_post_at(spread, **post, timed=math.inf) == math.inf  # whole at its end
    unpaid = Plan(rate=0.1, spare=10, reserve=20, affordable=0.5, versions=0.2)
    assert first_post_at(unpaid, **post, timed=3.0) == math.inf
    ample = Plan(rate=1.0, spare=40, reserve=1, affordable=40, versions=1.0, ample=True)
    assert first_post_at(ample, **post, timed=3.0) == 0.4
    # Edits enough ahead that, without odds, the post would go at once: the odds weigh that.
    many = Plan(rate=0.5, spare=40, reserve=1, affordable=40, versions=0.5)
    assert many.rate * 20.6 >= POST_NOW_EDITS
    assert first_post_at(many, **post) == 0.4
    assert first_post_at(many, **post, timed=3.0) == 3.0


def test_one_answer_alone_is_posted_at_once_however_short() -> None:
    """With one answer in flight the window pays for an edit every second after its final:
    the first words go with the post, even for an answer expected to last 2 s."""
    alone = plan(EMPTY, 0.0, Load(remaining=[2.0]), min_interval=1.0)
    assert alone.ample
    assert first_post_at(alone, first_text=0.4, now=0.4, remaining=2.0) == 0.4


def test_answers_held_near_their_ends_are_not_posted_early_as_if_alone() -> None:
    """Fifteen answers held back, each 0.5 s written and 0.4 s to go, with 43 calls left:
    the window could pay an edit a second for what is left of them, but not for their whole
    spans, nor the fifteen finals at 3 a second: they are not posted at once."""
    window = Window(per_minute=50, burst=3, count=7, calls=[0.0] * 7)
    load = Load(remaining=[0.4] * 15, unseen=[0.5] * 15)
    held = plan(window, 2.0, load, min_interval=1.0)
    assert not held.ample
    assert first_post_at(held, first_text=1.5, now=2.0, remaining=0.4) > 2.0


def test_a_new_answers_life_counts_the_answers_still_streaming() -> None:
    """Five answers of 80 marks ended, and one still streams at 1,500: the ones that ended
    first are the short ones, so the next answer is expected to run longer than they did,
    the long one counted at the length it is expected to reach."""
    lives = Lives(max_marks=2048)
    for _ in range(FIRST_FEW):
        lives.record(80, 1.0)
    expected = (5 * 80 + (1500 + 2048) / 2) / 6
    assert lives.new_life([1500.0]) == pytest.approx(expected / 80)
    assert lives.new_life([]) == pytest.approx(1.0)
