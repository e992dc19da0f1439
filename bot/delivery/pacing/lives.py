"""How much longer an answer will stream, learned from the answers before it (pure).

The planner spreads the calls a window has left over the remaining life of the answers in
flight, so it needs that life before the answers end. Progress is counted in *marks*, about
one per token: each text delta the reply hands its scheduler weighs its characters / 4 (as
with Claude's tokenizers on English text), so an answer's marks are about its output tokens and
stay near its `max_tokens` at most.

* The pace of an answer is its own, once it has streamed long enough to say; before that, the
  pace of recent answers; before any answer, `DEFAULT_RATE`.
* Its length is what recent answers that got this far went on to reach (their mean); with no
  such answer, twice as long as now, or half way from now to `max_tokens` if that is sooner
  (it cannot go on past `max_tokens`, and is as likely to end before that point as after);
  before any answer was seen, half of `max_tokens`: the middle of what it may be. Until
  `FIRST_FEW` answers have been seen, that guess still counts as the ones missing (a first
  short answer or two would otherwise make every next one look short, and the start spend
  what later answers need).
* A new answer's length counts the answers still streaming, at the length each is expected
  to reach: those that ended first are the short ones.
* Past the first few, recent lengths are also the *odds* of where an answer in flight ends
  (`odds`, for `timing.py`): a mean says an answer that got to 12 s runs to 20, where the
  answers behind it ended at 15, 20 and 25, one in three each.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.delivery.pacing.timing import Odds

HISTORY = 50  # recent answers remembered
DEFAULT_RATE = 50.0  # marks (tokens) a second before any answer was seen
COLD_SHARE = 0.5  # of max_tokens: the length expected before any answer was seen
OWN_PACE_AFTER = 0.25  # seconds of an answer's own stream before its pace is trusted
OWN_PACE_MARKS = 4
# An answer past every recent one is expected to go on as long again: with nothing else to go
# on, it is as likely to be in the first half of its life as in the second.
LONGER = 2.0
FIRST_FEW = 5  # answers seen before their lengths alone say how long the next ones run
REFRESH = 1.0  # seconds: the odds are read again from the history at most this often
LEAST = 0.05  # seconds: an answer in flight is never expected to end sooner than this


@dataclass(frozen=True)
class Life:
    """One finished answer: how many marks, over how many seconds (first to last mark), and
    whether it was edited (False: it went out as one post)."""

    marks: float
    seconds: float
    edited: bool = True


@dataclass
class Lives:
    """Recent answers' lives, and what they say about one in flight.

    The planner asks for every answer in flight each time it looks, so what the history says is
    summed once per answer recorded (`_Summary`), not once per question asked of it.
    """

    max_marks: int
    history: deque[Life] = field(default_factory=lambda: deque(maxlen=HISTORY))
    _summary: _Summary | None = field(default=None, init=False, repr=False)
    _odds: Odds | None = field(default=None, init=False, repr=False)
    _odds_of: _Summary | None = field(default=None, init=False, repr=False)
    _odds_at: float = field(default=0.0, init=False, repr=False)

    def record(self, marks: float, seconds: float, *, edited: bool = True) -> None:
        if marks > 0 and seconds > 0:
            self.history.append(Life(marks, seconds, edited))
            self._summary = None

    @property
    def summary(self) -> _Summary:
        if self._summary is None:
            self._summary = _Summary.of(self.history)
        return self._summary

    def odds(self, now: float) -> Odds | None:
        """Recent answers' lengths as the odds of where one in flight ends (None: fewer than
        `FIRST_FEW` seen). Read again from the history when it has changed, at most every
        `REFRESH` seconds: each reading solves its tables anew, and a burst of answers ending
        together changes the odds little."""
        if len(self.history) < FIRST_FEW:
            return None
        summary = self.summary
        if self._odds is None or (self._odds_of is not summary and now - self._odds_at >= REFRESH):
            odds = Odds(summary.ordered)
            if self._odds is not None:  # prices move little between readings
                odds.start_at(self._odds)
            self._odds, self._odds_of, self._odds_at = odds, summary, now
        return self._odds

    def edited_share(self) -> float:
        """The share of recent answers that needed an edit (1 before any was seen)."""
        if not self.history:
            return 1.0
        return self.summary.edited / len(self.history)

    def rate(self, marks: float, elapsed: float) -> float:
        """Marks a second: the answer's own pace once it has one, else recent answers'."""
        if elapsed >= OWN_PACE_AFTER and marks >= OWN_PACE_MARKS:
            return marks / elapsed
        summary = self.summary
        if summary.seconds > 0:
            return summary.marks / summary.seconds
        return DEFAULT_RATE

    def length(self, marks: float) -> float:
        """The marks an answer with `marks` so far is expected to reach."""
        count, total = self.summary.longer_than(marks)
        cold = COLD_SHARE * self.max_marks
        # The cold guess counts as `FIRST_FEW` answers less those seen: one or two short
        # answers first say little about the next ones.
        prior = max(FIRST_FEW - len(self.history), 0) if marks < cold else 0
        if count or prior:
            expected = (total + prior * cold) / (count + prior)
        else:
            # Half way to `max_tokens` at most: it ends by then, as likely before as after.
            expected = min(LONGER * marks, (marks + self.max_marks) / 2)
        return min(max(expected, marks), max(self.max_marks, marks))

    def new_life(self, in_flight: Iterable[float]) -> float:
        """Seconds a new answer is expected to stream, the answers in flight (`marks` so
        far each) counted at the length each is expected to reach. Answers that ended are the
        short ones first: the long ones are still streaming, and leaving them out would make
        every next answer look short."""
        flying = [self.length(marks) for marks in in_flight if marks > 0]
        count = len(self.history) + len(flying)
        prior = max(FIRST_FEW - count, 0)
        total = self.summary.marks + sum(flying)
        expected = (total + prior * COLD_SHARE * self.max_marks) / (count + prior)
        return max(expected / self.rate(0, 0.0), LEAST)

    def remaining(self, marks: float, elapsed: float) -> float:
        """Seconds an answer that has streamed `marks` over `elapsed` seconds has left."""
        left = self.length(marks) - marks
        return max(left / self.rate(marks, elapsed), LEAST)


@dataclass(frozen=True)
class _Summary:
    """Recent answers summed: their marks in order with the sums of the longest ones."""

    marks: float
    seconds: float
    edited: int
    ordered: tuple[float, ...]  # each answer's marks, ascending
    tails: tuple[float, ...]  # tails[i]: the sum of ordered[i:]

    @classmethod
    def of(cls, history: Iterable[Life]) -> _Summary:
        lives = list(history)
        ordered = sorted(life.marks for life in lives)
        tails = [0.0] * (len(ordered) + 1)
        for i in range(len(ordered) - 1, -1, -1):
            tails[i] = tails[i + 1] + ordered[i]
        return cls(
            marks=sum(life.marks for life in lives),
            seconds=sum(life.seconds for life in lives),
            edited=sum(1 for life in lives if life.edited),
            ordered=tuple(ordered),
            tails=tuple(tails),
        )

    def longer_than(self, marks: float) -> tuple[int, float]:
        """How many recent answers went past `marks`, and their marks summed."""
        start = bisect.bisect_right(self.ordered, marks)
        return len(self.ordered) - start, self.tails[start]
