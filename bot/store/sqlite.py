"""The SQLite store: one file, migrated forward at start-up by `PRAGMA user_version`."""

from __future__ import annotations

import time
from collections.abc import Sequence

import aiosqlite

from bot.conversation import Turn

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
)


class SqliteStore:
    """`Store` on SQLite through aiosqlite (the database work runs off the event loop)."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    @classmethod
    async def open(cls, path: str) -> SqliteStore:
        db = await aiosqlite.connect(path)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA busy_timeout=5000")
        store = cls(db)
        await store._migrate()
        return store

    async def _migrate(self) -> None:
        async with self._db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        version = int(row[0]) if row else 0
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            await self._db.executescript(
                f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;"
            )

    async def claim(self, key: str) -> bool:
        cursor = await self._db.execute(
            "INSERT OR IGNORE INTO claimed_messages (key, claimed_at) VALUES (?, ?)",
            (key, time.time()),
        )
        await self._db.commit()
        return cursor.rowcount == 1

    async def turns(self, thread_key: str) -> list[Turn]:
        async with self._db.execute(
            "SELECT role, text FROM turns WHERE thread_key = ? ORDER BY id", (thread_key,)
        ) as cursor:
            return [Turn(role, text) for role, text in await cursor.fetchall()]

    async def add_turns(self, thread_key: str, turns: Sequence[Turn]) -> None:
        now = time.time()
        await self._db.executemany(
            "INSERT INTO turns (thread_key, role, text, created_at) VALUES (?, ?, ?, ?)",
            [(thread_key, turn.role, turn.text, now) for turn in turns],
        )
        await self._db.commit()

    async def has_thread(self, thread_key: str) -> bool:
        async with self._db.execute(
            "SELECT 1 FROM turns WHERE thread_key = ? LIMIT 1", (thread_key,)
        ) as cursor:
            return await cursor.fetchone() is not None

    async def close(self) -> None:
        await self._db.close()
