"""Where the bot keeps what must outlive one answer: turns, answered messages, the ledger, ...

`Store` is the contract; `open_store` picks the backend from `DATABASE_URL`: SQLite
(`sqlite:///path`) for one process, PostgreSQL (`postgresql://...`) for several replicas.
A database that cannot be opened is an operator's problem to fix, so it stops the command with
one line saying which database and why, never with the password (`CannotOpenStore`).
"""

from __future__ import annotations

import socket
import sqlite3
from urllib.parse import urlsplit

from bot.errors import CannotOpenStore
from bot.store.base import Store
from bot.store.sqlite import SqliteStore


async def open_store(database_url: str) -> Store:
    """Open (and migrate) the store named by `database_url`."""
    try:
        if database_url.startswith(("postgresql://", "postgres://")):
            from bot.store.postgres import PostgresStore  # asyncpg only where it is used

            return await PostgresStore.open(database_url)
        return await SqliteStore.open(database_url.removeprefix("sqlite:///"))
    except Exception as exc:
        if not _cannot_open(exc):
            raise
        why, password = _reason(exc), urlsplit(database_url).password
        if password:  # no driver is known to repeat it; this makes sure
            why = why.replace(password, "***")
        raise CannotOpenStore(f"cannot open the database {shown_url(database_url)}: {why}") from exc


def shown_url(database_url: str) -> str:
    """The database as an operator would name it: the URL without its password, and without
    its query, which may carry one (`?password=...`)."""
    if database_url.startswith("sqlite:///"):
        return database_url.removeprefix("sqlite:///")
    parts = urlsplit(database_url)
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    return f"{parts.scheme}://{user + '@' if user else ''}{host}{parts.path}"


def _cannot_open(exc: Exception) -> bool:
    """Errors that mean the database is unreachable, refuses us, or is not a usable database
    (asyncpg's own errors are recognised by their module, so SQLite users need no asyncpg)."""
    return isinstance(exc, OSError | sqlite3.Error) or type(exc).__module__.startswith("asyncpg")


def _reason(exc: Exception) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the database server running, on that host and port?)"
    if isinstance(exc, socket.gaierror):
        return f"unknown host ({exc.strerror})"
    if isinstance(exc, TimeoutError):
        return "no answer in time (a firewall, or the wrong host?)"
    if isinstance(exc, sqlite3.OperationalError) and "unable to open" in str(exc):
        return "unable to open the file (does its directory exist, and may this user write there?)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


__all__ = ["SqliteStore", "Store", "open_store", "shown_url"]
