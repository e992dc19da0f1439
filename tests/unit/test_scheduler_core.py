"""Scheduling decisions for one workspace's edits, with a fake clock (pure)."""

from __future__ import annotations

from bot.delivery.pacing.scheduler import SchedulerCore
from bot.delivery.pacing.window import RollingWindow


def core(per_minute: int = 600, min_interval: float = 1.0) -> SchedulerCore:
    return SchedulerCore(per_minute=per_minute, min_interval=min_interval)


def test_nothing_to_send_until_marked() -> None:
    c = core()
    assert c.pick(0.0) == (None, None)
    c.mark("a", 0.0, urgent=True)
    assert c.pick(0.0) == ("a", None)


def test_routine_edits_of_a_message_wait_for_the_interval() -> None:
    """After the post (or an edit) the next routine edit of that message waits its turn."""
    c = core()
    c.mark("a", 0.0)
    assert c.pick(0.5) == (None, 1.0)
    assert c.pick(1.0)[0] == "a"
    c.done("a")
    c.mark("a", 1.2)
    assert c.pick(1.5) == (None, 2.0)


def test_urgent_edits_skip_the_interval_and_go_first() -> None:
    """The first text and the final answer do not wait behind routine edits."""
    c = core()
    c.mark("b", 0.0)
    c.mark("a", 0.5, urgent=True)
    assert c.pick(0.5)[0] == "a"
    assert c.pick(1.0)[0] == "b"


def test_the_message_waiting_longest_goes_first() -> None:
    """Fairness: the message whose unsent text is oldest lags furthest behind."""
    c = core()
    c.mark("late", 5.0)
    c.mark("early", 2.0)
    c.mark("middle", 3.0)
    order = [c.pick(10.0)[0] for _ in range(3)]
    assert order == ["early", "middle", "late"]


def test_marks_coalesce_into_one_edit() -> None:
    """Latest wins: many changes before the turn comes make one edit."""
    c = core()
    for t in range(10):
        c.mark("a", t / 10)
    assert c.pick(1.0)[0] == "a"
    assert c.pick(1.0) == (None, None)


def test_routine_spacing_is_a_fair_share_of_the_minute() -> None:
    """Twenty answers under 50 a minute: each keeps a call for its final, shares the rest."""
    c = core(per_minute=50)
    for n in range(20):
        c.mark(n, 0.0)
    assert c.spacing() == 20 * 60 / 30
    single = core(per_minute=50)
    single.mark("a", 0.0)
    assert single.spacing() == 60 / 49


def test_replicas_share_the_minute_by_their_answers_in_flight() -> None:
    """Seven answers here and thirteen on other replicas space edits like twenty in one."""
    c = core(per_minute=50)
    for n in range(7):
        c.mark(n, 0.0)
    c.elsewhere = 13
    assert c.spacing() == 20 * 60 / 30


def test_never_more_than_the_minute_allows() -> None:
    """The 51st call in a minute waits until the first one is a minute old."""
    w = RollingWindow(per_minute=50, burst=50)
    for n in range(50):
        assert w.available_at(n / 10) == n / 10
        w.take(n / 10)
    assert w.available_at(10.0) == 60.0
    assert w.available_at(60.0) == 60.0


def test_bursts_are_limited_per_second() -> None:
    w = RollingWindow(per_minute=600, burst=3)
    for _ in range(3):
        assert w.available_at(0.0) == 0.0
        w.take(0.0)
    assert w.available_at(0.2) == 1.0
    assert w.available_at(1.0) == 1.0


def test_extra_calls_count_and_no_op_edits_give_their_call_back() -> None:
    """A rollover edit that made two calls counts twice; an edit that changed nothing, never."""
    w = RollingWindow(per_minute=3, burst=10)
    w.take(0.0)
    w.add(0.0, 1)
    w.take(0.5)
    w.give_back(0.5)
    assert w.available_at(0.5) == 0.5
    w.take(0.5)
    assert w.available_at(0.6) == 60.0


def test_a_429_pauses_the_budget() -> None:
    w = RollingWindow(per_minute=600, burst=100)
    w.pause(3.1, retry_after=5)
    assert w.available_at(4.0) == 8.1
    w.pause(4.0, retry_after=1)  # a shorter pause never shortens the current one
    assert w.available_at(4.0) == 8.1


def test_a_429_keeps_the_edit_pending_and_first_in_line() -> None:
    """After the pause the message is edited again, still first, with its old lag."""
    c = core()
    c.mark("a", 1.0, urgent=True)
    c.mark("b", 2.0, urgent=True)
    assert c.pick(3.0)[0] == "a"
    c.rate_limited("a")
    assert c.pick(8.1)[0] == "a"


def test_one_edit_in_flight_per_message() -> None:
    """A newer version never races an older one: the next edit waits for the current one."""
    c = core()
    c.mark("a", 0.0, urgent=True)
    assert c.pick(0.0)[0] == "a"
    c.mark("a", 0.1, urgent=True)
    assert c.pick(0.2) == (None, None)
    c.done("a")
    assert c.pick(0.3)[0] == "a"
