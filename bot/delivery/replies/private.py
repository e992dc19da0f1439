"""Answering where the bot cannot post (a private channel it is not in, a DM between people):
once, whole, through the slash command's `response_url`, visible to the asker only."""

from __future__ import annotations

import logging

from bot.delivery.replies.updated_message import UpdatedMessage
from bot.delivery.slack_api import SlackApi
from bot.errors import CannotPost, SlackError
from bot.question import Question, Refusal
from bot.wording import markdown, texts
from bot.wording.ending import Ending

log = logging.getLogger(__name__)

# A response_url takes five messages; an answer longer than four pieces is cut there with a
# notice rather than lost silently.
MAX_PRIVATE_PIECES = 4


class PrivatelyIfRefused:
    """A `/shopmax` answer: posted in the channel like any other, unless Slack refuses the post
    (`CannotPost`); then the text is kept and, at the end, delivered through the command's
    `response_url` to the asker alone, with a hint to invite the bot."""

    def __init__(self, message: UpdatedMessage, slack: SlackApi, question: Question) -> None:
        self.message = message
        self.slack = slack
        self.question = question
        self.private = False

    @property
    def text(self) -> str:
        return self.message.text

    @property
    def gone(self) -> bool:
        return not self.private and self.message.gone

    @property
    def slack_failure(self) -> SlackError | None:
        return None if self.private else self.message.slack_failure

    @property
    def calls(self) -> int:
        return self.message.calls

    @property
    def first_shown_at(self) -> float | None:
        return self.message.first_shown_at

    @property
    def thread_ts(self) -> str | None:
        return None if self.private else self.message.thread_ts

    async def refuse(self, refusal: Refusal) -> None:
        await self.message.refuse(refusal)

    async def open(self) -> None:
        try:
            await self.message.open()
        except CannotPost:
            log.info("not a member of %s: answering privately", self.question.channel)
            self.private = True

    def add(self, delta: str) -> None:
        self.message.add(delta)

    def status(self, line: str) -> None:
        self.message.status(line)

    def revise(self, text: str) -> None:
        self.message.revise(text)

    async def finish(self, ending: Ending) -> None:
        if self.private:
            await answer_privately(self.slack, self.question, self.message.text, ending)
        else:
            await self.message.finish(ending)

    def abandon(self) -> None:
        self.message.abandon()


async def answer_privately(slack: SlackApi, question: Question, text: str, ending: Ending) -> None:
    pieces = markdown.split_pieces(text) if text else [""]
    notices = [texts.CANNOT_POST, *ending.notices]
    if len(pieces) > MAX_PRIVATE_PIECES:
        pieces = pieces[:MAX_PRIVATE_PIECES]
        notices.append(texts.NOTICE_PRIVATE_TRUNCATED)
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        header = markdown.header_block(question.user, question.text) if index == 0 else None
        await slack.respond(
            question.response_url,
            markdown.render_piece(
                piece,
                in_progress=False,
                header=header,
                notices=tuple(notices) if last else (),
                footer=ending.footer if last else None,
                sources=ending.sources_text if last else None,
            ),
        )
