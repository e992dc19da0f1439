"""The store off the answering path's critical line: a `Store` around the real one (SQLite or
PostgreSQL) that keeps answering when the database is away.

*Away* is what a call tells: a connection refused or lost, the server shutting down, a file
locked or broken, or no answer within `timeout` seconds. The first such call logs one warning
and from then on no call waits for the database:

* bookkeeping writes (questions, in-flight answers, turns, the ledger, ratings, claims) go to
  the local `Spool`, on disk, and are written in order, each once, when the database is back —
  or at the next start, if the bot is restarted in between;
* `claim` falls back to Redis or this process's memory (`FallbackClaims`); limits, threads
  and Retry answer from what this process wrote lately (`Recent`); `turns`, `ledger` and the
  rest raise `StoreUnavailable` (a thread's history can be read from Slack instead);
* the lease heartbeat and the sweep pause, and a Stop press cannot be relayed. Once it is
  back the sweep waits one lease more: leases could not be renewed meanwhile, and a live
  replica's answers must not look abandoned to the others.

*Back* is a cheap query (`Store.ping`) every `probe_every` seconds that answers; the spool is
then replayed, and only once it is empty do calls go to the database again, so nothing written
later can overtake what was kept. One line is logged when it is back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from bot.accounting.health import Health
from bot.accounting.ledger import LedgerRow
from bot.errors import StoreUnavailable
from bot.question import Question, Turn
from bot.store import writes
from bot.store.base import Admission, OnStop, Store, StoreChoice, Unfinished, WebSession
from bot.store.claims import FallbackClaims
from bot.store.recent import Recent
from bot.store.spool import Spool
from bot.store.writes import Write

log = logging.getLogger(__name__)

T = TypeVar("T")
DATABASE = "database"  # this dependency's name on the health board
PROBE_EVERY = 1.0  # seconds between checks whether the database is back
GIVE_UP_AFTER = 3  # replays of one write the database refuses (a bug, not an outage)


class ResilientStore:
    """`Store` that degrades instead of failing while the database is away."""

    def __init__(
        self,
        open_inner: Callable[[], Awaitable[Store]],
        *,
        unreachable: Callable[[BaseException], bool],
        spool: Spool,
        claims: FallbackClaims,
        health: Health | None = None,
        timeout: float = 3.0,
        probe_every: float = PROBE_EVERY,
    ) -> None:
        self._open_inner = open_inner
        self._unreachable = unreachable
        self._spool = spool
        self._claims = claims
        self._health = health
        self.timeout = timeout
        self.probe_every = probe_every
        self._recent = Recent()
        self._inner: Store | None = None
        self._up = False
        self._away_since: float | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._on_stop: OnStop | None = None
        self._listening: asyncio.Task[None] | None = None
        self._refused: dict[str, int] = {}  # write key -> replays the database refused
        self._replayed = 0
        self._start_without = True
        self._closed = False
        self._back_at: float | None = None  # when the database came back after an outage
        if health is not None:
            health.watch(DATABASE)

    async def connect(self, *, may_start_without: bool = True) -> None:
        """Open the database and write what an earlier run kept; if it is away, start
        without it (unless not `may_start_without`: a SQLite file that cannot be opened at
        start is a setting to fix). A database that refuses us for another reason (a wrong
        password, a failing migration) stops the start-up, as it did without this wrapper."""
        self._start_without = may_start_without
        if await self._reconnect(at_start=True) and await self._replay():
            self._came_back()
        else:
            self._watch()

    @property
    def up(self) -> bool:
        """Calls go to the database (it answers and nothing waits in the spool)."""
        return self._up

    @property
    def spooled(self) -> int:
        return len(self._spool)

    # ---- writes: to the database, or kept until it is back ------------------------------

    async def save_question(
        self, question_id: str, question: Question, *, at: float | None = None, reserved: int = 0
    ) -> None:
        await self._write(writes.save_question(question_id, question, at=at, reserved=reserved))

    async def admit(
        self, question_id: str, question: Question, limits: Admission, *, at: float | None = None
    ) -> str | None:
        """The database's atomic admission; while it is away, this process's own count (what
        it admitted lately, `Recent`), checked and noted with no await in between so that
        concurrent questions here are counted one after the other, and the question kept in
        the spool. Each replica then counts only its own share: see docs/security.md."""
        kept = writes.save_question(question_id, question, at=at, reserved=limits.reserve)
        try:
            verdict = await self._db(
                lambda store: store.admit(question_id, question, limits, at=kept.at)
            )
        except StoreUnavailable:
            verdict = self._recent.verdict(question.team, question.user, limits)
            if verdict is None:
                await self._write(kept)  # noted in `Recent` before its first await
            return verdict
        if verdict is None:
            self._recent.note(kept)
        return verdict

    async def top_up(
        self, question_id: str, question: Question, amount: int, limits: Admission
    ) -> bool:
        """The database's atomic top-up; while it is away, this process's own count decides
        (and holds the tokens in it: the database learns only the settling)."""
        try:
            return await self._db(lambda store: store.top_up(question_id, question, amount, limits))
        except StoreUnavailable:
            return self._recent.top_up(question_id, question, amount, limits)

    async def settle(self, question_id: str) -> None:
        await self._write(writes.settle(question_id))

    async def start_session(self, session: WebSession) -> None:
        await self._write(writes.start_session(session))

    async def end_session(self, session_id: str) -> None:
        await self._write(writes.end_session(session_id))

    async def begin_answer(
        self, answer_id: str, team: str, channel: str, ts: str, *, owner: str, lease: float
    ) -> None:
        await self._write(writes.begin_answer(answer_id, team, channel, ts, owner, lease))

    async def answer_progress(self, answer_id: str, ts: str, text: str) -> None:
        await self._write(writes.answer_progress(answer_id, ts, text))

    async def end_answer(self, answer_id: str) -> None:
        await self._write(writes.end_answer(answer_id))

    async def add_turns(
        self,
        thread_key: str,
        turns: Sequence[Turn],
        *,
        key: str | None = None,
        at: float | None = None,
    ) -> None:
        await self._write(writes.add_turns(thread_key, turns, key=key, at=at))

    async def record(self, row: LedgerRow, *, key: str | None = None) -> None:
        await self._write(writes.record(row, key=key))

    async def rate(self, answer_id: str, user: str, rating: str) -> None:
        await self._write(writes.rate(answer_id, user, rating))

    async def _write(self, write: Write) -> None:
        self._recent.note(write)
        if self._up and not self._spool:
            try:
                await self._db(lambda store: writes.apply(write, store))
                return
            except StoreUnavailable:
                pass
        await self._spool.add(write)
        self._watch()

    # ---- reads: from the database, or what can be said without it -----------------------

    async def claim(self, key: str) -> bool:
        try:
            return await self._db(lambda store: store.claim(key))
        except StoreUnavailable:
            pass
        claimed = await self._claims.claim(key)
        if claimed:  # so that the database knows it once it is back
            await self._write(writes.claim(key))
        return claimed

    async def turns(self, thread_key: str) -> list[Turn]:
        return await self._db(lambda store: store.turns(thread_key))

    async def has_thread(self, thread_key: str) -> bool:
        try:
            return await self._db(lambda store: store.has_thread(thread_key))
        except StoreUnavailable:
            return self._recent.has_thread(thread_key)

    async def question(self, question_id: str) -> Question | None:
        try:
            return await self._db(lambda store: store.question(question_id))
        except StoreUnavailable:
            return self._recent.question(question_id)

    async def questions_since(self, team: str, user: str, since: float) -> int:
        try:
            return await self._db(lambda store: store.questions_since(team, user, since))
        except StoreUnavailable:
            return self._recent.questions_since(team, user, since)

    async def tokens_since(self, team: str, user: str, since: float) -> int:
        try:
            return await self._db(lambda store: store.tokens_since(team, user, since))
        except StoreUnavailable:
            return self._recent.tokens_since(team, user, since)

    async def ledger(self, since: float) -> list[LedgerRow]:
        return await self._db(lambda store: store.ledger(since))

    async def feedback(self, answer_id: str) -> dict[str, str]:
        return await self._db(lambda store: store.feedback(answer_id))

    async def save_description(self, sku: str, text: str, model: str) -> None:
        await self._db(lambda store: store.save_description(sku, text, model))

    async def descriptions(self) -> dict[str, str]:
        return await self._db(lambda store: store.descriptions())

    async def pending_batch(self) -> str | None:
        return await self._db(lambda store: store.pending_batch())

    async def set_pending_batch(self, batch_id: str | None) -> None:
        await self._db(lambda store: store.set_pending_batch(batch_id))

    # ---- replicas: paused while the database is away ------------------------------------

    async def renew_leases(self, owner: str, lease: float) -> None:
        try:
            await self._db(lambda store: store.renew_leases(owner, lease))
        except StoreUnavailable:
            pass  # no other replica can take them over meanwhile either

    async def take_over(self, owner: str, lease: float, *, own_too: bool) -> list[Unfinished]:
        back = self._back_at
        if not own_too and back is not None and time.monotonic() - back < lease:
            # No replica could renew its leases while the database was away, so after an
            # outage longer than a lease (which every replica's heartbeat, a third of a lease,
            # meets) every answer looks abandoned: give the live replicas a lease's time to
            # renew theirs before taking anything over.
            return []
        try:
            return await self._db(lambda store: store.take_over(owner, lease, own_too=own_too))
        except StoreUnavailable:
            return []

    async def relay_stop(self, answer_id: str, user: str) -> None:
        try:
            await self._db(lambda store: store.relay_stop(answer_id, user))
        except StoreUnavailable:
            log.warning("a Stop press could not reach the other replicas: the database is away")

    async def listen_stops(self, on_stop: OnStop) -> None:
        self._on_stop = on_stop
        if self._inner is not None:
            await self._listen(self._inner)

    async def _listen(self, inner: Store) -> None:
        assert self._on_stop is not None
        try:
            await inner.listen_stops(self._on_stop)
        except TimeoutError:  # the listener keeps trying on its own
            log.warning("not listening for Stop presses yet: the database is away")

    async def prune(self, *, claims_before: float, history_before: float, batch: int) -> int:
        try:
            return await self._db(
                lambda store: store.prune(
                    claims_before=claims_before, history_before=history_before, batch=batch
                )
            )
        except StoreUnavailable:
            return 0

    async def signing_key(self, name: str) -> bytes:
        return await self._db(lambda store: store.signing_key(name))

    async def rotate_key(self, name: str) -> None:
        await self._db(lambda store: store.rotate_key(name))

    async def web_session(self, session_id: str) -> WebSession | None:
        """Raises `StoreUnavailable` while the database is away (the caller decides)."""
        return await self._db(lambda store: store.web_session(session_id))

    async def touch_session(self, session_id: str, at: float) -> None:
        try:
            await self._db(lambda store: store.touch_session(session_id, at))
        except StoreUnavailable:
            pass  # the idle time is also kept by the browser; the next use writes it

    async def choose_store(
        self, team: str, scope: str, key: str, code: str | None, *, by: str
    ) -> None:
        """Raises `StoreUnavailable` while the database is away: the person is told to try
        again, rather than a choice kept here that other replicas would not see."""
        await self._db(lambda store: store.choose_store(team, scope, key, code, by=by))

    async def store_choice(self, team: str, scope: str, key: str) -> StoreChoice | None:
        """Raises `StoreUnavailable` while the database is away (the caller says so)."""
        return await self._db(lambda store: store.store_choice(team, scope, key))

    async def asker_store(self, team: str, channel: str, user: str) -> StoreChoice | None:
        """None while the database is away: the answer goes out without a store rather than
        not at all."""
        try:
            return await self._db(lambda store: store.asker_store(team, channel, user))
        except StoreUnavailable:
            return None

    async def ping(self) -> None:
        """Raises `StoreUnavailable` while the database is away; a failing ping makes it so."""
        await self._db(lambda store: store.ping())

    async def close(self) -> None:
        """Close the database. A write that comes later (an answer ending during shutdown)
        is kept in the spool for the next start; nothing probes or warns any more."""
        self._closed = True
        self._up = False
        for task in (self._watcher, self._listening):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if self._inner is not None:
            try:
                await self._inner.close()
            except Exception as exc:  # a database that went away may not close politely
                log.debug("closing the database: %s", exc)
        await self._claims.close()

    # ---- away and back ------------------------------------------------------------------

    async def _db(self, use: Callable[[Store], Awaitable[T]]) -> T:
        """`use` the database within the timeout; `StoreUnavailable` if it is away."""
        inner = self._inner
        if not self._up or inner is None:
            raise StoreUnavailable("the database is away")
        try:
            return await asyncio.wait_for(use(inner), self.timeout)
        except Exception as exc:
            if not self._is_away(exc):
                raise
            self._went_away(exc)
            raise StoreUnavailable(f"the database is away ({type(exc).__name__})") from exc

    def _is_away(self, exc: BaseException) -> bool:
        return isinstance(exc, TimeoutError) or self._unreachable(exc)

    def _went_away(self, exc: BaseException) -> None:
        self._up = False
        if self._closed:  # a call cut off by closing the store: not an outage
            return
        reason = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
        if self._health is not None:
            self._health.failed(DATABASE, type(exc).__name__)
        if self._away_since is None:
            self._away_since = time.monotonic()
            log.warning(
                "the database is unreachable (%s): answering without it; bookkeeping is kept "
                "in %s until it is back",
                reason,
                self._spool.path,
            )
        self._watch()

    def _came_back(self) -> None:
        self._up = True
        self._claims.back()
        if self._health is not None:
            self._health.ok(DATABASE)
        if self._away_since is not None:
            self._back_at = time.monotonic()
            log.warning(
                "the database is back after %.0fs: %d kept write(s) written",
                time.monotonic() - self._away_since,
                self._replayed,
            )
        elif self._replayed:
            log.info("wrote %d write(s) kept by an earlier run", self._replayed)
        self._away_since = None
        self._replayed = 0

    def _watch(self) -> None:
        if self._closed:
            return
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.create_task(self._bring_back(), name="database-watch")

    async def _bring_back(self) -> None:
        """Until the database answers and the spool is written: probe, then replay."""
        while True:
            if not self._up:
                await asyncio.sleep(self.probe_every)
            try:
                back = await self._reconnect() and await self._replay()
            except Exception:  # the spool's disk failing, say: keep probing, say why
                log.exception("could not write the spool to the database; trying again")
                self._up = False
                continue
            if back and not self._spool:  # nothing came in while the last entry was written
                self._came_back()
                return

    async def _reconnect(self, *, at_start: bool = False) -> bool:
        """Open the database if needed and check that it answers."""
        try:
            if self._inner is None:
                self._inner = await self._open_inner()
                if self._on_stop is not None:  # listen_stops came while it was away
                    self._listening = asyncio.create_task(self._listen(self._inner))
            await asyncio.wait_for(self._inner.ping(), self.timeout)
        except Exception as exc:
            if at_start and not (self._start_without and self._is_away(exc)):
                raise
            self._went_away(exc)
            return False
        return True

    async def _replay(self) -> bool:
        """Write the spool to the database, oldest first; True once it is empty."""
        assert self._inner is not None
        while (write := self._spool.head()) is not None:
            try:
                await asyncio.wait_for(writes.apply(write, self._inner), self.timeout)
            except Exception as exc:
                if self._is_away(exc):
                    self._went_away(exc)
                    return False
                if not self._give_up(write, exc):
                    return False
            else:
                self._replayed += 1
            await self._spool.done(write)
        return True

    def _give_up(self, write: Write, exc: Exception) -> bool:
        """A write the database refuses although it answers: tried again on the next probe,
        dropped (with an error line) after `GIVE_UP_AFTER` refusals, so one bad line never
        holds the rest back."""
        refused = self._refused[write.key] = self._refused.get(write.key, 0) + 1
        if refused < GIVE_UP_AFTER:
            return False
        del self._refused[write.key]
        log.error("dropping a kept %s the database refuses: %r", write.op, exc)
        self._spool.lost()
        return True
