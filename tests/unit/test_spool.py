"""The spool: bookkeeping kept on local disk while the database is away, in order, bounded,
and read back by the next start."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from bot.accounting.metrics import Metrics
from bot.question import Question, Surface, Turn
from bot.store import writes
from bot.store.spool import Spool
from bot.store.writes import Write
from tests.conftest import ledger_row


def ops(spool: Spool) -> list[str]:
    """The ops of the writes on disk, oldest first."""
    return [json.loads(line)["op"] for line in spool.path.read_text().splitlines()]


@pytest.mark.parametrize(
    "write",
    [
        writes.claim("T1:C1:1.1"),
        writes.save_question("q1", Question("T1", "C1", "U1", "₹ price?", Surface.COMMAND, "1")),
        writes.begin_answer("a1", "T1", "C1", "", "r1", 15.0),
        writes.answer_progress("a1", "9.9", "partial"),
        writes.end_answer("a1"),
        writes.add_turns("T1:C1:1.0", [Turn("user", "q"), Turn("assistant", "a")]),
        writes.record(ledger_row(cost_usd=None)),
        writes.rate("a1", "U1", "good"),
    ],
    ids=lambda w: w.op,
)
def test_every_write_survives_a_round_trip_through_a_json_line(write: Write) -> None:
    assert Write.from_line(json.loads(json.dumps(write.line()))) == write


async def test_writes_are_kept_on_disk_in_order_and_read_back_by_the_next_start(
    tmp_path: Path,
) -> None:
    spool = Spool(tmp_path / "spool.jsonl", 100)
    for write in (
        writes.end_answer("a1"),
        writes.record(ledger_row()),
        writes.rate("a", "U", "bad"),
    ):
        assert await spool.add(write)
    assert ops(spool) == ["end_answer", "record", "rate"]
    assert len(Spool.load(spool.path, 100)) == 3


async def test_an_answers_progress_replaces_its_earlier_progress_still_waiting(
    tmp_path: Path,
) -> None:
    """One progress entry per answer, however many edits a long outage saw; after its begin."""
    spool = Spool(tmp_path / "spool.jsonl", 100)
    await spool.add(writes.begin_answer("a1", "T1", "C1", "", "r1", 15.0))
    for text in ("The", "The LG", "The LG 260 L"):
        await spool.add(writes.answer_progress("a1", "9.9", text))
        await spool.add(writes.answer_progress("b1", "9.8", f"b {text}"))
    in_memory = []
    while (head := spool.head()) is not None:
        in_memory.append(head.args.get("text", head.op))
        await spool.done(head)
    assert in_memory == ["begin_answer", "The LG 260 L", "b The LG 260 L"]


async def test_the_file_is_removed_once_everything_was_written(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.jsonl", 100)
    await spool.add(writes.end_answer("a1"))
    await spool.add(writes.end_answer("a2"))
    first = spool.head()
    assert first is not None
    await spool.done(first)
    assert spool.path.exists() and len(spool) == 1
    second = spool.head()
    assert second is not None
    await spool.done(second)
    assert not spool.path.exists() and len(spool) == 0


async def test_past_the_bound_writes_are_dropped_counted_and_said_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = Metrics()
    spool = Spool(tmp_path / "spool.jsonl", 2, metrics)
    results = [await spool.add(writes.end_answer(f"a{n}")) for n in range(5)]
    assert results == [True, True, False, False, False]
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    exposition = metrics.exposition().decode()
    assert "shopmax_spool_dropped_total 3.0" in exposition
    assert "shopmax_spool_entries 2.0" in exposition


async def test_a_line_cut_short_by_a_crash_is_skipped_and_the_rest_read(tmp_path: Path) -> None:
    path = tmp_path / "spool.jsonl"
    spool = Spool(path, 100)
    await spool.add(writes.end_answer("a1"))
    with path.open("a", encoding="utf-8") as file:
        file.write('{"op": "record", "key": "k", "at": 1.0, "ar')
    read = Spool.load(path, 100)
    assert len(read) == 1 and read.head() == spool.head()


async def test_the_file_is_compacted_while_a_long_replay_goes_on(tmp_path: Path) -> None:
    """Lines already written are dropped from the file now and then, so a crash during a long
    replay does not start it over from the very beginning."""
    spool = Spool(tmp_path / "spool.jsonl", 1000)
    for n in range(300):
        await spool.add(writes.end_answer(f"a{n}"))
    for _ in range(250):
        head = spool.head()
        assert head is not None
        await spool.done(head)
    lines = spool.path.read_text().splitlines()
    assert len(lines) < 300 and len(Spool.load(spool.path, 1000)) == len(lines)
    assert json.loads(lines[-1])["args"] == {"answer_id": "a299"}
