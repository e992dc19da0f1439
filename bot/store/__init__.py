"""Where the bot keeps what must outlive one answer: turns, answered messages, the ledger, ...

`Store` is the contract; `open_store` picks the backend from `DATABASE_URL`: SQLite
(`sqlite:///path`) for one process, PostgreSQL (`postgresql://...`) for several replicas.
"""

from __future__ import annotations

from bot.store.base import Store
from bot.store.sqlite import SqliteStore


async def open_store(database_url: str) -> Store:
    """Open (and migrate) the store named by `database_url`."""
    if database_url.startswith(("postgresql://", "postgres://")):
        from bot.store.postgres import PostgresStore  # asyncpg only where it is used

        return await PostgresStore.open(database_url)
    return await SqliteStore.open(database_url.removeprefix("sqlite:///"))


__all__ = ["SqliteStore", "Store", "open_store"]
