"""Direct messages, follow-ups in the bot's threads, and one answer per user message."""

from __future__ import annotations

from dataclasses import replace

from bot.question import Turn
from tests.conftest import CHANNEL, Bot, payload
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.slack_server import BOT_ID, BOT_USER, FakeSlack

DM = "D0PRIYA"


async def test_direct_message_is_answered_in_a_thread_under_it(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """A DM question gets its answer as a threaded reply in the DM, with a footer."""
    model.script(Script(chunks=["IFB 6.5 kg", " front load: ₹26,490."]))
    await bot.event(
        payload(
            "message",
            text="price of IFB 6.5 kg front load?",
            ts="1700000200.000100",
            channel=DM,
            channel_type="im",
        )
    )
    [answer] = await bot.finished_answers()
    assert (answer.channel, answer.thread_ts) == (DM, "1700000200.000100")
    assert answer.markdown == "IFB 6.5 kg front load: ₹26,490 ⚠."  # no tool: unchecked


async def test_mention_and_its_message_twin_get_one_answer(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Slack delivers a channel mention as app_mention and as message; one answer results."""
    ts = "1700000300.000100"
    text = f"<@{BOT_USER}> warranty on LG ACs?"
    await bot.event(payload("app_mention", text=text, ts=ts))
    await bot.event(payload("message", text=text, ts=ts, thread_ts=ts))
    await bot.finished_answers()
    await bot.handled(2)
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert len(model.calls) == 1


async def test_slack_retry_of_the_same_event_is_not_answered_twice(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """A redelivery (X-Slack-Retry-Num) of an answered event makes no second answer."""
    body = payload("app_mention", text=f"<@{BOT_USER}> hi", ts="1700000400.000100")
    await bot.event(body)
    await bot.finished_answers()
    await bot.event(body, **{"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"})
    await bot.handled(2)
    assert len(model.calls) == 1
    assert len(slack.messages) == 1


async def test_follow_up_in_the_bots_thread_continues_the_conversation(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """A reply in the bot's thread needs no mention; Claude gets the earlier turns, raw."""
    root = "1700000500.000100"
    model.script(
        Script(chunks=["The **Samsung 1.5 ton** 5-star", " costs ₹41,990."]),
        Script(chunks=["Yes: 5 years on the compressor."]),
    )
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> best 1.5 ton AC?", ts=root))
    await bot.finished_answers()
    await bot.services.answerer.wait_idle(5)
    await bot.event(
        payload(
            "message",
            text="does it have a compressor warranty?",
            ts="1700000500.000200",
            thread_ts=root,
        )
    )
    answers = await bot.finished_answers(2)
    assert [a.thread_ts for a in answers] == [root, root]
    assert model.calls[1].body["messages"] == [
        {"role": "user", "content": "best 1.5 ton AC?"},
        {"role": "assistant", "content": "The **Samsung 1.5 ton** 5-star costs ₹41,990 ⚠."},
        {"role": "user", "content": "does it have a compressor warranty?"},
    ]


async def test_replies_in_threads_the_bot_never_joined_are_left_alone(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Colleagues talking in their own thread do not summon the bot."""
    await bot.event(
        payload(
            "message",
            text="lunch at 2?",
            ts="1700000600.000200",
            thread_ts="1700000600.000100",
        )
    )
    await bot.handled(1)
    assert model.calls == []
    assert slack.messages == []


async def test_bot_messages_and_plain_channel_chatter_are_ignored(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Other bots, the bot itself, and channel messages without a mention get no answer."""
    other_bot = payload("message_bot_message_subtype", ts="1700000700.000100")
    own = payload(
        "message",
        text="an answer",
        ts="1700000700.000200",
        bot_id=BOT_ID,
        user=BOT_USER,
        channel_type="im",
        channel="D0PRIYA",
    )
    chatter = payload("message", text="anyone seen the Diwali price list?", ts="1700000700.000300")
    for body in (own, other_bot, chatter):
        await bot.event(body)
    await bot.handled(2)  # the bot's own message never reaches a listener: Bolt drops it
    assert model.calls == []
    assert slack.messages == []


async def test_history_is_trimmed_from_the_oldest_turn(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """With a small token budget only the newest turns reach Claude, the question always."""
    store = bot.services.store
    thread_key = f"T111:{CHANNEL}:1700000800.000100"
    await store.add_turns(
        thread_key,
        [
            Turn("user", "old question " * 200),
            Turn("assistant", "old answer " * 200),
            Turn("user", "recent question"),
            Turn("assistant", "recent answer"),
        ],
    )
    answerer = bot.services.answerer
    answerer.config = replace(answerer.config, history_tokens=100)
    await bot.event(
        payload(
            "message",
            text="and the next one?",
            ts="1700000800.000300",
            thread_ts="1700000800.000100",
        )
    )
    await bot.finished_answers()
    assert model.calls[0].body["messages"] == [
        {"role": "user", "content": "recent question"},
        {"role": "assistant", "content": "recent answer"},
        {"role": "user", "content": "and the next one?"},
    ]
