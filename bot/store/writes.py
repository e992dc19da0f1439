"""A bookkeeping write as a value: made when the call comes in, applied to the database now
or later, and kept as one JSON line in between (see `spool`).

Every write gets its idempotency `key` and its time `at` when it is made, so applying it twice
(a replay after a crash mid-replay, or after a try that timed out but did land) keeps one row,
dated when it happened rather than when the database came back.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.accounting.ledger import LedgerRow
from bot.question import Question, Surface, Turn
from bot.store.base import Store, WebSession


@dataclass(frozen=True)
class Write:
    """One call of a `Store` write method, with what it needs to be applied again."""

    op: str
    args: dict[str, Any]
    key: str
    at: float

    def line(self) -> dict[str, Any]:
        """The write as a JSON-ready object."""
        return {"op": self.op, "key": self.key, "at": self.at, "args": self.args}

    @classmethod
    def from_line(cls, line: dict[str, Any]) -> Write:
        if line.get("op") not in APPLY:
            raise ValueError(f"unknown write {line.get('op')!r}")
        return cls(str(line["op"]), dict(line["args"]), str(line["key"]), float(line["at"]))

    @property
    def answer_id(self) -> str | None:
        """The answer an in-flight write is about (progress entries replace each other)."""
        value = self.args.get("answer_id")
        return None if value is None else str(value)


def write(
    op: str, args: dict[str, Any], *, key: str | None = None, at: float | None = None
) -> Write:
    """A new write of `op`, keyed and dated now unless `key` and `at` are given."""
    return Write(op, args, key or uuid.uuid4().hex, time.time() if at is None else at)


def claim(key: str) -> Write:
    return write("claim", {"claimed": key})


def save_question(
    question_id: str, question: Question, *, at: float | None = None, reserved: int = 0
) -> Write:
    fields = dataclasses.asdict(question)
    args = {"question_id": question_id, "question": fields, "reserved": reserved}
    return write("save_question", args, at=at)


def settle(question_id: str) -> Write:
    return write("settle", {"question_id": question_id})


def start_session(session: WebSession) -> Write:
    return write("start_session", {"session": dataclasses.asdict(session)})


def end_session(session_id: str) -> Write:
    return write("end_session", {"session_id": session_id})


def begin_answer(
    answer_id: str, team: str, channel: str, ts: str, owner: str, lease: float
) -> Write:
    args = {"answer_id": answer_id, "team": team, "channel": channel, "ts": ts}
    return write("begin_answer", {**args, "owner": owner, "lease": lease})


def answer_progress(answer_id: str, ts: str, text: str) -> Write:
    return write("answer_progress", {"answer_id": answer_id, "ts": ts, "text": text})


def end_answer(answer_id: str) -> Write:
    return write("end_answer", {"answer_id": answer_id})


def add_turns(
    thread_key: str, turns: Sequence[Turn], *, key: str | None = None, at: float | None = None
) -> Write:
    args = {"thread_key": thread_key, "turns": [[t.role, t.text, t.note] for t in turns]}
    return write("add_turns", args, key=key, at=at)


def record(row: LedgerRow, *, key: str | None = None) -> Write:
    return write("record", {"row": dataclasses.asdict(row)}, key=key, at=row.at)


def rate(answer_id: str, user: str, rating: str) -> Write:
    return write("rate", {"answer_id": answer_id, "user": user, "rating": rating})


def question_of(args: dict[str, Any]) -> Question:
    fields = dict(args["question"])
    fields["surface"] = Surface(fields["surface"])
    return Question(**fields)


def turns_of(args: dict[str, Any]) -> list[Turn]:
    return [Turn(*turn) for turn in args["turns"]]  # (role, text[, note])


def row_of(args: dict[str, Any]) -> LedgerRow:
    return LedgerRow(**args["row"])


async def apply(w: Write, store: Store) -> None:
    """Make the write in `store`; safe to repeat (see the module's docstring)."""
    await APPLY[w.op](store, w)


async def _claim(store: Store, w: Write) -> None:
    await store.claim(w.args["claimed"])


async def _save_question(store: Store, w: Write) -> None:
    reserved = int(w.args.get("reserved", 0))  # not in lines kept before reservations
    await store.save_question(
        w.args["question_id"], question_of(w.args), at=w.at, reserved=reserved
    )


async def _settle(store: Store, w: Write) -> None:
    await store.settle(w.args["question_id"])


async def _start_session(store: Store, w: Write) -> None:
    await store.start_session(WebSession(**w.args["session"]))


async def _end_session(store: Store, w: Write) -> None:
    await store.end_session(w.args["session_id"])


async def _begin_answer(store: Store, w: Write) -> None:
    a = w.args
    await store.begin_answer(
        a["answer_id"], a["team"], a["channel"], a["ts"], owner=a["owner"], lease=a["lease"]
    )


async def _answer_progress(store: Store, w: Write) -> None:
    await store.answer_progress(w.args["answer_id"], w.args["ts"], w.args["text"])


async def _end_answer(store: Store, w: Write) -> None:
    await store.end_answer(w.args["answer_id"])


async def _add_turns(store: Store, w: Write) -> None:
    await store.add_turns(w.args["thread_key"], turns_of(w.args), key=w.key, at=w.at)


async def _record(store: Store, w: Write) -> None:
    await store.record(row_of(w.args), key=w.key)


async def _rate(store: Store, w: Write) -> None:
    await store.rate(w.args["answer_id"], w.args["user"], w.args["rating"])


APPLY = {
    "claim": _claim,
    "save_question": _save_question,
    "begin_answer": _begin_answer,
    "answer_progress": _answer_progress,
    "end_answer": _end_answer,
    "add_turns": _add_turns,
    "record": _record,
    "rate": _rate,
    "settle": _settle,
    "start_session": _start_session,
    "end_session": _end_session,
}
