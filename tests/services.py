"""The real PostgreSQL and Redis the replica tests use, or a skip that says why not.

`scripts/dev.py test` (and so `.ci/run`) starts both where it can; on a machine without them
these tests skip with the reason and the rest of the suite still runs.
"""

from __future__ import annotations

import asyncio
import os
import uuid

import asyncpg
import pytest
import redis.asyncio as aioredis
from redis.exceptions import RedisError

POSTGRES_URL = os.environ.get(
    "SHOPMAX_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
# Database 15, flushed by each test that uses it, so a developer's own keys are left alone.
REDIS_URL = os.environ.get("SHOPMAX_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


async def postgres_schema() -> str:
    """A fresh schema for one test, or skip (with the reason) when PostgreSQL is not there."""
    try:
        db = await asyncio.wait_for(asyncpg.connect(POSTGRES_URL), 5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}")
    schema = f"shopmax_test_{uuid.uuid4().hex[:12]}"
    await db.execute(f"CREATE SCHEMA {schema}")
    await db.close()
    return schema


async def drop_schema(schema: str) -> None:
    db = await asyncpg.connect(POSTGRES_URL)
    await db.execute(f"DROP SCHEMA {schema} CASCADE")
    await db.close()


async def fresh_redis() -> str:
    """The test Redis database, emptied; or skip (with the reason) when Redis is not there."""
    client = aioredis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        await client.flushdb()
    except (RedisError, OSError) as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    finally:
        await client.aclose()
    return REDIS_URL
