"""Whether a question may be answered, and if not, the `Refusal` that says why.

Checked before the model is called, in this order: the workspace and channel allowlists (and,
in a Slack Connect channel, the asker's own workspace), an empty or file-only question, a
question over the length limit, then the asker's limits (questions per window, tokens per day).
Every surface goes through the same gate: Slack, the browser chat and the terminal.

The limits are one admission, atomic in the store (`Store.admit`): the question is counted as
it is let in, so twelve questions sent at once with a limit of three reach the model three
times, on one replica or several. Its answer reserves its token ceiling (`max_tokens`) until it
is settled at the end, so answers in flight count against the day's tokens before their
ledger rows exist: the day's tokens are overrun by at most the answers admitted last.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.question import Question, Refusal, RefusalKind, Surface
from bot.store import Store
from bot.store.base import Admission
from bot.wording import texts

DAY = 24 * 60 * 60
# A reservation counts for an hour at most: an answer that never settles (its replica died and
# nobody finished it) holds nobody's tokens for the rest of the day. Answers end long before.
RESERVATION_S = 60 * 60
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
    reserve_tokens: int = 2048  # an answer's ceiling, `max_tokens`, held until it is settled


class Gate:
    def __init__(self, limits: Limits, store: Store) -> None:
        self.limits = limits
        self.store = store

    async def check(self, question: Question, question_id: str) -> Refusal | None:
        """None when the question may be answered (it is then kept as `question_id`, counted
        and its tokens reserved); otherwise the refusal.

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
        outsider = self._outsider(question)
        if outsider is not None:
            return outsider
        if not question.text.strip():
            reason = texts.FILES_ONLY if question.files else texts.EMPTY_QUESTION
            return Refusal(RefusalKind.EMPTY, reason)
        if len(question.text) > limits.max_question_chars:
            reason = texts.too_long(len(question.text), limits.max_question_chars)
            return Refusal(RefusalKind.TOO_LONG, reason)
        return await self._admit(question, question_id)

    def _outsider(self, question: Question) -> Refusal | None:
        """A Slack Connect asker from a workspace the bot does not serve: the channel is
        shared, the prices and stock are not. Allowed are `SHOPMAX_ALLOWED_TEAMS`, or else the
        installing workspace only (the question's own team)."""
        asker = question.asker_team
        if not asker or question.surface in OFF_SLACK:
            return None
        allowed = self.limits.allowed_teams or frozenset({question.team})
        if asker in allowed:
            return None
        return Refusal(RefusalKind.OUTSIDER, texts.outside_workspace(asker))

    async def _admit(self, question: Question, question_id: str) -> Refusal | None:
        now = time.time()
        limits = self.limits
        admission = Admission(
            since=now - limits.window_s,
            most=limits.questions_per_window,
            day_since=now - DAY,
            tokens_most=limits.tokens_per_day,
            reserve=limits.reserve_tokens,
            reserved_since=now - RESERVATION_S,
        )
        verdict = await self.store.admit(question_id, question, admission, at=now)
        if verdict == "questions":
            reason = texts.too_many_questions(limits.questions_per_window, limits.window_s)
            return Refusal(RefusalKind.TOO_MANY, reason)
        if verdict == "tokens":
            return Refusal(RefusalKind.TOKENS_USED_UP, texts.TOKENS_USED_UP)
        return None
