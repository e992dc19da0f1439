"""When the next version goes, by the odds of recent answers' lengths (pure, hand-computed).

Units are marks (about tokens): a stretch of `d` marks shown at its end waits `d² / 2`, and an
edit costs `price` of that waiting.
"""

from __future__ import annotations

import math

import pytest

from bot.delivery.pacing.lives import FIRST_FEW, REFRESH, Lives
from bot.delivery.pacing.timing import Odds, Timing


def versions_of(table: Timing, length: float) -> list[float]:
    """Where an answer of `length` marks gets its versions from its first text on, following
    the table (the last being its end: the final edit, or the whole post)."""
    shown, at, versions = 0.0, table.next_version(shown=0.0, now=0.0), []
    while at < length:
        versions.append(at)
        shown = at
        at = table.next_version(shown=shown, now=shown)
    return [*versions, length]


def test_one_known_length_is_spread_evenly() -> None:
    """Every recent answer ran 100 marks; an edit costs 500. k versions cost 100² / (2k) of
    waiting and k - 1 calls (the post commits the final): 5000 whole, 3000 with two,
    2667 with three, 2750 with four. So: a post at a third, an edit at two thirds, the final."""
    table = Timing.solve([100.0] * 8, price=500.0)
    assert versions_of(table, 100.0) == pytest.approx([100 / 3, 200 / 3, 100.0], abs=1.0)
    assert table.value[0] == pytest.approx(8 * (100**2 / 6 + 2 * 500), rel=1e-3)
    assert table.density == pytest.approx(3 / 100)


def test_a_short_answer_under_a_high_price_goes_out_whole() -> None:
    """100 marks at 3000 an edit: two versions cost 2500 + 3000, more than 5000 whole."""
    table = Timing.solve([100.0] * 8, price=3000.0)
    assert table.next_version(shown=0.0, now=0.0) == math.inf
    assert table.density == pytest.approx(1 / 100)


def test_an_edit_waits_just_past_a_likely_end() -> None:
    """Half of recent answers ended at 100 marks, half at 400. One at 95 marks, last shown at
    0: an edit now would be wasted on half of them, while waiting past 100 costs the other
    half only five marks more each."""
    table = Timing.solve([100.0] * 5 + [400.0] * 5, price=1000.0)
    at = table.next_version(shown=0.0, now=95.0)
    assert 100.0 <= at < 105.0


def test_an_answer_past_every_likely_end_but_one_is_spread_towards_it() -> None:
    """Past 100 marks only the answers of 400 are left: from then on the length is known, and
    the rest of the answer is spread evenly (gaps of 100 at a price of 4000: k gaps over 300
    marks cost 300² / (2k) + (k - 1) 4000, least at k = 3)."""
    table = Timing.solve([100.0] * 5 + [400.0] * 5, price=4000.0)
    first = table.next_version(shown=100.0, now=100.0)
    assert first == pytest.approx(200.0, abs=4.0)
    assert table.next_version(shown=first, now=first) == pytest.approx(300.0, abs=4.0)


def test_once_no_recent_answer_ran_longer_there_is_nothing_to_go_by() -> None:
    table = Timing.solve([100.0, 200.0], price=10.0)
    assert table.alive(200.0) == 0
    assert table.next_version(shown=150.0, now=250.0) == math.inf


def test_the_price_is_the_least_that_spends_no_more_than_the_density() -> None:
    odds = Odds(tuple(float(n) for n in (80, 160, 320, 640, 960, 1200, 1600, 2000)))
    for density in (0.02, 0.005, 0.003, 0.0015):
        table = odds.priced(density)
        assert table.density <= density
        cheaper = Timing.solve(odds.lengths, table.price / 1.1)
        assert cheaper.density > density


def test_the_search_finds_the_same_price_from_wherever_it_starts() -> None:
    lengths = (80.0, 400.0, 900.0, 1500.0)
    first = Odds(lengths)
    wanted = [first.priced(d).price for d in (0.004, 0.01, 0.002, 0.006)]
    for start in (0, 37, Odds(lengths)._top - 1):
        odds = Odds(lengths)
        odds._last = start
        assert [odds.priced(d).price for d in (0.004, 0.01, 0.002, 0.006)] == wanted


def test_more_versions_than_any_price_spends_takes_the_cheapest() -> None:
    odds = Odds((100.0, 200.0))
    assert odds.priced(10.0).price == 1.0  # the first price tried


def test_the_odds_wait_for_the_first_few_answers_and_are_read_again_each_refresh() -> None:
    lives = Lives(max_marks=2048)
    for n in range(FIRST_FEW - 1):
        lives.record(100.0 * (n + 1), 1.0)
    assert lives.odds(0.0) is None
    lives.record(800.0, 2.0)
    first = lives.odds(0.0)
    assert first is not None and first.lengths == (100.0, 200.0, 300.0, 400.0, 800.0)
    lives.record(50.0, 1.0)
    assert lives.odds(REFRESH / 2) is first  # a burst of answers ending changes the odds little
    again = lives.odds(REFRESH)
    assert again is not None and again.lengths[0] == 50.0


def test_nothing_new_to_show_is_never_worth_an_edit_at_once() -> None:
    """Right after a version, an edit at once would show nothing new: the next goes later."""
    table = Timing.solve([100.0] * 4 + [2000.0] * 4, price=50.0)
    for marks in (0.0, 37.5, 100.0, 640.0):
        assert table.next_version(shown=marks, now=marks) > marks
