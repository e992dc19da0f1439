"""A value read from the catalog once per generation and shared by every answer that asks.

An answer asks for the catalog's vocabulary (categories, brands, stores) when it searches and
for every SKU and place name when its figures are checked. Both change only with a new
generation, so they are kept by generation. Kept naively (look, and read on a miss), a burst
of answers that all start within the same second all miss together: a hundred answers run the
same query a hundred times against the store's database and hold a hundred copies of the
result while they wait. Here the first to ask starts the one read and the rest await it.

A failed read is not kept: whoever asks next reads again. The read runs as a task of its own,
so an answer cancelled while it waits (a Stop) cancels only its own wait, never the read the
others are waiting for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class PerGeneration(Generic[T]):
    """The values of the latest `keep` generations asked for, each read once."""

    def __init__(self, keep: int = 2) -> None:
        self._keep = keep
        self._reads: dict[int, asyncio.Task[T]] = {}  # the latest asked for first

    async def get(self, gen: int, read: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """The value at `gen`: `read()`'s result, run only if no read of `gen` is kept."""
        task = self._reads.get(gen)
        if task is None:
            task = asyncio.ensure_future(read())
            kept = list(self._reads.items())[: self._keep - 1]
            self._reads = {gen: task, **dict(kept)}
            task.add_done_callback(lambda done: self._forget_failed(gen, done))
        if task.done():
            return task.result()
        return await asyncio.shield(task)

    def _forget_failed(self, gen: int, task: asyncio.Task[T]) -> None:
        if task.cancelled() or task.exception() is not None:  # (marks the error as seen)
            if self._reads.get(gen) is task:
                del self._reads[gen]
