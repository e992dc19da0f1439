"""Whether a question may be answered, and if not, the `Refusal` that says why.

Checked before the model is called, in this order: the workspace and channel allowlists (and,
in a Slack Connect channel, the asker's own workspace), an empty or file-only question, a
question over the length limit, then the asker's limits (questions per window, tokens per day).
Every surface goes through the same gate: Slack, the browser chat and the terminal.

The limits are one admission, atomic in the store (`Store.admit`): the question is counted as
it is let in, so twelve questions sent at once with a limit of three reach the model three
times, on one replica or several.

Tokens are held before they are spent. An admitted answer reserves what its first model
request may cost: `max_tokens` plus the request's input (system prompt, tools, history and
question as sent) estimated from its UTF-8 bytes, two to a token, plus `REQUEST_OVERHEAD`
(`bot.model.usage.request_tokens`; Claude's tokenizers take three to four bytes a token for
English and more for JSON and numbers, so this over-counts). Before each further tool round
the reservation is topped up to the tokens used so far plus the next request's estimate and
`max_tokens` (`top_up`), and a round the person's remaining allowance cannot cover is not
started: the answer ends there, saying so. At the end the ledger row holds the real use and the
reservation goes (settled). A question is admitted while the day's tokens, used and held, are
under the limit. So a person's tokens in a day (`tokens_per_day`) are passed by at most one
first request: that of the answer admitted last, `max_tokens` plus its estimated input; no
later round and no other answer goes past the limit, on any number of replicas, as long as the
real input is within its estimate. (While the database is away each replica counts only its
own answers: docs/security.md.)

The shared web token's sign-ins (`shared_teams`, the `web` team) are each a person, with a
person's limits; all of them together also share one ceiling of `shared_people` people's limits,
so no number of sign-ins gets past it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.question import Question, Refusal, RefusalKind, Surface
from bot.store import Store
from bot.store.base import Admission
from bot.wording import texts

REFUSED = {
    "questions": RefusalKind.TOO_MANY,
    "tokens": RefusalKind.TOKENS_USED_UP,
    "team": RefusalKind.TOKENS_USED_UP,
}

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
    # Teams whose members together share a ceiling of `shared_people` people's limits.
    shared_teams: frozenset[str] = frozenset()
    shared_people: int = 10


class Gate:
    def __init__(self, limits: Limits, store: Store) -> None:
        self.limits = limits
        self.store = store

    async def screen(self, question: Question) -> Refusal | None:
        """None when the question may go on to admission; otherwise the refusal. Nothing is
        counted or kept here.

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
        return None

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

    async def admit(self, question: Question, question_id: str, reserve: int) -> Refusal | None:
        """None when the asker is within their limits: the question is then kept as
        `question_id`, counted, and `reserve` tokens held for its answer. Else the refusal."""
        verdict = await self.store.admit(question_id, question, self._admission(question, reserve))
        if verdict is None:
            return None
        if verdict == "questions":
            limits = self.limits
            reason = texts.too_many_questions(limits.questions_per_window, limits.window_s)
        else:
            reason = texts.SHARED_TOKEN_USED_UP if verdict == "team" else texts.TOKENS_USED_UP
        return Refusal(REFUSED.get(verdict, RefusalKind.TOKENS_USED_UP), reason)

    async def top_up(self, question: Question, question_id: str, amount: int) -> bool:
        """Hold `amount` more tokens for the answer to `question`, if its asker's (and team's)
        remaining allowance covers them."""
        return await self.store.top_up(question_id, question, amount, self._admission(question))

    def _admission(self, question: Question, reserve: int = 0) -> Admission:
        now = time.time()
        limits = self.limits
        shared = question.team in limits.shared_teams
        people = limits.shared_people
        return Admission(
            since=now - limits.window_s,
            most=limits.questions_per_window,
            day_since=now - DAY,
            tokens_most=limits.tokens_per_day,
            reserve=reserve,
            reserved_since=now - RESERVATION_S,
            team_most=people * limits.questions_per_window if shared else None,
            team_tokens_most=people * limits.tokens_per_day if shared else None,
        )
