"""Answering where the bot cannot post (a private channel it is not in, a DM between people):
once, whole, through the slash command's `response_url`, visible to the asker only."""

from __future__ import annotations

from bot.delivery.slack_api import SlackApi
from bot.question import Question
from bot.wording import markdown, texts
from bot.wording.ending import Ending

# A response_url takes five messages; an answer longer than four pieces is cut there with a
# notice rather than lost silently.
MAX_PRIVATE_PIECES = 4


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
            ),
        )
