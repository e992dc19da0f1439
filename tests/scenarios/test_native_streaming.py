"""SHOPMAX_STREAM_TRANSPORT=native: Slack's chat.*Stream methods, and the chat.update fallbacks."""

from __future__ import annotations

import asyncio

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.wording.markdown import WORD_JOINER
from tests.conftest import CHANNEL, USER, Bot, BotFactory, payload
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.slack_server import BOT_USER, TEAM, TOKEN, FakeSlack
from tests.scenarios.test_grounded_answers import SOURCES, cited_answer

ROOT = "1700005000.000100"
# Seconds between chunks: answers outlive the cold hold (`COLD_HOLD`), so they stream; shorter
# ones go out whole in one post.
LONGER = 0.5
LATER = "1700005001.000100"


@pytest.fixture
async def native(make_bot: BotFactory) -> Bot:
    return await make_bot(stream_transport="native")


def methods(slack: FakeSlack) -> list[str]:
    return [c.method for c in slack.calls if c.method != "auth.test"]


async def test_channel_answer_streams_natively_with_recipient_and_footer_blocks(
    native: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """startStream (with the asker as recipient), appends of new text only, stopStream + footer."""
    chunks = ["The Whirlpool", " 265 L", " is frost free."]
    model.script(Script(chunks=chunks, delay=LONGER, output_tokens=7))
    await native.event(payload("app_mention", text=f"<@{BOT_USER}> fridge?", ts=ROOT))
    [answer] = await native.finished_answers()
    assert answer.markdown == "".join(chunks)
    assert " · 7 out · " in answer.context[-1]
    start = slack.calls_to("chat.startStream")[0].payload
    assert (start["channel"], start["thread_ts"]) == (CHANNEL, ROOT)
    assert (start["recipient_user_id"], start["recipient_team_id"]) == (USER, TEAM)
    assert "chat.update" not in methods(slack)
    assert methods(slack)[-1] == "chat.stopStream"
    appended = "".join(c.payload["markdown_text"] for c in slack.calls_to("chat.appendStream"))
    stopped = slack.calls_to("chat.stopStream")[0].payload.get("markdown_text", "")
    assert (start.get("markdown_text") or "") + appended + stopped == "".join(chunks)


async def test_a_short_answer_goes_out_whole_in_one_post_without_a_stream(
    native: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """An answer that ends within the cold hold needs no stream: one `chat.postMessage` with
    the whole answer and its footer; no Tier 2 `chat.startStream` / `stopStream` is spent."""
    model.script(Script(chunks=["Open till", " 9 pm."], delay=0.05, output_tokens=5))
    await native.event(payload("app_mention", text=f"<@{BOT_USER}> hours?", ts=ROOT))
    [answer] = await native.finished_answers(streaming=False)
    assert answer.markdown == "Open till 9 pm."
    assert " · 5 out · " in answer.context[-1]
    assert [m for m in methods(slack) if m.startswith("chat.")] == ["chat.postMessage"]


async def test_past_the_minute_of_stream_starts_answers_are_posted_and_edited(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Slack allows about 20 `chat.startStream` a minute (Tier 2): with a budget of 1, the
    first answer streams and the second, at once after it, is posted and edited instead;
    both complete, neither meets a 429."""
    # chat.update's window small enough that streaming gives more: the starts' budget binds.
    bot = await make_bot(
        stream_transport="native", stream_starts_per_minute=1, updates_per_minute=60
    )
    # 3 s each, longer than the short-answer limit: whichever ends first, the other is not
    # expected to be short (it would wait to go out whole in one post).
    chunks = ["The Whirlpool", " 265 L", " is", " frost", " free", "."]
    model.script(Script(chunks=chunks, delay=LONGER), Script(chunks=chunks, delay=LONGER))
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> fridge?", ts=ROOT))
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> and TVs?", ts=LATER))
    first, second = await bot.finished_answers(count=2)
    assert first.markdown == second.markdown == "".join(chunks)
    assert len(slack.calls_to("chat.startStream")) == 1
    assert slack.calls_to("chat.update") and slack.calls_to("chat.stopStream")
    assert [c for c in slack.calls if c.status == 429] == []


async def test_a_burst_of_long_answers_spends_both_of_slacks_windows(
    native: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Six long answers at once on a fresh bot: streamed, all six would share the appends'
    window while `chat.update`'s stays idle. Some are posted and edited instead (posting gives
    them more versions: `pacing/choice.py`), the others stream; every answer is shown whole,
    and nothing meets a 429."""
    texts = [[f"Answer {n}:", *(f" word{i}" for i in range(6)), "."] for n in range(6)]
    model.script(*(Script(chunks=chunks, delay=LONGER) for chunks in texts))
    for n in range(6):
        question = payload("app_mention", text=f"<@{BOT_USER}> question {n}", ts=f"17000050{n}0.1")
        await native.event(question)
    answers = await native.finished_answers(count=6)
    assert sorted(a.markdown for a in answers) == sorted("".join(chunks) for chunks in texts)
    streamed = len(slack.calls_to("chat.startStream"))
    assert 0 < streamed < 6
    assert len(slack.calls_to("chat.stopStream")) == streamed
    assert slack.calls_to("chat.update")
    assert [c for c in slack.calls if c.status == 429] == []


async def test_an_answer_ending_while_its_released_post_is_on_its_way_is_posted_once(
    native: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """A held answer released to be posted and edited (no stream start to be had) may end
    while that post is still on its way to Slack. Its end then brings the posted message up to
    date; it does not post the answer a second time (seen in workload 2's burst: the thread
    showed a half answer with a cursor, and the whole answer again below it)."""
    schedulers = native.services.schedulers

    async def no_start(team: str, channel: str | None = None) -> bool:
        return False  # the minute's stream starts spent

    schedulers.take_stream_start = no_start  # type: ignore[method-assign]
    slack.delay["chat.postMessage"] = 0.8  # the released post is slow to land
    # Released at the cold hold (1 s after asking), ending about 0.3 s later.
    chunks = [f"word{n} " for n in range(13)]
    model.script(Script(chunks=chunks, delay=0.1, output_tokens=13))
    await native.event(payload("app_mention", text=f"<@{BOT_USER}> words", ts=ROOT))
    [answer] = await native.finished_answers()
    await asyncio.sleep(1.0)  # a second post would have landed by now
    assert answer.markdown == "".join(chunks)
    assert [m.ts for m in slack.messages] == [answer.ts]
    assert len(slack.calls_to("chat.postMessage")) == 1


async def test_text_arriving_while_a_stream_start_is_granted_is_not_lost(
    native: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Granting a start may wait (the window is in Redis, shared by replicas): the text that
    arrives meanwhile is in the start or the next append, never dropped between them."""
    schedulers = native.services.schedulers
    granted = schedulers.take_stream_start

    async def after_a_while(team: str, channel: str | None = None) -> bool:
        await asyncio.sleep(0.3)  # a slow Redis; the model keeps writing
        return await granted(team, channel)

    schedulers.take_stream_start = after_a_while  # type: ignore[method-assign]
    chunks = [f"word{n} " for n in range(120)]
    model.script(Script(chunks=chunks, delay=0.015))
    await native.event(payload("app_mention", text=f"<@{BOT_USER}> words", ts=ROOT))
    [answer] = await native.finished_answers()
    assert slack.calls_to("chat.startStream")
    assert answer.markdown == "".join(chunks)


async def test_direct_message_streams_without_recipient_ids(
    native: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    model.script(Script(chunks=["Open till", " 9 pm."], delay=2 * LONGER))
    await native.event(
        payload("message", text="store hours?", ts=ROOT, channel="D0PRIYA", channel_type="im")
    )
    [answer] = await native.finished_answers()
    assert answer.markdown == "Open till 9 pm."
    start = slack.calls_to("chat.startStream")[0].payload
    assert "recipient_user_id" not in start


async def test_a_ping_split_across_deltas_is_never_appended(
    native: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Appends cannot be taken back, so a half-written <!chan… waits until it is complete."""

    async def shown(text: str) -> None:
        await slack.wait_for(lambda: any(text in m.markdown for m in slack.messages))

    model.script(
        Script(
            chunks=["Tell <!chan", "nel> about @ever", "yone's offer."],
            before_chunk={1: lambda: shown("Tell"), 2: lambda: shown("Tell")},
        )
    )
    await native.event(payload("app_mention", text=f"<@{BOT_USER}> announce", ts=ROOT))
    [answer] = await native.finished_answers()
    for version in answer.versions:
        text = "".join(b.get("text", "") for b in version["blocks"] if b["type"] == "markdown")
        assert "<!" not in text and "@everyone" not in text
    assert answer.markdown == f"Tell @{WORD_JOINER}channel about @{WORD_JOINER}everyone's offer."


async def test_refused_at_start_falls_back_to_chat_update(
    native: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """channel_type_not_supported: the answer is posted and edited the usual way instead."""
    slack.no_streaming.add(CHANNEL)
    model.script(Script(chunks=["Fallback", " works."], delay=0.05))
    await native.event(payload("app_mention", text=f"<@{BOT_USER}> hi", ts=ROOT))
    [answer] = await native.finished_answers(streaming=False)
    assert answer.markdown == "Fallback works."
    assert "chat.postMessage" in methods(slack)


async def test_stream_ended_by_slack_mid_answer_continues_by_update_without_loss(
    native: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """message_not_in_streaming_state: the same message is edited with the whole answer."""
    slack.streams_end_after = 1
    chunks = [f"Part {n}. " for n in range(12)]
    model.script(Script(chunks=chunks, delay=LONGER / 4))
    await native.event(payload("app_mention", text=f"<@{BOT_USER}> parts", ts=ROOT))
    [answer] = await native.finished_answers()
    assert answer.markdown == "".join(chunks)
    assert "chat.update" in methods(slack)
    assert len(slack.messages) == 1


async def test_long_native_answer_continues_below_in_update_messages(
    native: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Past one message's size the stream stops and the rest follows in the thread, whole."""
    lines = [
        f"Line {n}: Samsung 1.5 ton inverter split AC, model {30_000 + n:,}\n" for n in range(600)
    ]
    text = "".join(lines)
    model.script(Script(chunks=[text[i : i + 50] for i in range(0, len(text), 50)]))
    await native.event(payload("app_mention", text=f"<@{BOT_USER}> list", ts=ROOT))
    await native.finished_answers()
    await native.services.answerer.wait_idle(10)
    messages = slack.in_thread(CHANNEL, ROOT)
    assert len(messages) >= 3
    assert [c.error for c in slack.calls if c.error] == []
    shown = "".join(m.markdown.strip() + "\n" for m in messages)
    assert [line for line in shown.splitlines() if line] == text.splitlines()
    assert messages[-1].context and not any(m.context for m in messages[:-1])


async def test_slash_command_answers_use_chat_update_even_when_native(
    native: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    model.script(Script(chunks=["Top-level", " answer."]))
    await native.command("warranty on Sony TVs?")
    [answer] = await native.finished_answers()
    assert answer.markdown == "Top-level answer."
    assert "chat.startStream" not in methods(slack)


async def test_lookups_are_task_updates_and_the_stop_carries_footer_sources_and_buttons(
    native: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """A tool's progress is a `task_update` chunk in the stream's timeline (its status line as
    the title, in progress, then complete once it returned), never text; `chat.stopStream`'s
    blocks carry the sources, the footer and the feedback buttons."""
    # The model's words come a second after the lookup: the stream starts while it runs.
    answer_script = await cited_answer(native, model, before_chunk={0: lambda: asyncio.sleep(1)})
    await native.event(payload("app_mention", text=f"<@{BOT_USER}> tv return window?", ts=ROOT))
    [answer] = await native.finished_answers()
    streamed = [
        c for c in slack.calls if c.method.startswith("chat.") and c.method.endswith("Stream")
    ]
    tasks = [
        (chunk["id"], chunk["status"], chunk["title"])
        for call in streamed
        for chunk in call.payload.get("chunks") or []
        if chunk["type"] == "task_update"
    ]
    title = "Looking in ShopMax's policies and guides for “return window tv exchange”…"
    assert tasks == [("lookup-1", "in_progress", title), ("lookup-1", "complete", title)]
    assert answer.tasks == {
        "lookup-1": {"type": "task_update", "id": "lookup-1", "title": title, "status": "complete"}
    }
    assert "Looking" not in answer.markdown, "progress is not text"
    assert answer.markdown.startswith("".join(answer_script.chunks)[:20])
    [stop] = slack.calls_to("chat.stopStream")
    blocks = stop.payload["blocks"]
    assert [b["type"] for b in blocks] == ["context", "context", "actions"]
    assert blocks[0]["elements"][0]["text"] == SOURCES
    assert " out · " in blocks[1]["elements"][0]["text"]
    assert [e["action_id"] for e in blocks[2]["elements"]] == ["feedback_good", "feedback_bad"]
    assert "chat.update" not in methods(slack)
    assert [c for c in slack.calls if c.error in ("invalid_chunks", "invalid_blocks")] == []


@pytest.mark.parametrize(
    ("chunks", "error"),
    [
        ([{"type": "sparkle", "text": "✨"}], "invalid_chunks"),
        (
            [{"type": "task_update", "id": "t1", "title": "Looking", "status": "done"}],
            "invalid_chunks",
        ),
        ([{"type": "task_update", "id": "t1", "status": "complete"}], "invalid_chunks"),
        ([{"type": "markdown_text", "text": ""}], "invalid_chunks"),
        ([], "invalid_chunks"),
    ],
)
async def test_the_fake_slack_refuses_chunks_slack_would(
    slack: FakeSlack, chunks: list[dict[str, str]], error: str
) -> None:
    """What the bot streams is checked the way Slack checks it, so a wrong shape fails here."""
    client = AsyncWebClient(token=TOKEN, base_url=slack.api_url)
    started = await client.chat_startStream(channel="D0PRIYA", thread_ts=ROOT, markdown_text="Hi")
    with pytest.raises(SlackApiError) as refused:
        await client.chat_appendStream(channel="D0PRIYA", ts=started["ts"], chunks=chunks)
    assert refused.value.response["error"] == error
    with pytest.raises(SlackApiError) as refused:
        await client.chat_stopStream(
            channel="D0PRIYA", ts=started["ts"], blocks=[{"type": "carousel"}]
        )
    assert refused.value.response["error"] == "invalid_blocks"
