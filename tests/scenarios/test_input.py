"""Bad input and Slack etiquette, access and abuse limits: the right answer, or the right
silence, for each."""

from __future__ import annotations

from tests.conftest import CHANNEL, USER, Bot, BotFactory, payload
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.slack_server import BOT_USER, FakeSlack

TS = "1700008000.000100"


async def test_an_empty_mention_gets_a_hint_not_a_model_call(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}>  ", ts=TS))
    await bot.handled(1)
    [hint] = slack.ephemeral
    assert (hint["channel"], hint["user"]) == (CHANNEL, USER)
    assert "What would you like to know?" in hint["text"]
    assert model.calls == [] and slack.messages == []


async def test_a_40000_character_question_gets_a_clear_limit_message(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> " + "price? " * 5714, ts=TS))
    await bot.handled(1)
    [notice] = slack.ephemeral
    assert "39,997 characters" in notice["text"] and "up to 4,000" in notice["text"]
    assert model.calls == []


async def test_a_file_only_message_is_told_the_bot_reads_text(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    body = payload(
        "message_file_share",
        text="",
        ts=TS,
        channel="D0PRIYA",
        channel_type="im",
    )
    await bot.event(body)
    await bot.handled(1)
    [notice] = slack.ephemeral
    assert "I can only read text" in notice["text"]
    assert model.calls == []


async def test_edits_and_deletions_are_not_questions(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """message_changed and message_deleted events never start an answer."""
    for name in ("message_changed", "message_deleted"):
        body = payload(name, channel_type="im", channel="D0PRIYA")
        body["event"].pop("user", None)
        await bot.event(body)
    await bot.handled(2)
    assert model.calls == [] and slack.messages == [] and slack.ephemeral == []


async def test_unknown_command_options_get_help(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    response = await bot.command("--reset everything")
    assert "no option `--reset`" in response.body and "/shopmax help" in response.body
    assert model.calls == []


async def test_a_mention_in_someone_elses_thread_answers_there_with_the_thread_as_context(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    parent = "1700008100.000100"
    slack.threads[(CHANNEL, parent)] = [
        {"ts": parent, "user": "U0RAVI", "text": "Customer wants a 7 kg front load under 30k"},
        {"ts": "1700008100.000200", "user": "U0MEERA", "text": "In Pune, needs delivery"},
        {"ts": "1700008100.000300", "user": USER, "text": f"<@{BOT_USER}> what do we have?"},
    ]
    model.script(Script(chunks=["The Bosch 7 kg at ₹29,490."]))
    await bot.event(
        payload(
            "app_mention",
            text=f"<@{BOT_USER}> what do we have?",
            ts="1700008100.000300",
            thread_ts=parent,
        )
    )
    [answer] = await bot.finished_answers()
    assert answer.thread_ts == parent
    [sent] = model.calls[0].body["messages"]
    assert sent["content"] == (
        "Earlier messages in this Slack thread:\n"
        "<@U0RAVI>: Customer wants a 7 kg front load under 30k\n"
        "<@U0MEERA>: In Pune, needs delivery\n\n"
        "My question: what do we have?"
    )


async def test_questions_per_window_are_limited_per_person(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    bot = await make_bot(user_questions=2)
    for n in range(3):
        await bot.event(payload("app_mention", text=f"<@{BOT_USER}> q{n}", ts=f"{TS}{n}"))
        await bot.handled(n + 1)
    assert len(model.calls) == 2
    [notice] = slack.ephemeral
    assert "You have asked 2 questions in the last hour" in notice["text"]
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> q", ts=f"{TS}9", user="U0OTHER"))
    await bot.handled(4)
    assert len(model.calls) == 3, "another person is not limited by Priya's questions"


async def test_tokens_per_day_are_limited_per_person(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    bot = await make_bot(user_tokens_per_day=100)
    model.script(Script(chunks=["Long answer"], input_tokens=90, output_tokens=20))
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> first", ts=f"{TS}1"))
    await bot.handled(1)
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> second", ts=f"{TS}2"))
    await bot.handled(2)
    assert len(model.calls) == 1
    assert "today's share" in slack.ephemeral[0]["text"]


async def test_outside_the_allowlist_the_bot_says_so_once(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Once per person and channel, even across a restart or another replica on the store."""
    bot = await make_bot(allowed_channels=frozenset({"C0ALLOWED"}))
    for n in range(2):
        await bot.event(payload("app_mention", text=f"<@{BOT_USER}> hi", ts=f"{TS}{n}"))
        await bot.handled(n + 1)
    replica = await make_bot(allowed_channels=frozenset({"C0ALLOWED"}))
    await replica.event(payload("app_mention", text=f"<@{BOT_USER}> hi", ts=f"{TS}3"))
    await replica.handled(1)
    assert model.calls == []
    [notice] = slack.ephemeral
    assert "not enabled in this channel" in notice["text"]
    model.script(Script(chunks=["Allowed."]))
    await bot.event(
        payload("app_mention", text=f"<@{BOT_USER}> hi", ts=f"{TS}5", channel="C0ALLOWED")
    )
    [answer] = await bot.finished_answers()
    assert answer.channel == "C0ALLOWED"


async def test_workspace_allowlist(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    bot = await make_bot(allowed_teams=frozenset({"T0OTHER"}))
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> hi", ts=TS))
    await bot.handled(1)
    assert model.calls == []
    assert "not enabled" in slack.ephemeral[0]["text"]
