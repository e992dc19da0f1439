"""Bookkeeping kept on local disk while the database is away: a small JSON-lines file.

Each write is appended as one line and flushed to disk before the call returns, so a bot that
is killed or restarted in the meantime loses nothing: the next start reads the file back and
replays it. Lines are replayed in the order they were written; a line applied to the database
is not removed from the file at once (rewriting the file per line would cost more than the
replay), so a crash mid-replay replays some lines again — which writes' idempotency keys make
harmless. When the spool is empty the file is removed.

The spool is bounded: past `limit` entries a write is dropped, counted, and said once in the
log. An answer's progress (its last text, for crash recovery) replaces that answer's earlier
progress still waiting, so a long outage keeps one such entry per answer, not one per edit.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections import deque
from pathlib import Path

from bot.accounting.metrics import Metrics
from bot.store.writes import Write

log = logging.getLogger(__name__)

PROGRESS = "answer_progress"


class Spool:
    """The writes waiting for the database, oldest first, mirrored in `path`."""

    def __init__(self, path: Path, limit: int, metrics: Metrics | None = None) -> None:
        self.path = path
        self.limit = limit
        self.metrics = metrics
        self._waiting: deque[Write] = deque()
        self._progress: dict[str, Write] = {}  # answer id -> its progress entry waiting
        self._lines = 0  # lines in the file, applied or superseded ones included
        self._full = False  # said that the bound was reached (once until the spool drains)
        self._lock = asyncio.Lock()  # one change of the file at a time, in order

    @classmethod
    def load(cls, path: Path, limit: int, metrics: Metrics | None = None) -> Spool:
        """The spool left in `path` by an earlier run (empty when there is no file). A line
        cut short by a crash mid-write is skipped."""
        spool = cls(path, limit, metrics)
        if not path.exists():
            return spool
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            spool._lines += 1
            try:
                spool._keep(Write.from_line(json.loads(raw)))
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("skipping line %d of the spool %s: %s", number, path, exc)
        spool._report()
        return spool

    def __len__(self) -> int:
        return len(self._waiting)

    def head(self) -> Write | None:
        """The oldest write waiting."""
        return self._waiting[0] if self._waiting else None

    async def add(self, write: Write) -> bool:
        """Keep `write` (on disk before returning); False when the spool is full and it was
        dropped."""
        async with self._lock:
            superseded = self._progress.get(write.answer_id or "")
            if write.op != PROGRESS:
                superseded = None
            if superseded is None and len(self._waiting) >= self.limit:
                self._drop(write)
                return False
            if superseded is not None:
                self._forget(superseded)
            self._keep(write)
            await asyncio.to_thread(self._append, json.dumps(write.line(), ensure_ascii=False))
            self._report()
            return True

    async def done(self, write: Write) -> None:
        """`write` was applied (or given up on): forget it, and tidy the file."""
        async with self._lock:
            self._forget(write)
            if not self._waiting:
                await asyncio.to_thread(self._remove)
                self._full = False
            elif self._lines > 2 * len(self._waiting) + 100:
                await asyncio.to_thread(self._rewrite)
            self._report()

    def _forget(self, write: Write) -> None:
        """Take `write` out of the waiting list, wherever it is (the head, or superseded
        progress); nothing if it has gone already."""
        for index, waiting in enumerate(self._waiting):
            if waiting is write:
                del self._waiting[index]
                break
        if write.op == PROGRESS and self._progress.get(write.answer_id or "") is write:
            del self._progress[write.answer_id or ""]

    def _keep(self, write: Write) -> None:
        self._waiting.append(write)
        if write.op == PROGRESS and write.answer_id:
            self._progress[write.answer_id] = write

    def lost(self) -> None:
        """Count a write that will never reach the database."""
        if self.metrics is not None:
            self.metrics.spool_dropped.inc()

    def _drop(self, write: Write) -> None:
        self.lost()
        if not self._full:
            self._full = True
            log.warning(
                "the spool %s is full (%d entries): bookkeeping written from now on is lost "
                "until the database is back (SHOPMAX_SPOOL_LIMIT)",
                self.path,
                self.limit,
            )

    def _append(self, line: str) -> None:
        with self.path.open("a", encoding="utf-8") as file:
            file.write(line + "\n")
            file.flush()
            os.fsync(file.fileno())
        self._lines += 1

    def _rewrite(self) -> None:
        """Replace the file by the writes still waiting (atomically: a crash keeps either)."""
        fresh = self.path.with_name(self.path.name + ".new")
        lines = [json.dumps(w.line(), ensure_ascii=False) + "\n" for w in self._waiting]
        with fresh.open("w", encoding="utf-8") as file:
            file.writelines(lines)
            file.flush()
            os.fsync(file.fileno())
        os.replace(fresh, self.path)
        self._lines = len(lines)

    def _remove(self) -> None:
        self.path.unlink(missing_ok=True)
        self._lines = 0

    def _report(self) -> None:
        if self.metrics is not None:
            self.metrics.spool_depth.set(len(self._waiting))
