"""Mentions, direct messages and replies in the bot's threads.

A mention in a channel arrives twice, as `app_mention` and (where `message.channels` is
subscribed) as `message`; both become the same `Question`, and the claim on the user message
lets only the first through. Messages from bots, the bot's own included, are never answered:
no loops.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.question import Question, Refusal, Surface
from bot.surfaces.slack import connect
from bot.surfaces.slack.surface import SlackSurface
from bot.surfaces.slack.text import question_text

# Message subtypes that still carry a person's question; edits, deletions, joins and bot
# posts do not.
ANSWERABLE_SUBTYPES = frozenset({None, "thread_broadcast", "file_share"})


def register(app: AsyncApp, surface: SlackSurface) -> None:
    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], context: AsyncBoltContext) -> None:
        result = "ignored"
        try:
            question = _question(event, context, Surface.MENTION)
            if question is not None:
                result = await _answer(surface, question)
        finally:
            surface.metrics.events.labels("app_mention", result).inc()

    @app.event("message")
    async def on_message(event: dict[str, Any], context: AsyncBoltContext) -> None:
        result = "ignored"
        try:
            question = await _message_question(surface, event, context)
            if question is not None:
                result = await _answer(surface, question)
        finally:
            surface.metrics.events.labels("message", result).inc()


async def _message_question(
    surface: SlackSurface, event: dict[str, Any], context: AsyncBoltContext
) -> Question | None:
    """A DM, or a reply in a thread the bot is part of; None for anything else."""
    if event.get("channel_type") == "im":
        return _question(event, context, Surface.DM)
    if event.get("thread_ts") and event.get("thread_ts") != event.get("ts"):
        question = _question(event, context, Surface.FOLLOW_UP)
        if question is not None and await surface.store.has_thread(question.thread_key):
            return question
        return None  # a thread the bot is not part of; a mention there arrives as app_mention
    return None  # plain channel chatter; mentions arrive as app_mention


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
        asker_team=connect.of_event(event, context),
    )


async def _answer(surface: SlackSurface, question: Question) -> str:
    """Answer a user message once: Slack's retries and the mention's `message` twin are
    recognised by the message's own id, recorded in the store."""
    if not await surface.store.claim(message_key(question)):
        return "duplicate"
    result = await surface.answerer.answer(question)
    return "refused" if isinstance(result, Refusal) else "answered"


def message_key(question: Question) -> str:
    return f"{question.team}:{question.channel}:{question.ts}"
