"""Scheduling decisions for one workspace's edits, with a fake clock (pure)."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from bot.delivery.pacing.scheduler import SchedulerCore
from bot.delivery.pacing.window import MARGIN, RollingWindow, Share


def core(per_minute: int = 600, min_interval: float = 1.0) -> SchedulerCore:
    """A workspace's core; answers of up to 2048 tokens (the `max_tokens` the bot ships with)."""
    return SchedulerCore(per_minute=per_minute, min_interval=min_interval, max_marks=2048)


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


def test_one_answer_is_edited_about_every_second_under_slacks_budget() -> None:
    """With one answer in flight nothing changes: its first post goes at once and its edits
    come one `min_interval` apart, although the window could pay for more."""
    c = core(per_minute=50)
    c.arrive("a", 0.0)
    c.mark("a", 0.4, weight=1)
    assert not c.hold_first_post("a", 0.4)
    c.posted("a", 0.4)
    c.mark("a", 0.5, weight=1)
    assert c.pick(1.0) == (None, 1.4)
    assert c.pick(1.4)[0] == "a"


def test_replicas_share_the_minute_by_what_streams_everywhere() -> None:
    """Seven answers here and thirteen on other replicas plan like twenty in one process."""
    here, alone = core(per_minute=50), core(per_minute=50)
    for n in range(20):
        alone.mark(n, 0.0, weight=1)
        if n < 7:
            here.mark(n, 0.0, weight=1)
    remaining = alone.share(0.0).remaining / 20
    here.elsewhere = Share(13, 13 * remaining)
    assert here.plan(0.0).rate == pytest.approx(alone.plan(0.0).rate)


def test_an_early_post_is_held_when_the_budget_cannot_afford_its_edits() -> None:
    """Twenty answers at once under 50 a minute: posting each at its first token would spend a
    version on one word; the posts wait for an even share of each answer's life."""
    c = core(per_minute=50)
    for n in range(20):
        c.arrive(n, 0.0)
    c.mark(0, 0.4, weight=1)
    assert c.hold_first_post(0, 0.4)
    assert c.releases(0.5) == ([], 1.5)  # looked at again as the answer streams


def test_a_held_answers_text_waits_for_its_post() -> None:
    """Deltas of a held answer are counted (the planner learns its pace) but never edited."""
    c = core(per_minute=50)
    for n in range(20):
        c.arrive(n, 0.0)
    c.mark(0, 0.4, weight=1)
    c.hold_first_post(0, 0.4)
    assert not c.mark(0, 0.5, weight=1)
    assert c.pick(5.0)[0] is None
    assert c.slots[0].marks == 2


def test_short_answers_under_contention_go_out_as_one_post() -> None:
    """A hundred answers at once: the window cannot pay for a hundred finals, so no post is
    released early; each answer is posted whole when it ends (by its reply)."""
    c = core(per_minute=50)
    for n in range(100):
        c.arrive(n, 0.0)
    for n in range(100):
        c.mark(n, 0.3, weight=1)
        assert c.hold_first_post(n, 0.3)
    for tick in range(1, 11):
        now = 0.3 + tick / 10
        for n in range(100):
            c.mark(n, now, weight=8)
        assert c.releases(now)[0] == []


def test_twenty_answers_spend_the_minute_while_they_stream() -> None:
    """Twenty answers of 15-25 s at once under 50 a minute (3 a second): the calls the minute
    allows are spent while the answers stream, never more, and each final edit lands as its
    answer ends."""
    sent, finals = simulate(
        [15 + n / 2 for n in range(20)], window=RollingWindow(per_minute=50, burst=3)
    )
    assert 45 <= len(sent) <= 50
    assert all(0 <= at - end <= 1.0 for end, at in finals)


def simulate(lives: list[float], window: RollingWindow) -> tuple[list[float], list[tuple]]:
    """Answers starting together, streaming 80 marks a second, their posts and edits made as
    the core says within `window`; returns the edit times and (end, final edit) pairs."""
    c = core(per_minute=window.per_minute)
    c.window = replace(c.window, burst=window.burst)
    for n in range(len(lives)):
        c.arrive(n, 0.0)
    sent, finals, step = [], [], 0.05
    ended: dict[int, float] = {}
    for tick in range(int((max(lives) + 5) / step)):
        now = 0.4 + tick * step
        for n, life in enumerate(lives):
            if n in ended:
                continue
            c.mark(n, now, weight=80 * step)
            if tick == 0 and not c.hold_first_post(n, now):
                c.posted(n, now)
            if now >= life:
                ended[n] = now
                if c.slots[n].posted:
                    c.mark(n, now, urgent=True)
                else:
                    c.posted(n, now)
                    c.forget(n)
        for n in c.releases(now)[0]:
            c.posted(n, now)
        while True:
            key, _ = c.due(now)
            if key is None or window.available_at(now) > now:
                break
            window.take(now)
            c.sending(key, now)
            c.done(key)
            sent.append(now)
            if key in ended:
                finals.append((ended[key], now))
                c.forget(key)
    return sent, finals


def test_never_more_than_the_minute_allows() -> None:
    """The 51st call in a minute waits until the first one is a minute old, and the margin
    for its trip to Slack."""
    w = RollingWindow(per_minute=50, burst=50)
    for n in range(50):
        assert w.available_at(n / 10) == n / 10
        w.take(n / 10)
    assert w.available_at(10.0) == 60.0 + MARGIN
    assert w.available_at(60.0 + MARGIN) == 60.0 + MARGIN


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
    assert w.available_at(0.6) == 60.0 + MARGIN


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


def test_a_steady_stream_of_questions_is_seen_within_seconds() -> None:
    """A question every 2 s: the gaps between arrivals say 0.5 a second after the third,
    not the tenth of it that three arrivals over a whole minute would."""
    c = core(per_minute=50)
    for n, at in enumerate((0.0, 2.0, 4.0)):
        c.arrive(n, at)
    assert c.arrival_rate(4.0) == pytest.approx(0.5)


def test_a_burst_of_questions_says_nothing_of_the_next() -> None:
    """Twenty questions at once count as one arrival: none is expected to follow."""
    c = core(per_minute=50)
    for n in range(20):
        c.arrive(n, 0.01 * n)
    assert c.arrival_rate(10.0) == 0.0


def test_edits_wait_past_an_end_that_recent_answers_made_likely() -> None:
    """Half of recent answers ended at 5 s, half ran 25 s. Eight answers posted at 0 stream at
    80 tokens a second with 30 of the minute's calls left: none is edited in the second before
    5 s, when half of such answers are about to end and an edit would be lost on them (the
    mean of those lengths alone put the edits there); each is edited by 8 s."""
    c = SchedulerCore(per_minute=50, min_interval=1.0, burst=3, max_marks=4096)
    for _ in range(5):
        c.lives.record(400, 5.0)
        c.lives.record(2000, 25.0)
    c.window = replace(c.window, count=20, calls=(-30.0,) * 20)
    for key in range(8):
        c.arrive(key, 0.0)
        c.posted(key, 0.0)
        c.mark(key, 0.0)
    sent: dict[int, list[float]] = {key: [] for key in range(8)}
    for tick in range(1, 81):
        now = tick / 10
        for key in range(8):
            c.mark(key, now, weight=8)
        key, _ = c.pick(now)
        if key is not None:
            sent[key].append(now)  # type: ignore[index]
            c.done(key)
    times = [t for edits in sent.values() for t in edits]
    assert not [t for t in times if 4.0 < t <= 5.0]
    assert all(edits for edits in sent.values())


def test_a_message_s_time_unseen_counts_from_its_last_version() -> None:
    """Two answers of a kind that recently ran 25 s, both posted at 0: each
    next edit waits for enough new text to be worth a call (more than the 1 s interval), as
    the odds see only what came after the last version, not the whole answer since 0."""
    c = SchedulerCore(per_minute=50, min_interval=1.0, burst=3, max_marks=4096)
    for _ in range(10):
        c.lives.record(2000, 25.0)
    c.window = replace(c.window, count=30, calls=(-30.0,) * 30)
    for key in "AB":
        c.arrive(key, 0.0)
        c.posted(key, 0.0)
        c.mark(key, 0.0)
    sent: dict[str, list[float]] = {"A": [], "B": []}
    for tick in range(1, 121):
        now = tick / 10
        for key in "AB":
            c.mark(key, now, weight=8)
        picked, _ = c.pick(now)
        if picked is not None:
            sent[str(picked)].append(now)
            c.done(picked)
    gaps = [b - a for edits in sent.values() for a, b in itertools.pairwise(edits)]
    assert len(gaps) >= 4
    assert min(gaps) > 1.2


def test_an_edit_answered_429_leaves_the_message_as_last_shown() -> None:
    c = core(per_minute=50)
    c.arrive("A", 0.0)
    c.posted("A", 0.0)
    c.mark("A", 2.0, weight=160)
    c.sending("A", 2.0)
    c.rate_limited("A")
    assert c.slots["A"].shown == 0.0  # Slack shows the post still: the edit did not land
    c.mark("A", 3.0, weight=80)
    c.sending("A", 3.0)
    c.done("A")
    assert c.slots["A"].shown == 240
