"""Opening a database: the backend a `DATABASE_URL` names, and one line that says which
database could not be opened and why — never with its password — when it cannot be
(`CannotOpenStore`): an operator's problem to fix, so it stops the command."""

from __future__ import annotations

import socket
import sqlite3
from urllib.parse import urlsplit

from bot.errors import CannotOpenStore
from bot.store.base import Store
from bot.store.sqlite import SqliteStore


def is_postgres(database_url: str) -> bool:
    return database_url.startswith(("postgresql://", "postgres://"))


async def open_backend(database_url: str) -> Store:
    """Open (and migrate) the store named by `database_url`, raising what the driver raises."""
    if is_postgres(database_url):
        from bot.store.postgres import PostgresStore  # asyncpg only where it is used

        return await PostgresStore.open(database_url)
    return await SqliteStore.open(database_url.removeprefix("sqlite:///"))


def cannot_open(database_url: str, exc: Exception) -> CannotOpenStore | None:
    """The one-line error for a database that cannot be opened, or None for anything else
    (a bug is not hidden behind a friendly line)."""
    if not _cannot_open(exc):
        return None
    why, password = _reason(exc), urlsplit(database_url).password
    if password:  # no driver is known to repeat it; this makes sure
        why = why.replace(password, "***")
    return CannotOpenStore(f"cannot open the database {shown_url(database_url)}: {why}")


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
