"""One scheduler per workspace and method decides when each answer message is edited.

Slack limits `chat.update` per app, per workspace (Tier 3, about 50 a minute), and every answer
in flight shares that budget; a per-message timer alone runs twenty answers into a wall of 429s.
So no reply edits Slack on its own: it marks its message *dirty* and the scheduler calls the
reply's `sync` when the message's turn comes. `sync` renders the newest text at that moment,
so edits coalesce (latest wins) and no intermediate version is ever queued.

Which message goes next is decided purely (`SchedulerCore`, tested with a fake clock):

* routine edits of one message are spaced by its fair share of the budget (never closer than
  `min_interval`): with one answer in flight that is about a second, with twenty about forty
  seconds, keeping one call per message in reserve for its final answer. "In flight" counts
  the answers streaming on every replica when the budget is shared;
* urgent edits (the first text and the final answer) skip the spacing and go first;
* otherwise the message that has waited longest since its first unsent change goes first,
  which is the one whose visible text lags furthest behind;
* a 429 keeps the message dirty: it is sent after the pause with whatever its newest text is;
* at most one edit per message is in flight, so an older version never lands after a newer one.

Whether a call may go *now* is the `CallWindow`'s decision (`window.py` beside this module):
Slack's per-minute and per-second windows and any 429 pause, kept in this process or shared
through Redis.

`UpdateScheduler` is the async driver: one worker task per workspace and method that sleeps until
the core has a message due and the budget has a call, and runs each `sync` as its own task so a
slow Slack call for one message never holds up the others (or the model stream).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field

from bot.delivery.pacing.window import WINDOW, CallWindow, Clock, Grant, LocalWindow
from bot.errors import RateLimited

log = logging.getLogger(__name__)

Sync = Callable[[], Awaitable[int]]
"""Sends a message's newest state to Slack; returns how many budgeted calls it made."""

WindowFactory = Callable[[str, str, int, int], CallWindow]
"""Makes the budget of (workspace, method, per_minute, burst)."""

REPORT_EVERY = 10.0  # seconds between telling a shared budget how many answers stream here


@dataclass
class _Slot:
    last_sent: float
    dirty_since: float | None = None
    urgent: bool = False
    in_flight: bool = False
    # What the edit in flight was sent for, restored if Slack answers 429.
    sending_since: float = 0.0
    sending_urgent: bool = False


@dataclass
class SchedulerCore:
    """Pure decisions about which message of one workspace and method to edit next.

    Routine edits are paced so that the minute's budget, less one call per message for its
    final answer, is shared equally by the messages in flight here and (`elsewhere`) on the
    other replicas.
    """

    per_minute: int
    min_interval: float
    elsewhere: int = 0
    slots: dict[Hashable, _Slot] = field(default_factory=dict, init=False)

    def mark(self, key: Hashable, now: float, *, urgent: bool = False) -> None:
        """The message `key` has changes Slack has not seen yet.

        A message's first mark comes right after it was posted, so routine edits are paced
        from then.
        """
        slot = self.slots.setdefault(key, _Slot(last_sent=now))
        if slot.dirty_since is None:
            slot.dirty_since = now
        slot.urgent = slot.urgent or urgent

    def forget(self, key: Hashable) -> None:
        self.slots.pop(key, None)

    def spacing(self) -> float:
        """Seconds between routine edits of one message: its fair share of the budget."""
        active = len(self.slots) + self.elsewhere
        spare = max(self.per_minute - active, self.per_minute // 4, 1)
        return max(self.min_interval, active * WINDOW / spare)

    def due(self, now: float) -> tuple[Hashable | None, float | None]:
        """The message to edit next if the budget allows, or None and when to ask again
        (None: when something is marked)."""
        spacing = self.spacing()
        ready, wake = [], None
        for key, slot in self.slots.items():
            if slot.dirty_since is None or slot.in_flight:
                continue
            at = now if slot.urgent else slot.last_sent + spacing
            if at <= now:
                ready.append((not slot.urgent, slot.dirty_since, key))
            else:
                wake = at if wake is None else min(wake, at)
        if not ready:
            return None, wake
        return min(ready, key=lambda item: (item[0], item[1]))[2], None

    def sending(self, key: Hashable, now: float) -> None:
        """An edit of `key` is going to Slack now."""
        slot = self.slots[key]
        assert slot.dirty_since is not None
        slot.sending_since, slot.sending_urgent = slot.dirty_since, slot.urgent
        slot.in_flight, slot.dirty_since, slot.urgent = True, None, False
        slot.last_sent = now

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
        """Slack said 429: keep the message's changes pending with their original lag."""
        slot = self.slots.get(key)
        if slot is None:
            return
        slot.in_flight = False
        slot.urgent = slot.urgent or slot.sending_urgent
        since = slot.sending_since
        slot.dirty_since = since if slot.dirty_since is None else min(slot.dirty_since, since)


@dataclass
class _Track:
    """Driver-side state of one message: its sync, and who waits for which generation."""

    sync: Sync
    requested: int = 0
    delivered: int = 0
    error: BaseException | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class UpdateScheduler:
    """Runs a `SchedulerCore` for one workspace and method against its `CallWindow`.

    Create with `start()`, end with `close()`.
    """

    def __init__(
        self, core: SchedulerCore, window: CallWindow, clock: Clock = time.monotonic
    ) -> None:
        self._core = core
        self._window = window
        self._clock = clock
        self._tracks: dict[Hashable, _Track] = {}
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._sends: set[asyncio.Task[None]] = set()
        self._reported_at = float("-inf")
        self._reported = 0

    def start(self) -> None:
        if self._worker is None:
            self._worker = asyncio.create_task(self._run(), name="update-scheduler")

    async def close(self) -> None:
        tasks = [t for t in (self._worker, *self._sends) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def request(self, key: Hashable, sync: Sync, *, urgent: bool = False) -> None:
        """Ask for `key` to be brought up to date by calling `sync` when its turn comes."""
        track = self._tracks.get(key)
        if track is None:
            track = self._tracks[key] = _Track(sync)
        track.sync = sync
        track.requested += 1
        self._core.mark(key, self._clock(), urgent=urgent)
        self._wake.set()

    async def flush(self, key: Hashable, sync: Sync) -> None:
        """Send `key` now (with priority) and wait until Slack has its newest state.

        Raises what `sync` raised, other than a 429, which is waited out.
        """
        self.request(key, sync, urgent=True)
        track = self._tracks[key]
        target = track.requested
        while track.delivered < target:
            if track.error is not None:
                raise track.error
            track.changed.clear()
            await track.changed.wait()
        if track.error is not None:
            raise track.error

    def forget(self, key: Hashable) -> None:
        """The message is finished: drop its state."""
        self._tracks.pop(key, None)
        self._core.forget(key)
        self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._report_if_due()
            key, wake_at = self._core.due(self._clock())
            if key is not None:
                grant = await self._window.acquire(len(self._core.slots))
                self._heard(grant.active)
                if not grant.granted:
                    # Nothing sooner can help: the budget is what binds, so new marks need
                    # not wake us (and a shared budget is not asked again per text delta).
                    await asyncio.sleep(grant.wait)
                    continue
                if key not in self._core.slots:  # forgotten while we asked
                    await self._window.settle(grant, 0)
                    continue
                self._core.sending(key, self._clock())
                task = asyncio.create_task(self._send(key, grant))
                self._sends.add(task)
                task.add_done_callback(self._sends.discard)
                continue
            self._wake.clear()
            timeout = None if wake_at is None else max(wake_at - self._clock(), 0.0)
            if self._core.slots:  # keep the other replicas' count of our answers fresh
                timeout = min(timeout if timeout is not None else REPORT_EVERY, REPORT_EVERY)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass

    def _heard(self, active: int) -> None:
        """The workspace's streaming messages, as the budget counted them just now."""
        mine = len(self._core.slots)
        self._core.elsewhere = max(active - mine, 0)
        self._reported, self._reported_at = mine, self._clock()

    async def _report_if_due(self) -> None:
        mine = len(self._core.slots)
        stale = self._clock() - self._reported_at >= REPORT_EVERY
        if (mine and stale) or (mine == 0 and self._reported):
            self._heard(await self._window.report(mine))

    async def _send(self, key: Hashable, grant: Grant) -> None:
        track = self._tracks.get(key)
        if track is None:
            self._core.done(key)
            await self._window.settle(grant, 0)
            return
        generation = track.requested
        try:
            calls = await track.sync()
        except RateLimited as exc:
            log.warning("Slack rate limit: pausing edits for %.1fs", exc.retry_after)
            self._core.rate_limited(key)
            await self._window.pause(exc.retry_after)
        except Exception as exc:  # the reply decides what a failed edit means
            track.error = exc
            self._core.done(key)
            track.changed.set()
        else:
            track.delivered = max(track.delivered, generation)
            self._core.done(key)
            await self._window.settle(grant, calls)
            track.changed.set()
        self._wake.set()


def local_windows(clock: Clock) -> WindowFactory:
    """Budgets kept by this process alone (one replica, or Redis not configured)."""

    def make(team: str, method: str, per_minute: int, burst: int) -> CallWindow:
        return LocalWindow(per_minute, burst, clock)

    return make


class Schedulers:
    """One `UpdateScheduler` per workspace and Slack method, created on first use.

    `per_minute` maps each method to its budget; Slack counts each method separately.
    `windows` makes each one's `CallWindow` (by default kept in this process).
    """

    def __init__(
        self,
        *,
        per_minute: Mapping[str, int],
        burst: int,
        min_interval: float,
        clock: Clock = time.monotonic,
        windows: WindowFactory | None = None,
    ) -> None:
        self._per_minute = dict(per_minute)
        self._burst = burst
        self._min_interval = min_interval
        self._clock = clock
        self._windows = windows or local_windows(clock)
        self._schedulers: dict[tuple[str, str], UpdateScheduler] = {}

    def for_team(self, team: str, method: str = "chat.update") -> UpdateScheduler:
        scheduler = self._schedulers.get((team, method))
        if scheduler is None:
            per_minute = self._per_minute[method]
            core = SchedulerCore(per_minute=per_minute, min_interval=self._min_interval)
            window = self._windows(team, method, per_minute, self._burst)
            scheduler = self._schedulers[team, method] = UpdateScheduler(core, window, self._clock)
            scheduler.start()
        return scheduler

    def for_answer(self, team: str) -> Callable[[str], UpdateScheduler]:
        """The workspace's schedulers by method, for one answer."""
        return functools.partial(self.for_team, team)

    async def close(self) -> None:
        await asyncio.gather(*(s.close() for s in self._schedulers.values()))
        self._schedulers.clear()
