"""The pacing rule: when each answer of one workspace and Slack method is posted and edited.

Pure: no clock, no I/O; the driver (`scheduler.py`) runs it against a window (`window.py`).

**The rule, in two sentences.** An answer's first words are posted at its first token, unless
it is expected to end within the short-answer limit (`SHORT`, 2 s: recent answers here mostly
did), in which case it waits that long to go out whole in one post (before any answer here has
ended, when nothing is known, it waits until `COLD_HOLD`, 1 s, after it arrived). Every answer
in flight
with text Slack has not shown gets an equal share of the window: its next version comes one
`gap` after its previous, gap = (answers with unshown text, on every replica) / (calls a second
the window allows until they are expected to end), and a routine edit goes only while the
window keeps one call for the final of every answer posted, by the time each is due.

Why the cold hold: a fresh bot cannot tell a one-second answer from a 25-second one at its
first token. Posting every answer then commits a burst of short answers to a final edit each
(a hundred finals against 50 calls a minute: the last answer complete a minute late), while a
wait until 1 s after the question lets most of them go out whole and keeps a long answer's
first words within issue 26's 1.5 s (counted from the arrival, not the first token, so a slow
first token does not add to it); the first answer to end teaches the rule the rest.

**Native streams** (`finals_free`: a stream's final rides on `chat.stopStream`, and its start
takes nothing from the appends' window) need no reserve, and their rule is one sentence: the
appends go at one even pace for the workspace — the calls the window allows until the horizon,
spread evenly over it (this replica's share of them, by the streams with unshown text here and
elsewhere) — each to the stream whose last version is oldest. A version per stream one gap
after its last (the rule above) left about a tenth of the appends' window unspent in steady
traffic, because a stream's stop comes before the last append its gap allows; one pace for the
workspace spends what the streams leave (`bench simulate`, streams alone: workload 7 1.57x ->
1.45x, workload 3 1.48x -> 1.39x, every steady variant and burst better).

Finals, and the first text after a "Thinking…" placeholder, go at once from that reserve;
among the edits due, the message whose unsent text is oldest goes first. A post waits (to go
out whole, or until finals are paid) only while the answers posted already owe the window a
whole minute of finals.

**Why it holds (the bound).** Let `H` be the horizon (until the answers in flight are expected
to end, at most a minute), `C(H)` the calls Slack's rolling minute allows until then (the
minute's unspent calls plus those aging out: Slack's rule, nothing of ours), `F` the finals
owed and `n` the answers with unshown text. Versions go at `C(H) / H` a second in all:

* *Finals are never starved*: a routine edit goes only while, by each answer's expected end,
  the calls the window allows until then exceed the finals due by then (of the answers posted
  and of those arriving) — so every final has a call when its answer ends — and finals go
  first.
* *The window is spent*: while an answer has unshown text and `C(H) - F >= 1`, an edit is due
  within one gap; versions at `C(H) / H` a second spend `C(H)` by `H`, finals included, so no
  call is left unused while text is unshown. The rule is read again at every look: answers
  that run past their expected end shrink `H` and spend what is left sooner.
* *Lag*: each answer gets a version every `n H / C(H)` s, evenly spaced. For a model writing
  at a steady pace evenly spaced versions give the least wait for their number
  (`bench/lower_bound.py`), and equal shares are the best split between equal answers: a chunk
  waits half a gap on average. The version this rule does not place for lag is the first
  post, spent on showing the first words at once: with `k` versions after it an answer of
  `L` s waits about `L / 2k` against the least possible `L / 2(k + 1)`, at most `(k + 1) / k`
  times (1.4x for 20 answers sharing 50 calls: 2.5 each) — the price of first words at the
  first token.

Where it falls short: when finals take most of the window (a steady stream of long answers,
30 finals a minute of 50), the gap comes near an answer's life and its one routine edit lands
just before its final, where it shows little (`bench simulate`: workload 7 at 2.7x). Tried
and not kept (2026-12-07, `bench simulate --variants`): routine edits at one even pace for the
workspace, each to the answer that gains most from it (unshown seconds x expected seconds left)
— workload 7 2.7x -> 2.0x, but workload 3 2.2x -> 2.5x (its lengths vary and the median life
mis-predicts what is left) and the bursts 1.46x -> 1.62x; with the oldest version first
instead, no workload better than this rule. Also tried (the same evening): an answer's first
routine edit at the middle of its expected life, contested calls to the answer that gains
most — workload 7 2.72x -> 1.90x, workload 3 2.19x -> 2.41x, two of five variants worse. It
showed `arriving_finals` under-counts early finals when lengths vary (it assumes each arrival
runs the median life; spreading them as the recent lives do kept every final within 0.5 s),
which alone changed nothing measurable.

An answer's expected life is the median of recent answers' (first text to end) in this
workspace and method, `COLD_LIFE` before any; one past it is expected to run `SHORT` more.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

from bot.delivery.pacing.window import Heard, Share

WINDOW = 60.0  # Slack counts calls per method in a rolling minute
SHORT = 2.0  # seconds: the short-answer limit (and the least horizon)
COLD_LIFE = 20.0  # seconds an answer is expected to stream before any has been seen
COLD_HOLD = 1.0  # seconds from its arrival a first post waits, before any answer has ended
HISTORY = 20  # recent answers whose lives say how long the next runs
BURST = 1.0  # seconds: answers arriving this close together are one arrival
LOOK_AGAIN = 1.0  # seconds between looks while an edit waits for the window
DEFAULT_MAX_MARKS = 4096  # kept for callers that pass `max_marks` (unused by the rule)


@dataclass(frozen=True)
class Window:
    """A method's window as last heard: `count` calls in the last minute, the oldest of them
    (or all) made at the clock times `calls`, and any 429 pause."""

    per_minute: int
    burst: int
    count: int = 0
    calls: Sequence[float] = ()
    paused_until: float = 0.0


def calls_left(window: Window, now: float, horizon: float) -> float:
    """Calls Slack's rolling minute allows from `now` until `now + horizon`: the minute's not
    yet spent, those of its calls that age out by then, and a minute's more per minute beyond."""
    aged = sum(1 for t in window.calls if t <= now - WINDOW)
    returning = sum(1 for t in window.calls if now - WINDOW < t <= now + horizon - WINDOW)
    beyond = max(horizon - WINDOW, 0.0) * window.per_minute / WINDOW
    return max(window.per_minute - (window.count - aged) + returning + beyond, 0.0)


@dataclass
class _Slot:
    arrived: float
    last_sent: float  # when Slack last got a version (the post, or an edit)
    posted: bool = True
    held: bool = False  # the first post waits (to go out whole, or for a call)
    released: bool = False  # the held post is being made: it owes its final already
    first_mark: float | None = None
    last_mark: float | None = None
    dirty_since: float | None = None
    urgent: bool = False
    final: bool = False  # the change pending is the answer's final version
    in_flight: bool = False
    # What the edit in flight was sent for, restored if Slack answers 429.
    sending_since: float = 0.0
    sending_urgent: bool = False

    @property
    def unshown(self) -> bool:
        """Whether the message has text Slack has not shown (marked, or on its way)."""
        return self.dirty_since is not None or self.in_flight


@dataclass
class SchedulerCore:
    """The rule's state for one workspace and method: the answers in flight, recent lives,
    and the window as last heard (`elsewhere`: what streams on other replicas)."""

    per_minute: int
    min_interval: float
    burst: int | None = None
    max_marks: int = DEFAULT_MAX_MARKS
    # The final version goes by another method (a native stream's `chat.stopStream`): it
    # takes nothing from this window, so none is reserved for it and it never waits for one.
    finals_free: bool = False
    elsewhere: Share = field(default_factory=Share)
    slots: dict[Hashable, _Slot] = field(default_factory=dict, init=False)
    lives: deque[float] = field(default_factory=lambda: deque(maxlen=HISTORY), init=False)
    window: Window = field(init=False)
    _arrivals: deque[float] = field(default_factory=deque, init=False)
    _last_call: float = field(default=float("-inf"), init=False)
    # `life(now)` for the last `now` (and lives) asked, until an answer arrives, is marked or
    # ends: every look asks it once per answer in flight (their remaining lives, the finals'
    # ends), which recomputed each time was quadratic in the answers — the busiest code of a
    # 100-answer burst, ahead of the answers themselves (py-spy, workload 2, 2026-12-08).
    _life_at: tuple[tuple[float, tuple[float, ...]], float] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.window = Window(self.per_minute, self.burst or self.per_minute)

    # ---- what happens to answers -----------------------------------------------------

    def arrive(self, key: Hashable, now: float) -> None:
        """A new answer: its message is not posted yet."""
        if key not in self.slots:
            self._life_at = None
            self.slots[key] = _Slot(arrived=now, last_sent=now, posted=False)
            self._arrived(now)

    def mark(
        self,
        key: Hashable,
        now: float,
        *,
        urgent: bool = False,
        weight: float = 1,
        final: bool = False,
    ) -> bool:
        """The message `key` has text (or a change) Slack has not shown. Returns whether the
        driver should look again now; changes to an unposted message wait for its post."""
        self._life_at = None
        slot = self.slots.get(key)
        if slot is None:
            slot = self.slots[key] = _Slot(arrived=now, last_sent=now)
            self._arrived(now)
        if weight > 0 or slot.first_mark is None:
            slot.first_mark = now if slot.first_mark is None else slot.first_mark
            slot.last_mark = now
        if not slot.posted:
            return False
        sooner = slot.dirty_since is None or (urgent and not slot.urgent)
        if slot.dirty_since is None:
            slot.dirty_since = now
        slot.urgent = slot.urgent or urgent
        slot.final = slot.final or final
        return sooner

    def hold_first_post(self, key: Hashable, now: float) -> bool:
        """Whether the answer's first post should wait (True: until `releases` names it, or
        its end posts it whole)."""
        self.arrive(key, now)
        slot = self.slots[key]
        if slot.posted:
            return False
        slot.held = self._post_at(slot, now) > now
        slot.released = not slot.held  # posting now: it owes its final from now on
        return slot.held

    def posted(self, key: Hashable, now: float) -> None:
        """The message's first post went out now (carrying everything marked before it)."""
        slot = self.slots.get(key)
        if slot is not None and not slot.posted:
            slot.posted, slot.held, slot.last_sent = True, False, now
            slot.dirty_since, slot.urgent = None, False

    def forget(self, key: Hashable, *, ended: bool = True) -> None:
        """The message is finished (or abandoned): remember how long it ran — unless it has
        not ended but goes on by another method (`ended=False`), which says nothing of that."""
        slot = self.slots.pop(key, None)
        self._life_at = None
        if not ended or slot is None:
            return
        if slot.first_mark is not None and slot.last_mark is not None:
            self.lives.append(slot.last_mark - slot.first_mark)

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

    def share(self, now: float) -> Share:
        """What streams here, to tell the other replicas."""
        return Share(len(self.slots), sum(self._remaining(s, now) for s in self.slots.values()))

    # ---- the rule ----------------------------------------------------------------------

    def life(self, now: float | None = None) -> float:
        """Seconds a new answer is expected to stream: the median of recent lives, with the
        answers in flight that have outlived it counted at their age so far (the long ones
        have not ended yet; a young one says nothing yet, and would pull the median down)."""
        if not self.lives:
            return COLD_LIFE
        asked = (now, tuple(self.lives)) if now is not None else None
        if asked is not None and self._life_at is not None and self._life_at[0] == asked:
            return self._life_at[1]
        ended = statistics.median(self.lives)
        ages = [] if now is None else [now - self._started(s) for s in self.slots.values()]
        life = statistics.median([*self.lives, *(age for age in ages if age > ended)])
        if asked is not None:
            self._life_at = (asked, life)
        return life

    def horizon(self, now: float) -> float:
        """Until the answers in flight (here and elsewhere) are expected to end; a minute while
        questions keep arriving (the next ones need the calls this minute gives back)."""
        if self.arriving(now):
            return WINDOW
        longest = max((self._remaining(s, now) for s in self.slots.values()), default=0.0)
        if self.elsewhere.answers:
            longest = max(longest, self.elsewhere.remaining / self.elsewhere.answers)
        return min(max(longest, SHORT), WINDOW)

    def arriving(self, now: float) -> bool:
        """Whether questions keep arriving: more than one arrival in the last minute, a burst
        (answers within `BURST` of each other) counted once."""
        while self._arrivals and self._arrivals[0] <= now - WINDOW:
            self._arrivals.popleft()
        return len(self._arrivals) > 1

    def arriving_finals(self, now: float, horizon: float) -> float:
        """Finals of the answers expected to arrive and end within `horizon`, at the rate
        questions arrived in the last minute (a burst counted once)."""
        if self.finals_free or not self.arriving(now):
            return 0.0
        rate = (len(self._arrivals) - 1) / max(now - self._arrivals[0], BURST)
        return rate * max(horizon - self.life(now), 0.0)

    def owed(self) -> int:
        """Finals owed: one for every answer posted, here and on the other replicas (none
        when finals are free)."""
        if self.finals_free:
            return 0
        posted = sum(1 for s in self.slots.values() if s.posted or s.released)
        return posted + self.elsewhere.answers

    def spare(self, now: float) -> float:
        """Calls the window has beyond the reserve, at the tightest of the answers' expected
        ends: by each, one call for the final of every answer posted that ends by then (and
        of the answers arriving and ending by then), and one for every post held. Where finals
        are free nothing is reserved: a held stream starts with `chat.startStream` (or is
        posted and goes on by `chat.update`), never with a call of this window."""
        held = 0 if self.finals_free else sum(1 for s in self.slots.values() if s.held)
        ends: list[float] = []  # when each final owed is due (none when finals are free)
        if not self.finals_free:
            ends = [self._remaining(s, now) for s in self.slots.values() if s.posted or s.released]
            if self.elsewhere.answers:  # the other replicas say only their sum
                mean = self.elsewhere.remaining / self.elsewhere.answers
                ends += [mean] * self.elsewhere.answers
            ends.sort()
        horizon = self.horizon(now)
        least = (
            calls_left(self.window, now, horizon) - len(ends) - self.arriving_finals(now, horizon)
        )
        for due, end in enumerate(ends, start=1):
            end = min(end, horizon)
            calls = calls_left(self.window, now, end) - self.arriving_finals(now, end)
            least = min(least, calls - due)
        return least - held

    def calls(self, now: float) -> float:
        """The calls the window allows the answers in flight until the horizon: Slack's
        rolling minute, less the finals of the answers arriving and ending by then."""
        horizon = self.horizon(now)
        return calls_left(self.window, now, horizon) - self.arriving_finals(now, horizon)

    def gap(self, now: float) -> float:
        """Seconds between two versions of one message: the answers with unshown text share
        the calls the window allows until the horizon (finals included) equally. Infinity:
        the window has no call beyond the reserve."""
        if self.spare(now) < 1:
            return math.inf
        return max(self._round(now)[1], self.min_interval)

    def _round(self, now: float) -> tuple[int, float]:
        """The answers here with unshown text, and the seconds in which the window allows one
        version for every such answer (here and on the other replicas): their count times the
        horizon over the calls the window allows until then."""
        here = sum(1 for s in self.slots.values() if s.posted and s.unshown)
        answers = max(here + self.elsewhere.answers, 1)
        return here, answers * self.horizon(now) / self.calls(now)

    # ---- decisions ---------------------------------------------------------------------

    def releases(self, now: float) -> tuple[list[Hashable], float | None]:
        """The held first posts to make now, and when to look again for the others."""
        due, wake = [], None
        for key, slot in self.slots.items():
            if not slot.held:
                continue
            slot.held = False  # not reserving a call for its own post while it asks
            at = self._post_at(slot, now)
            if at <= now:
                due.append(key)
                slot.released = True  # owes its final from now on
                continue
            slot.held = True
            at = min(at, now + LOOK_AGAIN)
            wake = at if wake is None else min(wake, at)
        return due, wake

    def due(self, now: float) -> tuple[Hashable | None, float | None]:
        """The message to edit next if the window allows, or None and when to ask again
        (None: when something is marked)."""
        if self.finals_free:
            return self._due_streams(now)
        ready, wake = [], None
        gap = None
        for key, slot in self.slots.items():
            if not slot.posted or slot.dirty_since is None or slot.in_flight:
                continue
            if slot.final and self.finals_free:
                continue  # `free_finals`
            if slot.urgent:
                ready.append((False, slot.dirty_since, key))
                continue
            gap = self.gap(now) if gap is None else gap
            at = slot.last_sent + gap if gap != math.inf else now + LOOK_AGAIN
            if at <= now:
                ready.append((True, slot.dirty_since, key))
                continue
            at = min(at, now + LOOK_AGAIN)  # the window changes as calls age out
            wake = at if wake is None else min(wake, at)
        if not ready:
            return None, wake
        return min(ready, key=lambda item: (item[0], item[1]))[2], None

    def _due_streams(self, now: float) -> tuple[Hashable | None, float | None]:
        """`due` for native streams, whose finals take no call of this window: the window's
        calls go at one even pace (the calls it allows until the horizon, spread evenly over
        it; this replica's share of them where others stream too), each to the stream whose
        last version is oldest. An urgent change goes at once."""
        waiting, wake = [], None
        for key, slot in self.slots.items():
            if not slot.posted or slot.dirty_since is None or slot.in_flight or slot.final:
                continue
            if slot.urgent:
                return key, None
            at = slot.last_sent + self.min_interval
            if at <= now:
                waiting.append((slot.last_sent, key))
            else:
                wake = at if wake is None else min(wake, at)
        if not waiting:
            return None, wake
        if self.spare(now) < 1:
            return None, now + LOOK_AGAIN
        here, round_ = self._round(now)
        at = self._last_call + round_ / here  # this replica's share of the window's pace
        if at > now:
            return None, min(at, now + LOOK_AGAIN)
        return min(waiting)[1], None

    def still_due(self, key: Hashable, now: float) -> bool:
        """Whether `key`'s edit may take the call just granted, the window as the grant
        described it (that call counted): a first text or a final always; a routine edit only
        while the reserve is whole. Replicas decide on what they last heard, so two may ask
        for the last spare call at once; the grant says what the others spent meanwhile."""
        slot = self.slots.get(key)
        if slot is None:
            return False
        return slot.urgent or self.spare(now) >= 0

    def free_finals(self) -> list[Hashable]:
        """The finals to send now without a call of this window (`finals_free`)."""
        if not self.finals_free:
            return []
        return [
            key
            for key, s in self.slots.items()
            if s.final and s.posted and s.dirty_since is not None and not s.in_flight
        ]

    def sending(self, key: Hashable, now: float, *, counted: bool = True) -> None:
        """An edit of `key` is going to Slack now (`counted`: a call of this window)."""
        slot = self.slots[key]
        assert slot.dirty_since is not None
        slot.sending_since, slot.sending_urgent = slot.dirty_since, slot.urgent
        slot.in_flight, slot.dirty_since, slot.urgent = True, None, False
        slot.last_sent = now
        if not counted:
            return
        self._last_call = now
        w = self.window
        self.window = Window(
            w.per_minute, w.burst, w.count + 1, (*w.calls, now), paused_until=w.paused_until
        )

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

    def rate_limited(self, key: Hashable) -> None:
        """Slack said 429 (or was away): keep the message's changes pending, as urgent and
        as old as they were; the newest text goes when the pause ends."""
        slot = self.slots.get(key)
        if slot is None:
            return
        slot.in_flight = False
        slot.urgent = slot.urgent or slot.sending_urgent
        since = slot.sending_since
        slot.dirty_since = since if slot.dirty_since is None else min(slot.dirty_since, since)

    # ---- expectations --------------------------------------------------------------------

    def _arrived(self, now: float) -> None:
        if not self._arrivals or now - self._arrivals[-1] >= BURST:
            self._arrivals.append(now)

    @staticmethod
    def _started(slot: _Slot) -> float:
        return slot.arrived if slot.first_mark is None else slot.first_mark

    def _remaining(self, slot: _Slot, now: float) -> float:
        """Seconds the answer is expected to stream on (`SHORT` once past its expected life)."""
        return max(self.life(now) - (now - self._started(slot)), SHORT)

    def _post_at(self, slot: _Slot, now: float) -> float:
        """When the answer's first post should go: `SHORT` after its first text when recent
        answers here mostly ended within it, `COLD_HOLD` after it arrived before any answer
        here has ended (nothing is known yet), else at once — it goes out whole if it ends
        first — and not while the answers posted already owe the window a minute's calls in
        finals."""
        if not self.lives:
            at = slot.arrived + COLD_HOLD
        elif self.life(now) <= SHORT:
            at = self._started(slot) + SHORT
        else:
            at = now
        if now < at:
            return at
        return now if self.owed() < self.window.per_minute else now + LOOK_AGAIN
