"""Button presses on answers: Stop while streaming, Retry under an answer that failed, 👍 / 👎
under one that is complete."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.answering.running import Stop
from bot.errors import SlackError
from bot.question import Question
from bot.surfaces.slack import connect
from bot.surfaces.slack.surface import SlackSurface
from bot.wording import texts
from bot.wording.markdown import FEEDBACK_BAD, FEEDBACK_GOOD, RETRY_ACTION, STOP_ACTION

log = logging.getLogger(__name__)


class StopPresses:
    """A Stop press may land on any replica. The one streaming the answer stops it (or tells
    someone who may not stop it why nothing happened); any other relays the press through the
    store to the rest (`relayed` is called there)."""

    def __init__(self, surface: SlackSurface) -> None:
        self.surface = surface

    async def pressed(self, answer_id: str, user: str) -> None:
        question = self.surface.answerer.question_of(answer_id)
        result = self.surface.answerer.stop(answer_id, user)
        if result is Stop.NOT_HERE:
            await self.surface.store.relay_stop(answer_id, user)
        elif result is Stop.NOT_ALLOWED and question is not None:
            await self._not_yours(question, user)

    async def relayed(self, answer_id: str, user: str) -> None:
        question = self.surface.answerer.question_of(answer_id)
        if self.surface.answerer.stop(answer_id, user) is Stop.NOT_ALLOWED and question:
            await self._not_yours(question, user)

    async def _not_yours(self, question: Question, user: str) -> None:
        try:
            await self.surface.slack.post_ephemeral(
                question.channel,
                user,
                texts.NOT_YOURS_TO_STOP,
                thread_ts=question.thread_ts or None,
            )
        except SlackError as exc:
            log.warning("could not tell %s they may not stop the answer: %s", user, exc)


def register(app: AsyncApp, surface: SlackSurface, stops: StopPresses) -> None:
    @app.action(STOP_ACTION)
    async def on_stop(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await stops.pressed(body["actions"][0]["value"], body["user"]["id"])

    @app.action(FEEDBACK_GOOD)
    @app.action(FEEDBACK_BAD)
    async def on_feedback(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        action = body["actions"][0]
        good = action["action_id"] == FEEDBACK_GOOD
        user = body["user"]["id"]
        await surface.store.rate(action["value"], user, "good" if good else "bad")
        await surface.slack.post_ephemeral(
            body["channel"]["id"],
            user,
            texts.THANKS_GOOD if good else texts.THANKS_BAD,
            thread_ts=body.get("message", {}).get("thread_ts"),
        )

    @app.action(RETRY_ACTION)
    async def on_retry(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        question_id = body["actions"][0]["value"]
        pressed = body["container"]["message_ts"]
        presser = Presser(body["user"]["id"], connect.of_press(body, context))
        await retry(surface, question_id, presser, pressed)


@dataclass(frozen=True)
class Presser:
    """Who pressed a button: their user id and own workspace (in a Slack Connect channel,
    perhaps not the installing one)."""

    user: str
    team: str = ""


async def retry(surface: SlackSurface, question_id: str, presser: Presser, pressed_ts: str) -> None:
    """Ask a failed question again, in the same thread, for whoever pressed Retry (once per
    press, whichever replica it reaches). The presser is the asker now: their workspace is
    checked like any asker's, and what they are told privately goes to them (the command's
    `response_url` speaks to whoever ran the command, so it serves only that person)."""
    question = await surface.store.question(question_id)
    if question is None or not await surface.store.claim(f"retry:{question_id}:{pressed_ts}"):
        return
    user = presser.user
    again = Question(
        team=question.team,
        channel=question.channel,
        user=user,
        text=question.text,
        surface=question.surface,
        ts=f"retry:{pressed_ts}",
        thread_ts=question.thread_ts,
        response_url=question.response_url if user == question.user else "",
        asker_team=presser.team,
    )
    await surface.answerer.answer(again)
