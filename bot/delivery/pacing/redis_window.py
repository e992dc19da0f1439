"""Slack's call budget shared by every replica through Redis.

Several replicas of the bot serve one workspace, but Slack counts `chat.update` (and
`chat.appendStream`) per app and workspace, not per replica. So the window of calls, any 429
pause and the number of answers each replica is streaming live in Redis, and one Lua script
decides atomically whether a call may go: two replicas can never both take the last call of a
minute. Times inside the scripts come from Redis's own clock (`TIME`), so replicas whose clocks
disagree still agree on the window; what comes back is a relative wait.

Keys, per workspace and method (`{team:method}` is a hash tag, so a Redis Cluster keeps a
workspace's keys on one node): `calls` (sorted set of call times), `pause` (until when),
`replicas` (sorted set: replica → when its share expires) and `active` (hash: replica →
"answers,remaining ms": the answers it streams and their expected remaining life, which every
replica's pacing rule adds up). Nothing is kept longer than a minute after the last call.

If Redis cannot be reached, each replica falls back to a budget of its own — the workspace's
budget divided by the number of replicas Redis last reported — and logs a warning; it tries
Redis again every `RETRY_AFTER` seconds and logs when it is back.
"""

from __future__ import annotations

import itertools
import logging
import time
from typing import Any
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.delivery.pacing.window import (
    AGES_KEPT,
    CallWindow,
    Clock,
    Grant,
    Heard,
    LocalWindow,
    Share,
)

log = logging.getLogger(__name__)

RETRY_AFTER = 5.0  # seconds between attempts to reach Redis again after a failure
REPLICA_TTL_MS = 30_000  # a replica's count of streaming answers expires this long after it
TIMEOUT = 0.5  # seconds for one Redis command: a slow Redis must not stall every answer

# A call counts for a minute and `window.MARGIN` (60,500 ms; see there).
# KEYS: calls, pause, replicas, active. ARGV: per_minute, burst, replica, answers, remaining
# (ms), token, ttl, ages kept. An empty token only reports the replica's share. Returns
# {granted, wait ms, answers, remaining ms, replicas, calls in the window, pause ms, then the
# ages in ms of the oldest calls of the window, oldest first}.
ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[7])
redis.call('ZADD', KEYS[3], now + ttl, ARGV[3])
redis.call('HSET', KEYS[4], ARGV[3], ARGV[4] .. ',' .. ARGV[5])
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)) do
  redis.call('ZREM', KEYS[3], gone)
  redis.call('HDEL', KEYS[4], gone)
end
redis.call('PEXPIRE', KEYS[3], ttl)
redis.call('PEXPIRE', KEYS[4], ttl)
local answers, remaining = 0, 0
for _, v in ipairs(redis.call('HVALS', KEYS[4])) do
  local n, ms = string.match(v, '(%d+),(%d+)')
  answers = answers + tonumber(n)
  remaining = remaining + tonumber(ms)
end
local replicas = redis.call('ZCARD', KEYS[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 60500)
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
local pause = math.max(paused - now, 0)
local function answer(granted, wait)
  local count = redis.call('ZCARD', KEYS[1])
  local oldest = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[8]) - 1, 'WITHSCORES')
  local out = {granted, wait, answers, remaining, replicas, count, pause}
  for i = 2, #oldest, 2 do out[#out + 1] = now - tonumber(oldest[i]) end
  return out
end
if ARGV[6] == '' then return answer(0, 0) end
local wait = pause
local count = redis.call('ZCARD', KEYS[1])
local per_minute = tonumber(ARGV[1])
if count >= per_minute then
  local first = redis.call('ZRANGE', KEYS[1], count - per_minute, count - per_minute, 'WITHSCORES')
  wait = math.max(wait, tonumber(first[2]) + 60500 - now)
end
local burst = tonumber(ARGV[2])
local recent = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (now - 1000), '+inf', 'WITHSCORES')
local n = #recent / 2
if n >= burst then
  wait = math.max(wait, tonumber(recent[2 * (n - burst) + 2]) + 1000 - now)
end
if wait > 0 then return answer(0, wait) end
redis.call('ZADD', KEYS[1], now, ARGV[6])
redis.call('PEXPIRE', KEYS[1], 61000)
return answer(1, 0)
"""

# KEYS: calls. ARGV: tokens of extra calls made now.
SPEND = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for _, token in ipairs(ARGV) do redis.call('ZADD', KEYS[1], now, token) end
redis.call('PEXPIRE', KEYS[1], 61000)
return #ARGV
"""

# KEYS: pause. ARGV: pause in ms. A shorter pause never cuts a longer one short.
PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local till = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if till > current then redis.call('SET', KEYS[1], till, 'PX', tonumber(ARGV[1]) + 1000) end
return till
"""


def _heard(result: list[int]) -> Heard:
    """The workspace as the acquire script described it."""
    answers, remaining_ms, _, count, pause_ms, *ages = result[2:]
    return Heard(
        total=Share(answers, remaining_ms / 1000),
        count=count,
        ages=tuple(age / 1000 for age in ages),
        paused_for=pause_ms / 1000,
    )


def redis_address(url: str) -> str:
    """host:port/db of a Redis URL, for logs (never the password)."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}{parts.path or ''}"


class RedisWindows:
    """One Redis connection pool and this replica's identity; makes each `RedisWindow`."""

    def __init__(
        self, url: str, replica: str, *, clock: Clock = time.monotonic, prefix: str = "shopmax"
    ) -> None:
        self.client = aioredis.Redis.from_url(
            url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT
        )
        self.address = redis_address(url)
        self.replica = replica
        self.prefix = prefix
        self.clock = clock
        self.acquire_script = self.client.register_script(ACQUIRE)
        self.spend_script = self.client.register_script(SPEND)
        self.pause_script = self.client.register_script(PAUSE)
        self._tokens = itertools.count()
        self._down_since: float | None = None
        self._retry_at = float("-inf")

    def __call__(self, team: str, method: str, per_minute: int, burst: int) -> CallWindow:
        return RedisWindow(self, team, method, per_minute, burst)

    def token(self) -> str:
        return f"{self.replica}:{next(self._tokens)}"

    @property
    def reachable(self) -> bool:
        """Whether to try Redis now (it is up, or it is time to try again)."""
        return self._down_since is None or self.clock() >= self._retry_at

    def failed(self, exc: BaseException, fallback_per_minute: int) -> None:
        now = self.clock()
        self._retry_at = now + RETRY_AFTER
        if self._down_since is None:
            self._down_since = now
            log.warning(
                "Redis at %s is unreachable (%s): this replica keeps its own Slack budget of "
                "%d calls a minute until it is back",
                self.address,
                type(exc).__name__,
                fallback_per_minute,
            )

    def succeeded(self) -> None:
        if self._down_since is not None:
            log.info(
                "Redis at %s is back after %.0fs: the Slack budget is shared again",
                self.address,
                self.clock() - self._down_since,
            )
            self._down_since = None

    async def ping(self) -> bool:
        try:
            return bool(await self.client.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        await self.client.aclose()


class RedisWindow:
    """One workspace and method's budget in Redis, with a local fallback."""

    def __init__(
        self, shared: RedisWindows, team: str, method: str, per_minute: int, burst: int
    ) -> None:
        self._shared = shared
        self._per_minute = per_minute
        self._burst = burst
        tag = f"{shared.prefix}:{{{team}:{method}}}"
        self._keys = [f"{tag}:calls", f"{tag}:pause", f"{tag}:replicas", f"{tag}:active"]
        self._replicas = 1  # as Redis last counted them
        self._fallback = LocalWindow(per_minute, burst, shared.clock)

    async def acquire(self, share: Share) -> Grant:
        token = self._shared.token()
        result = await self._run_acquire(share, token)
        if result is None:
            return self._fallback.take(share)  # this replica's share, see `_call`
        granted, wait_ms = result[0], result[1]
        return Grant(wait=0.0 if granted else wait_ms / 1000, heard=_heard(result), token=token)

    async def report(self, share: Share) -> Heard:
        result = await self._run_acquire(share, "")
        if result is None:
            return await self._fallback.report(share)
        return _heard(result)

    async def settle(self, grant: Grant, calls: int) -> None:
        if not isinstance(grant.token, str):  # granted by the fallback
            await self._fallback.settle(grant, calls)
            return
        if calls == 0:
            await self._call(self._shared.client.zrem, self._keys[0], grant.token)
        elif calls > 1:
            tokens = [self._shared.token() for _ in range(calls - 1)]
            await self._call(self._shared.spend_script, keys=self._keys[:1], args=tokens)

    async def pause(self, retry_after: float) -> None:
        await self._fallback.pause(retry_after)
        ms = max(int(retry_after * 1000), 1)
        await self._call(self._shared.pause_script, keys=self._keys[1:2], args=[ms])

    async def _run_acquire(self, share: Share, token: str) -> list[int] | None:
        remaining_ms = int(share.remaining * 1000)
        args = [self._per_minute, self._burst, self._shared.replica, share.answers, remaining_ms]
        result = await self._call(
            self._shared.acquire_script,
            keys=self._keys,
            args=[*args, token, REPLICA_TTL_MS, AGES_KEPT],
        )
        if result is None:
            return None
        self._replicas = max(int(result[4]), 1)
        return [int(v) for v in result]

    async def _call(self, command: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a Redis command; None (and the fallback) if Redis cannot be reached."""
        # While Redis is away, this replica keeps its share of the workspace's budget.
        self._fallback.window.per_minute = max(self._per_minute // self._replicas, 1)
        if not self._shared.reachable:
            return None
        try:
            result = await command(*args, **kwargs)
        except (RedisError, OSError) as exc:
            self._shared.failed(exc, self._fallback.window.per_minute)
            return None
        self._shared.succeeded()
        return result
