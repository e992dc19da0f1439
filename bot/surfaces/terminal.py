"""The terminal surface: `shopmax-bot ask "…"` asks one question through the same answering
path as Slack and the browser (gate, limits, ledger) and prints the answer as it streams,
then the stream stats."""

from __future__ import annotations

import getpass
import uuid
from typing import TextIO

from bot.answering.answerer import Answerer
from bot.delivery.replies.base import Reply
from bot.delivery.replies.terminal import TerminalReply
from bot.question import Question, Refusal, Surface

TERMINAL = "terminal"  # the ledger's workspace and channel for terminal questions


def who() -> str:
    """The person at the terminal, as the system knows them."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return TERMINAL


async def ask(answerer: Answerer, text: str, out: TextIO) -> int:
    """Answer `text` on `out`; the exit status: 0 answered, 1 failed, 2 refused."""
    question = Question(TERMINAL, TERMINAL, who(), text, Surface.TERMINAL, uuid.uuid4().hex)
    reply = TerminalReply(out)

    def onto_the_terminal(_question: Question, _answer_id: str) -> Reply:
        return reply

    result = await answerer.answer(question, onto_the_terminal)
    if isinstance(result, Refusal):
        return 2
    return 1 if reply.failed else 0
