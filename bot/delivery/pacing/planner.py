"""Where a workspace's Slack calls go: the planner's decisions, with no clock of its own (pure).

The objective is the least mean time between a token leaving the model and a person seeing it,
within Slack's windows. Slack counts `chat.update` in a rolling minute, so calls not spent
while answers stream are lost; calls spent too early leave nothing for the final edits. Each
time the scheduler looks, the planner works out:

1. **What the window still has** over a horizon `H` (the longest expected remaining life of the
   answers in flight, at most a minute): the minute's calls not yet spent, plus those of the
   last minute's calls that age out within `H`; never more than `burst` a second.
2. **A reserve**: one call for the final edit of every answer in flight (on every replica), and
   the finals of the answers expected to arrive within `H` (the last minute's arrivals, at most
   a tenth of the minute).
3. **The rate**: what is left (`spare`) divided by the summed remaining life of the answers in
   flight, in routine edits per second of an answer's life (at most one per `min_interval`). A
   routine edit goes only while `spare` is at least one call, so finals are never starved.
4. **A message's next edit**: its edits to come (the routine ones the rate gives it over its
   remaining span, and the final) spread evenly from its last version to its expected end.
5. **Post now or later**: an answer's first post is free (Slack counts posts per channel), but
   every later version costs a `chat.update`. When the rate gives an answer few edits, posting
   at its first token spends a version on one word; the post is then held until an even share
   of its life has been written (`life / (edits + 2)` after its first text), and an answer that
   ends while held goes out as one post. With edits to spare the post goes at once, as always.

Remaining lives come from `lives.Lives`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WINDOW = 60.0
ARRIVALS_SHARE = 0.1  # at most this share of the minute is kept for answers still to come
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
    """Calls the window allows from `now` until `now + horizon`."""
    aged = sum(1 for t in window.calls if t <= now - WINDOW)
    returning = sum(1 for t in window.calls if now - WINDOW < t <= now + horizon - WINDOW)
    beyond = max(horizon - WINDOW, 0.0) * window.per_minute / WINDOW
    usable = max(horizon - max(window.paused_until - now, 0.0), 0.0)
    left = window.per_minute - (window.count - aged) + returning + beyond
    return max(min(left, window.burst * usable), 0.0)


@dataclass(frozen=True)
class Load:
    """The answers in flight that a plan shares the window among."""

    remaining: Sequence[float]  # expected seconds left, one per answer here
    elsewhere: int = 0  # answers streaming on other replicas
    elsewhere_remaining: float = 0.0  # their expected seconds left, summed
    arrivals: int = 0  # answers that arrived in the last minute (here and elsewhere)

    @property
    def answers(self) -> int:
        return len(self.remaining) + self.elsewhere

    @property
    def total_remaining(self) -> float:
        return sum(self.remaining) + self.elsewhere_remaining

    @property
    def horizon(self) -> float:
        longest = max(self.remaining, default=0.0)
        if self.elsewhere:
            longest = max(longest, self.elsewhere_remaining / self.elsewhere)
        return min(longest, WINDOW)


@dataclass(frozen=True)
class Plan:
    """The rate at which routine edits may be spent, and what is left to spend."""

    rate: float  # routine edits per second of one answer's remaining life
    spare: float  # routine calls the window has beyond the reserve
    reserve: float  # calls kept for finals (in flight and arriving)


def plan(window: Window, now: float, load: Load, min_interval: float) -> Plan:
    """Share what the window has over the answers in flight (see the module docstring)."""
    horizon = load.horizon
    arriving = min(
        math.ceil(load.arrivals * horizon / WINDOW), ARRIVALS_SHARE * window.per_minute
    )
    reserve = load.answers + arriving
    spare = calls_left(window, now, horizon) - reserve
    total = load.total_remaining
    if spare < 1 or total <= 0:
        return Plan(0.0, max(spare, 0.0), reserve)
    return Plan(min(spare / total, 1 / min_interval), spare, reserve)


def next_edit(
    plan: Plan, *, last_sent: float, now: float, remaining: float, min_interval: float
) -> float:
    """When the next routine edit of a message should go (infinity: none before the final).

    Its versions to come — `rate * span` routine edits and the final — are spread evenly over
    the span from its last version to its expected end.
    """
    if plan.spare < 1 or plan.rate <= 0:
        return math.inf
    span = now - last_sent + remaining
    gap = span / (plan.rate * span + 1)
    return last_sent + max(gap, min_interval)


def first_post_at(plan: Plan, *, first_text: float, now: float, remaining: float) -> float:
    """When an answer's first post should go: at once (`first_text`) when the plan gives it
    edits to spare, else once an even share of its life is written."""
    life = now - first_text + remaining
    edits = plan.rate * life
    if edits >= POST_NOW_EDITS:
        return first_text
    return first_text + life / (edits + 2)
