"""The PostgreSQL store (`DATABASE_URL=postgresql://...`), for several replicas sharing one
database. Same behaviour as the SQLite store, kept by the same contract tests.

Migrations run at start-up inside one transaction holding an advisory lock, so replicas that
start together migrate once, in turn. Deduplication is a primary-key insert (`ON CONFLICT DO
NOTHING`), never a read-then-write, so two replicas given the same Slack event answer once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
import time
from collections.abc import Sequence
from typing import Any

import asyncpg

from bot.accounting.ledger import LedgerRow
from bot.question import Question, Turn
from bot.store.base import (
    CHANNEL_SCOPE,
    PERSON_SCOPE,
    QUESTION_COLUMNS,
    SESSION_COLUMNS,
    Admission,
    OnStop,
    StoreChoice,
    Unfinished,
    WebSession,
    question_from,
    question_values,
    session_values,
    turn_key,
)

log = logging.getLogger(__name__)

# Stop presses that land on another replica than the one streaming the answer travel here.
STOP_CHANNEL = "shopmax_stop"

# Lease times come from the database's clock, so replicas whose clocks drift still agree.
NOW = "extract(epoch FROM clock_timestamp())"

# Seconds to wait for a connection: an address that drops packets fails start-up with a clear
# line instead of hanging for asyncpg's default minute.
CONNECT_TIMEOUT = 10.0

MIGRATION_LOCK = 0x5A0B_0001  # any constant; all replicas take the same advisory lock

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE claimed_messages (key TEXT PRIMARY KEY, claimed_at DOUBLE PRECISION NOT NULL);
    CREATE TABLE turns (
        id BIGSERIAL PRIMARY KEY,
        thread_key TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
        text TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX turns_by_thread ON turns (thread_key, id);
    """,
    """
    CREATE TABLE questions (
        id TEXT PRIMARY KEY, team TEXT NOT NULL, channel TEXT NOT NULL, "user" TEXT NOT NULL,
        text TEXT NOT NULL, surface TEXT NOT NULL, ts TEXT NOT NULL, thread_ts TEXT NOT NULL,
        response_url TEXT NOT NULL, asked_at DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX questions_by_user ON questions (team, "user", asked_at);
    CREATE TABLE in_flight (
        answer_id TEXT PRIMARY KEY, team TEXT NOT NULL, channel TEXT NOT NULL, ts TEXT NOT NULL,
        text TEXT NOT NULL, started_at DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE ledger (
        id BIGSERIAL PRIMARY KEY, at DOUBLE PRECISION NOT NULL, team TEXT NOT NULL,
        channel TEXT NOT NULL, "user" TEXT NOT NULL, surface TEXT NOT NULL, model TEXT NOT NULL,
        input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL,
        cache_write_tokens BIGINT NOT NULL, cache_read_tokens BIGINT NOT NULL,
        ttft_ms DOUBLE PRECISION, first_visible_ms DOUBLE PRECISION,
        duration_ms DOUBLE PRECISION NOT NULL, slack_edits INTEGER NOT NULL, stop_reason TEXT,
        outcome TEXT NOT NULL, cost_usd DOUBLE PRECISION, cost_inr DOUBLE PRECISION
    );
    CREATE INDEX ledger_by_user ON ledger (team, "user", at);
    """,
    """
    CREATE TABLE feedback (
        answer_id TEXT NOT NULL, "user" TEXT NOT NULL,
        rating TEXT NOT NULL CHECK (rating IN ('good', 'bad')), at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (answer_id, "user")
    );
    """,
    """
    CREATE TABLE descriptions (
        sku TEXT PRIMARY KEY, text TEXT NOT NULL, model TEXT NOT NULL,
        written_at DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE jobs (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    """
    ALTER TABLE in_flight ADD COLUMN owner TEXT NOT NULL DEFAULT '';
    ALTER TABLE in_flight ADD COLUMN lease_until DOUBLE PRECISION NOT NULL DEFAULT 0;
    CREATE INDEX in_flight_by_lease ON in_flight (lease_until);
    """,
    # Writes kept while the database was away are written again with their key: kept once.
    # And what retention deletes by age is found by age.
    """
    ALTER TABLE ledger ADD COLUMN entry_key TEXT;
    CREATE UNIQUE INDEX ledger_by_key ON ledger (entry_key);
    ALTER TABLE turns ADD COLUMN entry_key TEXT;
    CREATE UNIQUE INDEX turns_by_key ON turns (entry_key);
    CREATE INDEX claimed_by_age ON claimed_messages (claimed_at);
    CREATE INDEX turns_by_age ON turns (created_at);
    CREATE INDEX questions_by_age ON questions (asked_at);
    """,
    # What the browser showed under an answer (its stats line, or "Stopped."), for a reload.
    """
    ALTER TABLE turns ADD COLUMN note TEXT NOT NULL DEFAULT '';
    """,
    # Limits counted at admission (a question's answer holds its token ceiling until settled);
    # the browser's signing keys and sessions, checked server-side. `shopmax_admit` is one
    # statement for the caller: it takes the asker's advisory lock, then counts (each query
    # of a volatile function sees what committed before it, so after the lock it sees every
    # earlier admission, on any replica) and keeps the question only within both limits.
    """
    ALTER TABLE questions ADD COLUMN reserved BIGINT NOT NULL DEFAULT 0;
    CREATE TABLE web_keys (
        name TEXT PRIMARY KEY, key TEXT NOT NULL, made_at DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE web_sessions (
        id TEXT PRIMARY KEY, team TEXT NOT NULL, "user" TEXT NOT NULL, name TEXT NOT NULL,
        kind TEXT NOT NULL, expires_at DOUBLE PRECISION NOT NULL,
        last_seen DOUBLE PRECISION NOT NULL, revoked BOOLEAN NOT NULL DEFAULT false
    );
    CREATE INDEX web_sessions_by_expiry ON web_sessions (expires_at);
    CREATE FUNCTION shopmax_admit(
        q_id TEXT, q_team TEXT, q_channel TEXT, q_user TEXT, q_text TEXT, q_surface TEXT,
        q_ts TEXT, q_thread_ts TEXT, q_response_url TEXT, q_at DOUBLE PRECISION,
        q_reserve BIGINT, q_since DOUBLE PRECISION, q_most BIGINT,
        q_day_since DOUBLE PRECISION, q_tokens_most BIGINT, q_reserved_since DOUBLE PRECISION
    ) RETURNS TEXT LANGUAGE plpgsql VOLATILE AS $$
    DECLARE
        asked BIGINT;
        used BIGINT;
    BEGIN
        PERFORM pg_advisory_xact_lock(hashtextextended(q_team || ':' || q_user, 23));
        SELECT count(*) INTO asked FROM questions
            WHERE team = q_team AND "user" = q_user AND asked_at >= q_since;
        IF asked >= q_most THEN
            RETURN 'questions';
        END IF;
        SELECT COALESCE(sum(input_tokens + output_tokens + cache_write_tokens
                            + cache_read_tokens), 0) INTO used FROM ledger
            WHERE team = q_team AND "user" = q_user AND at >= q_day_since;
        used := used + (SELECT COALESCE(sum(reserved), 0) FROM questions
            WHERE team = q_team AND "user" = q_user AND asked_at >= q_reserved_since
            AND reserved > 0);
        IF used >= q_tokens_most THEN
            RETURN 'tokens';
        END IF;
        INSERT INTO questions VALUES (q_id, q_team, q_channel, q_user, q_text, q_surface, q_ts,
            q_thread_ts, q_response_url, q_at, q_reserve) ON CONFLICT (id) DO NOTHING;
        RETURN NULL;
    END $$;
    """,
    # How many figures in the answer could not be checked (marked ⚠ in Slack).
    """
    ALTER TABLE ledger ADD COLUMN unverified_figures INTEGER NOT NULL DEFAULT 0;
    """,
    # A team's shared ceiling (the shared web token's sign-ins, all together), and reservations
    # topped up before each further tool round. Each takes the team's advisory lock (where the
    # team has a ceiling) before the person's, always in that order.
    """
    DROP FUNCTION shopmax_admit(TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT,
        DOUBLE PRECISION, BIGINT, DOUBLE PRECISION, BIGINT, DOUBLE PRECISION, BIGINT,
        DOUBLE PRECISION);
    CREATE FUNCTION shopmax_held(q_team TEXT, q_user TEXT, q_day_since DOUBLE PRECISION,
        q_reserved_since DOUBLE PRECISION) RETURNS BIGINT LANGUAGE sql VOLATILE AS $$
        SELECT (SELECT COALESCE(sum(input_tokens + output_tokens + cache_write_tokens
                                    + cache_read_tokens), 0) FROM ledger
                WHERE team = q_team AND (q_user IS NULL OR "user" = q_user)
                AND at >= q_day_since)
             + (SELECT COALESCE(sum(reserved), 0) FROM questions
                WHERE team = q_team AND (q_user IS NULL OR "user" = q_user)
                AND asked_at >= q_reserved_since AND reserved > 0)
    $$;
    CREATE FUNCTION shopmax_lock(q_team TEXT, q_user TEXT, q_shared BOOLEAN) RETURNS VOID
        LANGUAGE plpgsql VOLATILE AS $$
    BEGIN
        IF q_shared THEN
            PERFORM pg_advisory_xact_lock(hashtextextended('team:' || q_team, 23));
        END IF;
        PERFORM pg_advisory_xact_lock(hashtextextended(q_team || ':' || q_user, 23));
    END $$;
    CREATE FUNCTION shopmax_admit(
        q_id TEXT, q_team TEXT, q_channel TEXT, q_user TEXT, q_text TEXT, q_surface TEXT,
        q_ts TEXT, q_thread_ts TEXT, q_response_url TEXT, q_at DOUBLE PRECISION,
        q_reserve BIGINT, q_since DOUBLE PRECISION, q_most BIGINT,
        q_day_since DOUBLE PRECISION, q_tokens_most BIGINT, q_reserved_since DOUBLE PRECISION,
        q_team_most BIGINT, q_team_tokens_most BIGINT
    ) RETURNS TEXT LANGUAGE plpgsql VOLATILE AS $$
    BEGIN
        PERFORM shopmax_lock(q_team, q_user, q_team_most IS NOT NULL);
        IF (SELECT count(*) FROM questions WHERE team = q_team AND "user" = q_user
            AND asked_at >= q_since) >= q_most THEN
            RETURN 'questions';
        END IF;
        IF q_team_most IS NOT NULL AND (
            (SELECT count(*) FROM questions WHERE team = q_team AND asked_at >= q_since)
                >= q_team_most
            OR shopmax_held(q_team, NULL, q_day_since, q_reserved_since) >= q_team_tokens_most
        ) THEN
            RETURN 'team';
        END IF;
        IF shopmax_held(q_team, q_user, q_day_since, q_reserved_since) >= q_tokens_most THEN
            RETURN 'tokens';
        END IF;
        INSERT INTO questions VALUES (q_id, q_team, q_channel, q_user, q_text, q_surface, q_ts,
            q_thread_ts, q_response_url, q_at, q_reserve) ON CONFLICT (id) DO NOTHING;
        RETURN NULL;
    END $$;
    CREATE FUNCTION shopmax_top_up(
        q_id TEXT, q_team TEXT, q_user TEXT, q_amount BIGINT, q_day_since DOUBLE PRECISION,
        q_tokens_most BIGINT, q_reserved_since DOUBLE PRECISION, q_team_tokens_most BIGINT
    ) RETURNS BOOLEAN LANGUAGE plpgsql VOLATILE AS $$
    BEGIN
        PERFORM shopmax_lock(q_team, q_user, q_team_tokens_most IS NOT NULL);
        IF shopmax_held(q_team, q_user, q_day_since, q_reserved_since) + q_amount > q_tokens_most
            OR (q_team_tokens_most IS NOT NULL AND shopmax_held(q_team, NULL, q_day_since,
                q_reserved_since) + q_amount > q_team_tokens_most) THEN
            RETURN false;
        END IF;
        UPDATE questions SET reserved = reserved + q_amount WHERE id = q_id;
        RETURN FOUND;
    END $$;
    """,
    # The store a channel is mapped to (by an admin) or a person chose, and the store a
    # browser sign-in chose: which store a question is about (docs/catalog.md).
    """
    CREATE TABLE store_choices (
        team TEXT NOT NULL, scope TEXT NOT NULL CHECK (scope IN ('channel', 'person')),
        key TEXT NOT NULL, code TEXT NOT NULL, set_by TEXT NOT NULL,
        set_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (team, scope, key)
    );
    ALTER TABLE web_sessions ADD COLUMN store TEXT NOT NULL DEFAULT '';
    """,
)

LEDGER_FIELDS = [f.name for f in dataclasses.fields(LedgerRow)]
LEDGER_COLUMNS = ", ".join('"user"' if f == "user" else f for f in LEDGER_FIELDS)
QUESTIONS = QUESTION_COLUMNS.format(user='"user"')
SESSIONS = SESSION_COLUMNS.format(user='"user"')
CONNECT_TIMEOUT = 5.0  # seconds to open a connection: a dead host must not stall an answer
CLOSE_TIMEOUT = 5.0  # seconds for the pool to close politely before it is cut off

# What a database that is away looks like: no connection, a connection lost, the server
# shutting down or starting up, out of connections, or read-only mid-failover.
UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.ReadOnlySQLTransactionError,
)


def unreachable(exc: BaseException) -> bool:
    """Whether `exc` means the database cannot be used right now, rather than a bug."""
    return isinstance(exc, UNREACHABLE)


class PostgresStore:
    """`Store` on PostgreSQL through an asyncpg connection pool."""

    def __init__(
        self, pool: asyncpg.Pool, url: str, settings: dict[str, str] | None = None
    ) -> None:
        self._pool = pool
        self._url = url
        self._settings = settings
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self._relayed: set[asyncio.Task[None]] = set()
        self._listen_failing = False

    @classmethod
    async def open(cls, url: str, *, schema: str | None = None) -> PostgresStore:
        """Connect and migrate; `schema` (tests) keeps the tables in a schema of their own."""
        settings = {"search_path": schema} if schema else None
        # No floor of idle connections: asyncpg would log a traceback for each attempt to keep
        # one while the database is away. Connections open on demand and stay for reuse.
        pool = await asyncpg.create_pool(
            url, min_size=0, max_size=5, server_settings=settings, timeout=CONNECT_TIMEOUT
        )
        store = cls(pool, url, settings)
        await store._migrate()
        return store

    async def _migrate(self) -> None:
        async with self._pool.acquire() as db, db.transaction():
            await db.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            await db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            version = await db.fetchval("SELECT max(version) FROM schema_version") or 0
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                await db.execute(script)
                await db.execute("INSERT INTO schema_version VALUES ($1)", number)

    async def claim(self, key: str) -> bool:
        status = await self._pool.execute(
            "INSERT INTO claimed_messages VALUES ($1, $2) ON CONFLICT DO NOTHING", key, time.time()
        )
        return bool(status == "INSERT 0 1")

    async def turns(self, thread_key: str) -> list[Turn]:
        rows = await self._pool.fetch(
            "SELECT role, text, note FROM turns WHERE thread_key = $1 ORDER BY id", thread_key
        )
        return [Turn(row["role"], row["text"], row["note"]) for row in rows]

    async def add_turns(
        self,
        thread_key: str,
        turns: Sequence[Turn],
        *,
        key: str | None = None,
        at: float | None = None,
    ) -> None:
        created = time.time() if at is None else at
        await self._pool.executemany(
            "INSERT INTO turns (thread_key, role, text, created_at, entry_key, note) "
            "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (entry_key) DO NOTHING",
            [
                (thread_key, t.role, t.text, created, turn_key(key, n), t.note)
                for n, t in enumerate(turns)
            ],
        )

    async def has_thread(self, thread_key: str) -> bool:
        found = await self._pool.fetchval(
            "SELECT 1 FROM turns WHERE thread_key = $1 LIMIT 1", thread_key
        )
        return found is not None

    async def save_question(
        self, question_id: str, question: Question, *, at: float | None = None, reserved: int = 0
    ) -> None:
        await self._pool.execute(
            f"INSERT INTO questions ({QUESTIONS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
            "$10, $11) ON CONFLICT (id) DO NOTHING",
            *question_values(question_id, question, time.time() if at is None else at, reserved),
        )

    async def admit(
        self, question_id: str, question: Question, limits: Admission, *, at: float | None = None
    ) -> str | None:
        values = question_values(
            question_id, question, time.time() if at is None else at, limits.reserve
        )
        verdict = await self._pool.fetchval(
            "SELECT shopmax_admit($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
            "$15, $16, $17, $18)",
            *values,
            limits.since,
            limits.most,
            limits.day_since,
            limits.tokens_most,
            limits.reserved_since,
            limits.team_most,
            limits.team_tokens_most,
        )
        return None if verdict is None else str(verdict)

    async def top_up(
        self, question_id: str, question: Question, amount: int, limits: Admission
    ) -> bool:
        done = await self._pool.fetchval(
            "SELECT shopmax_top_up($1, $2, $3, $4, $5, $6, $7, $8)",
            question_id,
            question.team,
            question.user,
            amount,
            limits.day_since,
            limits.tokens_most,
            limits.reserved_since,
            limits.team_tokens_most,
        )
        return bool(done)

    async def settle(self, question_id: str) -> None:
        await self._pool.execute("UPDATE questions SET reserved = 0 WHERE id = $1", question_id)

    async def question(self, question_id: str) -> Question | None:
        row = await self._pool.fetchrow(
            'SELECT team, channel, "user", text, surface, ts, thread_ts, response_url '
            "FROM questions WHERE id = $1",
            question_id,
        )
        return None if row is None else question_from(tuple(row))

    async def questions_since(self, team: str, user: str, since: float) -> int:
        count = await self._pool.fetchval(
            'SELECT count(*) FROM questions WHERE team = $1 AND "user" = $2 AND asked_at >= $3',
            team,
            user,
            since,
        )
        return int(count or 0)

    async def begin_answer(
        self, answer_id: str, team: str, channel: str, ts: str, *, owner: str, lease: float
    ) -> None:
        await self._pool.execute(
            "INSERT INTO in_flight (answer_id, team, channel, ts, text, started_at, owner, "
            f"lease_until) VALUES ($1, $2, $3, $4, '', {NOW}, $5, {NOW} + $6) "
            "ON CONFLICT (answer_id) DO UPDATE SET ts = EXCLUDED.ts, owner = EXCLUDED.owner, "
            "lease_until = EXCLUDED.lease_until",
            answer_id,
            team,
            channel,
            ts,
            owner,
            lease,
        )

    async def answer_progress(self, answer_id: str, ts: str, text: str) -> None:
        await self._pool.execute(
            "UPDATE in_flight SET ts = $2, text = $3 WHERE answer_id = $1", answer_id, ts, text
        )

    async def end_answer(self, answer_id: str) -> None:
        await self._pool.execute("DELETE FROM in_flight WHERE answer_id = $1", answer_id)

    async def renew_leases(self, owner: str, lease: float) -> None:
        await self._pool.execute(
            f"UPDATE in_flight SET lease_until = {NOW} + $2 WHERE owner = $1", owner, lease
        )

    async def take_over(self, owner: str, lease: float, *, own_too: bool) -> list[Unfinished]:
        # SKIP LOCKED: replicas sweeping at the same moment take disjoint rows.
        rows = await self._pool.fetch(
            f"UPDATE in_flight SET owner = $1, lease_until = {NOW} + $2 WHERE answer_id IN ("
            f"SELECT answer_id FROM in_flight WHERE lease_until < {NOW} OR ($3 AND owner = $1) "
            "FOR UPDATE SKIP LOCKED) RETURNING answer_id, team, channel, ts, text",
            owner,
            lease,
            own_too,
        )
        return [Unfinished(*row) for row in rows]

    async def record(self, row: LedgerRow, *, key: str | None = None) -> None:
        placeholders = ", ".join(f"${n}" for n in range(1, len(LEDGER_FIELDS) + 2))
        await self._pool.execute(
            f"INSERT INTO ledger ({LEDGER_COLUMNS}, entry_key) VALUES ({placeholders}) "
            "ON CONFLICT (entry_key) DO NOTHING",
            *[getattr(row, name) for name in LEDGER_FIELDS],
            key,
        )

    async def ledger(self, since: float) -> list[LedgerRow]:
        rows = await self._pool.fetch(
            f"SELECT {LEDGER_COLUMNS} FROM ledger WHERE at >= $1 ORDER BY at, id", since
        )
        return [LedgerRow(*row) for row in rows]

    async def tokens_since(self, team: str, user: str, since: float) -> int:
        total = await self._pool.fetchval(
            "SELECT COALESCE(sum(input_tokens + output_tokens + cache_write_tokens "
            '+ cache_read_tokens), 0) FROM ledger WHERE team = $1 AND "user" = $2 AND at >= $3',
            team,
            user,
            since,
        )
        return int(total or 0)

    async def rate(self, answer_id: str, user: str, rating: str) -> None:
        await self._pool.execute(
            'INSERT INTO feedback VALUES ($1, $2, $3, $4) ON CONFLICT (answer_id, "user") '
            "DO UPDATE SET rating = EXCLUDED.rating, at = EXCLUDED.at",
            answer_id,
            user,
            rating,
            time.time(),
        )

    async def feedback(self, answer_id: str) -> dict[str, str]:
        rows = await self._pool.fetch(
            'SELECT "user", rating FROM feedback WHERE answer_id = $1', answer_id
        )
        return {row["user"]: row["rating"] for row in rows}

    async def save_description(self, sku: str, text: str, model: str) -> None:
        await self._pool.execute(
            "INSERT INTO descriptions VALUES ($1, $2, $3, $4) ON CONFLICT (sku) DO UPDATE "
            "SET text = EXCLUDED.text, model = EXCLUDED.model, written_at = EXCLUDED.written_at",
            sku,
            text,
            model,
            time.time(),
        )

    async def descriptions(self) -> dict[str, str]:
        rows = await self._pool.fetch("SELECT sku, text FROM descriptions")
        return {row["sku"]: row["text"] for row in rows}

    async def pending_batch(self) -> str | None:
        value: Any = await self._pool.fetchval(
            "SELECT value FROM jobs WHERE name = 'describe_batch'"
        )
        return None if value is None else str(value)

    async def set_pending_batch(self, batch_id: str | None) -> None:
        if batch_id is None:
            await self._pool.execute("DELETE FROM jobs WHERE name = 'describe_batch'")
        else:
            await self._pool.execute(
                "INSERT INTO jobs VALUES ('describe_batch', $1) ON CONFLICT (name) "
                "DO UPDATE SET value = EXCLUDED.value",
                batch_id,
            )

    async def relay_stop(self, answer_id: str, user: str) -> None:
        await self._pool.execute("SELECT pg_notify($1, $2)", STOP_CHANNEL, f"{answer_id} {user}")

    async def listen_stops(self, on_stop: OnStop) -> None:
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(on_stop), name="stop-listener")
        await asyncio.wait_for(self._listening.wait(), 10)

    async def _listen(self, on_stop: OnStop) -> None:
        """LISTEN on a connection of its own (a pooled one would be handed to queries), and
        connect again whenever that connection is lost."""

        def notified(_db: object, _pid: int, _channel: str, payload: object) -> None:
            answer_id, _, user = str(payload).partition(" ")
            task = asyncio.create_task(on_stop(answer_id, user))
            self._relayed.add(task)
            task.add_done_callback(self._relayed.discard)

        while True:
            try:
                db = await asyncpg.connect(
                    self._url, server_settings=self._settings, timeout=CONNECT_TIMEOUT
                )
            except (*UNREACHABLE, asyncpg.PostgresError) as exc:
                if not self._listen_failing:  # once per outage, not once a second
                    log.warning("cannot listen for Stop presses (%s); trying again", exc)
                self._listen_failing = True
                await asyncio.sleep(1)
                continue
            await self._hold(db, notified)
            await asyncio.sleep(1)

    async def _hold(self, db: asyncpg.Connection, notified: Any) -> None:
        """LISTEN on `db` until the connection is lost."""
        lost = asyncio.Event()
        db.add_termination_listener(lambda _db: lost.set())
        try:
            await db.add_listener(STOP_CHANNEL, notified)
        except (*UNREACHABLE, asyncpg.PostgresError):
            db.terminate()
            return
        if self._listen_failing:
            log.warning("listening for Stop presses again")
            self._listen_failing = False
        self._listening.set()
        try:
            await lost.wait()
            log.warning("lost the connection that listens for Stop presses; reconnecting")
            self._listen_failing = True  # said once: no second line until it is back
        finally:
            db.terminate()

    async def ping(self) -> None:
        await self._pool.fetchval("SELECT 1")

    async def signing_key(self, name: str) -> bytes:
        await self._pool.execute(
            "INSERT INTO web_keys VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
            name,
            secrets.token_hex(32),
            time.time(),
        )
        key = await self._pool.fetchval("SELECT key FROM web_keys WHERE name = $1", name)
        return bytes.fromhex(str(key))

    async def rotate_key(self, name: str) -> None:
        async with self._pool.acquire() as db, db.transaction():
            await db.execute(
                "INSERT INTO web_keys VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE "
                "SET key = EXCLUDED.key, made_at = EXCLUDED.made_at",
                name,
                secrets.token_hex(32),
                time.time(),
            )
            await db.execute("UPDATE web_sessions SET revoked = true")

    async def start_session(self, session: WebSession) -> None:
        await self._pool.execute(
            f"INSERT INTO web_sessions ({SESSIONS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
            "ON CONFLICT (id) DO NOTHING",
            *session_values(session),
        )

    async def web_session(self, session_id: str) -> WebSession | None:
        row = await self._pool.fetchrow(
            f"SELECT {SESSIONS} FROM web_sessions WHERE id = $1", session_id
        )
        return None if row is None else WebSession(*row)

    async def touch_session(self, session_id: str, at: float) -> None:
        await self._pool.execute(
            "UPDATE web_sessions SET last_seen = GREATEST(last_seen, $2) WHERE id = $1",
            session_id,
            at,
        )

    async def end_session(self, session_id: str) -> None:
        await self._pool.execute("UPDATE web_sessions SET revoked = true WHERE id = $1", session_id)

    async def choose_store(
        self, team: str, scope: str, key: str, code: str | None, *, by: str
    ) -> None:
        if code is None:
            await self._pool.execute(
                "DELETE FROM store_choices WHERE team = $1 AND scope = $2 AND key = $3",
                team,
                scope,
                key,
            )
            return
        await self._pool.execute(
            "INSERT INTO store_choices VALUES ($1, $2, $3, $4, $5, $6) "
            "ON CONFLICT (team, scope, key) DO UPDATE SET code = EXCLUDED.code, "
            "set_by = EXCLUDED.set_by, set_at = EXCLUDED.set_at",
            team,
            scope,
            key,
            code,
            by,
            time.time(),
        )

    async def store_choice(self, team: str, scope: str, key: str) -> StoreChoice | None:
        row = await self._pool.fetchrow(
            "SELECT code, scope, key, set_by FROM store_choices "
            "WHERE team = $1 AND scope = $2 AND key = $3",
            team,
            scope,
            key,
        )
        return None if row is None else StoreChoice(*row)

    async def asker_store(self, team: str, channel: str, user: str) -> StoreChoice | None:
        row = await self._pool.fetchrow(
            "SELECT code, scope, key, set_by FROM store_choices WHERE team = $1 AND "
            "((scope = $2 AND key = $3) OR (scope = $4 AND key = $5)) "
            "ORDER BY scope = $2 DESC LIMIT 1",
            team,
            CHANNEL_SCOPE,
            channel,
            PERSON_SCOPE,
            user,
        )
        return None if row is None else StoreChoice(*row)

    async def prune(self, *, claims_before: float, history_before: float, batch: int) -> int:
        """Delete by primary key, SKIP LOCKED: replicas pruning at once take different rows,
        and nothing waits on a row an answer is using (answers touch new rows only)."""
        deleted = 0
        for table, column, before in (
            ("claimed_messages", "claimed_at", claims_before),
            ("turns", "created_at", history_before),
            ("questions", "asked_at", history_before),
        ):
            key = "key" if table == "claimed_messages" else "id"
            status = await self._pool.execute(
                f"DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} "
                f"WHERE {column} < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
                before,
                batch,
            )
            deleted += int(status.rsplit(" ", 1)[-1])
        return deleted

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        try:
            await asyncio.wait_for(self._pool.close(), CLOSE_TIMEOUT)
        except TimeoutError:  # a server that went away does not say goodbye
            self._pool.terminate()
