"""Nothing stuck, nothing doubled, nothing lost: model failures, Stop, deletion, retries."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.question import Question, Surface
from bot.wording import markdown
from tests.conftest import CHANNEL, USER, Bot, BotFactory, payload
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.slack_server import BOT_USER, TEAM, FakeSlack, Message, markdown_of

ROOT = "1700007000.000100"


async def ask(bot: Bot, text: str = "which TV?", ts: str = ROOT) -> None:
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> {text}", ts=ts))


async def ended(bot: Bot, slack: FakeSlack, count: int = 1) -> list[Message]:
    """Wait for `count` answers that are finished (no cursor, no Stop, nothing running)."""

    def done() -> list[Message]:
        final = [m for m in slack.messages if is_final(m)]
        return final if len(final) >= count and not bot.services.answerer.running else []

    return list(await slack.wait_for(done, within=30))[:count]


def is_final(message: Message) -> bool:
    shown = message.markdown
    return "stop_answer" not in buttons(message) and "▍" not in shown and "Thinking" not in shown


def buttons(message: Message) -> list[str]:
    return [e["action_id"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]


async def test_model_overloaded_before_the_first_token_says_busy_after_retries(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """529 three times (the SDK retries twice): the message says busy, with a Retry button."""
    model.script(Script(status=529), Script(status=529), Script(status=529))
    await ask(bot)
    [answer] = await ended(bot, slack)
    assert len(model.calls) == 3
    assert any("busy right now" in text for text in answer.context)
    assert "▍" not in answer.markdown and "Thinking" not in answer.markdown
    assert buttons(answer) == ["retry_answer"]


async def test_model_unreachable_says_so_instead_of_hanging(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    """Connection refused: after the SDK's retries, a clear notice; nothing left streaming."""
    bot = await make_bot(anthropic_base_url="http://127.0.0.1:9", model_retries=1)
    await ask(bot)
    [answer] = await ended(bot, slack)
    assert any("could not answer this time" in text for text in answer.context)
    assert bot.services.answerer.running == {}


async def test_error_mid_stream_keeps_the_partial_answer_and_retry_asks_again(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """An `error` event after some text: the text stays, a notice and Retry are added;
    pressing Retry streams a complete answer into the same thread."""
    model.script(
        Script(chunks=["The LG", " OLED C4", " is"], error_after=2, delay=0.02),
        Script(chunks=["The LG OLED C4 is ₹1,39,990."]),
    )
    await ask(bot)
    [failed] = await ended(bot, slack)
    assert failed.markdown == "The LG OLED C4"
    assert any("interrupted" in text for text in failed.context)
    await bot.press(failed, "retry_answer")
    await ended(bot, slack, 2)
    retried = slack.messages[-1]
    assert retried.thread_ts == ROOT and retried is not failed
    assert retried.markdown == "The LG OLED C4 is ₹1,39,990 ⚠."  # no tool: unchecked
    assert model.calls[1].body["messages"][-1]["content"] == "which TV?"


async def test_dropped_connection_mid_stream_is_shown_as_interrupted(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    model.script(Script(chunks=["Half", " an", " answer"], drop_after=2, delay=0.02))
    await ask(bot)
    [answer] = await ended(bot, slack)
    assert answer.markdown == "Half an"
    assert any("interrupted" in text for text in answer.context)
    assert buttons(answer) == ["retry_answer"]


@pytest.mark.parametrize(
    "garbage",
    [
        b"event: content_block_delta\ndata: {not json\n\n",
        b'data: ["a", "list"]\n\n',
        b'data: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", '
        b'"text": {"<!channel>": 1}}}\n\n',
        b'data: {"type": "content_block_delta", "index": -1, "delta": {"type": "text_delta", '
        b'"text": "x"}}\n\n',
        b"data: " + b"A" * (4 * 1024 * 1024 + 1),
    ],
    ids=["not-json", "not-an-object", "text-not-a-string", "bad-index", "endless-event"],
)
async def test_a_malformed_model_stream_ends_as_interrupted(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic, garbage: bytes
) -> None:
    """Bytes that are not the Messages API's event stream, mid-answer: the text so far stays,
    the asker is told the answer was interrupted (with Retry), and nothing else is shown."""
    model.script(Script(chunks=["The LG", " OLED C4", " is"], garbage_after=2, garbage=garbage))
    await ask(bot)
    [answer] = await ended(bot, slack)
    assert answer.markdown == "The LG OLED C4"
    assert any("interrupted" in text for text in answer.context)
    assert buttons(answer) == ["retry_answer"]
    assert "<!channel>" not in json.dumps(answer.versions)


async def test_a_stalled_stream_ends_after_the_idle_timeout(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """No event (not even a ping) for SHOPMAX_STREAM_IDLE_TIMEOUT: ended with a notice."""
    bot = await make_bot(stream_idle_timeout=0.5)
    model.script(
        Script(chunks=["Checking", " stock", "…"], before_chunk={2: lambda: asyncio.sleep(3)})
    )
    await ask(bot)
    [answer] = await ended(bot, slack)
    assert answer.markdown == "Checking stock"
    assert any("stopped responding" in text for text in answer.context)


async def test_a_long_answer_that_keeps_flowing_is_never_cut_by_the_idle_timeout(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """The idle timeout is per event, not a total: 2 s of steady text with a 0.5 s timeout."""
    bot = await make_bot(stream_idle_timeout=0.5)
    chunks = [f"word{n} " for n in range(40)]
    model.script(Script(chunks=chunks, delay=0.05))
    await ask(bot)
    [answer] = await bot.finished_answers()
    assert answer.markdown == "".join(chunks)
    assert not any("stopped responding" in text for text in answer.context)


async def test_stop_reasons_other_than_end_turn_are_explained(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    cases = {
        "max_tokens": "length limit",
        "refusal": "declined",
        "model_context_window_exceeded": "too long to continue",
    }
    for n, reason in enumerate(cases):
        model.script(Script(chunks=["Some text"], stop_reason=reason))
        await ask(bot, ts=f"1700007100.00010{n}")
        await ended(bot, slack, n + 1)
    for message, (reason, words) in zip(slack.messages, cases.items(), strict=True):
        assert any(words in text for text in message.context), reason
        assert message.context[-1].split(" · ")[4] == reason


async def test_the_asker_stops_an_answer_and_the_model_stream_really_ends(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Stop closes the HTTP stream (no more tokens billed) and shows who stopped it."""
    chunks = [f"Point {n}. " for n in range(200)]
    model.script(Script(chunks=chunks, delay=0.02))
    await ask(bot)
    streaming = await slack.wait_for(
        lambda: next((m for m in slack.messages if "stop_answer" in buttons(m)), None)
    )
    await bot.press(streaming, "stop_answer", user=USER)
    [answer] = await ended(bot, slack)
    await slack.wait_for(lambda: model.calls[0].disconnected)
    assert not model.calls[0].finished
    assert any(f"Stopped by <@{USER}>" in text for text in answer.context)
    shown = answer.markdown
    assert shown and "".join(chunks).startswith(shown) and len(shown) < len("".join(chunks))
    footer = answer.context[-1].split(" · ")
    assert footer[1].startswith("~") and footer[4] == "stopped"
    assert buttons(answer) == []


async def test_only_the_asker_or_an_admin_may_stop(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    bot = await make_bot(admin_users=frozenset({"U0ADMIN"}))
    model.script(Script(chunks=[f"Line {n}.\n" for n in range(150)], delay=0.02))
    await ask(bot)
    streaming = await slack.wait_for(
        lambda: next((m for m in slack.messages if "stop_answer" in buttons(m)), None)
    )
    await bot.press(streaming, "stop_answer", user="U0STRANGER")
    notice = await slack.wait_for(lambda: slack.ephemeral)
    assert notice[0]["user"] == "U0STRANGER" and "Only the person who asked" in notice[0]["text"]
    assert bot.services.answerer.running, "still streaming"
    await bot.press(streaming, "stop_answer", user="U0ADMIN")
    [answer] = await ended(bot, slack)
    assert any("Stopped by <@U0ADMIN>" in text for text in answer.context)


async def test_deleting_the_answer_stops_the_model_and_posts_nothing_new(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    model.script(Script(chunks=[f"Item {n}. " for n in range(300)], delay=0.02))
    await ask(bot)
    first = await slack.wait_for(lambda: slack.messages and slack.messages[0])
    await slack.wait_for(lambda: len(first.versions) >= 2)
    first.deleted = True
    await bot.services.answerer.wait_idle(10)
    await slack.wait_for(lambda: model.calls[0].disconnected)
    assert len(slack.messages) == 1
    assert slack.calls_to("chat.update")[-1].error == "message_not_found"


async def test_a_retried_delivery_after_a_restart_is_not_answered_again(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """The answered-messages record is in the store, so it survives a restart."""
    first = await make_bot()
    body = payload("app_mention", text=f"<@{BOT_USER}> hi", ts=ROOT)
    await first.event(body)
    await first.finished_answers()
    await first.services.close()
    second = await make_bot()
    await second.event(body, **{"x-slack-retry-num": "2", "x-slack-retry-reason": "timeout"})
    await second.handled(1)
    assert len(model.calls) == 1
    assert len(slack.messages) == 1


async def test_shutdown_ends_unfinished_answers_with_a_notice(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Past the grace period an answer in flight is finished with "restarted, ask again"."""
    model.script(Script(chunks=[f"Step {n}. " for n in range(500)], delay=0.02))
    await ask(bot)
    await slack.wait_for(lambda: slack.messages and len(slack.messages[0].versions) >= 2)
    await bot.services.close(grace=0.2)
    [answer] = slack.messages
    assert any("restarted" in text for text in answer.context)
    assert "▍" not in answer.markdown and buttons(answer) == ["retry_answer"]


async def test_answers_in_flight_at_a_crash_are_finished_at_the_next_start(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """What kill -9 leaves behind — a half-written message and its row in the store — is
    finished when the replica starts again under the same id, without waiting for the lease.
    (`test_process.py` and `test_replicas.py` kill real processes; here the leftovers are made
    directly so no live stream races the check.)"""
    crashed = await make_bot(replica_id="replica-1", answer_lease=60.0)
    store, slack_api = crashed.services.store, crashed.services.slack
    question = Question(TEAM, CHANNEL, USER, "which TV?", Surface.MENTION, ROOT, ROOT)
    await store.save_question("a1", question)
    await store.begin_answer("a1", TEAM, CHANNEL, "", owner="replica-1", lease=60.0)
    partial = "Step 0. Step 1. Step 2."
    ts = await slack_api.post(
        CHANNEL, markdown.render_piece(partial, in_progress=True), thread_ts=ROOT
    )
    await store.answer_progress("a1", ts, partial)
    [message] = slack.messages
    other = await make_bot(replica_id="replica-2", answer_lease=60.0)
    assert await other.services.leases.sweep() == 0  # replica-1's lease still runs
    restarted = await make_bot(replica_id="replica-1", answer_lease=60.0)
    assert await restarted.services.leases.sweep(own_too=True) == 1
    assert any("restarted" in text for text in message.context)
    assert message.markdown == partial and "▍" not in markdown_of(message.latest)
    assert await restarted.services.leases.sweep(own_too=True) == 0
    # One press asks the cut-off question again, in the same thread.
    model.script(Script(chunks=["A full answer this time."]))
    await restarted.press(message, "retry_answer")
    again = await slack.wait_for(
        lambda: next((m for m in slack.messages if m.ts != message.ts and m.context), None)
    )
    assert again.markdown == "A full answer this time."
    assert again.thread_ts == ROOT


async def test_an_answer_whose_record_cannot_be_kept_still_gets_its_ledger_row(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model request goes out while the answer's record is written. When writing it fails
    for a reason other than the database being away (a bug), nothing is shown before the
    record, but the model may have been asked: the failure is one `error` row in the ledger,
    and the answer's trace for crash recovery ends."""
    store = bot.services.store

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in the store")

    monkeypatch.setattr(store, "begin_answer", broken)
    model.script(Script(chunks=["The LG", " OLED C4"], first_token_delay=0.2))
    await ask(bot)
    rows = []
    for _ in range(200):  # the ledger is the only trace: wait for its row
        if rows := await store.ledger(0):
            break
        await asyncio.sleep(0.05)
    await slack.wait_for(lambda: not bot.services.answerer.running, within=10)
    [row] = rows
    assert row.outcome == "error" and row.user == USER
    assert not slack.messages  # nothing was shown before the record
    assert await store.take_over("someone-else", 60.0, own_too=False) == []
