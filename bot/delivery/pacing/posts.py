"""Slack's own limit on posts: `chat.postMessage` about one a second per channel, with short
bursts. It is separate from `chat.update`'s window, so the pacing rule never spends it; posts
wait their turn here instead of meeting a 429 (and twenty answers asked at once in one channel
are posted five at once, then one a second: as soon as Slack allows, not later).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

BURST = 5.0  # posts at once in one channel
PER_SECOND = 1.0  # then, posts a second in one channel


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class PostPacer:
    """One workspace's channels, each a bucket of `burst` posts refilled at `per_second`."""

    burst: float = BURST
    per_second: float = PER_SECOND
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict, init=False)

    def take(self, channel: str) -> float:
        """Book the channel's next post: the seconds until it may go (0: now). Bookings are
        kept in order, so each waiting post has its own turn (no one wakes to race)."""
        now = self.clock()
        bucket = self._buckets.setdefault(channel, _Bucket(self.burst, now))
        bucket.tokens, bucket.at = self._refilled(bucket, now), now
        bucket.tokens -= 1
        return max(-bucket.tokens / self.per_second, 0.0)

    def free(self, channel: str) -> bool:
        """Whether a post in `channel` may go now (nothing booked)."""
        bucket = self._buckets.get(channel)
        return bucket is None or self._refilled(bucket, self.clock()) >= 1

    def _refilled(self, bucket: _Bucket, now: float) -> float:
        """The channel's posts in hand at `now`: what was left, refilled since, at most a burst."""
        return min(self.burst, bucket.tokens + (now - bucket.at) * self.per_second)

    async def turn(self, channel: str) -> None:
        """Wait until a post in `channel` fits Slack's per-channel limit."""
        wait = self.take(channel)
        if wait > 0:
            await asyncio.sleep(wait)
