"""Where the bot keeps what must outlive one answer: turns, answered messages, the ledger, ...

`Store` is the contract; `open_store` picks the backend from `DATABASE_URL`: SQLite
(`sqlite:///path`) for one process, PostgreSQL (`postgresql://...`) for several replicas.
The running bot opens it through `open_resilient_store`, which keeps answering while the
database is away (see `resilient`). A database that cannot be opened at start is an
operator's problem to fix: it stops the command with one line saying which and why
(`opening.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.accounting.health import Health
from bot.store import sqlite
from bot.store.base import Store
from bot.store.claims import FallbackClaims
from bot.store.opening import cannot_open, is_postgres, open_backend, shown_url
from bot.store.resilient import ResilientStore
from bot.store.spool import Spool
from bot.store.sqlite import SqliteStore


async def open_store(database_url: str) -> Store:
    """Open (and migrate) the store named by `database_url`; `CannotOpenStore` when it
    cannot be."""
    try:
        return await open_backend(database_url)
    except Exception as exc:
        error = cannot_open(database_url, exc)
        if error is None:
            raise
        raise error from exc


def unreachable_for(database_url: str) -> Callable[[BaseException], bool]:
    """How the backend of `database_url` tells "the database is away" from a bug."""
    if is_postgres(database_url):
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
    What an earlier run left in the spool is written first.

    The database must be there at start: one that cannot be reached then is far more often a
    wrong setting than an outage, and an orchestrator restarts the process until it is up.
    """
    metrics = None if health is None else health.metrics
    store = ResilientStore(
        lambda: open_backend(database_url),
        unreachable=unreachable_for(database_url),
        spool=Spool.load(spool_path, spool_limit, metrics),
        claims=FallbackClaims(redis_url, health=health),
        health=health,
        timeout=call_timeout,
    )
    try:
        await store.connect(may_start_without=False)
    except Exception as exc:
        error = cannot_open(database_url, exc)
        if error is None:
            raise
        await store.close()
        raise error from exc
    return store


__all__ = [
    "ResilientStore",
    "SqliteStore",
    "Store",
    "open_resilient_store",
    "open_store",
    "shown_url",
    "unreachable_for",
]
