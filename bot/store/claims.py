"""One answer per user message while the database is away.

Claims normally live in the database (`Store.claim`). While it is away they go to Redis
(`SET key NX EX`: atomic across replicas, gone after a day like the database's claims) when
`SHOPMAX_REDIS_URL` is set, and otherwise — or while Redis is away too — to this process's
memory, which recognises Slack's retries and the `message` twin only when they reach this
replica. That degradation is said once in the log. Every claim made here is also spooled for
the database, so a retry arriving after the database is back is still recognised.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.accounting.health import Health

if TYPE_CHECKING:
    import redis.asyncio as aioredis

log = logging.getLogger(__name__)

TTL = 24 * 60 * 60  # seconds a claim is kept (the database prunes its claims after a day)
TIMEOUT = 0.5  # seconds for one Redis command: a slow Redis must not stall an answer
MOST_IN_MEMORY = 100_000
PREFIX = "shopmax:claim:"
REDIS = "redis"  # this dependency's name on the health board


class FallbackClaims:
    """Claims made while the database is away."""

    def __init__(
        self,
        redis_url: str | None = None,
        *,
        health: Health | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.health = health
        self.clock = clock
        self._redis: aioredis.Redis | None = None
        self._redis_errors: tuple[type[BaseException], ...] = (OSError,)
        if redis_url:
            # Imported only where Redis is configured: the client library is about 7 MB of
            # memory a process without Redis does not need.
            import redis.asyncio as aioredis
            from redis.exceptions import RedisError

            self._redis_errors = (RedisError, OSError)
            self._redis = aioredis.Redis.from_url(
                redis_url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT
            )
            if health is not None:
                health.watch(REDIS)
        self._memory: OrderedDict[str, float] = OrderedDict()  # key -> until (clock)
        self._said_degraded = False

    async def claim(self, key: str) -> bool:
        """True for the first claim of `key` (across replicas when Redis answers)."""
        if self._redis is not None:
            try:
                claimed = await self._redis.set(PREFIX + key, b"1", nx=True, ex=TTL)
            except self._redis_errors as exc:
                self._redis_failed(exc)
            else:
                if self.health is not None:
                    self.health.ok(REDIS)
                return bool(claimed)
        return self._claim_in_memory(key)

    def _redis_failed(self, exc: BaseException) -> None:
        if self.health is not None:
            self.health.failed(REDIS, type(exc).__name__)
        self._say_degraded(f"Redis is unreachable too ({type(exc).__name__})")

    def _claim_in_memory(self, key: str) -> bool:
        if self._redis is None:
            self._say_degraded("no Redis is configured (SHOPMAX_REDIS_URL)")
        now = self.clock()
        while self._memory and (
            next(iter(self._memory.values())) < now or len(self._memory) >= MOST_IN_MEMORY
        ):
            self._memory.popitem(last=False)
        until = self._memory.get(key)
        if until is not None and until > now:
            return False
        self._memory[key] = now + TTL
        self._memory.move_to_end(key)  # kept in order of expiry, oldest first
        return True

    def _say_degraded(self, why: str) -> None:
        if not self._said_degraded:
            self._said_degraded = True
            log.warning(
                "deduplication is degraded while the database is away: %s, so a Slack retry "
                "is recognised only when it reaches this process",
                why,
            )

    def back(self) -> None:
        """The database is back: the next outage says its degradation again."""
        self._said_degraded = False

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
