"""Scheduling decisions for one workspace's edits, with a fake clock (pure)."""

from __future__ import annotations

from bot.scheduler import SchedulerCore


def core(rate: float = 1.0, burst: int = 3, min_interval: float = 1.0) -> SchedulerCore:
    return SchedulerCore(rate=rate, burst=burst, min_interval=min_interval)


def test_nothing_to_send_until_marked() -> None:
    c = core()
    assert c.pick(0.0) == (None, None)
    c.mark("a", 0.0)
    assert c.pick(0.0) == ("a", None)


def test_a_message_is_edited_at_most_once_per_interval() -> None:
    """After an edit, the next one for the same message waits for the interval."""
    c = core(rate=100, burst=100)
    c.mark("a", 0.0)
    assert c.pick(0.0)[0] == "a"
    c.done("a", 0.1)
    c.mark("a", 0.2)
    assert c.pick(0.5) == (None, 1.0)
    assert c.pick(1.0)[0] == "a"


def test_urgent_edits_skip_the_interval_and_go_first() -> None:
    """The first text and the final answer do not wait behind routine edits."""
    c = core(rate=100, burst=100)
    c.mark("a", 0.0)
    c.pick(0.0)
    c.done("a", 0.0)
    c.mark("b", 0.1)
    c.mark("a", 0.2, urgent=True)
    assert c.pick(0.3)[0] == "a"
    assert c.pick(0.3)[0] == "b"


def test_the_message_waiting_longest_goes_first() -> None:
    """Fairness: the message whose unsent text is oldest lags furthest behind."""
    c = core(rate=100, burst=100)
    c.mark("late", 5.0)
    c.mark("early", 2.0)
    c.mark("middle", 3.0)
    order = [c.pick(10.0)[0] for _ in range(3)]
    assert order == ["early", "middle", "late"]


def test_marks_coalesce_into_one_edit() -> None:
    """Latest wins: many changes before the turn comes make one edit."""
    c = core(rate=100, burst=100)
    for t in range(10):
        c.mark("a", t / 10)
    assert c.pick(1.0)[0] == "a"
    assert c.pick(1.0) == (None, None)


def test_the_budget_limits_edits_across_messages() -> None:
    """A burst, then edits at the budget's rate, whichever messages are waiting."""
    c = core(rate=0.5, burst=2, min_interval=0.0)
    for key in "abc":
        c.mark(key, 0.0)
    assert c.pick(0.0)[0] == "a"
    assert c.pick(0.0)[0] == "b"
    key, wake = c.pick(0.0)
    assert key is None and wake == 2.0
    assert c.pick(2.0)[0] == "c"


def test_extra_calls_are_charged_to_the_budget() -> None:
    """An edit that needed two calls (a rollover) uses two tokens."""
    c = core(rate=1.0, burst=2, min_interval=0.0)
    c.mark("a", 0.0)
    c.pick(0.0)
    c.done("a", 0.0, calls=2)
    c.mark("b", 0.0)
    assert c.pick(0.0) == (None, 1.0)


def test_a_429_pauses_the_workspace_and_keeps_the_edit_pending() -> None:
    """After Retry-After the message is edited again, still first in line, with its old lag."""
    c = core(rate=100, burst=100)
    c.mark("a", 1.0)
    c.mark("b", 2.0)
    assert c.pick(3.0)[0] == "a"
    c.rate_limited("a", 3.1, retry_after=5)
    assert c.pick(4.0) == (None, 8.1)
    assert c.pick(8.1)[0] == "a"


def test_one_edit_in_flight_per_message() -> None:
    """A newer version never races an older one: the next edit waits for the current one."""
    c = core(rate=100, burst=100, min_interval=0.0)
    c.mark("a", 0.0)
    assert c.pick(0.0)[0] == "a"
    c.mark("a", 0.1, urgent=True)
    assert c.pick(0.2) == (None, None)
    c.done("a", 0.3)
    assert c.pick(0.3)[0] == "a"
