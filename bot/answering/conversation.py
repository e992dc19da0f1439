"""A thread's stored turns turned into the messages Claude receives. Pure.

Claude gets the user's questions and the bot's raw Markdown answers, never what Slack showed
(footers, notices, cursors). When the thread is longer than the token budget, the oldest turns
are dropped first; the new question is always sent, even when it alone is over the budget.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.model.usage import estimate_tokens
from bot.question import Turn


def build_messages(
    history: Sequence[Turn], question: str, budget_tokens: int
) -> list[dict[str, str]]:
    """Messages for the Messages API: trimmed history, then the question.

    The result starts with a user turn and alternates roles, as the API requires: consecutive
    turns of one role (say, a question whose answer failed) are merged.
    """
    turns = [*history, Turn("user", question)]
    kept: list[Turn] = []
    used = 0
    for turn in reversed(turns):
        cost = estimate_tokens(turn.text)
        if kept and used + cost > budget_tokens:
            break
        kept.append(turn)
        used += cost
    kept.reverse()
    while kept and kept[0].role != "user":
        kept.pop(0)
    return _alternate(kept)


def _alternate(turns: Sequence[Turn]) -> list[dict[str, str]]:
    messages: list[dict[str, str]] = []
    for turn in turns:
        if not turn.text.strip():
            continue
        if messages and messages[-1]["role"] == turn.role:
            messages[-1]["content"] += "\n\n" + turn.text
        else:
            messages.append({"role": turn.role, "content": turn.text})
    return messages


def with_thread_context(question: str, earlier: Sequence[tuple[str, str]], limit: int) -> str:
    """The question, preceded by the thread it was asked in (for a mention in a thread the
    bot was not part of). `earlier` is (author id, text), oldest first; the newest messages
    are kept within `limit` characters."""
    lines: list[str] = []
    used = 0
    for author, text in reversed(earlier):
        line = f"<@{author}>: {text}"
        if used + len(line) > limit:
            break
        lines.append(line)
        used += len(line)
    if not lines:
        return question
    context = "\n".join(reversed(lines))
    return f"Earlier messages in this Slack thread:\n{context}\n\nMy question: {question}"
