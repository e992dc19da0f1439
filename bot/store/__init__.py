"""Where the bot keeps what must outlive one answer: conversation turns and answered messages.

`Store` is the contract; `open_store` picks the backend from `DATABASE_URL` (SQLite today).
"""

from __future__ import annotations

from bot.store.base import Store
from bot.store.sqlite import SqliteStore


async def open_store(database_url: str) -> Store:
    """Open (and migrate) the store named by `database_url`."""
    path = database_url.removeprefix("sqlite:///")
    return await SqliteStore.open(path)


__all__ = ["SqliteStore", "Store", "open_store"]
