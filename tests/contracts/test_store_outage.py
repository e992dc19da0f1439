"""The store off the critical line, against a real PostgreSQL crashed and started again under
it (a throwaway cluster of each test's own), and a real SQLite file another process locks.

While the database is away nothing raises on a write and nothing waits for it: bookkeeping is
kept in the local spool and written, in order and once, when the database is back or at the
next start; reads say what they can without it.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest

from bot.accounting.health import Health
from bot.accounting.metrics import Metrics
from bot.errors import CannotOpenStore, StoreUnavailable
from bot.question import Question, Surface, Turn
from bot.store import SqliteStore, open_resilient_store, sqlite
from bot.store.base import Store
from bot.store.claims import FallbackClaims
from bot.store.postgres import NOW, PostgresStore, unreachable
from bot.store.resilient import ResilientStore
from bot.store.spool import Spool
from tests.conftest import ledger_row
from tests.services import ThrowawayPostgres

QUESTION = Question("T1", "C1", "U1", "fridge under 30k?", Surface.MENTION, "1.1", "1.0")
Opened = Callable[..., Awaitable[ResilientStore]]


@pytest.fixture
async def opened(tmp_path: Path) -> AsyncIterator[Opened]:
    """Opens a ResilientStore (closed after the test) on a backend; quick probes."""
    stores: list[ResilientStore] = []

    async def open_one(
        open_inner: Callable[[], Awaitable[Store]],
        *,
        away: Callable[[BaseException], bool] = unreachable,
        limit: int = 1000,
        health: Health | None = None,
        call_timeout: float = 2.0,
        spool: str = "spool.jsonl",
    ) -> ResilientStore:
        metrics = health.metrics if health else Metrics()
        store = ResilientStore(
            open_inner,
            unreachable=away,
            spool=Spool.load(tmp_path / spool, limit, metrics),
            claims=FallbackClaims(),
            health=health,
            timeout=call_timeout,
            probe_every=0.05,
        )
        await store.connect()
        stores.append(store)
        return store

    yield open_one
    for store in stores:
        await store.close()


def postgres(cluster: ThrowawayPostgres) -> Callable[[], Awaitable[Store]]:
    async def open_inner() -> Store:
        return await PostgresStore.open(cluster.url)

    return open_inner


async def until(condition: Callable[[], bool], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        await asyncio.sleep(0.02)


def moment(n: int) -> float:
    """The `n`th answer's time: a few minutes ago, in order."""
    return time.time() - 300 + n


async def one_answer(store: Store, answer_id: str, n: int) -> None:
    """The bookkeeping of one answer, as the answering path writes it."""
    await store.save_question(answer_id, QUESTION)
    await store.begin_answer(answer_id, "T1", "C1", "", owner="r1", lease=60)
    for words in ("The", "The LG", "The LG 260 L"):
        await store.answer_progress(answer_id, "9.9", words)
    await store.end_answer(answer_id)
    await store.add_turns("T1:C1:1.0", [Turn("user", f"q{n}"), Turn("assistant", f"a{n}")])
    await store.record(ledger_row(at=moment(n), output_tokens=n, team="T1", user="U1"))


async def test_bookkeeping_written_while_postgres_is_down_arrives_once_in_order(
    throwaway_postgres: ThrowawayPostgres, opened: Opened, tmp_path: Path
) -> None:
    """Answers given across a crash: every ledger row, turn and question reaches the
    database once, in the order written; no answer is left 'in flight'."""
    health = Health(Metrics())
    store = await opened(postgres(throwaway_postgres), health=health)
    await one_answer(store, "a0", 0)
    await throwaway_postgres.crash()
    started = time.monotonic()
    for n in (1, 2, 3):
        await one_answer(store, f"a{n}", n)
    assert time.monotonic() - started < 5, "a write waited for the dead database"
    assert not store.up and not health.states()["database"].ok
    assert (tmp_path / "spool.jsonl").exists()
    await throwaway_postgres.start()
    await until(lambda: store.up)
    assert [row.output_tokens for row in await store.ledger(0)] == [0, 1, 2, 3]
    assert await store.turns("T1:C1:1.0") == [
        Turn(role, f"{letter}{n}")
        for n in range(4)
        for role, letter in (("user", "q"), ("assistant", "a"))
    ]
    assert await store.question("a3") == QUESTION
    assert await store.take_over("r1", 60, own_too=True) == []
    assert not (tmp_path / "spool.jsonl").exists() and store.spooled == 0
    assert health.states()["database"].ok


async def test_reads_say_what_they_can_while_the_database_is_away(
    throwaway_postgres: ThrowawayPostgres, opened: Opened
) -> None:
    """Deduplication falls back to this process's memory; limits, threads and Retry answer
    from what this process wrote; stored turns cannot be read and say so."""
    store = await opened(postgres(throwaway_postgres))
    await store.save_question("before", QUESTION)
    await throwaway_postgres.crash()
    await one_answer(store, "a1", 1)
    assert [await store.claim("T1:C1:5.5") for _ in range(3)] == [True, False, False]
    assert await store.questions_since("T1", "U1", 0) == 2
    assert await store.questions_since("T1", "U2", 0) == 0
    assert await store.tokens_since("T1", "U1", 0) == 1001
    assert await store.has_thread("T1:C1:1.0") and not await store.has_thread("T1:C1:2.0")
    assert await store.question("a1") == QUESTION
    assert await store.take_over("r2", 60, own_too=False) == []
    await store.renew_leases("r1", 60)
    with pytest.raises(StoreUnavailable):
        await store.turns("T1:C1:1.0")
    with pytest.raises(StoreUnavailable):
        await store.ledger(0)
    await throwaway_postgres.start()
    await until(lambda: store.up)
    assert not await store.claim("T1:C1:5.5"), "a claim made meanwhile reaches the database"


async def test_one_warning_when_the_database_goes_away_and_one_when_it_is_back(
    throwaway_postgres: ThrowawayPostgres, opened: Opened, caplog: pytest.LogCaptureFixture
) -> None:
    store = await opened(postgres(throwaway_postgres))
    await throwaway_postgres.crash()
    for n in range(5):
        await one_answer(store, f"a{n}", n)
        await store.claim(f"k{n}")
    await throwaway_postgres.start()
    await until(lambda: store.up)
    lines = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name == "bot.store.resilient"
    ]
    assert len(lines) == 2, lines
    assert lines[0].startswith("the database is unreachable")
    assert lines[1].startswith("the database is back after") and "written" in lines[1]
    assert not [r for r in caplog.records if r.exc_info], "no traceback"


async def test_a_restart_with_a_non_empty_spool_writes_it_at_start_and_only_once(
    throwaway_postgres: ThrowawayPostgres, opened: Opened, tmp_path: Path
) -> None:
    """The bot stops while the database is away; the next start writes what was kept. If that
    start dies before the spool file is removed, the one after writes nothing twice."""
    first = await opened(postgres(throwaway_postgres))
    await throwaway_postgres.crash()
    for n in (1, 2):
        await one_answer(first, f"a{n}", n)
    await first.close()
    kept = tmp_path / "spool.jsonl"
    shutil.copy(kept, tmp_path / "copy.jsonl")
    await throwaway_postgres.start()
    second = await opened(postgres(throwaway_postgres))
    assert second.up and not kept.exists()
    assert [row.output_tokens for row in await second.ledger(0)] == [1, 2]
    shutil.copy(tmp_path / "copy.jsonl", kept)  # as if the start had died mid-replay
    third = await opened(postgres(throwaway_postgres))
    assert [row.output_tokens for row in await third.ledger(0)] == [1, 2]
    assert len(await third.turns("T1:C1:1.0")) == 4


async def test_the_spool_is_bounded_and_says_so_once(
    throwaway_postgres: ThrowawayPostgres, opened: Opened, caplog: pytest.LogCaptureFixture
) -> None:
    """Past the bound, writes are dropped and counted; what was kept still arrives."""
    health = Health(Metrics())
    store = await opened(postgres(throwaway_postgres), limit=3, health=health)
    await throwaway_postgres.crash()
    for n in range(5):
        await store.record(ledger_row(at=moment(n), output_tokens=n, team="T1", user="U1"))
    assert store.spooled == 3
    full = [r for r in caplog.records if "is full" in r.getMessage()]
    assert len(full) == 1 and "SHOPMAX_SPOOL_LIMIT" in full[0].getMessage()
    exposition = health.metrics.exposition().decode() if health.metrics else ""
    assert "shopmax_spool_dropped_total 2.0" in exposition
    assert "shopmax_spool_entries 3.0" in exposition
    await throwaway_postgres.start()
    await until(lambda: store.up)
    assert [row.output_tokens for row in await store.ledger(0)] == [0, 1, 2]


async def test_a_database_away_at_start_does_not_stop_the_bot(
    throwaway_postgres: ThrowawayPostgres, opened: Opened
) -> None:
    """Started while PostgreSQL is down: the store opens without it and catches up (schema
    included) once it is there."""
    await throwaway_postgres.crash()
    store = await opened(postgres(throwaway_postgres))
    assert not store.up
    await one_answer(store, "a1", 1)
    await throwaway_postgres.start()
    await until(lambda: store.up)
    assert [row.output_tokens for row in await store.ledger(0)] == [1]


async def test_a_sqlite_file_locked_by_another_process_is_away_until_released(
    opened: Opened, tmp_path: Path
) -> None:
    """Another process holds the SQLite write lock: writes stop waiting after the timeout and
    are kept; a write that was stuck behind the lock and lands later is not doubled."""
    path = tmp_path / "shopmax.db"

    async def open_inner() -> Store:
        return await SqliteStore.open(str(path))

    store = await opened(open_inner, away=sqlite.unreachable, call_timeout=0.5)
    await store.record(ledger_row(at=1_700_000_000.0, output_tokens=0))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    for n in (1, 2):
        await one_answer(store, f"a{n}", n)
    assert not store.up
    holder.execute("ROLLBACK")
    holder.close()
    await until(lambda: store.up)
    assert [row.output_tokens for row in await store.ledger(0)] == [0, 1, 2]
    assert len(await store.turns("T1:C1:1.0")) == 4
    assert await store.take_over("r1", 60, own_too=True) == []


async def test_a_sqlite_file_that_cannot_be_used_at_start_stops_the_start(
    tmp_path: Path,
) -> None:
    """A local file that is not a database is a setting to fix, not an outage to ride out: one
    line that says which and why."""
    (tmp_path / "notes.txt").write_text("not a database, " * 100)
    with pytest.raises(CannotOpenStore, match=r"notes\.txt: file is not a database"):
        await open_resilient_store(
            f"sqlite:///{tmp_path}/notes.txt",
            spool_path=tmp_path / "spool.jsonl",
            spool_limit=10,
            call_timeout=1.0,
        )


async def test_the_stop_listener_reconnects_after_a_crash(
    throwaway_postgres: ThrowawayPostgres, opened: Opened
) -> None:
    """A Stop press relayed by another replica after PostgreSQL came back still arrives."""
    pressed: list[tuple[str, str]] = []

    async def on_stop(answer_id: str, user: str) -> None:
        pressed.append((answer_id, user))

    listening = await opened(postgres(throwaway_postgres), spool="listening.jsonl")
    await listening.listen_stops(on_stop)
    await throwaway_postgres.crash()
    await throwaway_postgres.start()
    relaying = await opened(postgres(throwaway_postgres), spool="relaying.jsonl")
    deadline = time.monotonic() + 15
    while not pressed:  # until the listener is back: a NOTIFY before that reaches no one
        assert time.monotonic() < deadline, "the listener never came back"
        await relaying.relay_stop("a1", "U1")
        await asyncio.sleep(0.2)
    assert pressed[0] == ("a1", "U1")


async def test_a_write_after_close_is_kept_for_the_next_start_without_a_warning(
    throwaway_postgres: ThrowawayPostgres, opened: Opened, caplog: pytest.LogCaptureFixture
) -> None:
    """An answer that ends while the bot shuts down writes after the store is closed: that is
    no outage to warn about, and the row is not lost — the next start writes it."""
    store = await opened(postgres(throwaway_postgres))
    await store.close()
    await store.record(ledger_row(at=moment(1), output_tokens=1, team="T1", user="U1"))
    assert store.spooled == 1
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    again = await opened(postgres(throwaway_postgres))
    assert [row.output_tokens for row in await again.ledger(0)] == [1]


async def test_after_an_outage_longer_than_a_lease_no_live_answer_is_taken_over(
    throwaway_postgres: ThrowawayPostgres, opened: Opened
) -> None:
    """No replica can renew its leases while the database is away, so once it is back every
    answer looks abandoned: a sweep waits a lease before taking any over, by which time the
    replica streaming it has renewed its lease."""
    streaming = await opened(postgres(throwaway_postgres), spool="a.jsonl")
    sweeping = await opened(postgres(throwaway_postgres), spool="b.jsonl")
    await streaming.begin_answer("live", "T1", "C1", "9.9", owner="a", lease=0.3)
    await throwaway_postgres.crash()
    # An outage longer than a lease meets every replica's heartbeat (a third of a lease).
    await streaming.renew_leases("a", 0.3)
    await sweeping.renew_leases("b", 0.3)
    await asyncio.sleep(0.5)  # the lease runs out while nobody can renew it
    await throwaway_postgres.start()
    await until(lambda: streaming.up and sweeping.up)
    db = await asyncpg.connect(throwaway_postgres.url)
    try:
        expired = f"SELECT count(*) FROM in_flight WHERE lease_until < {NOW}"
        assert await db.fetchval(expired) == 1, "the live answer looks abandoned"
    finally:
        await db.close()
    assert await sweeping.take_over("b", 30, own_too=False) == []
    await streaming.renew_leases("a", 30)
    other = await PostgresStore.open(throwaway_postgres.url)
    try:
        assert await other.take_over("c", 30, own_too=False) == [], "renewed meanwhile"
    finally:
        await other.close()
