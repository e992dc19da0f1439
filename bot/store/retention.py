"""Nothing is kept for ever: a periodic job deletes what has outlived its use.

* claims of answered messages after a day (Slack stops retrying within hours);
* conversation turns and questions after `SHOPMAX_HISTORY_DAYS` (a thread that old is no
  longer followed up, and a Retry that old is not pressed);
* the ledger is kept: its rows hold figures, not the text of questions or answers.

It deletes in small batches, each a short transaction of its own (PostgreSQL skips rows that
are locked), with a pause between batches, so an answer never waits behind it. With several
replicas each runs it; they share the work rather than repeat it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from bot.store.base import Store

log = logging.getLogger(__name__)

DAY = 24 * 60 * 60
CLAIMS_KEPT = DAY
EVERY = 60 * 60  # seconds between runs
FIRST_AFTER = 60  # seconds after start-up, out of the way of the start itself
BATCH = 500  # rows of each kind per transaction
PAUSE = 0.05  # seconds between batches


class Retention:
    """Runs `prune` every `every` seconds until closed."""

    def __init__(
        self,
        store: Store,
        *,
        history_days: float,
        every: float = EVERY,
        first_after: float = FIRST_AFTER,
        batch: int = BATCH,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.history_days = history_days
        self.every = every
        self.first_after = first_after
        self.batch = batch
        self.clock = clock
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> int:
        """Delete everything past its time, batch by batch; returns how many rows went."""
        now = self.clock()
        claims_before = now - CLAIMS_KEPT
        history_before = now - self.history_days * DAY
        total = 0
        while True:
            deleted = await self.store.prune(
                claims_before=claims_before, history_before=history_before, batch=self.batch
            )
            total += deleted
            if deleted == 0:
                break
            await asyncio.sleep(PAUSE)
        if total:
            log.info("retention: deleted %d old claim(s), turn(s) and question(s)", total)
        return total

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="retention")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        await asyncio.sleep(self.first_after)
        while True:
            try:
                await self.run_once()
            except Exception:  # one bad run must not end retention for good
                log.exception("retention failed; trying again in %.0fs", self.every)
            await asyncio.sleep(self.every)
