"""Our own pace for Slack calls that are nice to have but must never be rate limited into a
storm: the loading status in a thread (`assistant.threads.setStatus`) and a reaction on the
question (`reactions.add` / `reactions.remove`). Pure: the caller passes the clock's time.

What we assume, since Slack documents `setStatus` only as "special rate limits apply":

* **per channel**, about one call a second with a short burst of about four, the way Slack
  paces `chat.postMessage` per channel. We keep under it (`STATUS_BURST` at once, then
  `STATUS_PER_SECOND`): Slack counts calls when they arrive, and two sent a second apart can
  arrive closer than that;
* **per workspace**, at most `STATUS_PER_MINUTE` in any rolling minute, a guard far below
  anything a Tier 4 method allows, so a burst of questions across many channels cannot
  become a storm either.

Reactions are Tier 3 (`reactions.add` and `.remove`, 50+ a minute per workspace each): one
rolling window per method (`REACTIONS_PER_MINUTE`).

A 429 still wins over our guess: `block` keeps a channel (or the whole workspace) quiet until
Slack's `Retry-After` has passed. Each replica keeps its own limits; on several replicas the
429s Slack then answers are obeyed the same way.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

STATUS_BURST = 3.0
STATUS_PER_SECOND = 0.9
STATUS_PER_MINUTE = 300
REACTIONS_PER_MINUTE = 50
MINUTE = 60.0


@dataclass
class Bucket:
    """`burst` calls at once, refilled at `per_second`."""

    burst: float
    per_second: float
    tokens: float | None = None
    at: float = 0.0

    def wait(self, now: float) -> float:
        """Seconds until a call may go (0: now)."""
        tokens = self.tokens_at(now)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.per_second

    def take(self, now: float) -> None:
        self.tokens, self.at = self.tokens_at(now) - 1, now

    def tokens_at(self, now: float) -> float:
        if self.tokens is None:
            return self.burst
        return min(self.burst, self.tokens + max(now - self.at, 0.0) * self.per_second)


@dataclass
class RollingWindow:
    """At most `limit` calls in any `span` seconds."""

    limit: int
    span: float = MINUTE
    sent: deque[float] = field(default_factory=deque)

    def wait(self, now: float) -> float:
        while self.sent and now - self.sent[0] >= self.span:
            self.sent.popleft()
        return 0.0 if len(self.sent) < self.limit else self.sent[0] + self.span - now

    def take(self, now: float) -> None:
        self.sent.append(now)


@dataclass
class StatusLimits:
    """The loading status's pace in one workspace: per channel and in all."""

    burst: float = STATUS_BURST
    per_second: float = STATUS_PER_SECOND
    per_minute: int = STATUS_PER_MINUTE
    channels: dict[str, Bucket] = field(default_factory=dict)
    workspace: RollingWindow | None = None
    blocked: dict[str, float] = field(default_factory=dict)  # channel ("" all) -> until

    def wait(self, channel: str, now: float) -> float:
        """Seconds until a status call in `channel` may go (0: now)."""
        if self.workspace is None:
            self.workspace = RollingWindow(self.per_minute)
        bucket = self.channels.get(channel)
        waits = [
            self.workspace.wait(now),
            bucket.wait(now) if bucket is not None else 0.0,
            self.blocked.get(channel, 0.0) - now,
            self.blocked.get("", 0.0) - now,
        ]
        return max(0.0, *waits)

    def take(self, channel: str, now: float) -> None:
        """Count a call in `channel` (after `wait` said 0)."""
        if self.workspace is None:
            self.workspace = RollingWindow(self.per_minute)
        self.workspace.take(now)
        self.channels.setdefault(channel, Bucket(self.burst, self.per_second)).take(now)
        self._forget(now)

    def block(self, channel: str, until: float) -> None:
        """Slack said 429: nothing in `channel` ("" for all) before `until`."""
        self.blocked[channel] = max(self.blocked.get(channel, 0.0), until)

    def _forget(self, now: float) -> None:
        """Drop channels whose bucket is full again and blocks that passed: memory stays
        bounded by the channels active in the last few seconds."""
        if len(self.channels) > 64:
            full = [c for c, b in self.channels.items() if b.tokens_at(now) >= b.burst]
            for channel in full:
                del self.channels[channel]
        for channel in [c for c, until in self.blocked.items() if until <= now]:
            del self.blocked[channel]
