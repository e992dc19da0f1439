"""The SQLite store: one file, migrated forward at start-up by `PRAGMA user_version`.

The connection lives on one worker thread of its own, and every store call is one function run
there whole: one hop off the event loop and back. (Through aiosqlite each statement, fetch,
commit and cursor close was a hop of its own, about three per call; with a hundred questions
arriving at once, each hop waited for the busy event loop to hand the result back, and the
hops on the way to a model request added up to most of a second.) A call already running
when its caller stops waiting still runs to its commit, so nothing is left half-done on the
connection; one not started yet is dropped (the resilient store keeps that write for later).
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

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

# Each entry moves the schema one version forward; never edit a shipped entry, append one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE claimed_messages (
        key TEXT PRIMARY KEY,
        claimed_at REAL NOT NULL
    );
    CREATE TABLE turns (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        thread_key TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
        text TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE INDEX turns_by_thread ON turns (thread_key, id);
    """,
    """
    CREATE TABLE questions (
        id TEXT PRIMARY KEY,
        team TEXT NOT NULL,
        channel TEXT NOT NULL,
        user TEXT NOT NULL,
        text TEXT NOT NULL,
        surface TEXT NOT NULL,
        ts TEXT NOT NULL,
        thread_ts TEXT NOT NULL,
        response_url TEXT NOT NULL,
        asked_at REAL NOT NULL
    );
    CREATE INDEX questions_by_user ON questions (team, user, asked_at);
    CREATE TABLE in_flight (
        answer_id TEXT PRIMARY KEY,
        team TEXT NOT NULL,
        channel TEXT NOT NULL,
        ts TEXT NOT NULL,
        text TEXT NOT NULL,
        started_at REAL NOT NULL
    );
    CREATE TABLE ledger (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at REAL NOT NULL,
        team TEXT NOT NULL,
        channel TEXT NOT NULL,
        user TEXT NOT NULL,
        surface TEXT NOT NULL,
        model TEXT NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        cache_write_tokens INTEGER NOT NULL,
        cache_read_tokens INTEGER NOT NULL,
        ttft_ms REAL,
        first_visible_ms REAL,
        duration_ms REAL NOT NULL,
        slack_edits INTEGER NOT NULL,
        stop_reason TEXT,
        outcome TEXT NOT NULL,
        cost_usd REAL,
        cost_inr REAL
    );
    CREATE INDEX ledger_by_user ON ledger (team, user, at);
    """,
    """
    CREATE TABLE feedback (
        answer_id TEXT NOT NULL,
        user TEXT NOT NULL,
        rating TEXT NOT NULL CHECK (rating IN ('good', 'bad')),
        at REAL NOT NULL,
        PRIMARY KEY (answer_id, user)
    );
    """,
    """
    CREATE TABLE descriptions (
        sku TEXT PRIMARY KEY,
        text TEXT NOT NULL,
        model TEXT NOT NULL,
        written_at REAL NOT NULL
    );
    CREATE TABLE jobs (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    """
    ALTER TABLE in_flight ADD COLUMN owner TEXT NOT NULL DEFAULT '';
    ALTER TABLE in_flight ADD COLUMN lease_until REAL NOT NULL DEFAULT 0;
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
    # the browser's signing keys and sessions, checked server-side.
    """
    ALTER TABLE questions ADD COLUMN reserved INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE web_keys (name TEXT PRIMARY KEY, key TEXT NOT NULL, made_at REAL NOT NULL);
    CREATE TABLE web_sessions (
        id TEXT PRIMARY KEY,
        team TEXT NOT NULL,
        user TEXT NOT NULL,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        expires_at REAL NOT NULL,
        last_seen REAL NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX web_sessions_by_expiry ON web_sessions (expires_at);
    """,
    # How many figures in the answer could not be checked (marked ⚠ in Slack).
    """
    ALTER TABLE ledger ADD COLUMN unverified_figures INTEGER NOT NULL DEFAULT 0;
    """,
    # The store a channel is mapped to (by an admin) or a person chose, and the store a
    # browser sign-in chose: which store a question is about (docs/catalog.md).
    """
    CREATE TABLE store_choices (
        team TEXT NOT NULL,
        scope TEXT NOT NULL CHECK (scope IN ('channel', 'person')),
        key TEXT NOT NULL,
        code TEXT NOT NULL,
        set_by TEXT NOT NULL,
        set_at REAL NOT NULL,
        PRIMARY KEY (team, scope, key)
    );
    ALTER TABLE web_sessions ADD COLUMN store TEXT NOT NULL DEFAULT '';
    """,
)

LEDGER_FIELDS = [f.name for f in dataclasses.fields(LedgerRow)]
QUESTIONS = QUESTION_COLUMNS.format(user="user")
SESSIONS = SESSION_COLUMNS.format(user="user")
TOKENS = "input_tokens + output_tokens + cache_write_tokens + cache_read_tokens"
# What a person, or a whole team, has used and holds: the ledger's tokens of the day plus the
# reservations of answers in flight. (`?` pairs: who, since; who, since.)
_USED = f"(SELECT COALESCE(SUM({TOKENS}), 0) FROM ledger WHERE {{who}} AND at >= ?)"
_HELD = (
    "(SELECT COALESCE(SUM(reserved), 0) FROM questions WHERE {who} AND asked_at >= ? "
    "AND reserved > 0)"
)
PERSON, TEAM = "team = ? AND user = ?", "team = ?"
PERSON_TOKENS = f"({_USED.format(who=PERSON)} + {_HELD.format(who=PERSON)})"
TEAM_TOKENS = f"({_USED.format(who=TEAM)} + {_HELD.format(who=TEAM)})"
PERSON_ASKED = f"(SELECT COUNT(*) FROM questions WHERE {PERSON} AND asked_at >= ?)"
TEAM_ASKED = f"(SELECT COUNT(*) FROM questions WHERE {TEAM} AND asked_at >= ?)"
# One statement: the question is kept only while its asker (and its team, where the team has a
# ceiling: a NULL ceiling is none) is within the limits. Run under BEGIN IMMEDIATE (the write
# lock first), so the counts it reads are the latest.
ADMIT = (
    f"INSERT INTO questions ({QUESTIONS}) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? "
    f"WHERE {PERSON_ASKED} < ? AND {PERSON_TOKENS} < ? "
    f"AND (? IS NULL OR {TEAM_ASKED} < ?) AND (? IS NULL OR {TEAM_TOKENS} < ?)"
)
# A further round's tokens held only if the person (and team) can cover them.
TOP_UP = (
    "UPDATE questions SET reserved = reserved + ? WHERE id = ? "
    f"AND {PERSON_TOKENS} + ? <= ? AND (? IS NULL OR {TEAM_TOKENS} + ? <= ?)"
)


def _write_locked(work: Callable[[sqlite3.Connection], T]) -> Callable[[sqlite3.Connection], T]:
    """`work` in a transaction that takes the write lock first (BEGIN IMMEDIATE), so what it
    reads is the latest and no other writer comes between its reads and its write."""

    def locked(db: sqlite3.Connection) -> T:
        db.execute("BEGIN IMMEDIATE")
        try:
            result = work(db)
            db.commit()
        except BaseException:
            db.rollback()
            raise
        return result

    return locked


def _which_limit(db: sqlite3.Connection, question: Question, limits: Admission) -> str:
    """The limit a question was refused by: its asker's questions, else its team's ceiling,
    else its asker's tokens."""
    person, team = (question.team, question.user), question.team
    if db.execute(f"SELECT {PERSON_ASKED}", (*person, limits.since)).fetchone()[0] >= limits.most:
        return "questions"
    if limits.team_most is not None:
        asked = db.execute(f"SELECT {TEAM_ASKED}", (team, limits.since)).fetchone()[0]
        since = (team, limits.day_since, team, limits.reserved_since)
        used = db.execute(f"SELECT {TEAM_TOKENS}", since).fetchone()[0]
        most = limits.team_tokens_most
        if asked >= limits.team_most or (most is not None and used >= most):
            return "team"
    return "tokens"


def unreachable(exc: BaseException) -> bool:
    """Whether `exc` means the database file cannot be used right now (locked by another
    process, the disk full or failing, the file gone), rather than a bug in a statement."""
    if isinstance(exc, sqlite3.OperationalError):
        return True
    # "file is not a database", "database disk image is malformed"
    return type(exc) is sqlite3.DatabaseError or isinstance(exc, OSError | ValueError)


T = TypeVar("T")
Rows = list[tuple[Any, ...]]


def _use_wal(db: sqlite3.Connection) -> None:
    """WAL, so readers never wait for the writer; `synchronous=NORMAL`, so a commit does not
    wait for the disk (a power cut can lose the last commits, never corrupt the file).
    Switching a new database to WAL can fail at once ("locked") while another process does the
    same, without waiting for the busy timeout: try again briefly."""
    for attempt in range(50):
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            return
        except sqlite3.OperationalError:
            if attempt == 49:
                raise
            time.sleep(0.05)


def _check_usable(path: str) -> None:
    """Raise `sqlite3.Error` unless `path` opens as a SQLite database (or a new one)."""
    db = sqlite3.connect(path, timeout=10.0)
    try:
        db.execute("PRAGMA user_version").fetchone()  # reads the header: "not a database"
    finally:
        db.close()


def _migrate(db: sqlite3.Connection) -> None:
    """Bring the schema up to date. `BEGIN IMMEDIATE` takes the write lock first (waiting up to
    the busy timeout), so processes starting together migrate once, in turn."""
    db.execute("BEGIN IMMEDIATE")
    try:
        row = db.execute("PRAGMA user_version").fetchone()
        version = int(row[0]) if row else 0
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            for statement in script.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {number}")
        db.commit()
    except BaseException:
        db.rollback()
        raise


class SqliteStore:
    """`Store` on SQLite, the connection on its own worker thread (see the module docstring)."""

    def __init__(self, db: sqlite3.Connection, worker: ThreadPoolExecutor) -> None:
        self._db = db
        self._worker = worker

    @classmethod
    async def open(cls, path: str) -> SqliteStore:
        """Open and migrate; `sqlite3.Error` when the file cannot be opened or is not a
        database, with nothing left running."""
        worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(worker, _check_usable, path)
            db = await loop.run_in_executor(
                worker, lambda: sqlite3.connect(path, timeout=10.0, check_same_thread=False)
            )
        except BaseException:
            worker.shutdown(wait=False)
            raise
        store = cls(db, worker)
        try:
            await store._run(_use_wal)
            await store._run(_migrate)
        except BaseException:
            await store.close()
            raise
        return store

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` on the connection's thread, whole."""
        return await asyncio.get_running_loop().run_in_executor(self._worker, work, self._db)

    async def _change(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement, committed; the rows it changed."""

        def change(db: sqlite3.Connection) -> int:
            cursor = db.execute(sql, params)
            db.commit()
            return cursor.rowcount

        return await self._run(change)

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        return await self._run(lambda db: db.execute(sql, params).fetchall())

    async def _row(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = await self._run(lambda db: db.execute(sql, params).fetchone())
        return row

    async def claim(self, key: str) -> bool:
        changed = await self._change(
            "INSERT OR IGNORE INTO claimed_messages (key, claimed_at) VALUES (?, ?)",
            (key, time.time()),
        )
        return changed == 1

    async def turns(self, thread_key: str) -> list[Turn]:
        rows = await self._rows(
            "SELECT role, text, note FROM turns WHERE thread_key = ? ORDER BY id", (thread_key,)
        )
        return [Turn(role, text, note) for role, text, note in rows]

    async def add_turns(
        self,
        thread_key: str,
        turns: Sequence[Turn],
        *,
        key: str | None = None,
        at: float | None = None,
    ) -> None:
        created = time.time() if at is None else at
        values = [
            (thread_key, turn.role, turn.text, created, turn_key(key, n), turn.note)
            for n, turn in enumerate(turns)
        ]

        def add(db: sqlite3.Connection) -> None:
            db.executemany(
                "INSERT INTO turns (thread_key, role, text, created_at, entry_key, note) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (entry_key) DO NOTHING",
                values,
            )
            db.commit()

        await self._run(add)

    async def has_thread(self, thread_key: str) -> bool:
        row = await self._row("SELECT 1 FROM turns WHERE thread_key = ? LIMIT 1", (thread_key,))
        return row is not None

    async def save_question(
        self, question_id: str, question: Question, *, at: float | None = None, reserved: int = 0
    ) -> None:
        await self._change(
            f"INSERT OR REPLACE INTO questions ({QUESTIONS}) VALUES ({', '.join('?' * 11)})",
            question_values(question_id, question, time.time() if at is None else at, reserved),
        )

    async def admit(
        self, question_id: str, question: Question, limits: Admission, *, at: float | None = None
    ) -> str | None:
        values = question_values(
            question_id, question, time.time() if at is None else at, limits.reserve
        )
        person, team = (question.team, question.user), (question.team,)
        tokens = (*person, limits.day_since, *person, limits.reserved_since)
        team_tokens = (*team, limits.day_since, *team, limits.reserved_since)
        params = (
            *values,
            *(*person, limits.since, limits.most),
            *(*tokens, limits.tokens_most),
            *(limits.team_most, *team, limits.since, limits.team_most),
            *(limits.team_tokens_most, *team_tokens, limits.team_tokens_most),
        )

        def admit(db: sqlite3.Connection) -> str | None:
            if db.execute(ADMIT, params).rowcount == 1:
                return None
            return _which_limit(db, question, limits)  # which limit: under the same lock

        return await self._run(_write_locked(admit))

    async def top_up(
        self, question_id: str, question: Question, amount: int, limits: Admission
    ) -> bool:
        person, team = (question.team, question.user), (question.team,)
        params = (
            amount,
            question_id,
            *(*person, limits.day_since, *person, limits.reserved_since),
            *(amount, limits.tokens_most, limits.team_tokens_most),
            *(*team, limits.day_since, *team, limits.reserved_since),
            *(amount, limits.team_tokens_most),
        )

        def top_up(db: sqlite3.Connection) -> bool:
            return bool(db.execute(TOP_UP, params).rowcount == 1)

        return await self._run(_write_locked(top_up))

    async def settle(self, question_id: str) -> None:
        await self._change("UPDATE questions SET reserved = 0 WHERE id = ?", (question_id,))

    async def question(self, question_id: str) -> Question | None:
        row = await self._row(
            "SELECT team, channel, user, text, surface, ts, thread_ts, response_url "
            "FROM questions WHERE id = ?",
            (question_id,),
        )
        return None if row is None else question_from(row)

    async def questions_since(self, team: str, user: str, since: float) -> int:
        row = await self._row(
            "SELECT COUNT(*) FROM questions WHERE team = ? AND user = ? AND asked_at >= ?",
            (team, user, since),
        )
        return int(row[0]) if row else 0

    async def begin_answer(
        self, answer_id: str, team: str, channel: str, ts: str, *, owner: str, lease: float
    ) -> None:
        now = time.time()
        await self._change(
            "INSERT OR REPLACE INTO in_flight (answer_id, team, channel, ts, text, started_at, "
            "owner, lease_until) VALUES (?, ?, ?, ?, '', ?, ?, ?)",
            (answer_id, team, channel, ts, now, owner, now + lease),
        )

    async def answer_progress(self, answer_id: str, ts: str, text: str) -> None:
        await self._change(
            "UPDATE in_flight SET ts = ?, text = ? WHERE answer_id = ?", (ts, text, answer_id)
        )

    async def end_answer(self, answer_id: str) -> None:
        await self._change("DELETE FROM in_flight WHERE answer_id = ?", (answer_id,))

    async def renew_leases(self, owner: str, lease: float) -> None:
        await self._change(
            "UPDATE in_flight SET lease_until = ? WHERE owner = ?", (time.time() + lease, owner)
        )

    async def take_over(self, owner: str, lease: float, *, own_too: bool) -> list[Unfinished]:
        # One statement, so it is atomic across processes.
        now = time.time()

        def take(db: sqlite3.Connection) -> Rows:
            rows = db.execute(
                "UPDATE in_flight SET owner = ?, lease_until = ? "
                "WHERE lease_until < ? OR (? AND owner = ?) "
                "RETURNING answer_id, team, channel, ts, text",
                (owner, now + lease, now, own_too, owner),
            ).fetchall()
            db.commit()
            return rows

        return [Unfinished(*row) for row in await self._run(take)]

    async def record(self, row: LedgerRow, *, key: str | None = None) -> None:
        columns = ", ".join([*LEDGER_FIELDS, "entry_key"])
        await self._change(
            f"INSERT INTO ledger ({columns}) VALUES ({', '.join('?' * (len(LEDGER_FIELDS) + 1))}) "
            "ON CONFLICT (entry_key) DO NOTHING",
            [*(getattr(row, name) for name in LEDGER_FIELDS), key],
        )

    async def ledger(self, since: float) -> list[LedgerRow]:
        rows = await self._rows(
            f"SELECT {', '.join(LEDGER_FIELDS)} FROM ledger WHERE at >= ? ORDER BY at, id",
            (since,),
        )
        return [LedgerRow(*row) for row in rows]

    async def tokens_since(self, team: str, user: str, since: float) -> int:
        row = await self._row(
            "SELECT COALESCE(SUM(input_tokens + output_tokens + cache_write_tokens "
            "+ cache_read_tokens), 0) FROM ledger WHERE team = ? AND user = ? AND at >= ?",
            (team, user, since),
        )
        return int(row[0]) if row else 0

    async def rate(self, answer_id: str, user: str, rating: str) -> None:
        await self._change(
            "INSERT OR REPLACE INTO feedback VALUES (?, ?, ?, ?)",
            (answer_id, user, rating, time.time()),
        )

    async def feedback(self, answer_id: str) -> dict[str, str]:
        rows = await self._rows(
            "SELECT user, rating FROM feedback WHERE answer_id = ?", (answer_id,)
        )
        return {user: rating for user, rating in rows}

    async def save_description(self, sku: str, text: str, model: str) -> None:
        await self._change(
            "INSERT OR REPLACE INTO descriptions VALUES (?, ?, ?, ?)",
            (sku, text, model, time.time()),
        )

    async def descriptions(self) -> dict[str, str]:
        return {sku: text for sku, text in await self._rows("SELECT sku, text FROM descriptions")}

    async def pending_batch(self) -> str | None:
        row = await self._row("SELECT value FROM jobs WHERE name = 'describe_batch'")
        return str(row[0]) if row else None

    async def set_pending_batch(self, batch_id: str | None) -> None:
        if batch_id is None:
            await self._change("DELETE FROM jobs WHERE name = 'describe_batch'")
        else:
            await self._change(
                "INSERT OR REPLACE INTO jobs VALUES ('describe_batch', ?)", (batch_id,)
            )

    async def relay_stop(self, answer_id: str, user: str) -> None:
        """One process serves a SQLite store: an answer not streaming here has ended."""

    async def listen_stops(self, on_stop: OnStop) -> None:
        """Nothing to listen to: see `relay_stop`."""

    async def ping(self) -> None:
        """Take the write lock and let it go: a locked, read-only or broken file fails here.

        One script, run whole on the connection's thread: a caller that stops waiting cannot
        leave the lock taken. It first commits what a write that outlived its caller's wait
        left open (kept writes are idempotent, so writing it again later does no harm).
        """
        await self._run(lambda db: db.executescript("BEGIN IMMEDIATE; ROLLBACK;"))

    async def signing_key(self, name: str) -> bytes:
        made = secrets.token_hex(32)

        def key(db: sqlite3.Connection) -> str:
            db.execute("INSERT OR IGNORE INTO web_keys VALUES (?, ?, ?)", (name, made, time.time()))
            db.commit()
            return str(db.execute("SELECT key FROM web_keys WHERE name = ?", (name,)).fetchone()[0])

        return bytes.fromhex(await self._run(key))

    async def rotate_key(self, name: str) -> None:
        made = secrets.token_hex(32)

        def rotate(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT OR REPLACE INTO web_keys VALUES (?, ?, ?)", (name, made, time.time())
            )
            db.execute("UPDATE web_sessions SET revoked = 1")
            db.commit()

        await self._run(rotate)

    async def start_session(self, session: WebSession) -> None:
        await self._change(
            f"INSERT OR IGNORE INTO web_sessions ({SESSIONS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            session_values(session),
        )

    async def web_session(self, session_id: str) -> WebSession | None:
        row = await self._row(f"SELECT {SESSIONS} FROM web_sessions WHERE id = ?", (session_id,))
        if row is None:
            return None
        session_id, team, user, name, kind, expires_at, last_seen, revoked, store = row
        return WebSession(
            session_id, team, user, name, kind, expires_at, last_seen, bool(revoked), store
        )

    async def touch_session(self, session_id: str, at: float) -> None:
        await self._change(
            "UPDATE web_sessions SET last_seen = MAX(last_seen, ?) WHERE id = ?", (at, session_id)
        )

    async def end_session(self, session_id: str) -> None:
        await self._change("UPDATE web_sessions SET revoked = 1 WHERE id = ?", (session_id,))

    async def choose_store(
        self, team: str, scope: str, key: str, code: str | None, *, by: str
    ) -> None:
        if code is None:
            await self._change(
                "DELETE FROM store_choices WHERE team = ? AND scope = ? AND key = ?",
                (team, scope, key),
            )
            return
        await self._change(
            "INSERT OR REPLACE INTO store_choices VALUES (?, ?, ?, ?, ?, ?)",
            (team, scope, key, code, by, time.time()),
        )

    async def store_choice(self, team: str, scope: str, key: str) -> StoreChoice | None:
        row = await self._row(
            "SELECT code, scope, key, set_by FROM store_choices "
            "WHERE team = ? AND scope = ? AND key = ?",
            (team, scope, key),
        )
        return None if row is None else StoreChoice(*row)

    async def asker_store(self, team: str, channel: str, user: str) -> StoreChoice | None:
        row = await self._row(
            "SELECT code, scope, key, set_by FROM store_choices WHERE team = ? AND "
            "((scope = ? AND key = ?) OR (scope = ? AND key = ?)) "
            "ORDER BY scope = ? DESC LIMIT 1",
            (team, CHANNEL_SCOPE, channel, PERSON_SCOPE, user, CHANNEL_SCOPE),
        )
        return None if row is None else StoreChoice(*row)

    async def prune(self, *, claims_before: float, history_before: float, batch: int) -> int:
        """Delete up to `batch` rows of each kind past its time, in one short transaction."""

        def prune(db: sqlite3.Connection) -> int:
            deleted = 0
            for table, column, before in (
                ("claimed_messages", "claimed_at", claims_before),
                ("turns", "created_at", history_before),
                ("questions", "asked_at", history_before),
            ):
                cursor = db.execute(
                    f"DELETE FROM {table} WHERE rowid IN "
                    f"(SELECT rowid FROM {table} WHERE {column} < ? LIMIT ?)",
                    (before, batch),
                )
                deleted += max(cursor.rowcount, 0)
            db.commit()
            return deleted

        return await self._run(prune)

    async def close(self) -> None:
        try:
            await self._run(lambda db: db.close())
        finally:
            self._worker.shutdown(wait=False)
