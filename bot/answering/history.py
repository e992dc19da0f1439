"""A thread's earlier turns for the model: from the store, or — while the database is away —
from the thread as Slack has it.

The store is the bookkeeping, not the answering path's critical line: when its turns cannot be
read (`StoreUnavailable`, said once in the log by the store), a Slack thread is read back with
`conversations.replies` and rebuilt by `turns_from_thread`, our answers known by their
metadata. Off Slack (the browser chat, the terminal) there is no such copy, and the question
goes without its history.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.answering.gate import OFF_SLACK
from bot.answering.thread_turns import turns_from_thread
from bot.errors import SlackError, StoreUnavailable
from bot.question import Question, Turn
from bot.store import Store

log = logging.getLogger(__name__)

ThreadReader = Callable[[str, str], Awaitable[list[dict[str, Any]]]]
"""(channel, thread_ts) → the thread's messages, oldest first (Slack's conversations.replies)."""


async def thread_history(
    store: Store, threads: ThreadReader | None, question: Question
) -> list[Turn]:
    """The turns of `question`'s thread before it, oldest first (none outside a thread)."""
    if not question.thread_ts or question.thread_ts == question.ts:
        return []  # outside a thread, or a question that starts its thread: nothing before it
    try:
        return await store.turns(question.thread_key)
    except StoreUnavailable:
        pass
    if threads is None or question.surface in OFF_SLACK:
        return []  # no copy of the thread to read
    try:
        messages = await threads(question.channel, question.thread_ts)
    except SlackError as exc:
        log.warning("could not read the thread's history from Slack either: %s", exc)
        return []
    turns = turns_from_thread(messages, before_ts=_before(question.ts))
    # A thread with no answer of ours is no conversation with the bot: a mention there gets the
    # thread as context instead (the answerer's `_with_thread`), as with the database up.
    return turns if any(turn.role == "assistant" for turn in turns) else []


def _before(ts: str) -> str:
    """Where the history ends for a question asked at `ts`: at its message, or at the end of
    the thread for one without a Slack timestamp (a Retry)."""
    try:
        float(ts)
    except ValueError:
        return "inf"
    return ts
