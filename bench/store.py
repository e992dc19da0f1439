"""What keeping the store off the critical line costs, against the bare store, same run.

Each answer writes its bookkeeping: the question, the answer begun, three progress updates,
the answer ended, two turns and a ledger row (8 writes). This times that set through the bare
SQLite store, through `ResilientStore` over it while the database answers (the wrapper's own
cost: a key, a note of what this process wrote, a timeout), and while the database is away
(each write appended to the spool and flushed to disk); then how fast the spool is written to
the database when it is back. Medians per answer; the wrapper's figure as a ratio of the bare
store's.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.accounting.ledger import LedgerRow
from bot.question import Question, Surface, Turn
from bot.store import SqliteStore, sqlite
from bot.store.base import Store
from bot.store.claims import FallbackClaims
from bot.store.resilient import ResilientStore
from bot.store.spool import Spool

ANSWERS = 300
QUESTION = Question("T1", "C1", "U1", "fridge under 30k?", Surface.MENTION, "1.1", "1.0")


def row() -> LedgerRow:
    return LedgerRow(
        time.time(), "T1", "C1", "U1", "mention", "claude-haiku-5-5", 1000, 500, 0, 0,
        400.0, 650.0, 4000.0, 5, "end_turn", "ok", 0.01, 0.84,
    )  # fmt: skip


async def one_answer(store: Store, n: int) -> None:
    answer = f"a{n}"
    await store.save_question(answer, QUESTION)
    await store.begin_answer(answer, "T1", "C1", "", owner="bench", lease=15)
    for text in ("The", "The LG", "The LG 260 L"):
        await store.answer_progress(answer, "9.9", text)
    await store.end_answer(answer)
    await store.add_turns(f"T1:C1:{n}", [Turn("user", "q"), Turn("assistant", "a")])
    await store.record(row())


async def timed(store: Store, answers: int) -> list[float]:
    times = []
    for n in range(answers):
        start = time.perf_counter()
        await one_answer(store, n)
        times.append(time.perf_counter() - start)
    return times


def wrapped(open_inner: Callable[[], Awaitable[Store]], spool: Path) -> ResilientStore:
    return ResilientStore(
        open_inner,
        unreachable=sqlite.unreachable,
        spool=Spool.load(spool, 10 * ANSWERS * 8),
        claims=FallbackClaims(),
        probe_every=3600,  # the benchmark replays by itself
    )


async def main(answers: int = ANSWERS, rounds: int = 6) -> str:
    """The bare and the wrapped store take turns, a round each, so a disk busy with something
    else for a moment weighs on both alike; a first round each, not counted, grows their files
    (new SQLite files are slow to write at first)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)

        async def working() -> Store:
            return await SqliteStore.open(str(folder / "wrapped.db"))

        bare = await SqliteStore.open(str(folder / "bare.db"))
        up = wrapped(working, folder / "up.jsonl")
        await up.connect()
        for store in (bare, up):
            await timed(store, answers // rounds)
        plain: list[float] = []
        through: list[float] = []
        for _ in range(rounds):
            through += await timed(up, answers // rounds)
            plain += await timed(bare, answers // rounds)
        await bare.close()
        await up.close()

        async def away() -> Store:
            raise OSError("the database is away (benchmark)")

        down = wrapped(away, folder / "spool.jsonl")
        await down.connect()
        spooled = await timed(down, answers)
        await down.close()

        back = wrapped(working, folder / "spool.jsonl")
        start = time.perf_counter()
        await back.connect()  # writes the spool left by the store above
        replay = time.perf_counter() - start
        await back.close()
    return report(answers, plain, through, spooled, replay)


def report(
    answers: int, plain: list[float], through: list[float], spooled: list[float], replay: float
) -> str:
    def ms(times: list[float]) -> str:
        return f"{statistics.median(times) * 1e3:>8.2f} ms"

    ratio = statistics.median(through) / statistics.median(plain)
    return "\n".join(
        [
            f"Store benchmark: {answers} answers' bookkeeping (8 writes each), SQLite, same run.",
            f"{'store':<34} {'median per answer':>18}",
            f"{'bare SQLite store':<34} {ms(plain):>18}",
            f"{'ResilientStore, database up':<34} {ms(through):>18}",
            f"{'ResilientStore, database away':<34} {ms(spooled):>18}",
            f"the wrapper costs {ratio:.2f}x the bare store; while the database is away each "
            f"write is flushed to the spool; the database back, {answers * 8} kept writes "
            f"were written in {replay:.2f} s ({answers * 8 / replay:.0f} writes/s).",
        ]
    )


def run() -> str:
    return asyncio.run(main())
