"""Where a workspace's Slack calls go: the planner's decisions, with no clock of its own (pure).

The objective is the least mean time between a token leaving the model and a person seeing it,
within Slack's windows. Slack counts `chat.update` in a rolling minute, so calls not spent
while answers stream are lost; calls spent too early leave nothing for the final edits. Each
time the scheduler looks, the planner works out:

1. **What the window has** until the answers in flight are expected to end (the horizon `H`):
   the minute's calls not yet spent, plus those of the last minute's calls that age out by then.
2. **A reserve**: one call for the final edit of every answer in flight (on every replica), and
   one for each answer expected to arrive within `H`, at the rate answers have been arriving (a
   burst of questions counts once: it says little about what comes next).
3. **The rate**: what is left (`spare`) divided by the answer-seconds it must cover, in
   routine edits per second of an answer's life, over the horizon and over the next minute
   (the lower is kept). The rate says when the window has edits to spare (`ample`).
4. **The density** (`version_density`): versions, a post, an edit or a final alike, per second
   of an answer's life. The lower bound of the benchmark shows why one density: a chunk waits
   for the next version, and the waits are least when every answer's versions are spread
   evenly, as many as its life holds. Over every horizon up to a minute, the calls the window
   has by then (with those coming back) and the posts to come (Slack counts posts per
   channel: each answer not posted yet, and each arriving, brings one version of its own) are
   shared over the answer-seconds to show by then: each answer's time unseen since its last
   version and its life up to the horizon, and the part inside it of the arrivals' lives. The
   lowest ratio holds for all of them: the horizons just short of a minute keep a busy start
   from spending what the answers of its next minute need.
5. **A message's next edit**: with a known length, its versions to come spread evenly over the
   span from its last version to its end at the density, the final the last. But the length
   is not known, and a guess at one length edits messages just before ends that were likely
   and leaves long gaps before those that were not. Once recent answers say how long answers
   run, `timing.py` weighs every end they reached, priced at the density (its docstring says
   how closely it keeps to it; on workload 3 of the benchmark, from 1.26x the least possible
   mean lag to 1.20x). Until then, the versions to come are spread evenly over the span from
   the last version to the expected end, and a span holding about one version holds the final
   only. A routine edit goes only while the window has a call beyond the finals already owed
   (`free`: one for each answer posted, here and elsewhere), so finals are never starved.
   Answers not posted yet, and those arriving, owe none: reserving their finals too held back
   edits that a steady stream of questions needs (their posts wait for the window instead, and
   go out whole if it has nothing for them).
6. **Post now or later**: an answer's first post is free (Slack counts posts per channel), but
   every later version costs a `chat.update`. With edits to spare (`ample`: an edit a
   `min_interval` over every answer's whole span, and every final paid in time) the post goes at
   once, as always. Otherwise posting at the first token spends a version on one word: the
   post waits: for when the odds of recent lengths put it, or before any are known for its
   first share of the density (`life / versions`). An answer whose life holds about one
   version (by the odds: whose expected waiting a post would cut by less than the edit its
   final costs), or whose final edit the window cannot pay for soon enough (the finals of the
   answers already posted, and of those arriving, come first, at no more than `burst` a
   second), waits for its end and goes out whole: one post, no `chat.update`.

Remaining lives, and the odds of recent lengths, come from `lives.Lives`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WINDOW = 60.0
POST_NOW_EDITS = 8  # with this many edits ahead an early post costs under 1/9 of the lag


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
    """Calls the window allows from `now` until `now + horizon` (per minute; the per-second
    cap is `burst_left`'s)."""
    aged = sum(1 for t in window.calls if t <= now - WINDOW)
    returning = sum(1 for t in window.calls if now - WINDOW < t <= now + horizon - WINDOW)
    beyond = max(horizon - WINDOW, 0.0) * window.per_minute / WINDOW
    return max(window.per_minute - (window.count - aged) + returning + beyond, 0.0)


def burst_left(window: Window, now: float, horizon: float) -> float:
    """Calls that can be made within `horizon` of `now` at `burst` a second, after any pause."""
    usable = max(horizon - max(window.paused_until - now, 0.0), 0.0)
    return window.burst * max(usable, 1.0)


@dataclass(frozen=True)
class Load:
    """The answers in flight that a plan shares the window among, and those expected."""

    remaining: Sequence[float]  # expected seconds left, one per answer here
    committed: int = 0  # of these, answers posted (each owes the window its final edit)
    elsewhere: int = 0  # answers streaming on other replicas (all counted as posted)
    elsewhere_remaining: float = 0.0  # their expected seconds left, summed
    arrival_rate: float = 0.0  # new answers a second, as recently seen
    life: float = 0.0  # how long a new answer is expected to stream (seconds)
    edited: float = 1.0  # the share of new answers expected to need edits (not one post)
    # Seconds each answer here has gone unseen: since its last version (posted), or since its
    # first text (not posted yet). Its next version shows them too, so they are part of the
    # span its versions to come must cover. Empty: none.
    unseen: Sequence[float] = ()

    @property
    def answers(self) -> int:
        return len(self.remaining) + self.elsewhere

    @property
    def total_remaining(self) -> float:
        return sum(self.remaining) + self.elsewhere_remaining

    @property
    def total_span(self) -> float:
        """The seconds the versions to come of the answers in flight must cover."""
        return self.total_remaining + sum(self.unseen)

    @property
    def unposted(self) -> int:
        """Answers here whose post (a version Slack counts per channel) is still to come."""
        return len(self.remaining) - self.committed

    @property
    def horizon(self) -> float:
        """Until the last answer in flight is expected to end (at most a minute)."""
        longest = max(self.remaining, default=0.0)
        if self.elsewhere:
            longest = max(longest, self.elsewhere_remaining / self.elsewhere)
        return min(longest, WINDOW)


@dataclass(frozen=True)
class Plan:
    """How densely versions may be spread over the answers' lives, and what is left to spend."""

    rate: float  # routine edits per second of one answer's remaining life
    spare: float  # routine calls the window has beyond the reserve
    reserve: float  # calls kept for finals (in flight and arriving)
    affordable: float = 0.0  # finals more early posts could commit to, soon enough
    # Versions (post, edits and final alike) per second of an answer's life: one every
    # `1 / versions` seconds. 0: as `rate` says (a plan made by hand in a test).
    versions: float = 0.0
    ample: bool = False  # the window alone pays an edit every `min_interval` for every answer
    # Calls the window has until the answers in flight end, beyond the finals already owed
    # (of the answers posted, here and elsewhere). Infinity: not known (a plan made by hand).
    free: float = math.inf


def plan(window: Window, now: float, load: Load, min_interval: float) -> Plan:
    """Share what the window has over the answers in flight (see the module docstring)."""
    rate = load.arrival_rate * load.edited  # arrivals that will owe the window edits
    horizon = load.horizon
    # Until the answers in flight end: the calls the window has by then must pay their
    # finals, and those of the answers arriving meanwhile, before any routine edit.
    soon = calls_left(window, now, horizon)
    arriving = rate * horizon
    spare = soon - load.answers - arriving
    demand = load.total_remaining + arriving * min(load.life, horizon / 2)
    rates = [spare / demand] if demand > 0 else []
    # Over the minute a call takes to come back: the window's whole minute, less the finals of
    # the answers in flight and of the arrivals that end within the minute, shared with the
    # part of those arrivals' lives inside the minute.
    life = min(load.life, WINDOW)
    finals_in_minute = load.answers + rate * (WINDOW - life)
    spare_in_minute = window.per_minute - finals_in_minute
    inside = life * (1 - life / (2 * WINDOW))  # of an arrival's life, within the minute
    demand_in_minute = load.total_remaining + rate * WINDOW * inside
    if demand_in_minute > 0:
        rates.append(spare_in_minute / demand_in_minute)
    # An early post commits its answer to a final edit by the time it ends: within the
    # horizon, after the finals already owed, at no more than `burst` a second.
    burst = burst_left(window, now, horizon)
    affordable = min(soon, burst) - load.committed - load.elsewhere - arriving
    reserve = load.answers + arriving
    density = min(version_density(window, now, load), 1 / min_interval)  # `1 /`: capped
    free = soon - load.committed - load.elsewhere
    if spare < 1 or not rates or min(rates) <= 0:
        return Plan(0.0, max(spare, 0.0), reserve, affordable, density, free=free)
    # Edits every `min_interval` over every answer's whole span (not only what is left of
    # it: near their ends, answers held back would all look cheap), after the finals: an early
    # post costs nothing anyone would see.
    ample = min(rates) >= 1 / min_interval and spare * min_interval >= load.total_span
    ample = ample and affordable >= load.unposted  # and every final it commits to, in time
    return Plan(min(*rates, 1 / min_interval), spare, reserve, affordable, density, ample, free)


HORIZONS = (5.0, 10.0, 20.0, 30.0, 40.0, 50.0, WINDOW)  # seconds ahead a plan must hold for


def version_density(window: Window, now: float, load: Load) -> float:
    """Versions (posts, edits and finals alike) per second of an answer's life that the window
    can pay for over every horizon ahead: the lowest, over the horizons, of the calls it has
    by then (with those coming back) and the posts of the answers not posted yet and of those
    arriving meanwhile, over the answer-seconds to show by then. The answers in flight need
    their time unseen so far and their life up to the horizon; an answer arriving within it,
    the part of its life inside. Calls spent in a busy start come back only a minute later:
    the horizons just before then keep the start from spending what its next minute needs.
    """
    lives = list(load.remaining)
    if load.elsewhere:  # the other replicas say only their sum
        lives += [load.elsewhere_remaining / load.elsewhere] * load.elsewhere
    unseen = sum(load.unseen)
    life = load.life
    lowest = math.inf
    for horizon in {min(load.horizon, WINDOW), *HORIZONS}:
        if horizon <= 0:
            continue
        inside = life * (1 - life / (2 * horizon)) if life <= horizon else horizon / 2
        span = unseen + sum(min(r, horizon) for r in lives)
        span += load.arrival_rate * horizon * inside
        if span <= 0:
            continue
        posts = load.unposted + load.arrival_rate * horizon
        lowest = min(lowest, (calls_left(window, now, horizon) + posts) / span)
    return 0.0 if lowest == math.inf else lowest


def next_edit(
    plan: Plan,
    *,
    last_sent: float,
    now: float,
    remaining: float,
    min_interval: float,
    timed: float | None = None,
) -> float:
    """When the next routine edit of a message should go (infinity: none before the final).

    `timed` is when the odds of recent answers' lengths put it at the plan's density
    (`timing.py`; None: no odds yet). Without them, its versions to come, one per
    `1 / plan.versions` seconds of the span from its last version to its expected end (the
    final being the last), are spread evenly over that span; when the span holds only about
    one, that one is the final: an edit just before it would show little.
    """
    span = now - last_sent + remaining
    if plan.versions <= 0:  # a plan without its density: as many edits as `rate` gives
        if plan.spare < 1 or plan.rate <= 0:
            return math.inf
        gap = span / (plan.rate * span + 1)
        return last_sent + max(gap, min_interval)
    if plan.free < 1:  # every call the window has is some posted answer's final
        return math.inf
    count = round(span * plan.versions)
    if count <= 1 and timed is None:
        return math.inf
    if plan.versions * min_interval >= 1:  # as often as an edit may go: one a `min_interval`
        return last_sent + min_interval
    if timed is not None:
        return max(timed, last_sent + min_interval)
    return last_sent + max(span / count, min_interval)


def first_post_at(
    plan: Plan,
    *,
    first_text: float,
    now: float,
    remaining: float,
    timed: float | None = None,
) -> float:
    """When an answer's first post should go: at once (`first_text`) when the plan gives it
    edits to spare; not before the answer ends (infinity, when it goes out whole) while the
    window cannot afford the final edit an early post commits it to; else when the odds of
    recent answers' lengths say (`timed`, as for `next_edit`). Without odds: after the first of
    its versions' even shares of its life, or whole when its life holds about one version."""
    life = now - first_text + remaining
    if plan.ample:
        return first_text
    if timed is not None:  # the odds weigh what an early post costs, as the rule below guesses
        return math.inf if plan.affordable < 1 else timed
    if plan.rate * life >= POST_NOW_EDITS:
        return first_text
    if plan.affordable < 1:
        return math.inf
    if plan.versions <= 0:  # a plan without its density: as `rate` gives
        count = plan.rate * life + 2
    else:
        count = round(life * plan.versions)
    if count <= 1:
        return math.inf
    return first_text + life / count
