"""Which reply a Slack question's answer streams into.

* `/shopmax`: a top-level message that shows who asked what (a header), edited by update —
  Slack streams only replies in threads — and delivered privately where the bot may not post;
* a mention, DM, follow-up or assistant-thread question: a reply in its thread, streamed
  natively with `SHOPMAX_STREAM_TRANSPORT=native`, else edited by update.

Every answer in a thread shows Slack's loading state at once (`sign_of_life`). In an assistant
thread that is all until there is something to say; elsewhere a "Thinking…" placeholder goes
up after `thinking_after` seconds without words.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.delivery.pacing.scheduler import Schedulers
from bot.delivery.replies.base import Reply
from bot.delivery.replies.native_stream import NativeStream, Recipient
from bot.delivery.replies.private import PrivatelyIfRefused
from bot.delivery.replies.slack_reply import Buttons, Destination, OnShown
from bot.delivery.replies.updated_message import UpdatedMessage
from bot.delivery.sign_of_life import Lights
from bot.delivery.slack_api import SlackApi
from bot.question import Question, Surface
from bot.store import Store
from bot.wording import markdown

ASSISTANT_WAIT = 60.0


@dataclass
class SlackReplies:
    """Makes the reply for each Slack answer (a `ReplyFor`)."""

    slack: SlackApi
    schedulers: Schedulers
    store: Store
    native: bool = False
    thinking_after: float = 0.7
    clock: Callable[[], float] = field(default=time.monotonic)
    wall: Callable[[], float] = field(default=time.time)
    lights: dict[str, Lights] = field(default_factory=dict)  # team -> its signs of life

    def __call__(self, question: Question, answer_id: str) -> Reply:
        schedulers = self.schedulers.for_answer(question.team)
        wait = ASSISTANT_WAIT if question.surface is Surface.ASSISTANT else self.thinking_after
        # The question is kept under the answer's id, so Retry asks it again on any replica.
        buttons = Buttons(answer_id=answer_id, question_id=answer_id)
        to = Destination(
            self.slack,
            schedulers,
            question,
            buttons,
            self._progress(answer_id),
            wait,
            self.clock,
            self.schedulers.patience,
            self.wall,
            self._lights(question.team).for_question(question),
            functools.partial(self.schedulers.take_stream_start, question.team, question.channel),
            functools.partial(self.schedulers.take_stream_stop, question.team),
        )
        if question.surface is Surface.COMMAND:
            header = markdown.header_block(question.user, question.text)
            message = UpdatedMessage(to, header=header)
            if question.response_url:
                return PrivatelyIfRefused(message, self.slack, question)
            return message
        if self.native:
            return NativeStream(to, recipient=Recipient(question.user, question.team))
        return UpdatedMessage(to)

    def _lights(self, team: str) -> Lights:
        lights = self.lights.get(team)
        if lights is None:
            lights = self.lights[team] = Lights(self.slack, self.clock)
        return lights

    def _progress(self, answer_id: str) -> OnShown:
        """Keep what Slack shows in the store, so a crash leaves the text to finish it with."""

        async def shown(ts: str, text: str) -> None:
            await self.store.answer_progress(answer_id, ts, text)

        return shown
