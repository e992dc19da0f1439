"""A value read from the catalog once per generation and shared by every answer that asks.

An answer asks for the catalog's vocabulary (categories, brands, stores) when it searches and
for every SKU and place name when its figures are checked. Both change only with a new
generation, so they are kept by generation. Kept naively (look, and read on a miss), a burst
of answers that all start within the same second all miss together: a hundred answers run the
same query a hundred times against the store's database and hold a hundred copies of the
result while they wait. Here the first to ask starts the one read and the rest await it.

A failed read is not used again: whoever asks next reads again. Nor is one that takes longer
than `timeout` (a query stuck on a dead connection would otherwise hold every answer of the
generation until the next feed): it fails as `TimeoutError` for all who waited on it. The read
runs as a task of its own, so an answer cancelled while it waits (a Stop) cancels only its own
wait, never the read the others are waiting for. A read is tied to the event loop that started
it; asked from another loop before it has finished, the value is read again there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar

T = TypeVar("T")

READ_TIMEOUT = 30.0  # seconds a shared read may take before it counts as failed


class PerGeneration(Generic[T]):
    """The values of the last `keep` generations read, each read once."""

    def __init__(self, keep: int = 2, timeout: float = READ_TIMEOUT) -> None:
        self._keep = keep
        self._timeout = timeout
        self._reads: dict[int, asyncio.Task[T]] = {}  # the last read first

    async def get(self, gen: int, read: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """The value at `gen`: `read()`'s result, run only if no read of `gen` is kept that
        succeeded or is still running in this event loop."""
        task = self._reads.get(gen)
        if task is not None and task.done() and not task.cancelled() and not task.exception():
            return task.result()
        if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
            task = asyncio.ensure_future(asyncio.wait_for(read(), self._timeout))
            kept = [(g, t) for g, t in self._reads.items() if g != gen][: self._keep - 1]
            self._reads = {gen: task, **dict(kept)}
        return await asyncio.shield(task)
