"""The units every layer passes around: the `Question` each surface turns its input into, and
the `Turn`s of a conversation (what was asked and answered before)."""

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

    @property
    def thread_key(self) -> str:
        return f"{self.team}:{self.channel}:{self.thread_ts}"


@dataclass(frozen=True)
class Turn:
    """One stored message of a conversation."""

    role: Role
    text: str
