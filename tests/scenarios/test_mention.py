"""A mention in a channel: the answer streams into one threaded reply and ends with a footer."""

from __future__ import annotations

from tests.conftest import CHANNEL, Bot, BotFactory, payload
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.slack_server import BOT_USER, FakeSlack, markdown_of

QUESTION_TS = "1700000100.000100"


async def test_mention_streams_the_answer_into_one_threaded_reply(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """The reply is posted in the question's thread and edited until it equals the model's text."""
    script = Script(
        chunks=['The **Sony Bravia 2** 55"', " at ₹49,990", " suits a Mumbai", " living room."],
        input_tokens=120,
        output_tokens=31,
        delay=0.02,
    )
    model.script(script)
    await bot.event(
        payload(
            "app_mention",
            text=f"<@{BOT_USER}> which TV under Rs 50,000 for a Mumbai living room?",
            ts=QUESTION_TS,
        )
    )
    [answer] = await bot.finished_answers()
    assert (answer.channel, answer.thread_ts) == (CHANNEL, QUESTION_TS)
    # Quoted with no tool, the price is marked as unchecked: the rest is the model's text.
    assert answer.markdown == script.text.replace("₹49,990", "₹49,990 ⚠")
    assert len(slack.messages) == 1, "one question gets one message"
    sent = model.calls[0].body
    assert sent["messages"] == [
        {"role": "user", "content": "which TV under Rs 50,000 for a Mumbai living room?"}
    ]
    assert sent["model"] == "claude-haiku-5-5"
    assert sent["stream"] is True


async def test_first_text_is_shown_before_the_model_sends_more(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """The model holds its second chunk until Slack shows the first: no waiting for a batch."""

    async def first_chunk_visible() -> None:
        await slack.wait_for(lambda: any("Namaste" in markdown_of(c.payload) for c in slack.calls))

    model.script(Script(chunks=["Namaste", " and welcome."], before_chunk={1: first_chunk_visible}))
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> hi", ts=QUESTION_TS))
    [answer] = await bot.finished_answers()
    first_text = next(v for v in answer.versions if "Namaste" in markdown_of(v))
    assert "and welcome" not in markdown_of(first_text)
    assert answer.markdown == "Namaste and welcome."


async def test_in_progress_versions_grow_and_show_a_cursor(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Each edit shows all text so far plus a cursor; the final edit has no cursor."""
    chunks = [f"Line {n}.\n" for n in range(12)]
    model.script(Script(chunks=chunks, delay=0.12))  # streams past the cold hold
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> count", ts=QUESTION_TS))
    [answer] = await bot.finished_answers()
    shown = [markdown_of(v) for v in answer.versions]
    in_progress = shown[1:-1]
    assert len(in_progress) >= 2, "the answer fills in over several edits"
    assert all(text.endswith("▍") for text in in_progress)
    texts_so_far = [text.removesuffix("▍").rstrip() for text in in_progress]
    assert all("".join(chunks).startswith(t) for t in texts_so_far)
    assert texts_so_far == sorted(texts_so_far, key=len), "versions only ever grow"
    assert "▍" not in shown[-1]
    assert shown[-1] == "".join(chunks)


async def test_footer_shows_the_final_message_usage(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Input and output tokens, time, time to first token, stop reason and cost in the footer."""
    model.script(Script(chunks=["Yes, in stock."], input_tokens=1234, output_tokens=56))
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> stock?", ts=QUESTION_TS))
    [answer] = await bot.finished_answers()
    [footer] = answer.context
    parts = footer.split(" · ")
    assert parts[0] == "1,234 in"
    assert parts[1] == "56 out"
    assert parts[2].endswith("s")
    assert parts[3].startswith("first token ")
    assert parts[4] == "end_turn"
    # claude-haiku-5-5: $0.10 / $0.50 per million tokens.
    assert parts[5] == "$0.00015 (₹0.013)"


async def test_model_text_never_pings_anyone(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Broadcasts and mentions written by the model reach Slack inert."""
    model.script(Script(chunks=["Tell <!channel> and <!here>, ", "ask <@U0BOSS> or @everyone."]))
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> announce", ts=QUESTION_TS))
    [answer] = await bot.finished_answers()
    for version in answer.versions:
        sent = markdown_of(version) + version.get("text", "")
        assert "<!" not in sent and "<@" not in sent
        assert "@everyone" not in sent
        assert "link_names" not in version
    assert answer.versions[0]["unfurl_links"] is False


async def test_quick_first_words_arrive_with_the_post_itself(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """No "Thinking…" flash and no chat.update spent when the first words come quickly."""
    bot = await make_bot(thinking_after=30)
    model.script(Script(chunks=["Quick", " answer."]))
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> hi", ts=QUESTION_TS))
    [answer] = await bot.finished_answers()
    assert markdown_of(answer.versions[0]).startswith("Quick")
    assert all("Thinking" not in markdown_of(v) for v in answer.versions)


async def test_a_model_that_thinks_first_gets_a_thinking_placeholder(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Past SHOPMAX_THINKING_AFTER without text, the reply shows "Thinking…" until words come."""

    async def think() -> None:
        await slack.wait_for(lambda: slack.messages)

    model.script(Script(chunks=["Considered", " answer."], before_chunk={0: think}))
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> hard one", ts=QUESTION_TS))
    [answer] = await bot.finished_answers()
    assert markdown_of(answer.versions[0]) == "_Thinking…_"
    assert answer.markdown == "Considered answer."
