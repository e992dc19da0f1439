"""Whether a question may be answered, and if not, the `Refusal` that says why.

Checked before the model is called, in this order: the workspace and channel allowlists, an
empty or file-only question, a question over the length limit, then the asker's limits
(questions per window, tokens per day). Every surface goes through the same gate: Slack, the
browser chat and the terminal.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from bot.question import Question, Refusal, RefusalKind, Surface
from bot.store import Store
from bot.wording import texts

DAY = 24 * 60 * 60
# The allowlists name Slack workspaces and channels; the browser and the terminal have their own
# way in (a sign-in, a shell on the machine).
OFF_SLACK = frozenset({Surface.WEB, Surface.TERMINAL})


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

    async def check(self, question: Question) -> Refusal | None:
        """None when the question may be answered; otherwise the refusal.

        A question from outside the allowlists is told so once per person and channel; after
        that the refusal is silent (`tell=False`), so the bot never nags. "Once" is kept in the
        store, so it holds across restarts and replicas.
        """
        limits = self.limits
        listed = question.surface in OFF_SLACK or (
            (not limits.allowed_teams or question.team in limits.allowed_teams)
            and (not limits.allowed_channels or question.channel in limits.allowed_channels)
        )
        if not listed:
            told = f"not-enabled:{question.team}:{question.channel}:{question.user}"
            first = await self.store.claim(told)
            return Refusal(RefusalKind.NOT_ENABLED, texts.NOT_ENABLED_HERE, tell=first)
        if not question.text.strip():
            reason = texts.FILES_ONLY if question.files else texts.EMPTY_QUESTION
            return Refusal(RefusalKind.EMPTY, reason)
        if len(question.text) > limits.max_question_chars:
            reason = texts.too_long(len(question.text), limits.max_question_chars)
            return Refusal(RefusalKind.TOO_LONG, reason)
        return await self._over_limit(question)

    async def _over_limit(self, question: Question) -> Refusal | None:
        now = time.time()
        limits = self.limits
        # Both asked at once: each is a round trip, and this is on the way to the model.
        asked, used = await asyncio.gather(
            self.store.questions_since(question.team, question.user, now - limits.window_s),
            self.store.tokens_since(question.team, question.user, now - DAY),
        )
        if asked >= limits.questions_per_window:
            reason = texts.too_many_questions(limits.questions_per_window, limits.window_s)
            return Refusal(RefusalKind.TOO_MANY, reason)
        if used >= limits.tokens_per_day:
            return Refusal(RefusalKind.TOKENS_USED_UP, texts.TOKENS_USED_UP)
        return None
