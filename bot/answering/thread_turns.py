"""A thread's turns read back from Slack, for when the store cannot give them (the database is
away). Pure.

Our answers are recognised by the metadata every answer message carries (`shopmax_answer`,
with the question's id and the message's place in a long answer), not by who posted them, so
another bot in the thread is never taken for us. An answer's text is its `markdown` blocks —
what Claude wrote — without the footer, notices and buttons around it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.delivery.slack_api import ANSWER_EVENT
from bot.question import Turn


def turns_from_thread(messages: Iterable[dict[str, Any]], *, before_ts: str) -> list[Turn]:
    """The turns of a thread read with `SlackApi.thread` (metadata included), oldest
    first, up to (not including) the message at `before_ts`: people's messages as the user's
    turns, our answers (their pieces joined) as the assistant's, other bots' left out."""
    turns: list[Turn] = []
    answering: str | None = None  # the question id of the answer being joined
    for message in sorted(messages, key=lambda m: float(m.get("ts") or 0)):
        if float(message.get("ts") or 0) >= float(before_ts):
            break
        question_id = _answer_to(message)
        if question_id is not None:
            text = _answer_text(message)
            if question_id == answering and turns:
                turns[-1] = Turn("assistant", f"{turns[-1].text}\n{text}")
            else:
                turns.append(Turn("assistant", text))
            answering = question_id
        elif not message.get("bot_id") and message.get("text"):
            turns.append(Turn("user", str(message["text"])))
            answering = None
    return turns


def _answer_to(message: dict[str, Any]) -> str | None:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != ANSWER_EVENT:
        return None
    return str((metadata.get("event_payload") or {}).get("question_id", ""))


def _answer_text(message: dict[str, Any]) -> str:
    blocks = message.get("blocks") or []
    written = "".join(b.get("text", "") for b in blocks if b.get("type") == "markdown")
    return written or str(message.get("text") or "")
