"""The /shopmax slash command: acked at once, help, answers in the channel, and the fallback."""

from __future__ import annotations

import json

from tests.conftest import CHANNEL, USER, Bot, payload
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.slack_server import FakeSlack, markdown_of


async def test_command_is_acked_and_answered_in_the_channel_with_who_asked(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """One top-level message shows the asker and question, then the streamed answer."""
    model.script(Script(chunks=["Try the ", "Voltas 1.5 ton", " at ₹35,990."]))
    response = await bot.command("best AC for Chennai under 40k")
    assert (response.status, response.body) == (200, "")
    [answer] = await bot.finished_answers()
    assert (answer.channel, answer.thread_ts) == (CHANNEL, None)
    header = answer.blocks[0]
    assert header["type"] == "section"
    assert header["text"]["text"] == f"*<@{USER}> asked:*\n>best AC for Chennai under 40k"
    assert answer.markdown == "Try the Voltas 1.5 ton at ₹35,990 ⚠."  # no tool: unchecked
    assert model.calls[0].body["messages"] == [
        {"role": "user", "content": "best AC for Chennai under 40k"}
    ]


async def test_follow_up_in_the_command_answers_thread_continues_it(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """The command's answer message starts a thread the bot follows."""
    model.script(Script(chunks=["Voltas 1.5 ton."]), Script(chunks=["₹35,990."]))
    await bot.command("best AC for Chennai")
    [first] = await bot.finished_answers()
    await bot.services.answerer.wait_idle(5)
    await bot.event(payload("message", text="price?", ts="1700009999.000100", thread_ts=first.ts))
    answers = await bot.finished_answers(2)
    assert answers[1].thread_ts == first.ts
    assert [m["content"] for m in model.calls[1].body["messages"]] == [
        "best AC for Chennai",
        "Voltas 1.5 ton.",
        "price?",
    ]


async def test_bare_command_and_help_show_ephemeral_help(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """`/shopmax` and `/shopmax help` answer in the ack itself, visible to the asker only."""
    for text in ("", "help", "  HELP "):
        response = await bot.command(text)
        body = json.loads(response.body)
        assert response.status == 200
        assert body["response_type"] == "ephemeral"
        assert "/shopmax" in body["text"] and "ShopMax Assistant" in body["text"]
    assert model.calls == []
    assert slack.messages == []


async def test_command_where_the_bot_cannot_post_answers_privately(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Not a member: the whole answer arrives through response_url, ephemeral, with a hint."""
    slack.not_member.add("G0PRIVATE")
    model.script(Script(chunks=["Bajaj mixer", " grinder: ₹3,299."], output_tokens=9))
    await bot.command("cheapest mixer grinder?", channel="G0PRIVATE")
    [response] = await slack.wait_for(lambda: slack.responses)
    assert response["response_type"] == "ephemeral"
    assert markdown_of(response) == "Bajaj mixer grinder: ₹3,299 ⚠."  # no tool: unchecked
    context = [
        e["text"] for b in response["blocks"] if b["type"] == "context" for e in b["elements"]
    ]
    assert any("invite me" in text for text in context)
    assert any(" · 9 out · " in text for text in context)
    assert slack.messages == []
