"""The pacing rule (`bot.delivery.pacing.core`) and Slack's window (`window.RollingWindow`) on a
fake clock: first words at the first token unless the answer is expected to be short, the
window spent while text is unshown, finals never starved, a 429's Retry-After obeyed."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from bot.delivery.pacing.core import COLD_HOLD, COLD_LIFE, SHORT, SchedulerCore
from bot.delivery.pacing.posts import PostPacer
from bot.delivery.pacing.scheduler import Schedulers
from bot.delivery.pacing.window import MARGIN, Heard, RollingWindow, Share


def core(per_minute: int = 600, min_interval: float = 1.0, burst: int = 3) -> SchedulerCore:
    return SchedulerCore(per_minute=per_minute, min_interval=min_interval, burst=burst)


def run(
    lives: list[float],
    *,
    per_minute: int = 50,
    burst: int = 3,
    starts: list[float] | None = None,
    c: SchedulerCore | None = None,
) -> tuple[list[float], list[tuple[float, float]], dict[int, float]]:
    """Answers streaming from `starts` (0.4 s each by default) for `lives` seconds, their posts
    and edits made as the rule says within Slack's window; returns the times of every edit,
    (end, final edit) of every answer posted early, and each answer's first post."""
    c = c or core(per_minute=per_minute, burst=burst)
    c.window = replace(c.window, burst=burst)
    window = RollingWindow(per_minute=per_minute, burst=burst)
    starts = starts or [0.4] * len(lives)
    sent: list[float] = []
    finals: list[tuple[float, float]] = []
    posted: dict[int, float] = {}
    ended: dict[int, float] = {}
    step = 0.05
    for tick in range(
        int((max(s + life for s, life in zip(starts, lives, strict=True)) + 5) / step)
    ):
        now = round(tick * step, 4)
        for n, life in enumerate(lives):
            start = starts[n]
            if n in ended or now < start:
                continue
            if n not in c.slots:
                c.arrive(n, now)
            c.mark(n, now)
            if n not in posted and now == start and not c.hold_first_post(n, now):
                c.posted(n, now)
                posted[n] = now
            if now >= start + life:
                ended[n] = now
                if n in posted and c.finals_free:
                    c.forget(n)  # a stream's stop: a method of its own
                elif n in posted:
                    c.mark(n, now, urgent=True)  # its final edit
                else:  # whole, in one post
                    c.posted(n, now)
                    posted[n] = now
                    c.forget(n)
        for n in c.releases(now)[0]:
            c.posted(n, now)
            posted[n] = now
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
    return sent, finals, posted


# ---- first words at the first token ----------------------------------------------------------


def test_long_answers_are_each_posted_at_their_first_token_once_lives_are_known() -> None:
    """Recent answers ran ~25 s: twenty new ones are each posted at their first token."""
    c = core(per_minute=50)
    c.lives.extend([25.0] * 5)
    for n in range(20):
        c.arrive(n, 0.0)
    for n in range(20):
        c.mark(n, 0.4)
        assert not c.hold_first_post(n, 0.4)
        c.posted(n, 0.4)


def test_a_fresh_bot_holds_each_first_post_the_cold_hold_then_posts_it() -> None:
    """No answer has ended yet: a first post waits until `COLD_HOLD` after the answer arrived
    (it would go out whole if the answer ended first), then goes, within issue 26's 1.5 s; a
    first token later than that is posted at once."""
    c = core(per_minute=50)
    for n in range(20):
        c.arrive(n, 0.0)
        c.mark(n, 0.4)
        assert c.hold_first_post(n, 0.4)
    assert c.releases(COLD_HOLD - 0.05)[0] == []
    assert sorted(c.releases(COLD_HOLD)[0]) == list(range(20))
    c.arrive("slow", 1.0)
    c.mark("slow", 1.0 + COLD_HOLD + 0.1)
    assert not c.hold_first_post("slow", 1.0 + COLD_HOLD + 0.1)


def test_a_cold_burst_of_short_answers_goes_out_whole_and_spends_no_edit() -> None:
    """A fresh bot, a hundred answers of 0.3–0.75 s within a second: each ends within the cold
    hold and goes out whole in one post; the `chat.update` window is untouched."""
    lives = [0.3 + (n % 10) * 0.05 for n in range(100)]
    sent, finals, posted = run(lives, starts=[0.3 + n / 100 for n in range(100)])
    assert sent == [] and finals == []
    assert len(posted) == 100


def test_the_first_answer_to_end_teaches_the_rule_the_rest_of_a_cold_burst() -> None:
    """Answers of 0.9–1.4 s, cold: the first ones outlive the cold hold and are posted (each
    owing a final); once one has ended, the rest are expected short and wait to go out whole.
    Every final is sent within a second of its answer's end."""
    lives = [0.9 + (n % 6) * 0.1 for n in range(60)]
    _, finals, posted = run(lives, starts=[0.3 + n / 20 for n in range(60)], burst=10)
    assert len(posted) == 60
    assert len(finals) < 20
    assert all(final - end <= 1.0 for end, final in finals)


def test_an_answer_expected_to_be_short_waits_the_short_limit_to_go_out_whole() -> None:
    """Recent answers ended within 2 s: a new one waits up to `SHORT` from its first text; if it
    is still streaming then, it is posted (it was not short after all)."""
    c = core(per_minute=50)
    c.lives.extend([0.8] * 5)
    c.arrive("new", 10.0)
    c.mark("new", 10.3)
    assert c.hold_first_post("new", 10.3)
    assert c.releases(11.0)[0] == []
    assert c.releases(10.3 + SHORT)[0] == ["new"]


def test_short_answers_go_out_whole_and_spend_no_edit() -> None:
    """Warm, with answers of under a second: each is posted once, whole, at its end."""
    c = core(per_minute=50)
    c.lives.extend([0.8] * 5)
    sent, _, posted = run([0.8] * 30, starts=[0.3 + n / 30 for n in range(30)], c=c)
    assert sent == []
    assert len(posted) == 30


def test_a_post_waits_only_while_the_finals_owed_fill_a_minute() -> None:
    """Ten answers at once with 3 `chat.update` a minute: three are posted at their first token
    (each owes a final the minute can pay); the others wait, to go out whole at their end."""
    c = core(per_minute=3)
    c.lives.extend([20.0] * 3)
    for n in range(10):
        c.arrive(n, 0.0)
    held = [c.hold_first_post(n, 0.3) for n in range(10)]
    assert held == [False] * 3 + [True] * 7
    c.forget(0)  # an answer finished: its final is paid
    assert len(c.releases(1.0)[0]) == 1


def test_an_expected_life_counts_the_answers_still_streaming() -> None:
    """The long answers have not ended yet: a median of the ended ones alone says short."""
    c = core()
    c.lives.extend([1.0, 1.0])
    for n in range(5):
        c.arrive(n, 0.0)
        c.mark(n, 0.0)
    assert c.life(30.0) == 30.0
    assert core().life(0.0) == COLD_LIFE


# ---- an equal share of the window, spent ------------------------------------------------------


def test_an_answer_handed_to_another_method_says_nothing_of_how_long_answers_run() -> None:
    """Past the minute's stream starts, answers go on by `chat.update` at their first words:
    their moment in the appends' rule is no life. Twenty such hand-overs leave the expected
    life at the 25 s answers here ran, and the next long answer is posted at its first token
    (counted as lives of 0.4 s, they made every answer "short", held 2 s)."""
    c = core(per_minute=100)
    c.lives.extend([25.0] * 5)
    for n in range(20):
        c.arrive(n, float(n))
        c.mark(n, n + 0.4)
        c.forget(n, ended=False)
    assert c.life(30.0) == 25.0
    c.arrive("next", 30.0)
    c.mark("next", 30.4)
    assert not c.hold_first_post("next", 30.4)
    c.forget("next")  # an answer that ended is remembered as before
    assert len(c.lives) == 6


def test_the_window_is_spent_while_twenty_answers_stream() -> None:
    """Twenty answers of ~25 s at once under 50 a minute, 3 a second: the minute's calls are
    spent while the answers stream (no call left unused while text is unshown), never more."""
    sent, finals, posted = run([22.5 + n / 8 for n in range(20)])
    assert len(posted) == 20 and max(posted.values()) <= 0.4 + COLD_HOLD + 0.05  # a fresh bot
    assert 48 <= len(sent) <= 50
    routine = len(sent) - len(finals)
    assert routine >= 25, "the calls beyond the finals go to routine edits"


def test_answers_with_unshown_text_share_the_window_equally() -> None:
    """Every answer's next version comes one gap after its previous: the same for all, the
    answers with unshown text sharing the calls the window allows until they end."""
    c = core(per_minute=50)
    for n in range(10):
        c.arrive(n, 0.0)
        c.mark(n, 0.0)
        c.posted(n, 0.0)
        c.mark(n, 0.1)
    gap = c.gap(0.1)
    assert gap == pytest.approx(10 * (COLD_LIFE - 0.1) / 50)
    assert c.pick(0.1) == (None, 1.1)  # looked at again within a second (the window changes)
    edited = [c.pick(gap)[0] for _ in range(10)]
    assert sorted(edited) == list(range(10)), "each answer's turn comes at the same gap"


def test_one_answer_alone_is_edited_every_interval() -> None:
    """With one answer in flight nothing binds but `min_interval`: an edit a second."""
    c = core(per_minute=50)
    c.lives.append(20.0)
    c.arrive("a", 0.0)
    c.mark("a", 0.4)
    assert not c.hold_first_post("a", 0.4)
    c.posted("a", 0.4)
    c.mark("a", 0.5)
    assert c.pick(1.0) == (None, 1.4)
    assert c.pick(1.4)[0] == "a"


def test_replicas_share_the_window_by_what_streams_everywhere() -> None:
    """Seven answers here and thirteen on other replicas space their edits like twenty in one
    process."""
    here, alone = core(per_minute=50), core(per_minute=50)
    for n in range(20):
        for c in (alone, here) if n < 7 else (alone,):
            c.arrive(n, 0.0)
            c.mark(n, 0.0)
            c.posted(n, 0.0)
            c.mark(n, 0.1)
    here.elsewhere = Share(13, 13 * (COLD_LIFE - 1.0))
    assert here.gap(1.0) == pytest.approx(alone.gap(1.0))
    assert here.owed() == alone.owed() == 20


# ---- finals never starved -------------------------------------------------------------------


def test_finals_are_never_starved() -> None:
    """Twenty answers of 15-25 s: every final edit lands within a second of its answer's end,
    although routine edits spend the rest of the window."""
    _, finals, _ = run([15 + n / 2 for n in range(20)])
    assert len(finals) == 20
    assert all(0 <= at - end <= 1.0 for end, at in finals)


def test_no_routine_edit_takes_a_call_a_final_is_owed() -> None:
    """With 3 calls a minute and three answers posted, no routine edit is due; finals are."""
    c = core(per_minute=3)
    for n in range(3):
        c.arrive(n, 0.0)
        c.mark(n, 0.0)
        c.posted(n, 0.0)
        c.mark(n, 1.0)
    assert c.pick(30.0) == (None, 31.0)
    c.mark(1, 30.0, urgent=True)
    assert c.pick(30.0)[0] == 1


def test_a_steady_stream_reserves_the_finals_of_the_answers_to_come() -> None:
    """A question every 2 s: the horizon is a minute (the next answers need the calls it gives
    back), and the finals of the answers that arrive and end within it are kept aside."""
    c = core(per_minute=50)
    for n, at in enumerate((0.0, 2.0, 4.0)):
        c.arrive(n, at)
    assert c.horizon(4.0) == 60.0
    assert c.arriving_finals(4.0, 60.0) == pytest.approx(0.5 * (60.0 - COLD_LIFE))
    burst = core(per_minute=50)
    for n in range(20):
        burst.arrive(n, 0.01 * n)
    assert burst.arriving_finals(10.0, 60.0) == 0.0


# ---- how edits are sent -----------------------------------------------------------------------


def test_nothing_to_send_until_marked() -> None:
    c = core()
    assert c.pick(0.0) == (None, None)
    c.mark("a", 0.0, urgent=True)
    assert c.pick(0.0) == ("a", None)


def test_urgent_edits_go_first() -> None:
    """The first text after a placeholder and the final answer do not wait their turn."""
    c = core()
    c.mark("b", 0.0)
    c.mark("a", 0.5, urgent=True)
    assert c.pick(0.5)[0] == "a"
    assert c.pick(1.0)[0] == "b"


def test_the_message_waiting_longest_goes_first() -> None:
    c = core()
    c.mark("late", 5.0)
    c.mark("early", 2.0)
    c.mark("middle", 3.0)
    assert [c.pick(10.0)[0] for _ in range(3)] == ["early", "middle", "late"]


def test_marks_coalesce_into_one_edit() -> None:
    """Newest text wins: many changes before the turn comes make one edit."""
    c = core()
    for t in range(10):
        c.mark("a", t / 10)
    assert c.pick(1.0)[0] == "a"
    assert c.pick(1.0) == (None, None)


def test_one_edit_in_flight_per_message() -> None:
    """A newer version never races an older one: the next edit waits for the current one."""
    c = core()
    c.mark("a", 0.0, urgent=True)
    assert c.pick(0.0)[0] == "a"
    c.mark("a", 0.1, urgent=True)
    assert c.pick(0.2) == (None, None)
    c.done("a")
    assert c.pick(0.3)[0] == "a"


# ---- Slack's window and its 429s ------------------------------------------------------------


def test_a_429s_retry_after_is_obeyed_and_the_edit_stays_first_in_line() -> None:
    """Slack answered 429 with Retry-After 5: no call until it has passed, then the same
    message goes first (with its newest text), as urgent as it was."""
    w = RollingWindow(per_minute=600, burst=100)
    c = core()
    c.mark("a", 1.0, urgent=True)
    c.mark("b", 2.0, urgent=True)
    assert c.pick(3.0)[0] == "a"
    c.rate_limited("a")
    w.pause(3.0, retry_after=5)
    assert w.available_at(4.0) == 8.0
    w.pause(4.0, retry_after=1)  # a shorter pause never shortens the current one
    assert w.available_at(4.0) == 8.0
    assert c.pick(8.0)[0] == "a"


def test_never_more_than_the_minute_allows() -> None:
    """The 51st call in a minute waits until the first is a minute old, and the margin for its
    trip to Slack."""
    w = RollingWindow(per_minute=50, burst=50)
    for n in range(50):
        assert w.available_at(n / 10) == n / 10
        w.take(n / 10)
    assert w.available_at(10.0) == 60.0 + MARGIN


def test_bursts_are_limited_per_second() -> None:
    w = RollingWindow(per_minute=600, burst=3)
    for _ in range(3):
        w.take(0.0)
    assert w.available_at(0.2) == 1.0


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


def test_posts_in_one_channel_go_five_at_once_then_one_a_second() -> None:
    """Slack's per-channel post limit, kept by the bot: twenty answers asked at once in one
    channel are posted as soon as Slack allows each, in order, and never meet a 429; another
    channel has its own."""
    now = [0.0]
    posts = PostPacer(clock=lambda: now[0])
    waits = [posts.take("C1") for _ in range(20)]
    assert waits[:5] == [0.0] * 5
    assert waits[5:] == pytest.approx([float(n) for n in range(1, 16)])
    assert posts.take("C2") == 0.0
    now[0] = 30.0
    assert posts.take("C1") == 0.0


def test_a_channel_is_free_for_a_post_only_while_its_burst_lasts() -> None:
    """Asking whether a post could go now books nothing: five posts fill a channel's burst,
    a second later it has room for one again, and another channel is free throughout."""
    now = [0.0]
    posts = PostPacer(clock=lambda: now[0])
    assert posts.free("C1") and posts.free("C1")
    for _ in range(5):
        posts.take("C1")
    assert not posts.free("C1")
    assert posts.free("C2")
    now[0] = 1.0
    assert posts.free("C1")


# ---- a native stream's final goes by chat.stopStream ------------------------------------------


def test_when_finals_are_free_none_is_reserved_and_they_never_wait_for_the_window() -> None:
    """The appends' window pays no finals (a native stream stops with `chat.stopStream`, a
    method of its own): with three calls a minute and three answers posted, routine appends
    may still go, and a final is sent at once without a call of the window."""
    c = SchedulerCore(per_minute=3, min_interval=1.0, finals_free=True)
    paid = SchedulerCore(per_minute=3, min_interval=1.0)
    for rule in (c, paid):
        rule.lives.extend([20.0] * 3)
        for n in range(3):
            rule.arrive(n, 0.0)
            rule.mark(n, 0.4)
            assert not rule.hold_first_post(n, 0.4)
            rule.posted(n, 0.4)
    assert paid.spare(1.0) < 1 <= c.spare(1.0)
    c.mark(0, 5.0, urgent=True, final=True)
    assert c.free_finals() == [0]
    assert c.due(5.0)[0] != 0, "not from the window"
    c.sending(0, 5.0, counted=False)
    assert c.window.count == 0 and c.free_finals() == []


def test_streams_waiting_to_start_take_nothing_from_the_appends_window() -> None:
    """Two streams run while five answers of a cold burst wait to start: a start is
    `chat.startStream`, not an append, so the running streams still get the window's calls
    (counting a call for each waiting start, as `chat.update`'s reserve does for a post,
    left the five calls of this minute to no one)."""
    c = SchedulerCore(per_minute=5, min_interval=1.0, finals_free=True)
    for n in range(2):
        c.arrive(n, 0.0)
        c.mark(n, 0.0)
        c.posted(n, 0.0)
    assert all(c.hold_first_post(n, 2.0) for n in range(2, 7)), "cold: each waits the hold"
    c.mark(0, 2.5)
    c.mark(1, 2.5)
    assert c.spare(2.5) >= 1
    assert c.pick(2.5)[0] == 0


def test_streams_append_at_one_even_pace_that_spends_the_window() -> None:
    """A 25 s answer streamed every 2 s for two minutes under 100 appends a minute: the appends
    go at one pace for the workspace, so every minute while answers stream spends its calls
    (a version per answer one gap after its last left about a tenth unspent: each answer's
    stop came before the last append its gap allowed), and no minute exceeds Slack's."""
    c = SchedulerCore(per_minute=100, min_interval=1.0, burst=5, finals_free=True)
    lives = [25.0] * 60
    starts = [0.4 + 2 * n for n in range(60)]
    sent, finals, posted = run(lives, per_minute=100, burst=5, starts=starts, c=c)
    assert len(posted) == 60 and finals == []
    for minute_start in (10.0, 40.0, 70.0):  # whole minutes within the two of questions
        in_minute = [t for t in sent if minute_start <= t < minute_start + 60]
        assert 95 <= len(in_minute) <= 100, len(in_minute)
    assert max(sum(1 for u in sent if t <= u < t + 60) for t in sent) <= 100


def test_each_append_goes_to_the_stream_shown_longest_ago_at_the_workspaces_pace() -> None:
    """Four streams, all with unshown text: the window's calls go one `horizon / calls` apart,
    each to the stream whose last version is oldest, so every stream's turn comes in order."""
    c = SchedulerCore(per_minute=60, min_interval=1.0, finals_free=True)
    c.lives.extend([20.0] * 3)
    for n in range(4):
        c.arrive(n, 0.0)
        c.mark(n, 0.1 * n)
        assert not c.hold_first_post(n, 0.1 * n)
        c.posted(n, 0.1 * n)
        c.mark(n, 0.5)
    assert c.pick(5.0)[0] == 0
    pace = c.horizon(5.0) / c.calls(5.0)
    key, wake = c.pick(5.0)
    assert key is None and wake == pytest.approx(5.0 + pace)
    order, now = [], 5.0
    for _ in range(3):
        now += pace
        assert c.pick(now - 0.01)[0] is None, "not before the pace allows"
        order.append(c.pick(now)[0])
    assert order == [1, 2, 3], "the stream shown longest ago goes next"


def first_call_after(c: SchedulerCore, now: float) -> float:
    """When the rule next lets an append go (stepping a fake clock by 10 ms)."""
    while c.due(now)[0] is None:
        now = round(now + 0.01, 2)
    return now


def test_a_replica_takes_its_share_of_the_streams_pace() -> None:
    """Five streams here and fifteen on other replicas: this replica appends at a quarter of
    the workspace's pace, so the replicas together keep to Slack's minute."""
    alone = SchedulerCore(per_minute=100, min_interval=1.0, finals_free=True)
    shared = SchedulerCore(per_minute=100, min_interval=1.0, finals_free=True)
    for c in (alone, shared):
        c.lives.extend([20.0] * 3)
        for n in range(5):
            c.arrive(n, 0.0)
            c.mark(n, 0.0)
            c.posted(n, 0.0)
            c.mark(n, 0.5)
    shared.elsewhere = Share(15, 15 * 15.0)
    for c in (alone, shared):
        assert c.pick(5.0)[0] == 0
    alone_pace = first_call_after(alone, 5.0) - 5.0
    shared_pace = first_call_after(shared, 5.0) - 5.0
    assert alone_pace == pytest.approx(alone.horizon(5.0) / alone.calls(5.0), abs=0.011)
    assert shared_pace == pytest.approx(4 * alone_pace, abs=0.05)


# ---- chat.stopStream, Tier 2 -------------------------------------------------------------------


async def test_a_stream_stop_waits_for_room_in_slacks_minute_instead_of_meeting_a_429() -> None:
    """Two stops a minute (Tier 2 at its smallest): the third waits its turn, and goes once
    the first has aged out of the minute, not before."""
    now = [0.0]
    schedulers = Schedulers(
        per_minute={"chat.stopStream": 2}, burst=5, min_interval=1.0, clock=lambda: now[0]
    )
    await schedulers.take_stream_stop("T1")
    await schedulers.take_stream_stop("T1")
    third = asyncio.create_task(schedulers.take_stream_stop("T1"))
    await asyncio.sleep(0.05)
    now[0] = 59.0
    await asyncio.sleep(1.1)  # it asks again within a second: the minute is still full
    assert not third.done()
    now[0] = 61.0
    await asyncio.wait_for(third, 3.0)
    await schedulers.take_stream_stop("T2")  # another workspace's minute is its own
    await schedulers.close()


async def test_without_a_budget_for_stops_a_stream_stops_at_once() -> None:
    schedulers = Schedulers(per_minute={}, burst=5, min_interval=1.0)
    await asyncio.wait_for(schedulers.take_stream_stop("T1"), 1.0)


def test_the_expected_life_follows_the_answers_in_flight_within_one_moment() -> None:
    """The rule asks an answer's expected life once per answer in each look, and keeps the
    figure for that moment; an answer leaving or arriving in the same moment changes it."""
    rule = SchedulerCore(per_minute=50, min_interval=1.0)
    rule.lives.append(2.0)
    rule.mark("a", 0.0)
    rule.mark("a", 3.0)
    assert rule.life(9.0) == 5.5  # a is 9 s old: past the 2 s answers, counted at its age
    rule.forget("a", ended=False)  # gone on by another method: says nothing of lives
    assert rule.life(9.0) == 2.0
    rule.mark("b", 0.0)
    assert rule.life(9.0) == 5.5
    rule.forget("b")  # ended after one mark: a life of 0 s joins the history
    assert rule.life(9.0) == 1.0


async def test_other_replicas_answers_do_not_tip_this_ones_choice_of_method() -> None:
    """Each replica splits its own answers between the appends' and `chat.update`'s windows.
    In a burst the others report their answers waiting to stream a moment before they post
    some of them: counted, those made this replica post as many as a lone bot would (three
    replicas, three times the posts). Seven answers here post as seven alone do."""

    async def posted_of_seven(others_waiting: int) -> int:
        schedulers = Schedulers(
            per_minute={"chat.update": 50, "chat.appendStream": 100}, burst=5, min_interval=1.0
        )
        streams = schedulers.for_team("T1", "chat.appendStream")
        edits = schedulers.for_team("T1", "chat.update")
        for n in range(7):
            streams.arrive(n)  # held: waiting to stream
        total = 7 + others_waiting
        streams._heard(Heard(total=Share(total, 20.0 * total)), told=Share(7, 140.0))
        posted = 0
        for n in range(7):
            if not await schedulers.take_stream_start("T1", f"C{n}"):
                posted += 1
                streams.forget(n, ended=False)
                edits.arrive(n)
        await schedulers.close()
        return posted

    alone = await posted_of_seven(0)
    assert 1 <= alone < 7
    assert await posted_of_seven(13) == alone
