"""The storage contract every backend keeps."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.accounting.ledger import LedgerRow
from bot.question import Question, Surface, Turn


@dataclass(frozen=True)
class Unfinished:
    """An answer that was streaming when the process stopped: its last message and text."""

    answer_id: str
    team: str
    channel: str
    ts: str
    text: str


def question_values(
    question_id: str, question: Question, asked_at: float, reserved: int = 0
) -> tuple[Any, ...]:
    """A question's columns in the `questions` table, in the order of `QUESTION_COLUMNS`
    (every backend stores the same)."""
    return (
        question_id,
        question.team,
        question.channel,
        question.user,
        question.text,
        question.surface.value,
        question.ts,
        question.thread_ts,
        question.response_url,
        asked_at,
        reserved,
    )


QUESTION_COLUMNS = (
    "id, team, channel, {user}, text, surface, ts, thread_ts, response_url, asked_at, reserved"
)


def question_from(row: Sequence[Any]) -> Question:
    """A question from (team, channel, user, text, surface, ts, thread_ts, response_url)."""
    team, channel, user, text, surface, ts, thread_ts, response_url = row
    return Question(team, channel, user, text, Surface(surface), ts, thread_ts, response_url)


def turn_key(key: str | None, position: int) -> str | None:
    """The idempotency key of one turn of a batch written under `key` (None: no key)."""
    return None if key is None else f"{key}:{position}"


@dataclass(frozen=True)
class Admission:
    """What a question is admitted against: at most `most` questions since `since`, and tokens
    since `day_since` (the ledger's, plus the tokens still reserved by answers in flight since
    `reserved_since`) under `tokens_most`; and, where its team shares a ceiling (the shared web
    token's sign-ins), at most `team_most` questions and `team_tokens_most` tokens for the whole
    team in the same spans. An admitted question is kept with `reserve` tokens reserved until
    its answer is settled."""

    since: float
    most: int
    day_since: float
    tokens_most: int
    reserve: int
    reserved_since: float
    team_most: int | None = None
    team_tokens_most: int | None = None


@dataclass(frozen=True)
class WebSession:
    """A browser sign-in, kept server-side so it can be checked, timed out and revoked.

    `team` and `user` are whom the answers count for: a Slack user's own ids for Sign in with
    Slack, `web` and a per-sign-in id for the shared token. `kind` is `slack`, `token`,
    `local` (the credential-less demo) or `admin` (the dashboard)."""

    session_id: str
    team: str
    user: str
    name: str
    kind: str
    expires_at: float
    last_seen: float
    revoked: bool = False
    store: str = ""  # the store code chosen at sign-in ("" none): see docs/catalog.md


def session_values(session: WebSession) -> tuple[Any, ...]:
    return (
        session.session_id,
        session.team,
        session.user,
        session.name,
        session.kind,
        session.expires_at,
        session.last_seen,
        session.revoked,
        session.store,
    )


SESSION_COLUMNS = "id, team, {user}, name, kind, expires_at, last_seen, revoked, store"

CHANNEL_SCOPE, PERSON_SCOPE = "channel", "person"  # what a store choice is for


@dataclass(frozen=True)
class StoreChoice:
    """A store code chosen for a Slack channel (by an admin) or for a person (by themselves):
    `scope` is `channel` or `person`, `key` the channel or user id, `by` who set it."""

    code: str
    scope: str
    key: str
    by: str = ""


OnStop = Callable[[str, str], Coroutine[Any, Any, None]]
"""Called with (answer_id, user) for a Stop press relayed from another replica."""


class Store(Protocol):
    """What the bot keeps. Writes that carry a `key` are idempotent: written again with the
    same key (a replay after an outage, a retry whose first try did land), they are kept once.
    """

    async def claim(self, key: str) -> bool:
        """Record that the user message `key` is being answered.

        True for the first caller only, atomically: a retried delivery or the `message` twin
        of an `app_mention` gets False and must not answer again.
        """
        ...

    async def turns(self, thread_key: str) -> list[Turn]:
        """The thread's stored turns, oldest first (empty for a thread the bot never joined)."""
        ...

    async def add_turns(
        self,
        thread_key: str,
        turns: Sequence[Turn],
        *,
        key: str | None = None,
        at: float | None = None,
    ) -> None:
        """Append turns to the thread (written at Unix time `at`, default now)."""
        ...

    async def has_thread(self, thread_key: str) -> bool:
        """Whether the bot has answered in this thread (so replies there are follow-ups)."""
        ...

    async def save_question(
        self, question_id: str, question: Question, *, at: float | None = None, reserved: int = 0
    ) -> None:
        """Keep a question (asked at Unix time `at`, default now) so a Retry button can ask it
        again and limits can count it, with `reserved` tokens held for its answer."""
        ...

    async def admit(
        self, question_id: str, question: Question, limits: Admission, *, at: float | None = None
    ) -> str | None:
        """Keep the question if its asker is within `limits`, atomically: concurrent
        admissions of one person, on any replica, are counted one after the other. None when
        admitted; otherwise the limit used up: `questions` or `tokens` (the asker's), `team`
        (its team's shared ceiling)."""
        ...

    async def top_up(
        self, question_id: str, question: Question, amount: int, limits: Admission
    ) -> bool:
        """Add `amount` to the question's reservation if its asker (and its team, where it has
        a ceiling) can cover it: the day's tokens, used and held, this one included, plus
        `amount` within `limits`. Atomic like `admit`. False: nothing changed."""
        ...

    async def settle(self, question_id: str) -> None:
        """The question's answer has ended (its tokens are in the ledger): its reservation goes."""
        ...

    async def question(self, question_id: str) -> Question | None: ...

    async def questions_since(self, team: str, user: str, since: float) -> int:
        """How many questions the user asked since the Unix time `since`."""
        ...

    async def begin_answer(
        self, answer_id: str, team: str, channel: str, ts: str, *, owner: str, lease: float
    ) -> None:
        """Record an answer as streaming on replica `owner`, held for `lease` seconds, so a
        crash leaves a trace to finish it by."""
        ...

    async def answer_progress(self, answer_id: str, ts: str, text: str) -> None:
        """The answer's last message and the text of it Slack shows."""
        ...

    async def end_answer(self, answer_id: str) -> None: ...

    async def renew_leases(self, owner: str, lease: float) -> None:
        """Replica `owner` is alive: hold all its streaming answers for `lease` more seconds."""
        ...

    async def take_over(self, owner: str, lease: float, *, own_too: bool) -> list[Unfinished]:
        """Hand `owner` the streaming answers whose lease ran out (a replica died), and with
        `own_too` those already recorded as `owner`'s (its previous life, at start-up).

        Atomic: replicas sweeping at once never take the same answer.
        """
        ...

    async def record(self, row: LedgerRow, *, key: str | None = None) -> None:
        """Add an answer to the usage ledger."""
        ...

    async def ledger(self, since: float) -> list[LedgerRow]: ...

    async def tokens_since(self, team: str, user: str, since: float) -> int:
        """Tokens of the user's answers since the Unix time `since`."""
        ...

    async def rate(self, answer_id: str, user: str, rating: str) -> None:
        """Record a 👍 ("good") or 👎 ("bad") on an answer; a second press replaces the first."""
        ...

    async def feedback(self, answer_id: str) -> dict[str, str]:
        """Ratings of an answer, by user."""
        ...

    async def save_description(self, sku: str, text: str, model: str) -> None:
        """Store a product description written by the bulk job."""
        ...

    async def descriptions(self) -> dict[str, str]:
        """Every stored product description, by SKU."""
        ...

    async def pending_batch(self) -> str | None:
        """The id of a description batch submitted but not yet collected."""
        ...

    async def set_pending_batch(self, batch_id: str | None) -> None: ...

    async def relay_stop(self, answer_id: str, user: str) -> None:
        """`user` pressed Stop on `answer_id`, which does not stream here: tell the replicas."""
        ...

    async def listen_stops(self, on_stop: OnStop) -> None:
        """From now until `close`, call `on_stop` for every Stop a replica relays."""
        ...

    async def ping(self) -> None:
        """A cheap round trip that raises when the database cannot be used right now."""
        ...

    async def signing_key(self, name: str) -> bytes:
        """The key `name` (32 random bytes), made on first use; every replica gets the same."""
        ...

    async def rotate_key(self, name: str) -> None:
        """Replace the key `name` with a new one and revoke every browser session."""
        ...

    async def start_session(self, session: WebSession) -> None: ...

    async def web_session(self, session_id: str) -> WebSession | None: ...

    async def touch_session(self, session_id: str, at: float) -> None:
        """The session was used at Unix time `at` (for the idle sign-out)."""
        ...

    async def end_session(self, session_id: str) -> None:
        """Revoke one session (signing out)."""
        ...

    async def choose_store(
        self, team: str, scope: str, key: str, code: str | None, *, by: str
    ) -> None:
        """Set the store of a channel (`scope` `channel`) or a person (`person`) in `team` to
        `code`, replacing an earlier choice; None removes it."""
        ...

    async def store_choice(self, team: str, scope: str, key: str) -> StoreChoice | None:
        """The store chosen for this channel or person, or None."""
        ...

    async def asker_store(self, team: str, channel: str, user: str) -> StoreChoice | None:
        """The store a question in `channel` from `user` is about, in one round trip: the
        channel's when it is mapped to one, else the person's own, else None."""
        ...

    async def prune(self, *, claims_before: float, history_before: float, batch: int) -> int:
        """Delete up to `batch` claims older than `claims_before` and up to `batch` turns and
        questions older than `history_before` (Unix times), each kind in a short transaction
        that holds no lock answering waits on; returns how many rows went. The ledger is kept.
        """
        ...

    async def close(self) -> None: ...
