"""Button presses on answers: Stop while streaming, Retry under an answer that failed."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.answering.answerer import Answerer
from bot.wording import texts
from bot.wording.markdown import FEEDBACK_BAD, FEEDBACK_GOOD, RETRY_ACTION, STOP_ACTION


def register(app: AsyncApp, answerer: Answerer) -> None:
    @app.action(STOP_ACTION)
    async def on_stop(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await answerer.press_stop(body["actions"][0]["value"], body["user"]["id"])

    @app.action(FEEDBACK_GOOD)
    @app.action(FEEDBACK_BAD)
    async def on_feedback(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        action = body["actions"][0]
        good = action["action_id"] == FEEDBACK_GOOD
        user = body["user"]["id"]
        await answerer.store.rate(action["value"], user, "good" if good else "bad")
        await answerer.slack.post_ephemeral(
            body["channel"]["id"],
            user,
            texts.THANKS_GOOD if good else texts.THANKS_BAD,
            thread_ts=body.get("message", {}).get("thread_ts"),
        )

    @app.action(RETRY_ACTION)
    async def on_retry(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await answerer.retry(
            body["actions"][0]["value"], body["user"]["id"], body["container"]["message_ts"]
        )
