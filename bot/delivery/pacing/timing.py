"""When a message's next version should go, given how long recent answers ran (pure).

The planner says how densely versions can be spread (`versions` per second of an answer's
life). With a known length the best is to spread them evenly, the final the last. But an
answer's length is not known while it streams: recent answers that got as far went on to
different lengths, and a guess at one length (their mean, say) edits a message just before an
end that was likely, or leaves a long gap before one that was not.

`Timing` weighs every end recent answers reached. Lengths are in marks (about tokens), and so
is waiting: a chunk waits the marks written after it until a version shows it, so a stretch of
`d` marks shown at its end waits `d² / 2`. An edit costs `price`, the waiting it must save to be
worth a call. `value[i]` is the least expected cost of the rest of an answer whose last version
showed `points[i]` marks, taken over the recent answers longer than that (unnormalised: summed
over them, not averaged): its next edit at each later point, or none before its final, which it
owes anyway. The points are a grid over the longest recent answer with every recent length
added, so that an edit can wait just past an end that was likely.

An unposted answer's post is free (Slack counts posts per channel) but commits it to a final
edit that going out whole at its end would not need: the same `price`, paid by the answers still
streaming at the post, as an edit is. So one table serves both.

The price comes from the window, not from a formula: `density` is the versions per mark a new
answer spends at this price by the table's own choices (its post, edits and final, or one whole
post), and `Odds.priced` picks the price whose density is the planner's.

One choice is not the table's exact one: editing *at once* (between two points) is costed
eagerly, as if the answers still streaming at the next point were shown from there, so it
leans towards an edit now over one at a later point. An answer asked mark by mark therefore
spends more than `density` says (about 1.4-1.9 times on workload 3's lengths). What keeps that
within Slack's window is the planner, not this table: the density it prices at falls as the
window's calls run short, and a routine edit goes only while a call is left beyond the finals
owed (`Plan.free`). Costed exactly, the choices spend the density and no more, and
`bench simulate` measured them worse: workload 3 at 1.33-1.34x the least possible (1.28x with the
density raised by half, 1.64x doubled) against 1.20x eagerly. The table prices every edit
alike, while a rolling window's calls age out unspent if no one uses them: an edit now spends
a call the window has now, one planned for later competes with every other answer's.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

POINTS = 100  # grid points over the longest recent answer (recent lengths come on top)


@dataclass(frozen=True)
class Timing:
    """The least expected cost to come from each point (see the module docstring)."""

    lengths: tuple[float, ...]  # recent answers' lengths in marks, ascending
    price: float  # the waiting (marks²) an edit must save to be made
    points: tuple[float, ...]  # marks where a version may go, ascending, from 0
    value: tuple[float, ...]  # per point: the least cost to come, summed over the answers alive
    ended: tuple[int, ...]  # per point: recent answers not longer than it
    sums: tuple[float, ...]  # their marks summed
    squares: tuple[float, ...]  # their marks squared, summed
    density: float  # versions per mark of a new answer's life, as this table spends them

    @classmethod
    def solve(cls, lengths: Sequence[float], price: float, grid: int = POINTS) -> Timing:
        ordered = tuple(sorted(lengths))
        longest = ordered[-1]
        points = tuple(sorted({longest * n / grid for n in range(grid + 1)} | set(ordered)))
        ended, sums, squares = [], [], []
        count, s1, s2 = 0, 0.0, 0.0
        for at in points:
            while count < len(ordered) and ordered[count] <= at:
                s1, s2 = s1 + ordered[count], s2 + ordered[count] ** 2
                count += 1
            ended.append(count)
            sums.append(s1)
            squares.append(s2)
        total, size = len(ordered), len(points)
        value = [0.0] * size
        edits = [0.0] * size  # the edits the choices make, summed like `value`
        for i in range(size - 1, -1, -1):
            alive = total - ended[i]
            if alive == 0:
                continue
            s = points[i]
            # No more edits: every answer still streaming waits for its final.
            best = _waited(s, alive, s1 - sums[i], s2 - squares[i]) / 2
            for j in range(i + 1, size):
                left = total - ended[j]
                if left == 0:
                    break
                gap = points[j] - s
                # The answers that end by points[j], and those still streaming then.
                waited = _waited(s, ended[j] - ended[i], sums[j] - sums[i], squares[j] - squares[i])
                waited = (waited + left * gap * gap) / 2
                if waited >= best:  # it only grows with j: no later point can do better
                    break
                candidate = waited + left * price + value[j]
                if candidate < best:
                    best, edits[i] = candidate, left + edits[j]
            value[i] = best
        table = cls(
            ordered, price, points, tuple(value), tuple(ended), tuple(sums), tuple(squares), 0.0
        )
        # A new answer: whole at its end (one version), or its post, edits and final.
        post = table.next_version(shown=0.0, now=0.0)
        versions = float(total)
        if post != math.inf:
            j = bisect.bisect_left(points, post)
            versions += (total - ended[j]) + edits[j]
        return replace(table, density=versions / s1)

    def alive(self, marks: float) -> int:
        """Recent answers longer than `marks`."""
        return _longer_than(self.lengths, marks)

    def next_version(self, *, shown: float, now: float) -> float:
        """Where (in marks) the next version of an answer should go, once it has written `now`
        marks and its last version showed `shown` (`now` itself: at once; infinity: none
        before its end)."""
        alive = self.alive(now)
        first = bisect.bisect_right(self.points, now)
        if alive == 0 or first >= len(self.points):
            return math.inf
        lengths, points, value = self.lengths, self.points, self.value
        gone = len(lengths) - alive
        s1 = sum(lengths[:gone])
        s2 = sum(x * x for x in lengths[:gone])
        s = shown
        best = _waited(s, alive, self.sums[-1] - s1, self.squares[-1] - s2) / 2
        best_at = math.inf
        # At once (when there is something new to show): costed eagerly, as if the answers
        # still streaming at the next point were shown from there (the stretch between is
        # left out), with those that end before it waiting from `now`. See the module
        # docstring for why not exactly.
        if now > s:
            ending = self.ended[first] - gone
            between = _waited(now, ending, self.sums[first] - s1, self.squares[first] - s2)
            candidate = alive * ((now - s) ** 2 / 2 + self.price) + between / 2 + value[first]
            if candidate < best:
                best, best_at = candidate, now
        for j in range(first, len(points)):
            left = len(lengths) - self.ended[j]
            if left == 0:
                break
            gap = points[j] - s
            waited = _waited(s, self.ended[j] - gone, self.sums[j] - s1, self.squares[j] - s2)
            waited = (waited + left * gap * gap) / 2
            if waited >= best:
                break
            candidate = waited + left * self.price + value[j]
            if candidate < best:
                best, best_at = candidate, points[j]
        return best_at


def _longer_than(lengths: Sequence[float], marks: float) -> int:
    """How many of `lengths` (ascending) are longer than `marks`."""
    return len(lengths) - bisect.bisect_right(lengths, marks)


def _waited(shown: float, count: int, total: float, squares: float) -> float:
    """Twice the waiting of `count` answers, of marks summing to `total` and squares to
    `squares`, each shown whole at its end after a version at `shown`: the sum of
    `(length - shown)²`."""
    return squares - 2 * shown * total + shown * shown * count


PRICE_STEP = 1.1  # prices tried: bucket n is PRICE_STEP ** n marks²
PRICES = 300  # buckets at most; those above the longest answer's whole waiting are never tried


@dataclass
class Odds:
    """Recent answers' lengths, with a `Timing` for each price as it is needed, and the search
    for the price at which a new answer spends a given density."""

    lengths: tuple[float, ...]  # ascending, at least one, each above 0
    _tables: dict[int, Timing] = field(default_factory=dict, repr=False)
    _last: int = 0  # where the last search ended: the next starts there
    _top: int = field(default=PRICES, init=False, repr=False)  # buckets worth trying

    def __post_init__(self) -> None:
        # At a price above the longest answer's whole waiting no edit is ever worth a call:
        # every higher price gives the same table.
        whole = max(self.lengths[-1] ** 2 / 2, 1.0)
        self._top = min(math.ceil(math.log(whole) / math.log(PRICE_STEP)) + 2, PRICES)
        self._last = self._top // 2

    def alive(self, marks: float) -> int:
        """Recent answers longer than `marks`."""
        return _longer_than(self.lengths, marks)

    def start_at(self, earlier: Odds) -> None:
        """Search first where `earlier` last found its price."""
        self._last = min(earlier._last, self._top - 1)

    def priced(self, density: float) -> Timing:
        """The table of the least price at which a new answer spends no more than `density`
        versions per mark (the highest tried, if every price spends more). Density falls as
        the price rises; the search gallops out from where the last one ended, so a density
        that drifts costs a few tables, not a search from scratch (a fresh `Odds`, as answers
        end, solves its tables anew: up to about a dozen, 2-4 ms each)."""

        def spends_more(bucket: int) -> bool:
            return self._table(bucket).density > density

        top = self._top
        low, high = -1, top  # spends_more(low) holds, spends_more(high) does not (or ends)
        step, start = 1, self._last
        if spends_more(start):
            low = start
            while low + step < top and spends_more(low + step):
                low, step = low + step, step * 2
            high = min(low + step, top)
        else:
            high = start
            while high - step >= 0 and not spends_more(high - step):
                high, step = high - step, step * 2
            low = max(high - step, -1)
        while high - low > 1:
            middle = (low + high) // 2
            if spends_more(middle):
                low = middle
            else:
                high = middle
        self._last = min(high, top - 1)
        return self._table(self._last)

    def _table(self, bucket: int) -> Timing:
        table = self._tables.get(bucket)
        if table is None:
            table = self._tables[bucket] = Timing.solve(self.lengths, PRICE_STEP**bucket)
        return table
