"""One scheduler per workspace decides when each answer message is edited.

Slack limits `chat.update` per app, per workspace (Tier 3, about 50 a minute), and every answer
in flight shares that budget; a per-message timer alone runs twenty answers into a wall of 429s.
So no reply edits Slack on its own: it marks its message *dirty* and the scheduler calls the
reply's `sync` when the message's turn comes. `sync` renders the newest text at that moment,
so edits coalesce (latest wins) and no intermediate version is ever queued.

The decisions are pure (`SchedulerCore`, tested with a fake clock):

* Slack's budget per workspace and method: at most `per_minute` calls in any minute and
  `burst` in any second;
* routine edits of one message are spaced by its fair share of that budget (never closer than
  `min_interval`): with one answer in flight that is about a second, with twenty about forty
  seconds, keeping one call per message in reserve for its final answer;
* urgent edits (the first text and the final answer) skip the spacing and go first;
* otherwise the message that has waited longest since its first unsent change goes first,
  which is the one whose visible text lags furthest behind;
* a 429 pauses the whole workspace for `Retry-After` and the message stays dirty: it is sent
  afterwards with whatever its newest text is then;
* at most one edit per message is in flight, so an older version never lands after a newer one.

`UpdateScheduler` is the async driver around the core: one worker task per workspace that
sleeps until the core says something can be sent, and runs each `sync` as its own task so a slow
Slack call for one message never holds up the others (or the model stream).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

WINDOW = 60.0  # Slack counts calls per method per minute
BURST_WINDOW = 1.0

Clock = Callable[[], float]
Sync = Callable[[], Awaitable[int]]
"""Sends a message's newest state to Slack; returns how many budgeted calls it made."""


class RateLimited(Exception):
    """Raised by a `sync` when Slack answered 429; the scheduler pauses and retries."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after}s")
        self.retry_after = retry_after


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
    """Pure scheduling decisions for one workspace and method. Times are clock seconds.

    The budget is Slack's own rule: at most `per_minute` calls in any 60 seconds, and at most
    `burst` in any one second. Routine edits are paced so that the minute's budget, less one
    call per message for its final answer, is shared equally by the messages in flight.
    """

    per_minute: int
    burst: int
    min_interval: float
    sent: deque[float] = field(default_factory=deque, init=False)
    paused_until: float = field(default=0.0, init=False)
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
        active = len(self.slots)
        spare = max(self.per_minute - active, self.per_minute // 4, 1)
        return max(self.min_interval, active * WINDOW / spare)

    def pick(self, now: float) -> tuple[Hashable | None, float | None]:
        """The message to edit now, or None and when to ask again (None: when marked)."""
        if now < self.paused_until:
            return None, self.paused_until
        spacing = self.spacing()
        ready, wake = [], None
        for key, slot in self.slots.items():
            if slot.dirty_since is None or slot.in_flight:
                continue
            due = now if slot.urgent else slot.last_sent + spacing
            if due <= now:
                ready.append((not slot.urgent, slot.dirty_since, key))
            else:
                wake = due if wake is None else min(wake, due)
        if not ready:
            return None, wake
        budget_at = self._budget_at(now)
        if budget_at > now:
            return None, budget_at
        _, _, key = min(ready, key=lambda item: (item[0], item[1]))
        slot = self.slots[key]
        assert slot.dirty_since is not None
        slot.sending_since, slot.sending_urgent = slot.dirty_since, slot.urgent
        slot.in_flight, slot.dirty_since, slot.urgent = True, None, False
        slot.last_sent = now
        self.sent.append(now)
        return key, None

    def done(self, key: Hashable, now: float, calls: int = 1) -> None:
        """The edit picked for `key` made `calls` budgeted calls: one was counted at `pick`;
        more are counted now, and none (nothing had changed) gives it back."""
        slot = self.slots.get(key)
        if calls == 0 and slot is not None and slot.last_sent in self.sent:
            self.sent.remove(slot.last_sent)
        self.sent.extend([now] * max(calls - 1, 0))
        if slot is not None:
            slot.in_flight = False

    def rate_limited(self, key: Hashable, now: float, retry_after: float) -> None:
        """Slack said 429: pause the workspace and keep the message's changes pending."""
        self.paused_until = max(self.paused_until, now + retry_after)
        slot = self.slots.get(key)
        if slot is None:
            return
        slot.in_flight = False
        slot.urgent = slot.urgent or slot.sending_urgent
        since = slot.sending_since
        slot.dirty_since = since if slot.dirty_since is None else min(slot.dirty_since, since)

    def _budget_at(self, now: float) -> float:
        """When the next call fits in both windows (now, if it does already)."""
        while self.sent and self.sent[0] <= now - WINDOW:
            self.sent.popleft()
        at = now
        if len(self.sent) >= self.per_minute:
            at = max(at, self.sent[-self.per_minute] + WINDOW)
        recent = [t for t in self.sent if t > now - BURST_WINDOW]
        if len(recent) >= self.burst:
            at = max(at, recent[-self.burst] + BURST_WINDOW)
        return at


@dataclass
class _Track:
    """Driver-side state of one message: its sync, and who waits for which generation."""

    sync: Sync
    requested: int = 0
    delivered: int = 0
    error: BaseException | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class UpdateScheduler:
    """Runs a `SchedulerCore` for one workspace. Create with `start()`, end with `close()`."""

    def __init__(self, core: SchedulerCore, clock: Clock = time.monotonic) -> None:
        self._core = core
        self._clock = clock
        self._tracks: dict[Hashable, _Track] = {}
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._sends: set[asyncio.Task[None]] = set()

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

    async def _run(self) -> None:
        while True:
            key, wake_at = self._core.pick(self._clock())
            if key is not None:
                task = asyncio.create_task(self._send(key))
                self._sends.add(task)
                task.add_done_callback(self._sends.discard)
                continue
            self._wake.clear()
            timeout = None if wake_at is None else max(wake_at - self._clock(), 0.0)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass

    async def _send(self, key: Hashable) -> None:
        track = self._tracks.get(key)
        if track is None:
            self._core.done(key, self._clock())
            return
        generation = track.requested
        try:
            calls = await track.sync()
        except RateLimited as exc:
            log.warning("Slack rate limit: pausing edits for %.1fs", exc.retry_after)
            self._core.rate_limited(key, self._clock(), exc.retry_after)
        except Exception as exc:  # the reply decides what a failed edit means
            track.error = exc
            self._core.done(key, self._clock())
            track.changed.set()
        else:
            track.delivered = max(track.delivered, generation)
            self._core.done(key, self._clock(), calls)
            track.changed.set()
        self._wake.set()


class Schedulers:
    """One `UpdateScheduler` per workspace and Slack method, created on first use.

    `per_minute` maps each method to its budget; Slack counts each method separately.
    """

    def __init__(
        self,
        *,
        per_minute: Mapping[str, int],
        burst: int,
        min_interval: float,
        clock: Clock = time.monotonic,
    ) -> None:
        self._per_minute = dict(per_minute)
        self._burst = burst
        self._min_interval = min_interval
        self._clock = clock
        self._schedulers: dict[tuple[str, str], UpdateScheduler] = {}

    def for_team(self, team: str, method: str = "chat.update") -> UpdateScheduler:
        scheduler = self._schedulers.get((team, method))
        if scheduler is None:
            core = SchedulerCore(
                per_minute=self._per_minute[method],
                burst=self._burst,
                min_interval=self._min_interval,
            )
            scheduler = self._schedulers[team, method] = UpdateScheduler(core, self._clock)
            scheduler.start()
        return scheduler

    def budget(self, team: str) -> Callable[[str], UpdateScheduler]:
        """The workspace's schedulers by method, for one answer."""
        return functools.partial(self.for_team, team)

    async def close(self) -> None:
        await asyncio.gather(*(s.close() for s in self._schedulers.values()))
        self._schedulers.clear()
