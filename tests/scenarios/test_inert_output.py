"""Nothing the bot posts can ping anyone or hide where a link goes, whoever wrote the words.

Every text Slack received is checked, whatever carried it: message text and blocks, status
lines, headers, notices, streamed Markdown, private answers. The check
(`tests/slack_reading.py`) is written independently of the bot's own neutraliser, from what
Slack would act on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from bot.wording.markdown import WORD_JOINER as WJ
from tests.conftest import CHANNEL, USER, Bot, BotFactory, payload
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.slack_server import BOT_USER, FakeSlack
from tests.slack_reading import live

TS = "1700012000.000100"
NASTY = "<!here> <https://evil.example|Reset your password>"


def hazards(text: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """The pings and disguised links in `text` (read as Slack reads it: `tests/slack_reading`);
    mentions of `allowed` users are ours."""
    return live(text, allowed)


def texts_in(value: Any) -> Iterator[str]:
    """Every string inside a Slack payload (blocks and views included)."""
    if isinstance(value, str):
        if value.startswith(("[", "{")):
            try:
                yield from texts_in(json.loads(value))
                return
            except ValueError:
                pass
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from texts_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from texts_in(item)


def everything_sent(slack: FakeSlack) -> list[str]:
    payloads = [c.payload for c in slack.calls] + slack.responses
    return [
        text
        for p in payloads
        for key in ("text", "markdown_text", "blocks", "view")
        for text in texts_in(p.get(key))
    ]


def assert_inert(slack: FakeSlack, allowed: tuple[str, ...] = ()) -> None:
    sent = everything_sent(slack)
    assert sent, "Slack received something"
    assert [h for text in sent for h in hazards(text, allowed)] == []


def seen_in_context(slack: FakeSlack, words: str) -> bool:
    return any(
        words in element.get("text", "")
        for message in slack.messages
        for version in message.versions
        for block in version.get("blocks") or []
        if block["type"] == "context"
        for element in block["elements"]
    )


async def test_a_status_line_built_from_tool_arguments_cannot_ping_or_disguise_a_link(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """The model's tool arguments show in the status line as plain words, target in view."""

    async def status_shown() -> None:
        await slack.wait_for(lambda: seen_in_context(slack, "Checking stock of"))

    model.script(
        Script(
            chunks=["Let me check."],
            tool_calls=[("check_stock", {"sku": NASTY})],
            stop_reason="tool_use",
        ),
        Script(chunks=["That SKU does not exist."], before_chunk={0: status_shown}),
    )
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> stock of {NASTY}?", ts=TS))
    [answer] = await bot.finished_answers()
    assert seen_in_context(
        slack, f"Checking stock of @{WJ}here Reset your password (https://evil.example)…"
    )
    assert answer.markdown == "Let me check.\n\nThat SKU does not exist."
    assert_inert(slack)


async def test_links_in_the_answer_show_their_real_target(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Slack links, mailto links and Markdown links with a label all show where they go."""
    model.script(
        Script(
            chunks=[
                "Visit <https://evil.example|shopmax.in>, ",
                "write to <mailto:thief@evil.example|support@shopmax.in>, ",
                "fill [the form](https://evil.example/form) or see <https://shopmax.in>. ",
                "<!channel> <@U0BOSS>",
            ]
        )
    )
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> where?", ts=TS))
    [answer] = await bot.finished_answers()
    assert answer.markdown == (
        "Visit shopmax.in (https://evil.example), "
        "write to support@shopmax.in (mailto:thief@evil.example), "
        "fill the form (https://evil.example/form) or see https://shopmax.in. "
        f"@{WJ}channel @{WJ}U0BOSS"
    )
    assert_inert(slack)


async def test_a_command_header_and_answer_stay_inert_while_the_asker_is_named(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """`<@asker> asked:` mentions the asker on purpose; the quoted question pings no one."""
    model.script(Script(chunks=["Ask <!subteam^S0SALES|@sales> via [chat](https://evil.example)."]))
    await bot.command(f"{NASTY} <@U0BOSS> price of TVs?")
    [answer] = await bot.finished_answers()
    header = answer.blocks[0]["text"]["text"]
    assert header.startswith(f"*<@{USER}> asked:*\n>")
    assert answer.markdown == f"Ask @{WJ}sales via chat (https://evil.example)."
    assert_inert(slack, allowed=(USER,))


async def test_a_private_answer_through_response_url_is_inert(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Where the bot is not a member the answer goes through response_url: the same rule."""
    slack.not_member.add(CHANNEL)
    model.script(Script(chunks=["See <https://evil.example|the offer> <!everyone>."]))
    await bot.command("price of TVs?")
    await slack.wait_for(lambda: slack.responses)
    await bot.services.answerer.wait_idle(5)
    [response] = slack.responses
    [markdown] = [b["text"] for b in response["blocks"] if b["type"] == "markdown"]
    assert markdown == f"See the offer (https://evil.example) @{WJ}everyone."
    assert_inert(slack, allowed=(USER,))


async def test_stop_names_who_stopped_while_the_same_mention_by_the_model_stays_inert(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Only our own notice may mention the person; the model writing `<@them>` may not."""
    chunks = [f"Hello <@{USER}>. ", *[f"Point {n}. " for n in range(200)]]
    model.script(Script(chunks=chunks, delay=0.02))
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> list", ts=TS))
    streaming = await slack.wait_for(
        lambda: next((m for m in slack.messages if "stop_answer" in json.dumps(m.blocks)), None)
    )
    await bot.press(streaming, "stop_answer", user=USER)
    [answer] = await bot.finished_answers()
    assert any(f"Stopped by <@{USER}>." in text for text in answer.context)
    assert answer.markdown.startswith(f"Hello @{WJ}{USER}. ")
    assert_inert(slack, allowed=(USER,))
    model_text = [t for t in everything_sent(slack) if t.startswith("Hello")]
    assert model_text and not any(f"<@{USER}>" in text for text in model_text)


async def test_native_streams_never_append_a_disguised_link_even_split_across_deltas(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Appended Markdown cannot be taken back: a link still being written waits for its end."""
    bot = await make_bot(stream_transport="native")
    chunks = [
        "Fill [the ",
        "form](https://evil",
        ".example/form) and <https://evil.ex",
        "ample|this>.",
    ]
    model.script(Script(chunks=chunks, delay=0.4))  # streams past the cold hold
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> form?", ts=TS))
    [answer] = await bot.finished_answers()
    assert slack.calls_to("chat.appendStream"), "streamed natively"
    assert answer.markdown == (
        "Fill the form (https://evil.example/form) and this (https://evil.example)."
    )
    assert_inert(slack)


@pytest.mark.parametrize("transport", ["update", "native"])
async def test_what_an_audit_found_live_reaches_slack_inert(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic, transport: str
) -> None:
    """A label holding a `<`, an escaped `&lt;!here&gt;`, a broadcast in italics and one
    before `_`, each split across deltas: nothing Slack received pings or hides a link."""
    bot = await make_bot(stream_transport=transport)
    chunks = [
        "Go to <https://evil.example|Reset <your> pass",
        "word> or <https://evil.example|<b>Reset</b>>, tell &l",
        "t;!here&gt; and _@here_ and @channel",
        "_ now.",
    ]
    model.script(Script(chunks=chunks, delay=0.05))
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> reset?", ts=TS))
    [answer] = await bot.finished_answers()
    assert "(https://evil.example)" in answer.markdown
    assert_inert(slack)


async def test_an_unknown_command_option_is_echoed_inert(bot: Bot, model: FakeAnthropic) -> None:
    """The help for `/shopmax -<!here>` repeats the option, but it cannot ping the channel."""
    response = await bot.command("-<!here>")
    text = json.loads(response.body)["text"]
    assert f"no option `-@{WJ}here`" in text
    assert hazards(text) == [] and model.calls == []
