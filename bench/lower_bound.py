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
with the square of each gap, so equal gaps give the least sum. Across answers, each further
`chat.update` goes where it cuts the most waiting (greedy on decreasing gains, which is optimal
for such separable convex costs).

The rolling minute is relaxed to disjoint 60-second blocks: any schedule that keeps every rolling
minute within `per_minute` keeps each block within it too. An answer crossing a block boundary
is cut there and given a free version at the cut, which can only lower the figure. The bound is
the largest of these relaxations over a few block offsets. Per-channel post limits are left out
(also a relaxation). Every step drops a constraint or adds a free version, so no real schedule
can do better than the figure returned.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Sequence
from dataclasses import dataclass

WINDOW = 60.0
OFFSETS = (0.0, 0.25, 0.5, 0.75)  # block starts tried, as fractions of a minute


def spread_wait(times: Sequence[float], start: float, end: float, versions: int) -> float:
    """Total wait of chunks sent at `times` (sorted, within [start, end]) when `versions`
    versions are spread evenly over (start, end], the last at `end`."""
    if versions <= 0:
        raise ValueError("at least one version is needed to show anything")
    step = (end - start) / versions
    total = 0.0
    for t in times:
        # The first version at or after t: start + j * step with j = ceil((t - start) / step).
        if step <= 0:
            total += max(end - t, 0.0)
            continue
        j = -(-(t - start) // step)
        total += min(start + max(j, 1) * step, end) - t
    return total


@dataclass
class _Part:
    """The piece of one answer inside one block, and what it may use."""

    times: list[float]
    start: float
    end: float
    free: int  # versions that cost no chat.update: the post, a cut at the block's end
    updates: int = 0

    def wait(self, updates: int) -> float:
        return spread_wait(self.times, self.start, self.end, self.free + updates)


def _parts(answer: Sequence[float], first_block: float) -> dict[int, _Part]:
    """Cut one answer's chunk times at block boundaries (blocks start at `first_block`)."""
    times = sorted(answer)
    start, end = times[0], times[-1]
    first = int((start - first_block) // WINDOW)
    last = int((end - first_block) // WINDOW)
    parts = {}
    for block in range(first, last + 1):
        lo = max(start, first_block + block * WINDOW)
        hi = min(end, first_block + (block + 1) * WINDOW)
        inside = times[bisect.bisect_left(times, lo) : bisect.bisect_left(times, hi)]
        if block == last:
            inside = times[bisect.bisect_left(times, lo) :]
        # One free version in every part: the post wherever a schedule puts it (a part after
        # the first gets one too, which can only lower the figure), and one at a cut.
        cut = block != last
        parts[block] = _Part(inside, lo, hi, free=1 + int(cut))
    return parts


def _allocate(parts: list[_Part], per_minute: int) -> float:
    """The least total wait of one block's parts with `per_minute` updates among them."""
    left = per_minute
    heap = []
    for n, part in enumerate(parts):
        if part.times:
            gain = part.wait(part.updates) - part.wait(part.updates + 1)
            heap.append((-gain, n))
    heapq.heapify(heap)
    while left > 0 and heap:
        gain, n = heapq.heappop(heap)
        if -gain <= 0:
            break
        part = parts[n]
        part.updates += 1
        left -= 1
        heapq.heappush(heap, (-(part.wait(part.updates) - part.wait(part.updates + 1)), n))
    return sum(part.wait(part.updates) for part in parts if part.times)


def least_total_wait(answers: Sequence[Sequence[float]], per_minute: int, offset: float) -> float:
    """The relaxation with blocks starting `offset` minutes before the first chunk."""
    live = [a for a in answers if a]
    first_block = min(min(a) for a in live) - offset * WINDOW
    blocks: dict[int, list[_Part]] = {}
    for answer in live:
        for block, part in _parts(answer, first_block).items():
            blocks.setdefault(block, []).append(part)
    return sum(_allocate(parts, per_minute) for parts in blocks.values())


def least_mean_lag(answers: Sequence[Sequence[float]], per_minute: int) -> float:
    """The least mean lag per chunk (seconds) for answers whose chunks the model sent at the
    given times, under a workspace window of `per_minute` `chat.update` calls."""
    chunks = sum(len(a) for a in answers)
    if chunks == 0:
        return 0.0
    best = max(least_total_wait(answers, per_minute, offset) for offset in OFFSETS)
    return best / chunks
