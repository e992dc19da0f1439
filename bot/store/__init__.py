"""Where the bot keeps what must outlive one answer: turns, answered messages, the ledger, ...

`Store` is the contract; `open_store` picks the backend from `DATABASE_URL`: SQLite
(`sqlite:///path`) for one process, PostgreSQL (`postgresql://...`) for several replicas.
The running bot opens it through `open_resilient_store`, which keeps answering while the
database is away (see `resilient`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.accounting.health import Health
from bot.store import sqlite
from bot.store.base import Store
from bot.store.claims import FallbackClaims
from bot.store.resilient import ResilientStore
from bot.store.spool import Spool
from bot.store.sqlite import SqliteStore


def _is_postgres(database_url: str) -> bool:
    return database_url.startswith(("postgresql://", "postgres://"))


async def open_store(database_url: str) -> Store:
    """Open (and migrate) the store named by `database_url`."""
    if _is_postgres(database_url):
        from bot.store.postgres import PostgresStore  # asyncpg only where it is used

        return await PostgresStore.open(database_url)
    return await SqliteStore.open(database_url.removeprefix("sqlite:///"))


def unreachable_for(database_url: str) -> Callable[[BaseException], bool]:
    """How the backend of `database_url` tells "the database is away" from a bug."""
    if _is_postgres(database_url):
        from bot.store import postgres

        return postgres.unreachable
    return sqlite.unreachable


async def open_resilient_store(
    database_url: str,
    *,
    spool_path: Path,
    spool_limit: int,
    call_timeout: float,
    redis_url: str | None = None,
    health: Health | None = None,
) -> ResilientStore:
    """The store for the running bot: the backend of `database_url` wrapped so that it keeps
    answering while the database is away, keeping bookkeeping in `spool_path` meanwhile.
    What an earlier run left in the spool is written first."""
    metrics = None if health is None else health.metrics
    store = ResilientStore(
        lambda: open_store(database_url),
        unreachable=unreachable_for(database_url),
        spool=Spool.load(spool_path, spool_limit, metrics),
        claims=FallbackClaims(redis_url, health=health),
        health=health,
        timeout=call_timeout,
    )
    # PostgreSQL may be failing over while the bot starts; a SQLite file is local: if it
    # cannot be opened, the setting is wrong.
    await store.connect(may_start_without=_is_postgres(database_url))
    return store


__all__ = [
    "ResilientStore",
    "SqliteStore",
    "Store",
    "open_resilient_store",
    "open_store",
    "unreachable_for",
]
