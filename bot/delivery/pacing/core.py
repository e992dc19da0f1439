"""Which message of one workspace and method to call Slack for next, and when (pure).

`SchedulerCore` keeps the state of every answer in flight and asks the planner (`planner.py`)
when each may be edited; the driver (`scheduler.py`) runs it on a clock against a window.

* Routine edits of a message go when the planner's spread gives them their turn, never closer
  than `min_interval`: with one answer in flight about a second apart, with twenty a few
  seconds, so that what the window has is spent while the answers are being read, and a call
  is kept for each one's final edit.
* Urgent edits (the first text after a placeholder, and the final answer) skip the spread and
  go first.
* Otherwise the message that has waited longest since its first unsent change goes first,
  which is the one whose visible text lags furthest behind.
* A 429 keeps the message dirty: it is sent after the pause with whatever its newest text is.
* At most one edit per message is in flight, so an older version never lands after a newer one.
* An answer's first post may be held (`hold_first_post`) until the planner releases it
  (`releases`); an answer that ends while held is posted whole by its reply.

Progress comes from the marks themselves: each text delta marks its message once, so marks
count the model's pace and `lives.Lives` learns how long answers run.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field, replace

from bot.delivery.pacing.lives import Lives
from bot.delivery.pacing.planner import (
    WINDOW,
    Load,
    Plan,
    Window,
    first_post_at,
    next_edit,
    plan,
)
from bot.delivery.pacing.window import Heard, Share

REPLAN_EVERY = 1.0  # seconds between looks at messages waiting for the window to refill
ODDS_FROM = 2  # recent answers at least as long as one in flight, for their odds to count
BURST = 1.0  # answers arriving this close together count as one arrival
DEFAULT_MAX_MARKS = 4096


@dataclass
class _Slot:
    last_sent: float  # when Slack last got a version (the post, or an edit)
    posted: bool = True
    held: bool = False  # the first post waits for the planner (or the end of the answer)
    first_mark: float | None = None
    last_mark: float | None = None
    marks: float = 0.0  # progress, in about tokens
    shown: float = 0.0  # marks its last version showed
    edits: int = 0  # edits sent after the post
    dirty_since: float | None = None
    urgent: bool = False
    in_flight: bool = False
    # What the edit in flight was sent for, restored if Slack answers 429.
    sending_since: float = 0.0
    sending_urgent: bool = False
    sending_shown: float = 0.0


@dataclass
class SchedulerCore:
    """Pure decisions about which message of one workspace and method to edit next.

    `burst` is the most calls in one second (default: the minute's); `max_marks` the longest
    an answer can be in marks (its `max_tokens`), the life expected before any answer was seen.
    `elsewhere` is what streams on the other replicas, as the shared window last said.
    """

    per_minute: int
    min_interval: float
    burst: int | None = None
    max_marks: int = DEFAULT_MAX_MARKS
    elsewhere: Share = field(default_factory=Share)
    slots: dict[Hashable, _Slot] = field(default_factory=dict, init=False)
    lives: Lives = field(init=False)
    window: Window = field(init=False)
    _arrivals: deque[float] = field(default_factory=deque, init=False)
    _cache: tuple[float, int, Plan, dict[Hashable, float]] | None = field(default=None, init=False)
    _version: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.lives = Lives(self.max_marks)
        self.window = Window(self.per_minute, self.burst or self.per_minute)

    # ---- what happens to answers -----------------------------------------------------

    def arrive(self, key: Hashable, now: float) -> None:
        """A new answer: its message is not posted yet."""
        if key not in self.slots:
            self.slots[key] = _Slot(last_sent=now, posted=False)
            self._arrived(now)
            self._changed()

    def mark(self, key: Hashable, now: float, *, urgent: bool = False, weight: float = 1) -> bool:
        """The message `key` has changes Slack has not seen yet: `weight` more marks of
        progress (about tokens; see `lives`).

        A message's first mark may come right after it was posted, so routine edits are paced
        from then. Returns whether the driver should look again now (the message became due
        sooner than it was); changes to an unposted message wait for its post.
        """
        slot = self.slots.get(key)
        if slot is None:
            slot = self.slots[key] = _Slot(last_sent=now)
            self._arrived(now)
        slot.marks += weight
        slot.first_mark = now if slot.first_mark is None else slot.first_mark
        slot.last_mark = now
        self._changed()
        if not slot.posted:
            return False
        sooner = slot.dirty_since is None or (urgent and not slot.urgent)
        if slot.dirty_since is None:
            slot.dirty_since = now
        slot.urgent = slot.urgent or urgent
        return sooner

    def hold_first_post(self, key: Hashable, now: float) -> bool:
        """Whether the answer's first post should wait (True: until `releases` names it)."""
        self.arrive(key, now)
        slot = self.slots[key]
        if slot.posted:
            return False
        the_plan, remaining = self._planned(now)
        slot.held = self._post_at(slot, now, the_plan, remaining[key]) > now
        return slot.held

    def posted(self, key: Hashable, now: float) -> None:
        """The message's first post went out now (carrying everything marked before it)."""
        slot = self.slots.get(key)
        if slot is not None and not slot.posted:
            slot.posted, slot.held, slot.last_sent = True, False, now
            slot.shown = slot.marks
            slot.dirty_since, slot.urgent = None, False
            self._changed()

    def forget(self, key: Hashable) -> None:
        """The message is finished (or abandoned): learn from its life, drop its state."""
        slot = self.slots.pop(key, None)
        if slot is not None and slot.first_mark is not None and slot.last_mark is not None:
            seconds = slot.last_mark - slot.first_mark
            self.lives.record(slot.marks, seconds, edited=slot.edits > 0)
        self._changed()

    # ---- what the window says ----------------------------------------------------------

    def heard(self, now: float, heard: Heard, told: Share) -> None:
        """The window's answer, given just after telling it `told` (what streams here)."""
        total = heard.total
        self.elsewhere = Share(
            max(total.answers - told.answers, 0), max(total.remaining - told.remaining, 0.0)
        )
        self.window = Window(
            self.window.per_minute,
            self.window.burst,
            count=heard.count,
            calls=tuple(now - age for age in heard.ages),
            paused_until=now + heard.paused_for,
        )
        self._changed()

    def share(self, now: float) -> Share:
        """What streams here, to tell the other replicas."""
        _, remaining = self._planned(now)
        return Share(len(self.slots), sum(remaining.values()))

    # ---- decisions ---------------------------------------------------------------------

    def releases(self, now: float) -> tuple[list[Hashable], float | None]:
        """The held first posts to make now, and when to look again for the others."""
        the_plan, remaining = self._planned(now)
        due, wake = [], None
        for key, slot in self.slots.items():
            if not slot.held:
                continue
            at = self._post_at(slot, now, the_plan, remaining[key])
            if at <= now:
                slot.held = False
                due.append(key)
                # Each release commits one more final edit.
                the_plan = replace(the_plan, affordable=the_plan.affordable - 1)
            else:  # estimates change as the answer streams: look again in a while at most
                at = min(at, now + REPLAN_EVERY)
                wake = at if wake is None else min(wake, at)
        if due:
            self._changed()
        return due, wake

    def due(self, now: float) -> tuple[Hashable | None, float | None]:
        """The message to edit next if the budget allows, or None and when to ask again
        (None: when something is marked)."""
        the_plan, remaining = self._planned(now)
        ready, wake = [], None
        for key, slot in self.slots.items():
            if not slot.posted or slot.dirty_since is None or slot.in_flight:
                continue
            at = now
            if not slot.urgent:
                at = next_edit(
                    the_plan,
                    last_sent=slot.last_sent,
                    now=now,
                    remaining=remaining[key],
                    min_interval=self.min_interval,
                    timed=self._timed(slot, now, the_plan),
                )
            if at <= now:
                ready.append((not slot.urgent, slot.dirty_since, key))
                continue
            # No turn yet, or none until the window refills: look again in a while.
            at = min(at, now + REPLAN_EVERY)
            wake = at if wake is None else min(wake, at)
        if not ready:
            return None, wake
        return min(ready, key=lambda item: (item[0], item[1]))[2], None

    def plan(self, now: float) -> Plan:
        return self._planned(now)[0]

    def sending(self, key: Hashable, now: float) -> None:
        """An edit of `key` is going to Slack now."""
        slot = self.slots[key]
        assert slot.dirty_since is not None
        slot.sending_since, slot.sending_urgent = slot.dirty_since, slot.urgent
        slot.sending_shown = slot.shown
        slot.in_flight, slot.dirty_since, slot.urgent = True, None, False
        slot.last_sent = now
        slot.shown = slot.marks
        slot.edits += 1
        window = self.window
        self.window = Window(
            window.per_minute,
            window.burst,
            count=window.count + 1,
            calls=(*window.calls, now),
            paused_until=window.paused_until,
        )
        self._changed()

    def pick(self, now: float) -> tuple[Hashable | None, float | None]:
        """`due`, and if something is, mark it as sending (for callers without a budget)."""
        key, wake = self.due(now)
        if key is not None:
            self.sending(key, now)
        return key, wake

    def done(self, key: Hashable) -> None:
        """The edit of `key` went through (or failed for good)."""
        slot = self.slots.get(key)
        if slot is not None:
            slot.in_flight = False
            self._changed()

    def rate_limited(self, key: Hashable) -> None:
        """Slack said 429: keep the message's changes pending with their original lag."""
        slot = self.slots.get(key)
        if slot is None:
            return
        slot.in_flight = False
        slot.shown = slot.sending_shown  # Slack still shows what it showed before
        slot.urgent = slot.urgent or slot.sending_urgent
        since = slot.sending_since
        slot.dirty_since = since if slot.dirty_since is None else min(slot.dirty_since, since)
        self._changed()

    # ---- the plan, computed once per look ----------------------------------------------

    def _changed(self) -> None:
        self._version += 1

    def _arrived(self, now: float) -> None:
        """Count a new answer's arrival; answers arriving within a second of the last counted
        one are one burst, counted once (a burst says little about what comes next)."""
        if not self._arrivals or now - self._arrivals[-1] >= BURST:
            self._arrivals.append(now)

    def _planned(self, now: float) -> tuple[Plan, dict[Hashable, float]]:
        cached = self._cache
        if cached is not None and cached[0] == now and cached[1] == self._version:
            return cached[2], cached[3]
        remaining = {key: self._remaining(slot, now) for key, slot in self.slots.items()}
        while self._arrivals and self._arrivals[0] <= now - WINDOW:
            self._arrivals.popleft()
        load = Load(
            remaining=list(remaining.values()),
            committed=sum(1 for slot in self.slots.values() if slot.posted),
            elsewhere=self.elsewhere.answers,
            elsewhere_remaining=self.elsewhere.remaining,
            arrival_rate=self.arrival_rate(now),
            life=self.lives.new_life([slot.marks for slot in self.slots.values()]),
            edited=self.lives.edited_share(),
            unseen=[_unseen(slot, now) for slot in self.slots.values()],
        )
        the_plan = plan(self.window, now, load, self.min_interval)
        self._cache = (now, self._version, the_plan, remaining)
        return the_plan, remaining

    def arrival_rate(self, now: float) -> float:
        """New answers a second: the gaps between the arrivals of the last minute (a burst
        counted once), over the time they span until now. One arrival alone says nothing of
        the next: 0. Counting over the whole minute would take a minute to see a steady
        stream of questions, while a quiet start spent what it needs."""
        arrivals = self._arrivals
        if len(arrivals) < 2:
            return 0.0
        return (len(arrivals) - 1) / max(now - arrivals[0], BURST)

    def _post_at(self, slot: _Slot, now: float, the_plan: Plan, remaining: float) -> float:
        """When the slot's first post should go (see `planner.first_post_at`)."""
        first_text = now if slot.first_mark is None else slot.first_mark
        timed = self._timed(slot, now, the_plan)
        return first_post_at(
            the_plan, first_text=first_text, now=now, remaining=remaining, timed=timed
        )

    def _timed(self, slot: _Slot, now: float, the_plan: Plan) -> float | None:
        """When the slot's next version should go by the odds of recent answers' lengths, at
        the plan's density (None: no odds to go by; infinity: not before the answer ends)."""
        versions = the_plan.versions
        if versions <= 0 or versions * self.min_interval >= 1:
            return None  # the plan alone decides: no calls to spare, or one every interval
        odds = self.lives.odds(now)
        if odds is None or odds.alive(slot.marks) < ODDS_FROM:
            return None
        # One price a look for every message: the density per mark at recent answers' pace.
        table = odds.priced(versions / self.lives.rate(0, 0.0))
        elapsed = 0.0 if slot.first_mark is None else now - slot.first_mark
        pace = self.lives.rate(slot.marks, elapsed)
        at = table.next_version(shown=slot.shown if slot.posted else 0.0, now=slot.marks)
        return at if at == math.inf else now + (at - slot.marks) / pace

    def _remaining(self, slot: _Slot, now: float) -> float:
        if slot.first_mark is None:
            return self.lives.remaining(0, 0.0)
        return self.lives.remaining(slot.marks, now - slot.first_mark)


def _unseen(slot: _Slot, now: float) -> float:
    """Seconds of the answer Slack has not shown yet: since its last version, or since its
    first text while its post waits."""
    if slot.posted:
        return max(now - slot.last_sent, 0.0)
    return 0.0 if slot.first_mark is None else max(now - slot.first_mark, 0.0)
