"""The storage contract every backend keeps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.conversation import Turn


class Store(Protocol):
    async def claim(self, key: str) -> bool:
        """Record that the user message `key` is being answered.

        True for the first caller only, atomically: a retried delivery or the `message` twin
        of an `app_mention` gets False and must not answer again.
        """
        ...

    async def turns(self, thread_key: str) -> list[Turn]:
        """The thread's stored turns, oldest first (empty for a thread the bot never joined)."""
        ...

    async def add_turns(self, thread_key: str, turns: Sequence[Turn]) -> None:
        """Append turns to the thread."""
        ...

    async def has_thread(self, thread_key: str) -> bool:
        """Whether the bot has answered in this thread (so replies there are follow-ups)."""
        ...

    async def close(self) -> None: ...
