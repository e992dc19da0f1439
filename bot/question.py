"""The units every layer passes around: the `Question` each surface turns its input into, the
`Refusal` it gets when it may not be answered, and the `Turn`s of a conversation (what was asked
and answered before)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

Role = Literal["user", "assistant"]


class Surface(StrEnum):
    """Where a question came from; it decides where the answer goes."""

    MENTION = "mention"
    DM = "dm"
    COMMAND = "command"
    FOLLOW_UP = "follow-up"
    ASSISTANT = "assistant"
    WEB = "web"
    TERMINAL = "terminal"


@dataclass(frozen=True)
class Question:
    """One user message to answer.

    `ts` is the user's own message (the deduplication key together with team and channel);
    `thread_ts` is the thread the answer goes into and whose turns form the conversation.
    For a slash command there is no user message: `ts` is Slack's trigger id and `thread_ts`
    is empty until the bot has posted the message the answer streams into.
    """

    team: str
    channel: str
    user: str
    text: str
    surface: Surface
    ts: str
    thread_ts: str = ""
    response_url: str = ""
    files: int = 0  # files attached to the message (the bot reads only its text)
    # The asker's own workspace where Slack says it (`user_team`: in a Slack Connect channel
    # it may differ from `team`, the installing workspace the event came through); "" if unsaid.
    asker_team: str = ""
    # The store code the question is about: the surface's (the browser's sign-in), else ""
    # and the answering path finds the channel's or the person's own (docs/catalog.md) and
    # puts it here for the answer's tools.
    store: str = ""

    @property
    def thread_key(self) -> str:
        return f"{self.team}:{self.channel}:{self.thread_ts}"


class RefusalKind(StrEnum):
    """Why a question is not answered; surfaces map it (the browser to an HTTP status)."""

    NOT_ENABLED = "not_enabled"  # outside the allowed workspaces or channels
    EMPTY = "empty"  # nothing to answer: an empty mention, only a file
    TOO_LONG = "too_long"
    TOO_MANY = "too_many"  # the person's questions per window are used up
    TOKENS_USED_UP = "tokens_used_up"  # the person's tokens per day are used up
    CLOSING = "closing"  # the bot is shutting down
    OUTSIDER = "outsider"  # a Slack Connect asker from a workspace the bot does not serve


@dataclass(frozen=True)
class Refusal:
    """A question that will not be answered, and what to tell the asker.

    `tell` is False when the asker has been told before and the bot should stay quiet (the
    "not enabled here" notice is given once per person and channel).
    """

    kind: RefusalKind
    reason: str
    tell: bool = True


@dataclass(frozen=True)
class Turn:
    """One stored message of a conversation. `note` is what was shown under an answer besides
    its text (the stats line, or that it was stopped), for a page reloaded later; the model
    never sees it."""

    role: Role
    text: str
    note: str = ""
