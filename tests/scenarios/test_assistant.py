"""Slack's AI-assistant surface and the feedback buttons under answers."""

from __future__ import annotations

from bot.wording import texts
from tests.conftest import USER, Bot, payload
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.slack_server import BOT_USER, TEAM, FakeSlack

DM = "D0ASSIST"
THREAD = "1700012000.000100"


def started() -> dict:
    return {
        "type": "event_callback",
        "team_id": TEAM,
        "event_id": "EvStart",
        "event": {
            "type": "assistant_thread_started",
            "assistant_thread": {
                "user_id": USER,
                "channel_id": DM,
                "thread_ts": THREAD,
                "context": {"channel_id": "C0SHOPFLOOR", "team_id": TEAM},
            },
            "event_ts": "1700012000.000200",
        },
    }


def message(text: str, ts: str) -> dict:
    return payload("message", text=text, ts=ts, thread_ts=THREAD, channel=DM, channel_type="im")


async def test_a_new_assistant_thread_is_greeted_with_shopmax_prompts(
    bot: Bot, slack: FakeSlack
) -> None:
    await bot.event(started())
    await bot.handled(1)
    [greeting] = slack.messages
    assert (greeting.channel, greeting.thread_ts) == (DM, THREAD)
    assert "ShopMax Assistant" in greeting.markdown
    [prompts] = slack.calls_to("assistant.threads.setSuggestedPrompts")
    titles = [p["title"] for p in prompts.payload["prompts"]]
    assert "TVs under ₹50,000" in titles and len(titles) == 4


async def test_assistant_questions_show_status_get_a_title_and_stream_the_answer(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    model.script(
        Script(chunks=["The Voltas", " 1.5 ton is ₹38,990."]), Script(chunks=["Yes, 4 in Chennai."])
    )
    await bot.event(message("best 1.5 ton AC for Chennai?", "1700012000.000300"))
    [answer] = await bot.finished_answers()
    assert (answer.channel, answer.thread_ts) == (DM, THREAD)
    assert answer.markdown == "The Voltas 1.5 ton is ₹38,990 ⚠."  # no tool: unchecked
    await bot.handled(1)
    [loading] = slack.calls_to("assistant.threads.setStatus")
    assert (loading.payload["channel_id"], loading.payload["thread_ts"]) == (DM, THREAD)
    assert loading.payload["status"] == texts.LOADING_STATUS
    assert loading.payload["loading_messages"] == list(texts.LOADING_MESSAGES)
    assert slack.statuses == {}, "cleared by Slack when the answer was posted in the thread"
    [title] = slack.calls_to("assistant.threads.setTitle")
    assert title.payload["title"] == "best 1.5 ton AC for Chennai?"
    assert "Thinking" not in str(answer.versions[0]), "Slack's own status stands in for it"
    await bot.handled(1)
    await bot.event(message("in stock?", "1700012000.000400"))
    answers = await bot.finished_answers(2)
    assert answers[1].markdown == "Yes, 4 in Chennai."
    assert len(slack.calls_to("assistant.threads.setTitle")) == 1, "the title is set once"
    assert [m["content"] for m in model.calls[1].body["messages"]] == [
        "best 1.5 ton AC for Chennai?",
        "The Voltas 1.5 ton is ₹38,990 ⚠.",
        "in stock?",
    ]
    rows = await bot.services.store.ledger(0)
    assert {r.surface for r in rows} == {"assistant"}


async def test_feedback_is_recorded_against_the_answer_and_acknowledged(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> hi", ts="1700012100.000100"))
    [answer] = await bot.finished_answers()
    buttons = [
        e["action_id"] for b in answer.blocks if b["type"] == "actions" for e in b["elements"]
    ]
    assert buttons == ["feedback_good", "feedback_bad"]
    await bot.press(answer, "feedback_bad")
    [thanks] = await slack.wait_for(lambda: slack.ephemeral)
    assert thanks["user"] == USER and "Thanks for telling us" in thanks["text"]
    [answer_id] = {
        e["value"] for b in answer.blocks if b["type"] == "actions" for e in b["elements"]
    }
    assert await bot.services.store.feedback(answer_id) == {USER: "bad"}
    await bot.press(answer, "feedback_good")
    await slack.wait_for(lambda: len(slack.ephemeral) == 2)
    assert await bot.services.store.feedback(answer_id) == {USER: "good"}
