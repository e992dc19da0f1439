"""Mentions, direct messages and replies in the bot's threads.

A mention in a channel arrives twice, as `app_mention` and (where `message.channels` is
subscribed) as `message`; both become the same `Question` and `Answerer.claim` lets only the
first through. Messages from bots, the bot's own included, are never answered: no loops.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.answer import Answerer
from bot.listeners.text import question_text
from bot.question import Question, Surface

# Message subtypes that still carry a person's question; edits, deletions, joins and bot
# posts do not.
ANSWERABLE_SUBTYPES = frozenset({None, "thread_broadcast", "file_share"})


def register(app: AsyncApp, answerer: Answerer) -> None:
    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], context: AsyncBoltContext) -> None:
        question = _question(event, context, Surface.MENTION)
        if question is not None:
            await _answer(answerer, question)

    @app.event("message")
    async def on_message(event: dict[str, Any], context: AsyncBoltContext) -> None:
        if event.get("channel_type") == "im":
            question = _question(event, context, Surface.DM)
        elif event.get("thread_ts") and event.get("thread_ts") != event.get("ts"):
            question = _question(event, context, Surface.FOLLOW_UP)
            if question is not None and not await answerer.store.has_thread(question.thread_key):
                return  # a thread the bot is not part of; a mention there arrives as app_mention
        else:
            return  # plain channel chatter; mentions arrive as app_mention
        if question is not None:
            await _answer(answerer, question)


def _question(
    event: dict[str, Any], context: AsyncBoltContext, surface: Surface
) -> Question | None:
    if event.get("bot_id") or event.get("subtype") not in ANSWERABLE_SUBTYPES:
        return None
    user = event.get("user")
    if not user or user == context.bot_user_id:
        return None
    text = question_text(event.get("text", ""), context.bot_user_id)
    return Question(
        team=context.team_id or event.get("team", ""),
        channel=event["channel"],
        user=user,
        text=text,
        surface=surface,
        ts=event["ts"],
        thread_ts=event.get("thread_ts") or event["ts"],
        files=len(event.get("files") or []),
    )


async def _answer(answerer: Answerer, question: Question) -> None:
    if await answerer.claim(question):
        await answerer.answer(question)
