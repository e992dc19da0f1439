"""What the answering path knows of an answer: while it runs (`Running`, and what a Stop press
did to it), what the model stream gave (`Streamed`), and how it ended (`Answered`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from enum import Enum

from bot.answering.grounding import Grounding
from bot.delivery.replies.base import Reply
from bot.errors import ModelError
from bot.model.stream import Partial
from bot.model.tools import Tools
from bot.model.usage import AnswerStats
from bot.question import Question


@dataclass(frozen=True)
class Answered:
    """How one answer ended, for the caller and for tests."""

    answer_id: str
    text: str
    stats: AnswerStats | None
    error: Exception | None
    outcome: str  # as the ledger names it: ok, stopped, interrupted or error


@dataclass(frozen=True)
class Streamed:
    """What the model stream gave: the final stats (or those of an answer cut short) and the
    model's failure, if any."""

    stats: AnswerStats | None
    error: ModelError | None = None
    unchecked: int = 0  # figures that could not be checked (marked ⚠)
    out_of_tokens: bool = False  # a further tool round the asker's allowance could not cover


class Stop(Enum):
    """What a Stop press did."""

    STOPPED = "stopped"
    NOT_ALLOWED = "not_allowed"  # only the asker and admins may stop an answer
    NOT_HERE = "not_here"  # not streaming in this process (another replica, or finished)


@dataclass
class Running:
    """An answer streaming right now, and how it may be cut short."""

    answer_id: str
    question: Question
    reply: Reply
    received: float
    reserved: int = 0  # tokens held for this answer until it is settled
    consumer: asyncio.Task[Streamed] | None = None
    # The answer's record being written; the reply opens after it (see the answerer).
    begun: asyncio.Task[None] | None = None
    open_started: asyncio.Event = field(default_factory=asyncio.Event)
    stopped_by: str | None = None
    shutting_down: bool = False
    partial: Partial = field(default_factory=Partial)
    grounding: Grounding = field(default_factory=Grounding)
    tools: Tools | None = None  # this answer's tools (made for the asker's store)

    @property
    def cut_short(self) -> bool:
        return bool(self.stopped_by or self.shutting_down)

    def cut(self) -> None:
        if self.consumer is not None:
            self.consumer.cancel()
