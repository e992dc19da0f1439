"""The least mean lag any schedule obeying Slack's windows could reach on a recorded workload.

Lag is counted per model chunk: from the moment the model sent it to the moment Slack shows a
version of the answer's message that contains it. The bound uses Slack's rules only, nothing
of our design:

* an answer is one message; its first version is a `chat.postMessage`, which Slack counts per
  channel, not against the workspace's `chat.update` window. Every later version is a
  `chat.update`, and the workspace allows at most `per_minute` of those in any 60 seconds;
* a version shows everything the model had sent by then, and the last version cannot come
  before the last chunk (it is the final edit; a whole answer may also go out as one post).

For one answer given m versions, the least wait is reached by spreading them evenly over the
answer's life (first chunk to last), the last one at its end; each chunk waits for the next
version. For a model writing at a steady pace that spacing is the best there is: the wait grows
with the square of each gap, so equal gaps give the least sum.

Across answers the rolling minute is relaxed to disjoint 60-second blocks: a schedule that keeps
every rolling minute within `per_minute` keeps each block within it too. An answer's updates may
fall in any block its life overlaps, in any split. Each further update goes to the answer whose
waiting it cuts most, as long as the updates can still be placed in blocks with room (greedy on
decreasing gains over such a set of limits finds the least total). The bound is the largest of
these relaxations over twelve block offsets. Per-channel post limits are left out (a relaxation
too). Every step only drops a constraint, so no real schedule can do better than the figure
returned. It is looser when a run does not span whole minutes: a last block holding a few
seconds of answers still gets a whole minute's updates (a rolling window allows that only if
the calls bunch up at the block's start, which a steady stream of answers cannot use fully).

`least_total_wait_rolling` closes most of that gap: a linear program over one-second slots in
which every run of sixty slots, each a real 60-second interval, holds at most `per_minute`
updates, all such windows at once (a rolling minute at one-second steps), with an answer's
updates in the slots its life overlaps and fractional updates allowed. A schedule obeying
Slack's window obeys each of these constraints, and its waiting is at least the even spread's
for its counts; the program's optimum is therefore a lower bound too, one that the last
block's spare minute no longer loosens. `least_mean_lag` takes the largest of all the bounds.

Like the blocks, the program takes an answer's versions to fall within its life, the last at
its end (the final edit as the answer ends, as issue 14 defines the least possible), and
evenly spread: the least for a model writing at a steady pace. With chunks far apart or in
bursts, versions placed at chunk times can do a little better than the even spread (four
chunks a second apart, two versions: 2 s of waiting at 1 s and 3 s, 3 s evenly spread); the
benchmark's answers are thousands of one-token chunks at a steady 80 a second, where the two
differ by a fraction of a chunk's 12.5 ms per version.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_array

WINDOW = 60.0
# Block starts tried, as fractions of a minute. Each offset's relaxation is a valid bound on
# its own, so the largest is too; more offsets only tighten it (on workload 3's nominal times
# 12 give the same bound as 48, where 4 left it 2% loose).
OFFSETS = tuple(n / 12 for n in range(12))


def spread_wait(times: Sequence[float], start: float, end: float, versions: int) -> float:
    """Total wait of chunks sent at `times` (within [start, end]) when `versions` versions are
    spread evenly over (start, end], the last at `end`."""
    if versions <= 0:
        raise ValueError("at least one version is needed to show anything")
    step = (end - start) / versions
    if step <= 0:
        return sum(max(end - t, 0.0) for t in times)
    total = 0.0
    for t in times:
        # The first version at or after t: start + j * step, j = ceil((t - start) / step) >= 1.
        j = max(-(-(t - start) // step), 1)
        total += min(start + j * step, end) - t
    return total


@dataclass
class _Answer:
    times: list[float]
    first: int  # the blocks its life overlaps, first to last
    last: int
    updates: int = 0

    def wait(self, updates: int) -> float:
        """With the post and `updates` updates spread over its life."""
        return spread_wait(self.times, self.times[0], self.times[-1], 1 + updates)


def placeable(answers: Sequence[_Answer], per_minute: int) -> bool:
    """Whether every answer's updates fit in blocks it overlaps, `per_minute` a block (earliest
    deadline first: an answer's last block is its deadline)."""
    if not answers:
        return True
    by_start = sorted(range(len(answers)), key=lambda n: answers[n].first)
    waiting: list[tuple[int, int]] = []  # (last block, updates still to place)
    n = 0
    block = answers[by_start[0]].first
    while n < len(by_start) or waiting:
        if not waiting:
            block = max(block, answers[by_start[n]].first)
        while n < len(by_start) and answers[by_start[n]].first <= block:
            answer = answers[by_start[n]]
            if answer.updates:
                heapq.heappush(waiting, (answer.last, answer.updates))
            n += 1
        room = per_minute
        while waiting and room:
            last, left = heapq.heappop(waiting)
            if last < block:
                return False
            placed = min(left, room)
            room -= placed
            if left > placed:
                heapq.heappush(waiting, (last, left - placed))
        if waiting and waiting[0][0] <= block:
            return False
        block += 1
    return True


def least_total_wait(answers: Sequence[Sequence[float]], per_minute: int, offset: float) -> float:
    """The relaxation with blocks starting `offset` minutes before the first chunk."""
    live = [sorted(a) for a in answers if a]
    origin = min(a[0] for a in live) - offset * WINDOW
    state = [
        _Answer(a, int((a[0] - origin) // WINDOW), int((a[-1] - origin) // WINDOW)) for a in live
    ]
    gains = [(-(s.wait(0) - s.wait(1)), n) for n, s in enumerate(state)]
    heapq.heapify(gains)
    while gains:
        gain, n = heapq.heappop(gains)
        if -gain <= 0:
            break
        answer = state[n]
        answer.updates += 1
        if not placeable(state, per_minute):
            answer.updates -= 1  # no room in its blocks now, nor later
            continue
        heapq.heappush(gains, (-(answer.wait(answer.updates) - answer.wait(answer.updates + 1)), n))
    return sum(s.wait(s.updates) for s in state)


SLOT = 1.0  # seconds: the rolling program's step (a minute is `WINDOW / SLOT` slots)


def least_total_wait_rolling(
    answers: Sequence[Sequence[float]], per_minute: int, slot: float = SLOT
) -> float:
    """The linear program of the module docstring: every `WINDOW / slot` consecutive slots hold
    at most `per_minute` updates; answer i's k-th update, a fraction of it allowed, cuts its
    waiting by wait(k - 1) - wait(k) of the even spread."""
    live = [sorted(a) for a in answers if a]
    if not live:
        return 0.0
    base = [spread_wait(a, a[0], a[-1], 1) for a in live]
    if per_minute <= 0:
        return sum(base)
    origin, span = min(a[0] for a in live), round(WINDOW / slot)
    cost: list[float] = []
    eq_rows: list[int] = []
    eq_cols: list[int] = []
    eq_values: list[float] = []
    by_slot: dict[int, list[int]] = {}  # the x columns of each slot
    for n, times in enumerate(live):
        for s in range(int((times[0] - origin) // slot), int((times[-1] - origin) // slot) + 1):
            by_slot.setdefault(s, []).append(len(cost))
            eq_rows.append(n)
            eq_cols.append(len(cost))
            eq_values.append(-1.0)
            cost.append(0.0)
    x_columns = len(cost)
    for n, times in enumerate(live):
        for gain in _gains(times, per_minute):
            eq_rows.append(n)
            eq_cols.append(len(cost))
            eq_values.append(1.0)
            cost.append(-gain)
    # A window for each run of `span` slots not inside another: from the first slot to the
    # last that starts a full run.
    last = max(by_slot)
    starts = range(0, max(last - span + 1, 0) + 1)
    w_rows, w_cols = [], []
    for row, start in enumerate(starts):
        for s in range(start, start + span):
            for column in by_slot.get(s, ()):
                w_rows.append(row)
                w_cols.append(column)
    columns = len(cost)
    result = linprog(
        np.array(cost),
        A_ub=coo_array((np.ones(len(w_rows)), (w_rows, w_cols)), shape=(len(starts), columns)),
        b_ub=np.full(len(starts), float(per_minute)),
        A_eq=coo_array((eq_values, (eq_rows, eq_cols)), shape=(len(live), columns)),
        b_eq=np.zeros(len(live)),
        bounds=[(0, None)] * x_columns + [(0, 1)] * (columns - x_columns),
        method="highs",
    )
    if result.status != 0:
        raise RuntimeError(f"the rolling bound's program did not solve: {result.message}")
    return sum(base) + float(result.fun)


def _gains(times: Sequence[float], per_minute: int) -> list[float]:
    """What each further update could cut from an answer's waiting: the steps of the even
    spread's wait, made non-increasing in the number of versions (an answer given more updates
    than it can use may leave some idle), as many as the window could let through in its life
    (a minute's calls for each minute it spans, and one more)."""
    most = per_minute * (math.floor((times[-1] - times[0]) / WINDOW) + 2)
    waits = [spread_wait(times, times[0], times[-1], 1)]
    for versions in range(2, most + 2):
        waits.append(min(waits[-1], spread_wait(times, times[0], times[-1], versions)))
    gains = [earlier - later for earlier, later in itertools.pairwise(waits)]
    while gains and gains[-1] <= 0:
        gains.pop()
    return gains


def least_mean_lag(answers: Sequence[Sequence[float]], per_minute: int) -> float:
    """The least mean lag per chunk (seconds) for answers whose chunks the model sent at the
    given times, under a workspace window of `per_minute` `chat.update` calls: the largest of
    the valid bounds (each block offset's, and the rolling program's)."""
    chunks = sum(len(a) for a in answers)
    if chunks == 0:
        return 0.0
    blocks = max(least_total_wait(answers, per_minute, offset) for offset in OFFSETS)
    return max(blocks, least_total_wait_rolling(answers, per_minute)) / chunks
