"""What every reply is: the place one answer is shown as it is written.

The answering path (`bot.answering.answerer`) drives a reply the same way whatever the surface:
`refuse` (the question will not be answered) or `open`, then `add` per text delta and `status`
while a tool runs, `revise` when checking its figures changed the text, then `finish` with the
`Ending` it built once. The transports differ only in
how they show it:

    UpdatedMessage   a Slack message, posted then edited with `chat.update`
    NativeStream     a Slack message streamed with `chat.*Stream`, by update where Slack refuses
    PrivateAnswer    Slack's `response_url`, once, where the bot may not post
    EventStreamReply Server-Sent Events to the browser chat
    TerminalReply    text on a terminal, as the terminal `ask` prints it

`add` and `status` never wait: the model stream must not be held up by the transport.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from bot.errors import SlackError
from bot.question import Question, Refusal
from bot.wording.ending import Ending


class Reply(Protocol):
    @property
    def text(self) -> str:
        """All the answer's text so far."""
        ...

    @property
    def gone(self) -> bool:
        """The person can no longer see the answer (the message was deleted, the browser went
        away): the model stream should stop, and nothing is shown again."""
        ...

    @property
    def slack_failure(self) -> SlackError | None:
        """Why a `gone` answer ends as an error: Slack refused it (the bot, or this
        conversation) or stayed away longer than answers wait. None when it is not gone or
        the person left (a deleted message, a closed browser)."""
        ...

    @property
    def calls(self) -> int:
        """Calls made to show the answer (Slack Web API calls; 0 elsewhere)."""
        ...

    @property
    def first_shown_at(self) -> float | None:
        """When some of the answer's text was first in front of the person (clock seconds)."""
        ...

    @property
    def thread_ts(self) -> str | None:
        """The thread a follow-up continues (known once opened), or None: no follow-ups."""
        ...

    async def refuse(self, refusal: Refusal) -> None:
        """The question will not be answered: tell the asker why (unless `refusal.tell` is
        False)."""
        ...

    async def open(self) -> None:
        """Show that the answer has started. Raises `SlackError` where Slack refuses."""
        ...

    def add(self, delta: str) -> None:
        """More of the answer's text."""
        ...

    def status(self, line: str) -> None:
        """What is being looked up right now (until more text arrives)."""
        ...

    def revise(self, text: str) -> None:
        """Before `finish`: the answer's whole text is this, not what was added (its figures
        checked and marked); each transport shows it in its final form."""
        ...

    async def finish(self, ending: Ending) -> None:
        """Show the whole answer with its ending. Raises `SlackError` where Slack refuses."""
        ...

    def abandon(self) -> None:
        """Stop showing: opening failed or the answer is gone."""
        ...


ReplyFor = Callable[[Question, str], Reply]
"""Makes the reply for (question, answer id); the answer id is the Stop button's value."""
