"""The real PostgreSQL and Redis the replica tests use, or a skip that says why not; and a
throwaway PostgreSQL cluster and Redis server for the tests that stop them under the bot.

`scripts/dev.py test` (and so `.ci/run`) starts both where it can; on a machine without them
these tests skip with the reason and the rest of the suite still runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from tests.fakes.serve import free_port

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


PG_BIN = Path(os.environ.get("SHOPMAX_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


class ThrowawayPostgres:
    """A PostgreSQL cluster of one test's own, to crash and start again under the bot.

    A copy of a cluster made once per run with `initdb` (as the `postgres` user when run as
    root: the server refuses to run as root), serving on a free loopback port and a socket in
    its own directory. Only this cluster's server is ever stopped, by its data directory.
    """

    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.port = port

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    async def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.directory / "server.log")
        await _pg("pg_ctl", "-D", str(self.directory), "-o", options, "-l", log, "-w", "start")

    async def crash(self) -> None:
        """Stop the server the way a crash does: no checkpoint, connections cut."""
        await _pg("pg_ctl", "-D", str(self.directory), "-m", "immediate", "-w", "stop")


def _as_postgres(program: str, *args: str) -> list[str]:
    command = [str(PG_BIN / program), *args]
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


async def _pg(program: str, *args: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *_as_postgres(program, *args),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    if process.returncode != 0:
        raise RuntimeError(f"{program} failed ({process.returncode}): {out.decode()[-2000:]}")


def _why_no_throwaway_postgres() -> str | None:
    if not (PG_BIN / "initdb").exists():
        return f"no PostgreSQL server binaries in {PG_BIN} (SHOPMAX_TEST_PG_BIN)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, but there is no postgres user to run the server as"
        if not shutil.which("runuser"):
            return "running as root without runuser to start the server as postgres"
    return None


def _directory_for_postgres() -> Path:
    """A new directory the server's user owns (not under pytest's tmp_path, which that user
    cannot reach)."""
    directory = Path(tempfile.mkdtemp(prefix="shopmax-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    return directory


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[Path]:
    """An initialised, stopped cluster, made once per run and copied by each test."""
    why = _why_no_throwaway_postgres()
    if why:
        pytest.skip(f"cannot make a throwaway PostgreSQL: {why}")
    directory = _directory_for_postgres()
    made = subprocess.run(
        _as_postgres("initdb", "-D", str(directory / "data"), "-A", "trust", "-U", "postgres"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if made.returncode != 0:
        shutil.rmtree(directory, ignore_errors=True)
        pytest.skip(f"cannot make a throwaway PostgreSQL: initdb failed: {made.stdout[-500:]}")
    yield directory / "data"
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
async def throwaway_postgres(postgres_template: Path) -> AsyncIterator[ThrowawayPostgres]:
    """A fresh, running PostgreSQL cluster of this test's own (crashed and removed after)."""
    directory = _directory_for_postgres()
    data = directory / "data"
    copied = await asyncio.create_subprocess_exec("cp", "-a", str(postgres_template), str(data))
    assert await copied.wait() == 0, "could not copy the template cluster"
    cluster = ThrowawayPostgres(data, free_port())
    try:
        await cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(RuntimeError):  # already stopped by the test
            await cluster.crash()  # thrown away: no need for a clean shutdown
        shutil.rmtree(directory, ignore_errors=True)


class ThrowawayRedis:
    """A Redis server of one test's own, to kill and start again on the same port under the
    bot. Nothing is saved (`--save '' --appendonly no`): it comes back empty, as a Redis
    restarted without persistence does. Only this server is ever stopped, by its pid; the
    machine's Redis is never touched."""

    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.port = port
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        """Start the server and wait until it answers PING."""
        self.process = await asyncio.create_subprocess_exec(
            *["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"],
            *["--save", "", "--appendonly", "no", "--dir", str(self.directory)],
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        client = aioredis.Redis.from_url(self.url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            for _ in range(200):
                if self.process.returncode is not None:
                    raise RuntimeError(f"redis-server exited ({self.process.returncode})")
                try:
                    await client.ping()
                    return
                except (RedisError, OSError):
                    await asyncio.sleep(0.05)
            raise RuntimeError("redis-server never answered PING")
        finally:
            await client.aclose()

    async def kill(self) -> None:
        """Kill the server (SIGKILL: no goodbye to its clients) and wait until it is gone."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


@pytest.fixture
async def throwaway_redis(tmp_path: Path) -> AsyncIterator[ThrowawayRedis]:
    """A running Redis server of this test's own on a free port (killed after)."""
    if not shutil.which("redis-server"):
        pytest.skip("cannot start a throwaway Redis: no redis-server on PATH")
    directory = tmp_path / "redis"
    directory.mkdir()
    server = ThrowawayRedis(directory, free_port())
    try:
        await server.start()
        yield server
    finally:
        await server.kill()
