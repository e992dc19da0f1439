"""Slack's failures told apart, at the `SlackApi` level, against the fake Slack on the wire.

Short blips are retried inside slack_sdk (its async retry handlers, with backoff and jitter);
what lasts longer surfaces as `SlackUnavailable` for the caller to wait out; permanent refusals
are never retried. A post is never sent twice by a retry: a post whose answer was lost is found
by its question's id in the message metadata instead.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from bot.accounting.health import Health
from bot.accounting.metrics import Metrics
from bot.answering.thread_turns import turns_from_thread
from bot.delivery.slack_api import SlackApi
from bot.delivery.slack_retry import web_client
from bot.errors import CannotPost, SlackError, SlackRefused, SlackUnavailable
from bot.question import Turn
from bot.wording.markdown import Rendered
from tests.fakes.slack_server import TOKEN, FakeSlack

CHANNEL = "C0SHOPFLOOR"
THREAD = "1700005000.000100"
BACKOFF = 0.05  # the SDK's retries, shortened so the tests stay quick


def text(words: str) -> Rendered:
    return Rendered(words, [{"type": "markdown", "text": words}])


@pytest.fixture
def health() -> Health:
    return Health(Metrics())


@pytest.fixture
async def api(slack: FakeSlack, health: Health) -> AsyncIterator[SlackApi]:
    client = web_client(TOKEN, slack.api_url, backoff_factor=BACKOFF)
    yield SlackApi(client, health.metrics, health)


async def test_a_short_503_blip_is_retried_by_the_sdk_and_the_edit_lands(
    api: SlackApi, slack: FakeSlack
) -> None:
    """An edit that meets a 503 is sent again after a short backoff; the person sees it."""
    ts = await api.post(CHANNEL, text("first"), thread_ts=THREAD)
    slack.outage("503", seconds=0.04)
    await api.update(CHANNEL, ts, text("second"))
    statuses = [call.status for call in slack.calls_to("chat.update")]
    assert statuses[0] == 503 and statuses[-1] == 200
    assert slack.messages[0].markdown == "second"


async def test_a_longer_outage_becomes_a_transient_error_after_the_sdks_retries(
    api: SlackApi, slack: FakeSlack, health: Health
) -> None:
    """Three tries (one and two retries), then `SlackUnavailable` with a wait; Slack is down
    on the health board, and back after the next call that gets through."""
    ts = await api.post(CHANNEL, text("first"), thread_ts=THREAD)
    slack.outage("503")
    with pytest.raises(SlackUnavailable) as caught:
        await api.update(CHANNEL, ts, text("second"))
    assert (caught.value.code, caught.value.retry_after) == ("service_unavailable", 1.0)
    assert [c.status for c in slack.calls_to("chat.update")] == [503, 503, 503]
    assert not health.states()["slack"].ok
    slack.end_outage()
    await api.update(CHANNEL, ts, text("second"))
    assert health.states()["slack"].ok
    assert slack.messages[0].markdown == "second"


async def test_a_post_is_never_repeated_after_a_5xx_it_may_have_survived(
    api: SlackApi, slack: FakeSlack
) -> None:
    """chat.postMessage is not idempotent: one try, then the caller is told it may have
    landed."""
    slack.outage("503")
    with pytest.raises(SlackUnavailable) as caught:
        await api.post(CHANNEL, text("hello"), thread_ts=THREAD, question_id="q1")
    assert caught.value.may_have_landed
    assert len(slack.calls_to("chat.postMessage")) == 1


async def test_a_refused_connection_is_retried_for_a_post_too(
    api: SlackApi, slack: FakeSlack
) -> None:
    """A connection that could not be opened never delivered anything: the post is retried
    and lands once when Slack listens again."""
    slack.outage("refuse", seconds=0.04)
    ts = await api.post(CHANNEL, text("hello"), thread_ts=THREAD, question_id="q1")
    assert [m.ts for m in slack.messages] == [ts]


async def test_a_refused_connection_that_lasts_says_nothing_landed(
    api: SlackApi, slack: FakeSlack
) -> None:
    slack.outage("refuse")
    with pytest.raises(SlackUnavailable) as caught:
        await api.post(CHANNEL, text("hello"), thread_ts=THREAD, question_id="q1")
    assert (caught.value.code, caught.value.may_have_landed) == ("unreachable", False)
    slack.end_outage()
    await slack.wait_for(lambda: True)
    assert slack.messages == []


async def test_a_dropped_connection_is_retried_for_an_edit_but_not_for_a_post(
    api: SlackApi, slack: FakeSlack
) -> None:
    """A connection reset after the request went out: an edit is safe to send again, a post
    is not (it may be in the channel already)."""
    ts = await api.post(CHANNEL, text("first"), thread_ts=THREAD)
    slack.outage("reset", seconds=0.04)
    await api.update(CHANNEL, ts, text("second"))
    assert slack.messages[0].markdown == "second"
    slack.outage("reset")
    with pytest.raises(SlackUnavailable) as caught:
        await api.post(CHANNEL, text("again"), thread_ts=THREAD)
    assert caught.value.may_have_landed
    assert len([c for c in slack.calls_to("chat.postMessage") if c.status == 0]) == 1


async def test_a_timeout_is_transient_and_may_have_landed(slack: FakeSlack) -> None:
    """A Slack that accepts the call but does not answer within the client's timeout."""
    api = SlackApi(web_client(TOKEN, slack.api_url, timeout=1, backoff_factor=BACKOFF))
    slack.latency = 1.5
    with pytest.raises(SlackUnavailable) as caught:
        await api.post(CHANNEL, text("slow"), thread_ts=THREAD)
    assert (caught.value.code, caught.value.may_have_landed) == ("unreachable", True)


async def test_a_post_whose_answer_was_lost_is_found_by_its_question_and_not_doubled(
    api: SlackApi, slack: FakeSlack
) -> None:
    """The post landed but its answer never came back: the thread, read with its metadata,
    shows our reply for that question (and piece), so nothing is posted twice."""
    slack.lose_responses["chat.postMessage"] = 1
    with pytest.raises(SlackUnavailable) as caught:
        await api.post(CHANNEL, text("The LG 55"), thread_ts=THREAD, question_id="q1")
    assert caught.value.may_have_landed
    [landed] = slack.messages
    assert await api.find_reply(CHANNEL, "q1", thread_ts=THREAD) == landed.ts
    assert await api.find_reply(CHANNEL, "q1", thread_ts=THREAD, piece=1) is None
    assert await api.find_reply(CHANNEL, "q2", thread_ts=THREAD) is None
    assert len(slack.messages) == 1


async def test_posts_carry_the_question_in_metadata_returned_only_when_asked(
    api: SlackApi, slack: FakeSlack
) -> None:
    """Slack keeps the metadata; conversations.replies shows it with include_all_metadata."""
    ts = await api.post(CHANNEL, text("answer"), thread_ts=THREAD, question_id="q7", piece=2)
    metadata = {"event_type": "shopmax_answer", "event_payload": {"question_id": "q7", "piece": 2}}
    assert slack.messages[0].metadata == metadata
    plain = await api.client.conversations_replies(channel=CHANNEL, ts=THREAD)
    assert [m["ts"] for m in plain["messages"]] == [ts] and "metadata" not in plain["messages"][0]
    [read] = await api.thread(CHANNEL, THREAD)
    assert read["metadata"] == metadata and read["bot_id"]
    assert await api.find_reply(CHANNEL, "q7", thread_ts=THREAD, piece=2) == ts


async def test_a_top_level_answer_is_found_in_the_channel_since_it_was_asked(
    api: SlackApi, slack: FakeSlack
) -> None:
    """A /shopmax answer has no thread yet: it is looked for among the channel's messages."""
    ts = await api.post(CHANNEL, text("answer"), question_id="cmd1")
    assert await api.find_reply(CHANNEL, "cmd1", thread_ts=None, oldest="1600000000") == ts
    assert await api.find_reply(CHANNEL, "cmd1", thread_ts=None, oldest=ts) is None


@pytest.mark.parametrize(
    ("code", "kind", "fatal"),
    [
        ("invalid_auth", SlackRefused, True),
        ("account_inactive", SlackRefused, True),
        ("token_revoked", SlackRefused, True),
        ("channel_not_found", CannotPost, False),
        ("not_in_channel", CannotPost, False),
        ("invalid_blocks", SlackError, False),
    ],
)
async def test_permanent_refusals_are_told_apart_and_never_retried(
    api: SlackApi, slack: FakeSlack, health: Health, code: str, kind: type, fatal: bool
) -> None:
    """Only a refusal of the bot itself makes Slack fatally down (the bot can answer no one);
    a refusal for one conversation or message leaves Slack up."""
    slack.refusing = code
    with pytest.raises(SlackError) as caught:
        await api.post(CHANNEL, text("hello"), thread_ts=THREAD)
    assert type(caught.value) is kind and caught.value.code == code
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert health.states()["slack"].ok is not fatal
    assert health.can_answer is not fatal


async def test_one_warning_when_slack_goes_away_and_one_when_it_is_back(
    api: SlackApi, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    ts = await api.post(CHANNEL, text("first"), thread_ts=THREAD)
    slack.outage("503")
    for _ in range(3):
        with pytest.raises(SlackUnavailable):
            await api.update(CHANNEL, ts, text("more"))
    slack.end_outage()
    await api.update(CHANNEL, ts, text("more"))
    await api.update(CHANNEL, ts, text("more still"))
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 2
    assert lines[0].startswith("Slack is unreachable") and lines[1] == "Slack answers again"


async def test_a_threads_turns_can_be_read_back_from_slack(api: SlackApi, slack: FakeSlack) -> None:
    """With the database away, the conversation so far comes from the thread itself: people's
    messages and our answers (recognised by their metadata, pieces joined), nothing else."""
    parent = "1699990000.000100"  # before the fake Slack's own clock starts
    slack.threads[(CHANNEL, parent)] = [
        {"ts": parent, "user": "U0PRIYA", "text": "fridge under 30k?"},
        {"ts": "1699990000.000900", "user": "U0PRIYA", "text": "and in Pune?"},
        {"ts": "1699990000.000950", "bot_id": "B0OTHER", "text": "another bot"},
    ]
    await api.post(CHANNEL, text("The LG 260 L."), thread_ts=parent, question_id="q1")
    await api.post(CHANNEL, text("At ₹28,990."), thread_ts=parent, question_id="q1", piece=1)
    messages = await api.thread(CHANNEL, parent)
    assert turns_from_thread(messages, before_ts="1800000000.000000") == [
        Turn("user", "fridge under 30k?"),
        Turn("user", "and in Pune?"),
        Turn("assistant", "The LG 260 L.\nAt ₹28,990."),
    ]
    assert turns_from_thread(messages, before_ts="1699990000.000900") == [
        Turn("user", "fridge under 30k?")
    ]
