"""Whether a question may be answered, and if not, what to tell the asker.

Checked before the model is called, in this order: the workspace and channel allowlists, an
empty or file-only question, a question over the length limit, then the asker's limits
(questions per window, tokens per day). Each refusal is a sentence for the asker alone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.question import Question
from bot.store import Store
from bot.wording import texts

DAY = 24 * 60 * 60


@dataclass(frozen=True)
class Limits:
    """Access and abuse settings; empty allowlists allow everything."""

    allowed_teams: frozenset[str] = frozenset()
    allowed_channels: frozenset[str] = frozenset()
    max_question_chars: int = 4000
    questions_per_window: int = 30
    window_s: float = 3600.0
    tokens_per_day: int = 200_000


class Gate:
    def __init__(self, limits: Limits, store: Store) -> None:
        self.limits = limits
        self.store = store

    async def refusal(self, question: Question) -> str | None:
        """None when the question may be answered; otherwise what to tell the asker.

        A question from outside the allowlists gets its answer once per person and channel;
        after that it is ignored (the empty string), so the bot never nags. "Once" is kept in
        the store, so it holds across restarts and replicas.
        """
        limits = self.limits
        if (limits.allowed_teams and question.team not in limits.allowed_teams) or (
            limits.allowed_channels and question.channel not in limits.allowed_channels
        ):
            told = f"not-enabled:{question.team}:{question.channel}:{question.user}"
            return texts.NOT_ENABLED_HERE if await self.store.claim(told) else ""
        if not question.text.strip():
            return texts.FILES_ONLY if question.files else texts.EMPTY_QUESTION
        if len(question.text) > limits.max_question_chars:
            return texts.too_long(len(question.text), limits.max_question_chars)
        return await self._over_limit(question)

    async def _over_limit(self, question: Question) -> str | None:
        now = time.time()
        limits = self.limits
        asked = await self.store.questions_since(
            question.team, question.user, now - limits.window_s
        )
        if asked >= limits.questions_per_window:
            return texts.too_many_questions(limits.questions_per_window, limits.window_s)
        used = await self.store.tokens_since(question.team, question.user, now - DAY)
        if used >= limits.tokens_per_day:
            return texts.TOKENS_USED_UP
        return None
