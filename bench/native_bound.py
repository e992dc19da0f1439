"""The least mean lag on the native transport, with Slack's minute of stream starts counted.

`lower_bound.least_mean_lag(..., final_free=True)` bounds schedules that stream every answer:
a free first version, `chat.appendStream` calls from a window of 100 a minute, and the final
text on `chat.stopStream`. Slack allows only 20 `chat.startStream` a minute in a workspace
(Tier 2), so past 20 answers in a minute some must go as a `chat.postMessage` edited with
`chat.update` — a window of its own (50 a minute) whose final edit is a call. That bound lets
all of them stream, and ignores the second window: on 100 answers at once it is far too low
(workload 2: every answer's final free), and where answers go by both methods it is not even
sure to be below what a schedule can do (two windows give more versions than one).

This module bounds schedules obeying all of Slack's native rules at once, as a linear program
over one-second slots like `lower_bound.least_total_wait_rolling`:

* an answer either **streams** (its start, a version of the window of starts, falls between
  its question and its end: a later start shows nothing earlier than a whole post at its end,
  which the other mode covers) or is **posted**. Streaming, it has a free start, a free final
  (the stop, at its end), and further versions from appends or updates (either window: a
  relaxation if Slack allows only appends on a stream). Posted, it has a free post and further
  versions from updates only, the last one (its final) at its end unless it goes out whole;
* every sixty consecutive slots hold at most `starts` starts, `appends` appends and `updates`
  updates; an answer's calls fall in the slots its life overlaps;
* each mode's waits by versions are those of `lower_bound` (evenly spread, convexified), and
  with `asked` and `first_words` the first words must show within 1.5 s of the question, as
  there (a posted answer running past that owes one update: its final);
* which mode is relaxed to a fraction `y` (the starts the answer takes): its stream-mode
  calls count at most `y` each step of its convex waits, its posted-mode calls at most
  `1 - y` (the perspective of the two convex waits). A real schedule is a point of the program
  with `y` 0 or 1 and its waits no smaller than the program charges, so the optimum bounds
  every schedule from below. Stops (Tier 2 too) and per-channel post limits are left out:
  dropping a rule only lowers the bound.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_array

from bench.lower_bound import (
    FIRST_WORDS_DEADLINE,
    SLOT,
    WINDOW,
    _convex,
    first_words_wait,
    spread_wait,
)

STARTS, APPENDS, UPDATES = 20, 100, 50  # Slack's tiers for the three windows, a minute


def _waits(times: np.ndarray, versions_before: int, most: int, asked: float | None) -> list[float]:
    """Least waits for 0..most calls, with `versions_before` free versions besides the calls
    (the start and the stop: 1 after the first; a post: 0 after it)."""
    if asked is None:
        start, end = float(times[0]), float(times[-1])
        raw = [spread_wait(times, start, end, k + versions_before + 1) for k in range(most + 1)]
    else:
        raw = [first_words_wait(times, asked, k + versions_before) for k in range(most + 1)]
    return _convex(raw)


def least_native_mean_lag(
    answers: Sequence[Sequence[float]],
    asked: Sequence[float],
    *,
    first_words: bool = False,
    starts: int = STARTS,
    appends: int = APPENDS,
    updates: int = UPDATES,
    slot: float = SLOT,
) -> float:
    """The least mean lag per chunk (seconds) of answers whose chunks the model sent at the
    given times, asked at `asked`, under Slack's native windows (module docstring); with
    `first_words`, for schedules also showing first words within 1.5 s of each question."""
    if len(asked) != len(answers):
        raise ValueError("one question time per answer")
    pairs = [(np.sort(np.asarray(t, dtype=float)), q) for t, q in zip(answers, asked, strict=True)]
    pairs = [(t, q) for t, q in pairs if t.size]
    chunks = sum(t.size for t, _ in pairs)
    if not chunks:
        return 0.0
    origin = min(min(float(t[0]), q) for t, q in pairs)
    span = round(WINDOW / slot)
    cost: list[float] = []
    bounds: list[tuple[float, float | None]] = []
    rows: list[tuple[int, int, float]] = []  # (row, column, value) of the equalities
    b_eq: list[float] = []
    ub_rows: list[tuple[int, int, float]] = []  # per-increment caps: u - y <= 0, u + y <= 1
    b_ub: list[float] = []
    windows: dict[str, dict[int, list[int]]] = {"starts": {}, "appends": {}, "updates": {}}
    total = 0.0

    def column(value: float, upper: float | None = None) -> int:
        cost.append(value)
        bounds.append((0.0, upper))
        return len(cost) - 1

    def at(when: float) -> int:
        return int((when - origin) // slot)

    def steps(
        waits: list[float], *, calls: list[int], owed: float, y: int, y_sign: float, cap: float
    ) -> None:
        """One mode's calls: sum(calls) + owed * y - sum(steps) = owed, each step (the cut in
        waiting of one more call) a column with step + y_sign * y <= cap."""
        eq = len(b_eq)
        b_eq.append(owed)
        rows.extend((eq, c, 1.0) for c in calls)
        if owed:
            rows.append((eq, y, owed))
        for earlier, later in itertools.pairwise(waits):
            if earlier - later <= 1e-12:
                break
            u = column(-(earlier - later))
            rows.append((eq, u, -1.0))
            row = len(b_ub)
            b_ub.append(cap)
            ub_rows.extend(((row, u, 1.0), (row, y, y_sign)))

    for t, q in pairs:
        start, end = float(t[0]), float(t[-1])
        most = max(appends, updates) * (math.floor((end - start) / WINDOW) + 2)
        when = q if first_words else None
        streamed = _waits(t, 1, 2 * most, when)  # start + stop free
        posted = _waits(t, 0, most, when)
        owed = next(k for k, w in enumerate(posted) if w < math.inf)  # the posted final, if due
        base = posted[owed]
        total += base
        # y: the answer streams (a fraction); its start falls in one slot from its question to
        # its end (with first words due, to the latest time they may first show)
        y = column(streamed[0] - base, 1.0)
        latest = max(min(q + FIRST_WORDS_DEADLINE, end), start) if first_words else end
        eq = len(b_eq)
        b_eq.append(0.0)
        rows.append((eq, y, 1.0))
        # (from the first chunk where the question is put later, as `first_token_rule` does
        # for a short answer: a wider range only lowers the bound)
        for s in range(at(min(q, start, latest)), at(latest) + 1):
            z = column(0.0)
            rows.append((eq, z, -1.0))
            windows["starts"].setdefault(s, []).append(z)
        stream_calls, posted_calls = [], []
        for s in range(at(start), at(end) + 1):
            for window, calls in (
                ("appends", stream_calls),
                ("updates", stream_calls),
                ("updates", posted_calls),
            ):
                calls.append(column(0.0))
                windows[window].setdefault(s, []).append(calls[-1])
        # stream-mode calls = their steps, each at most y
        steps(streamed, calls=stream_calls, owed=0.0, y=y, y_sign=-1.0, cap=0.0)
        # posted calls = owed (1 - y) + their steps, each at most 1 - y
        steps(posted[owed:], calls=posted_calls, owed=float(owed), y=y, y_sign=1.0, cap=1.0)

    for name, limit in (("starts", starts), ("appends", appends), ("updates", updates)):
        by_slot = windows[name]
        last = max(by_slot, default=0)
        for first in range(0, max(last - span + 1, 0) + 1):
            cap = len(b_ub)
            b_ub.append(float(limit))
            for s in range(first, first + span):
                ub_rows.extend((cap, c, 1.0) for c in by_slot.get(s, ()))

    def matrix(entries: list[tuple[int, int, float]], height: int) -> coo_array:
        r, c, v = zip(*entries, strict=True) if entries else ((), (), ())
        return coo_array((np.array(v, dtype=float), (r, c)), shape=(height, len(cost)))

    result = linprog(
        np.array(cost),
        A_ub=matrix(ub_rows, len(b_ub)),
        b_ub=np.array(b_ub),
        A_eq=matrix(rows, len(b_eq)),
        b_eq=np.array(b_eq),
        bounds=bounds,
        method="highs",
    )
    if result.status == 2:
        return math.inf  # the finals owed do not fit in the windows: no schedule does
    if result.status != 0:
        raise RuntimeError(f"the native bound's program did not solve: {result.message}")
    return (total + float(result.fun)) / chunks
