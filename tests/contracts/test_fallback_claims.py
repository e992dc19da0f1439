"""One answer per user message while the database is away: claims through the machine's real
Redis, shared by replicas, and in memory when Redis is away too."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from bot.accounting.health import Health
from bot.store.claims import FallbackClaims
from tests.fakes.serve import free_port


async def test_claims_fall_back_to_redis_shared_by_replicas(redis_url: str) -> None:
    """A message claimed by one replica through Redis is not answered by another; Redis
    forgets the claim after a day, as the database does."""
    first, second = FallbackClaims(redis_url), FallbackClaims(redis_url)
    client = aioredis.Redis.from_url(redis_url)
    try:
        assert [await first.claim("T1:C1:7.7"), await second.claim("T1:C1:7.7")] == [True, False]
        ttl = await client.ttl("shopmax:claim:T1:C1:7.7")
        assert 24 * 3600 - 60 < ttl <= 24 * 3600
    finally:
        for closing in (first, second):
            await closing.close()
        await client.aclose()


async def test_claims_fall_back_to_memory_when_redis_is_away_too(
    caplog: pytest.LogCaptureFixture,
) -> None:
    health = Health()
    claims = FallbackClaims(f"redis://127.0.0.1:{free_port()}/0", health=health)
    try:
        assert [await claims.claim("k"), await claims.claim("k")] == [True, False]
    finally:
        await claims.close()
    assert not health.states()["redis"].ok
    [line] = [r.getMessage() for r in caplog.records if "degraded" in r.getMessage()]
    assert "Redis is unreachable too" in line
