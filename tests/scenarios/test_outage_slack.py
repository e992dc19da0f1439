"""Answers through Slack's outages and refusals, on the answering path.

Slack answering 503 (or not at all) is waited out: answers in flight keep streaming from the
model and show their newest text, whole, in their one message once Slack is back; questions
asked meanwhile are answered then, once. A post whose answer was lost is found by the answer's
id in its metadata, never posted twice. Slack refusing for good (the channel, or the bot
itself) ends the answer early: the model stream stops, the asker is told where they can see
it, and the ledger gets its one row.

The last test runs the real bot as a process through a 10 s outage (issue 17).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
from pathlib import Path
from typing import Any

import aiohttp

from bot.delivery.replies.slack import SlackReplies
from bot.store import open_store
from tests.conftest import CHANNEL, METRICS_HEADERS, USER, Bot, BotFactory, payload
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.serve import free_port, wait_healthy
from tests.fakes.slack_server import BOT_USER, FakeSlack, Message
from tests.scenarios.test_process import bot_env, start_bot

CURSOR = "▍"
QUICK = {"slack_retry_max": 0.1}  # pauses between tries while Slack is away, shortened


def steps(count: int, word: str = "Step") -> list[str]:
    return [f"{word} {n}. " for n in range(count)]


def failed_calls(slack: FakeSlack, method: str) -> int:
    return sum(1 for call in slack.calls_to(method) if call.status != 200)


def mark(message: Message) -> dict[str, Any] | None:
    """The answer id and piece a message carries in its metadata."""
    return (message.metadata or {}).get("event_payload")


def never_older(message: Message) -> bool:
    """Every version Slack showed grew from the one before: no older text over a newer."""
    texts = [m.replace(CURSOR, "").rstrip() for m in map(_markdown, message.versions)]
    return all(later.startswith(earlier) for earlier, later in itertools.pairwise(texts))


def _markdown(version: dict[str, Any]) -> str:
    return "".join(b["text"] for b in version.get("blocks") or [] if b["type"] == "markdown")


async def mention(bot: Bot, text: str, ts: str, channel: str = CHANNEL) -> None:
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> {text}", ts=ts, channel=channel))


async def test_an_answer_streaming_through_an_outage_finishes_in_its_one_message(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Slack goes away mid-answer; the model writes on to the end meanwhile; once Slack is
    back the whole answer, with its footer, is in the one message, and every version Slack
    showed grew from the one before."""
    bot = await make_bot(**QUICK)
    script = Script(chunks=steps(60), delay=0.04)  # streams past the cold hold
    script.before_chunk[40] = _now(lambda: slack.outage("503"))
    model.script(script)
    await mention(bot, "go", "1700004000.000100")
    await slack.wait_for(lambda: model.calls and model.calls[0].finished)
    await slack.wait_for(lambda: failed_calls(slack, "chat.update") >= 2)
    assert CURSOR in slack.messages[0].markdown, "stuck at its last edit while Slack is away"
    slack.end_outage()
    [answer] = await bot.finished_answers(1)
    await bot.handled(1)
    assert answer.markdown == script.text and CURSOR not in answer.markdown
    assert never_older(answer)
    assert len(slack.messages) == 1
    [row] = await bot.services.store.ledger(0)
    assert (row.outcome, row.output_tokens) == ("ok", 60)


async def test_a_question_asked_during_an_outage_is_answered_once_slack_is_back(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """The first post waits for Slack and then carries the newest text, with the answer's
    id and piece in its metadata."""
    bot = await make_bot(**QUICK)
    model.script(Script(chunks=steps(5), delay=0.01))
    slack.outage("503")
    await mention(bot, "TVs?", "1700004100.000100")
    await slack.wait_for(lambda: failed_calls(slack, "conversations.replies") >= 1)
    assert slack.messages == [], "the post that may have landed is looked for first"
    slack.end_outage()
    [answer] = await bot.finished_answers(1)
    await bot.handled(1)
    assert answer.markdown == "".join(steps(5))
    assert len(slack.messages) == 1
    assert mark(answer) == {"question_id": mark(answer)["question_id"], "piece": 0}  # type: ignore[index]
    [row] = await bot.services.store.ledger(0)
    assert row.outcome == "ok"


async def test_a_post_whose_answer_was_lost_is_found_not_posted_twice(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """The post landed but its answer never came back: the thread is read for the answer's
    id before posting again, and the message found is brought up to date instead."""
    bot = await make_bot(**QUICK)
    model.script(Script(chunks=steps(8), delay=0.15))  # streams past the cold hold
    slack.lose_responses["chat.postMessage"] = 1
    await mention(bot, "ACs?", "1700004200.000100")
    [answer] = await bot.finished_answers(1)
    assert answer.markdown == "".join(steps(8))
    assert len(slack.messages) == 1
    assert slack.calls_to("conversations.replies"), "looked for before posting again"
    assert len(slack.calls_to("chat.postMessage")) == 1


async def test_a_long_answers_next_piece_lost_in_an_outage_is_not_doubled(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """A long answer goes on in a second message; that post's answer is lost: the second
    message is found by its piece and finished, not posted again."""
    bot = await make_bot(**QUICK)
    paragraph = "The LG 55 inch OLED suits a bright Mumbai living room. " * 30 + "\n\n"
    chunks = [paragraph] * 12  # about 20,000 characters: two messages
    # Posted after the cold hold (chunk 3); the text needs a second message from chunk 7 on.
    script = Script(chunks=chunks, delay=0.3)
    script.before_chunk[6] = _now(lambda: slack.lose_responses.update({"chat.postMessage": 1}))
    model.script(script)
    await mention(bot, "compare", "1700004300.000100")
    await bot.finished_answers(1)
    await bot.handled(1)
    first, second = slack.messages
    assert [mark(first)["piece"], mark(second)["piece"]] == [0, 1]  # type: ignore[index]
    assert mark(first)["question_id"] == mark(second)["question_id"]  # type: ignore[index]
    assert second.thread_ts == first.thread_ts and CURSOR not in first.markdown
    assert (first.markdown + second.markdown).replace("\n", "") == script.text.replace("\n", "")
    assert [c.error for c in slack.calls_to("chat.postMessage")] == [None, "response_lost"]


async def test_a_command_answer_lost_in_an_outage_is_found_in_the_channel(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """A `/shopmax` answer is a top-level message: it is looked for among the channel's
    messages since the question (`oldest`), not in a thread."""
    bot = await make_bot(**QUICK)
    replies = bot.services.answerer.replies
    assert isinstance(replies, SlackReplies)
    replies.wall = lambda: 1_700_000_000.0  # the fake Slack's clock, for `oldest`
    model.script(Script(chunks=steps(6), delay=0.01))
    slack.lose_responses["chat.postMessage"] = 1
    await bot.command("best 1.5 ton AC?")
    [answer] = await bot.finished_answers(1)
    assert answer.markdown == "".join(steps(6)) and answer.thread_ts is None
    assert len(slack.messages) == 1
    [looked] = slack.calls_to("conversations.history")
    assert float(looked.payload["oldest"]) < float(answer.ts)


async def test_a_private_notice_during_an_outage_is_sent_when_slack_is_back(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """A question refused before the model (here: an empty mention) is told privately once
    Slack answers again, not dropped."""
    bot = await make_bot(**QUICK)
    slack.outage("503")
    await mention(bot, "", "1700004350.000100")
    await slack.wait_for(lambda: failed_calls(slack, "chat.postEphemeral") >= 2)
    slack.end_outage()
    await bot.handled(1)
    [notice] = slack.ephemeral
    assert notice["user"] == USER and "What would you like to know?" in notice["text"]
    assert model.calls == [] and slack.messages == []


async def test_a_channel_that_refuses_the_bot_mid_answer_ends_it_with_a_private_notice(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """The bot is removed from the channel while it answers: the model stream stops (billing
    stops), the asker hears why in a direct message, and the ledger has its one row."""
    bot = await make_bot()
    script = Script(chunks=steps(400), delay=0.01)
    script.before_chunk[150] = _now(lambda: slack.not_member.add(CHANNEL))  # posted by then
    model.script(script)
    await mention(bot, "go", "1700004400.000100")
    await bot.handled(1)
    await slack.wait_for(lambda: model.calls[0].disconnected)
    assert not model.calls[0].finished
    [answer, notice] = slack.messages
    assert answer.channel == CHANNEL and notice.channel == USER
    assert "not_in_channel" in notice.latest["text"] and "/invite @ShopMax" in notice.latest["text"]
    [row] = await bot.services.store.ledger(0)
    assert row.outcome == "error" and 0 < row.output_tokens < 400


async def test_a_channel_that_refuses_the_first_post_is_told_in_a_direct_message(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    bot = await make_bot()
    model.script(Script(chunks=steps(400), delay=0.01))
    slack.not_member.add("C0GONE")
    await mention(bot, "go", "1700004500.000100", channel="C0GONE")
    await bot.handled(1)
    await slack.wait_for(lambda: model.calls[0].disconnected)
    [notice] = slack.messages
    assert notice.channel == USER and "not_in_channel" in notice.latest["text"]
    [row] = await bot.services.store.ledger(0)
    assert row.outcome == "error"


async def test_slack_refusing_the_bot_itself_stops_the_answer_and_readiness_says_so(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """`account_inactive`: nothing can be posted anywhere, so there is no one to tell in
    Slack; the model stops, the ledger has the row, and the health board is fatally down."""
    bot = await make_bot()
    model.script(Script(chunks=steps(400), delay=0.01))
    slack.refusing = "account_inactive"
    await mention(bot, "go", "1700004600.000100")
    await bot.handled(1)
    await slack.wait_for(lambda: model.calls[0].disconnected)
    assert slack.messages == []
    [row] = await bot.services.store.ledger(0)
    assert row.outcome == "error"
    assert not bot.services.health.can_answer


async def test_an_outage_longer_than_answers_wait_ends_the_answer_as_an_error(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Past `SHOPMAX_SLACK_OUTAGE_WAIT` the answer gives up: the model stops, one row."""
    bot = await make_bot(slack_retry_max=0.1, slack_outage_wait=0.5)
    model.script(Script(chunks=steps(2000), delay=0.01))
    slack.outage("503")
    await mention(bot, "go", "1700004700.000100")
    await bot.handled(1)
    await slack.wait_for(lambda: model.calls[0].disconnected)
    [row] = await bot.services.store.ledger(0)
    assert row.outcome == "error"
    slack.end_outage()
    assert slack.messages == []


async def test_an_answer_in_flight_gives_up_after_the_outage_wait_and_stops_the_model(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Edits that cannot get through for longer than the wait end the answer: the model
    stream stops rather than billing for text no one will see, and the ledger has its row."""
    bot = await make_bot(slack_retry_max=0.1, slack_outage_wait=1.0)
    script = Script(chunks=steps(4000), delay=0.01)
    script.before_chunk[150] = _now(lambda: slack.outage("503"))  # posted by then
    model.script(script)
    await mention(bot, "go", "1700004750.000100")
    await bot.handled(1)
    await slack.wait_for(lambda: model.calls[0].disconnected)
    assert not model.calls[0].finished
    [row] = await bot.services.store.ledger(0)
    assert row.outcome == "error" and row.output_tokens < 4000
    slack.end_outage()
    assert len(slack.messages) == 1


async def test_a_native_stream_through_an_outage_finishes_whole_and_undoubled(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """An append answered 503 may have landed: appending it again could double text, so the
    stream stops and its message is finished by update, with the whole answer."""
    bot = await make_bot(stream_transport="native", **QUICK)
    script = Script(chunks=steps(60), delay=0.04)  # streams past the cold hold
    script.before_chunk[40] = _now(lambda: slack.outage("503"))
    model.script(script)
    await mention(bot, "go", "1700004800.000100")
    await slack.wait_for(lambda: failed_calls(slack, "chat.appendStream") >= 1)
    await slack.wait_for(lambda: model.calls[0].finished)
    slack.end_outage()
    [answer] = await bot.finished_answers(1)
    assert answer.markdown == script.text and len(slack.messages) == 1


def _now(action: Any) -> Any:
    """A `before_chunk` hook that does `action` (a plain call) at that point of the stream."""

    async def hook() -> None:
        action()

    return hook


# ---- the real bot as a process through a 10 s outage (issue 17) --------------------------

OUTAGE = 10.0  # seconds Slack answers 503 to every Web API call


async def test_the_bot_process_rides_out_ten_seconds_of_slack_503s(
    slack: FakeSlack, model: FakeAnthropic, tmp_path: Path
) -> None:
    """Four long answers stream when Slack starts answering 503 to every Web API call for
    10 s, and two more questions arrive meanwhile. Each answer in flight finishes in its one
    reply, whole; each newcomer is answered once; the ledger has one row per answer (six);
    the process is the same one throughout, healthy, and said once that Slack went away and
    once that it was back."""
    port = free_port()
    env = bot_env(slack, model, tmp_path, port) | {"SHOPMAX_SLACK_RETRY_MAX": "1"}
    long, late = ["q1", "q2", "q3", "q4"], ["q5", "q6"]
    outage_began = asyncio.Event()
    for name in long:  # about 8 s each, held at step 100 until Slack is away: still in flight
        model.by_question[name] = Script(
            chunks=steps(160, name), delay=0.05, before_chunk={100: outage_began.wait}
        )
    for name in late:
        model.by_question[name] = Script(chunks=steps(20, name), delay=0.02)
    process = await start_bot(env, tmp_path)
    output: list[str] = []
    reading = asyncio.create_task(_read_lines(process, output))
    base = f"http://127.0.0.1:{port}"
    try:
        assert await wait_healthy(f"{base}/healthz", process) == 200
        for n, name in enumerate(long):
            await _ask(slack, name, f"1700005000.00010{n}")
        # All four are streaming in their replies before Slack goes away. (Whether a reply
        # is edited before its end is the pacing planner's choice; that it is posted is not.)
        await slack.wait_for(lambda: _replies_with_versions(slack, long, 1), within=20)
        slack.outage("503", seconds=OUTAGE)
        outage_began.set()
        for n, name in enumerate(late):
            await _ask(slack, name, f"1700005100.00010{n}")
        down = await _readiness(base, slack_ok=False)
        assert down["ready"] is True, "an outage of Slack is waited out, not a reason to leave"
        await slack.wait_for(lambda: slack.outage_mode is None, within=OUTAGE + 5)
        answers = await slack.wait_for(
            lambda: _finished_replies(slack, long + late), within=OUTAGE + 30
        )
        up = await _readiness(base, slack_ok=True)
        assert await _answers_ended(base) == 6
        assert process.returncode is None
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
        await reading
    for name, message in answers.items():
        script = model.by_question[name]
        assert message.markdown == script.text and CURSOR not in message.markdown, name
        assert len(slack.in_thread(CHANNEL, message.thread_ts or "")) == 1, name
        assert never_older(message), name
    assert len(slack.messages) == 6
    during = [c for c in slack.calls if c.status == 503]
    assert {c.method for c in during} >= {"chat.update", "chat.postMessage"}
    assert up["dependencies"]["slack"]["ok"]
    assert process.returncode == 0
    store = await open_store(env["DATABASE_URL"])
    rows = await store.ledger(0)
    await store.close()
    assert sorted(row.outcome for row in rows) == ["ok"] * 6
    log = "".join(output)
    assert log.count("connected to Slack in Socket Mode") == 1, "never restarted"
    assert log.count("Slack is unreachable") == 1 and log.count("Slack answers again") == 1
    assert "Traceback" not in log


async def _ask(slack: FakeSlack, name: str, ts: str) -> None:
    body = payload("app_mention", text=f"<@{BOT_USER}> {name}", ts=ts)
    await slack.send_envelope("events_api", body)


def _replies_with_versions(slack: FakeSlack, names: list[str], versions: int) -> bool:
    """Every question in `names` has its reply, edited at least `versions - 1` times."""
    shown = {_question_of(m): len(m.versions) for m in slack.messages}
    return all(shown.get(name, 0) >= versions for name in names)


def _finished_replies(slack: FakeSlack, names: list[str]) -> dict[str, Message]:
    """The reply of each question in `names` once all carry their footer, else {}."""
    done = {_question_of(m): m for m in slack.messages if any(" out · " in t for t in m.context)}
    return done if all(name in done for name in names) else {}


def _question_of(message: Message) -> str:
    """Which question a reply answers, from its text (each question's answer has its own
    words)."""
    return message.markdown.split(" ", 1)[0]


async def _readiness(base: str, *, slack_ok: bool) -> dict[str, Any]:
    """/readyz once it says Slack is (or is not) ok; polled, as an orchestrator would."""
    async with aiohttp.ClientSession() as http:
        for _ in range(400):
            async with http.get(f"{base}/readyz", headers=METRICS_HEADERS) as r:
                body: dict[str, Any] = json.loads(await r.text())
            if body["dependencies"].get("slack", {}).get("ok") is slack_ok:
                assert r.status == 200
                return body
            await asyncio.sleep(0.05)
    raise AssertionError(f"/readyz never said slack ok={slack_ok}")


async def _answers_ended(base: str, expected: int = 6) -> int:
    """The answers /metrics counts as ended, once `expected` have (polled)."""
    async with aiohttp.ClientSession() as http:
        for _ in range(400):
            async with http.get(f"{base}/metrics", headers=METRICS_HEADERS) as r:
                text = await r.text()
            if _answers(text) >= expected:
                break
            await asyncio.sleep(0.05)
    return _answers(text)


def _answers(metrics: str) -> int:
    return int(
        sum(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("shopmax_answers_total{")
        )
    )


async def _read_lines(process: asyncio.subprocess.Process, into: list[str]) -> None:
    """Keep the bot's output (so its pipe never fills) for the assertions at the end."""
    assert process.stdout is not None
    async for line in process.stdout:
        into.append(line.decode())
