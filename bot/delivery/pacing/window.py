"""Slack's call budget for one workspace and method, kept by this process or shared by replicas.

Slack allows about 50 `chat.update` calls a minute per workspace (and separate counts for other
methods), and answers 429 with `Retry-After` beyond that. The scheduler (`scheduler.py`)
decides *which* message to edit next; a `CallWindow` decides *whether a call may go now*.

* `RollingWindow` is the pure rule: at most `per_minute` calls in any 60 seconds, at most
  `burst` in any one second, nothing while a 429 pause lasts. Tested with a fake clock.
* `LocalWindow` is one process's budget: a `RollingWindow` on the monotonic clock.
* `redis_window.RedisWindow` keeps the same window in Redis so that every replica of the bot
  draws from one budget (see that module).

Every answer also says what the window looks like (`Heard`): the calls of the last minute and the
answers streaming in the workspace on every replica with their expected remaining life, because
the pacing rule (`core.py`) shares what the minute has left among the answers in flight.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

WINDOW = 60.0  # Slack counts calls per method per minute
# A call counts until it is this much more than a minute old: Slack counts it when it arrives,
# we when it leaves, and a call that took longer on its way than the one a minute after it
# would otherwise meet its own 429.
MARGIN = 0.5
BURST_WINDOW = 1.0
AGES_KEPT = 200  # the oldest calls of a minute whose ages a window reports

Clock = Callable[[], float]


@dataclass(frozen=True)
class Share:
    """Answers streaming (here, or in the workspace) and their expected remaining life."""

    answers: int = 0
    remaining: float = 0.0  # seconds, summed over the answers


@dataclass(frozen=True)
class Heard:
    """What a window says about the workspace and method right now.

    `total` is the answers streaming on every replica; `count` the calls of the last minute;
    `ages` how long ago the oldest of them were made (seconds, oldest first; all of them, up
    to `AGES_KEPT`), which tells the rule when calls come back; `paused_for` the seconds a
    429 pause still lasts.
    """

    total: Share
    count: int = 0
    ages: tuple[float, ...] = ()
    paused_for: float = 0.0


@dataclass(frozen=True)
class Grant:
    """The answer to "may one call go now?".

    `wait` is 0 when the call was granted (and counted), else the seconds until one may be.
    `token` identifies the counted call so it can be given back.
    """

    wait: float
    heard: Heard
    token: object = None

    @property
    def granted(self) -> bool:
        return self.wait <= 0


class CallWindow(Protocol):
    async def acquire(self, share: Share) -> Grant:
        """Take one call if the budget allows; `share` is this replica's streaming answers."""
        ...

    async def settle(self, grant: Grant, calls: int) -> None:
        """The granted edit made `calls` calls: 0 gives the call back, more than 1 adds."""
        ...

    async def pause(self, retry_after: float) -> None:
        """Slack answered 429: no call on this workspace and method for `retry_after` s."""
        ...

    async def report(self, share: Share) -> Heard:
        """Tell the others what streams here; hear the workspace's total and window."""
        ...


@dataclass
class RollingWindow:
    """Slack's rule for one workspace and method, in clock seconds (pure)."""

    per_minute: int
    burst: int
    sent: deque[float] = field(default_factory=deque, init=False)
    paused_until: float = field(default=0.0, init=False)

    def available_at(self, now: float) -> float:
        """When the next call fits both windows and any pause (`now` if it does already)."""
        while self.sent and self.sent[0] <= now - WINDOW - MARGIN:
            self.sent.popleft()
        at = max(now, self.paused_until)
        if len(self.sent) >= self.per_minute:
            at = max(at, self.sent[-self.per_minute] + WINDOW + MARGIN)
        recent = [t for t in self.sent if t > now - BURST_WINDOW]
        if len(recent) >= self.burst:
            at = max(at, recent[-self.burst] + BURST_WINDOW)
        return at

    def take(self, now: float) -> None:
        self.sent.append(now)

    def give_back(self, at: float) -> None:
        if at in self.sent:
            self.sent.remove(at)

    def add(self, now: float, calls: int) -> None:
        self.sent.extend([now] * calls)

    def pause(self, now: float, retry_after: float) -> None:
        self.paused_until = max(self.paused_until, now + retry_after)


class LocalWindow:
    """One process's budget: a `RollingWindow` on `clock`. The token of a grant is its time."""

    def __init__(self, per_minute: int, burst: int, clock: Clock = time.monotonic) -> None:
        self.window = RollingWindow(per_minute, burst)
        self._clock = clock

    async def acquire(self, share: Share) -> Grant:
        return self.take(share)

    def take(self, share: Share) -> Grant:
        now = self._clock()
        at = self.window.available_at(now)
        if at > now:
            return Grant(wait=at - now, heard=self.heard(share, now))
        self.window.take(now)
        return Grant(wait=0.0, heard=self.heard(share, now), token=now)

    def heard(self, share: Share, now: float) -> Heard:
        sent = self.window.sent
        ages = tuple(now - t for t in itertools.islice(sent, AGES_KEPT))
        paused = max(self.window.paused_until - now, 0.0)
        return Heard(total=share, count=len(sent), ages=ages, paused_for=paused)

    async def settle(self, grant: Grant, calls: int) -> None:
        if calls == 0 and isinstance(grant.token, float):
            self.window.give_back(grant.token)
        elif calls > 1:
            self.window.add(self._clock(), calls - 1)

    async def pause(self, retry_after: float) -> None:
        self.window.pause(self._clock(), retry_after)

    async def report(self, share: Share) -> Heard:
        now = self._clock()
        self.window.available_at(now)  # drops the calls older than a minute
        return self.heard(share, now)
