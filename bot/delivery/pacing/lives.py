"""How much longer an answer will stream, learned from the answers before it (pure).

The planner spreads the calls a window has left over the remaining life of the answers in
flight, so it needs that life before the answers end. Progress is counted in *marks*: each
text delta the model sent is one mark (the reply asks its scheduler for an edit per delta). A
delta carries a few tokens, so an answer's marks never exceed its `max_tokens`.

* The pace of an answer is its own, once it has streamed long enough to say; before that, the
  pace of recent answers; before any answer, `DEFAULT_RATE`.
* Its length is what recent answers that got this far went on to reach (their mean); with no
  such answer, half as long again as now; with no history at all, `max_tokens` (the longest an
  answer can be, so the planner starts cautious and learns).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

HISTORY = 50  # recent answers remembered
DEFAULT_RATE = 30.0  # marks a second before any answer was seen (a delta is a few tokens)
OWN_PACE_AFTER = 0.25  # seconds of an answer's own stream before its pace is trusted
OWN_PACE_MARKS = 4
LONGER = 1.5  # an answer past every recent one is expected to go on to this times its length
LEAST = 0.05  # seconds: an answer in flight is never expected to end sooner than this


@dataclass(frozen=True)
class Life:
    """One finished answer: how many marks, over how many seconds (first to last mark)."""

    marks: int
    seconds: float


@dataclass
class Lives:
    """Recent answers' lives, and what they say about one in flight."""

    max_marks: int
    history: deque[Life] = field(default_factory=lambda: deque(maxlen=HISTORY))

    def record(self, marks: int, seconds: float) -> None:
        if marks > 0 and seconds > 0:
            self.history.append(Life(marks, seconds))

    def rate(self, marks: int, elapsed: float) -> float:
        """Marks a second: the answer's own pace once it has one, else recent answers'."""
        if elapsed >= OWN_PACE_AFTER and marks >= OWN_PACE_MARKS:
            return marks / elapsed
        seconds = sum(life.seconds for life in self.history)
        if seconds > 0:
            return sum(life.marks for life in self.history) / seconds
        return DEFAULT_RATE

    def length(self, marks: int) -> float:
        """The marks an answer with `marks` so far is expected to reach."""
        if not self.history:
            return float(max(self.max_marks, marks))
        longer = [life.marks for life in self.history if life.marks > marks]
        expected = sum(longer) / len(longer) if longer else LONGER * marks
        return min(max(expected, marks), max(self.max_marks, marks))

    def remaining(self, marks: int, elapsed: float) -> float:
        """Seconds an answer that has streamed `marks` over `elapsed` seconds has left."""
        left = self.length(marks) - marks
        return max(left / self.rate(marks, elapsed), LEAST)
