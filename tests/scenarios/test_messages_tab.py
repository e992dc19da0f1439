"""Slack's new DM experience (the Messages tab, `agent_view`): opening it sets suggested prompts
for store staff at its top (no thread), once a while per person; a question asked there is
answered like any DM, with the loading status in its thread; odd payloads are ignored."""

from __future__ import annotations

from typing import Any

import pytest

from bot.wording import texts
from tests.conftest import USER, Bot, payload
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.slack_server import TEAM, FakeSlack

DM = "D0MESSAGES"
PROMPTS = "assistant.threads.setSuggestedPrompts"


def opened(n: int, **event: Any) -> dict[str, Any]:
    fields = {"type": "app_home_opened", "user": USER, "channel": DM, "tab": "messages"}
    return {
        "type": "event_callback",
        "team_id": TEAM,
        "event_id": f"EvOpen{n}",
        "event": {**fields, "event_ts": f"1700040000.{n:06d}", **event},
    }


async def test_opening_the_messages_tab_suggests_prompts_for_store_staff_once(
    bot: Bot, slack: FakeSlack
) -> None:
    await bot.event(opened(1))
    await bot.handled(1)
    [call] = slack.calls_to(PROMPTS)
    assert call.status == 200 and call.error is None
    assert call.payload["channel_id"] == DM and "thread_ts" not in call.payload
    assert call.payload["title"] == texts.MESSAGES_TAB_TITLE
    assert [(p["title"], p["message"]) for p in call.payload["prompts"]] == list(
        texts.SUGGESTED_PROMPTS
    )
    assert slack.prompts[(DM, None)] == call.payload
    await bot.event(opened(2))
    await bot.handled(2)
    assert len(slack.calls_to(PROMPTS)) == 1, "not again on every open"
    assert slack.home == {}, "the Home tab's view is not published for the Messages tab"


async def test_a_question_in_the_messages_tab_is_answered_like_any_dm(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    ts = "1700040100.000100"

    async def loading() -> None:
        await slack.wait_for(lambda: slack.statuses.get((DM, ts)))

    model.script(Script(chunks=["Open till", " 9 pm."], before_chunk={0: loading}))
    await bot.event(opened(1))
    await bot.event(payload("message", text="store hours?", ts=ts, channel=DM, channel_type="im"))
    [answer] = await bot.finished_answers()
    assert (answer.channel, answer.thread_ts) == (DM, ts)
    assert answer.markdown == "Open till 9 pm."
    await slack.wait_for(lambda: not slack.statuses)
    await bot.handled(2)  # the tab's opening and the question (its ledger row written)
    rows = await bot.services.store.ledger(0)
    assert [r.surface for r in rows] == ["dm"]


@pytest.mark.parametrize(
    "event",
    [
        {"channel": None},
        {"channel": "C0SHOPFLOOR"},  # not a DM
        {"channel": ["D0MESSAGES"]},
        {"tab": "about"},
        {"tab": {"messages": True}},
        {"user": None},
        {"user": ""},
    ],
)
async def test_odd_app_home_payloads_are_ignored_cleanly(
    bot: Bot, slack: FakeSlack, event: dict[str, Any]
) -> None:
    response = await bot.event(opened(1, **event))
    assert response.status == 200
    await bot.handled(1)
    assert slack.calls_to(PROMPTS) == [] and slack.home == {}
    assert bot.services.metrics.events.labels("app_home_opened", "ignored").value == 1
