"""Slack's AI-assistant surface (Bolt's `AsyncAssistant`): a greeting with ShopMax prompts when
a thread starts, Slack's loading status until the first words (the answer's own sign of life,
as in every thread), a title from the first question, and the answer streamed like everywhere
else.

Bolt routes every threaded DM message to the assistant, so replies in DM threads are answered
here (as the `assistant` surface); top-level DMs stay with the `message` listener.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncAssistant, AsyncBoltContext
from slack_bolt.context.set_suggested_prompts.async_set_suggested_prompts import (
    AsyncSetSuggestedPrompts,
)
from slack_bolt.context.set_title.async_set_title import AsyncSetTitle
from slack_sdk.errors import SlackApiError

from bot.errors import SlackError
from bot.question import Question, Refusal, Surface
from bot.surfaces.slack import connect
from bot.surfaces.slack.events import message_key
from bot.surfaces.slack.surface import SlackSurface
from bot.surfaces.slack.text import question_text
from bot.wording import markdown, texts

log = logging.getLogger(__name__)
TITLE_LIMIT = 60


def register(app: AsyncApp, surface: SlackSurface) -> None:
    assistant = AsyncAssistant()

    @assistant.thread_started
    async def on_started(
        payload: dict[str, Any], set_suggested_prompts: AsyncSetSuggestedPrompts
    ) -> None:
        thread = payload["assistant_thread"]
        greeting = markdown.Rendered(
            texts.ASSISTANT_GREETING, [markdown.markdown_block(texts.ASSISTANT_GREETING)]
        )
        try:
            await surface.slack.post(thread["channel_id"], greeting, thread_ts=thread["thread_ts"])
            await set_suggested_prompts(
                prompts=[{"title": t, "message": m} for t, m in texts.SUGGESTED_PROMPTS],
                title=texts.SUGGESTIONS_TITLE,
            )
        except (SlackError, SlackApiError) as exc:
            log.warning("could not greet the assistant thread: %s", exc)
        surface.metrics.events.labels("assistant_thread_started", "greeted").inc()

    @assistant.thread_context_changed
    async def on_context_changed() -> None:
        """The channel the user is looking at changed; the answers do not depend on it."""

    @assistant.user_message
    async def on_message(
        payload: dict[str, Any], context: AsyncBoltContext, set_title: AsyncSetTitle
    ) -> None:
        result = "ignored"
        try:
            question = _question(payload, context)
            if question is None:
                return
            if not await surface.store.claim(message_key(question)):
                result = "duplicate"
                return
            first = not await surface.store.has_thread(question.thread_key)
            # The loading status is the answer's own (`bot.delivery.sign_of_life`), as in
            # every thread.
            try:
                if first and question.text:
                    await set_title(question.text[:TITLE_LIMIT])
            except SlackApiError as exc:
                log.warning("could not set the assistant thread's title: %s", exc)
            answered = await surface.answerer.answer(question)
            result = "refused" if isinstance(answered, Refusal) else "answered"
        finally:
            surface.metrics.events.labels("assistant_message", result).inc()

    app.use(assistant)


def _question(event: dict[str, Any], context: AsyncBoltContext) -> Question | None:
    user = event.get("user")
    if not user or event.get("bot_id") or event.get("subtype") not in (None, "file_share"):
        return None
    return Question(
        team=context.team_id or event.get("team", ""),
        channel=event["channel"],
        user=user,
        text=question_text(event.get("text", ""), context.bot_user_id),
        surface=Surface.ASSISTANT,
        ts=event["ts"],
        thread_ts=event["thread_ts"],
        files=len(event.get("files") or []),
        asker_team=connect.of_event(event, context),
    )
