"""A thread's history for the model: the stored turns, or Slack's copy while the database is
away."""

from __future__ import annotations

from typing import Any

import pytest

from bot.answering.history import thread_history
from bot.delivery.slack_api import ANSWER_EVENT
from bot.errors import SlackUnavailable, StoreUnavailable
from bot.question import Question, Surface, Turn
from bot.store import Store

ROOT = "1700000000.000100"
ASKED = "1700000300.000100"
ANSWERED = {"event_type": ANSWER_EVENT, "event_payload": {"question_id": "q1", "piece": 0}}
THREAD = [
    {"ts": ROOT, "user": "U1", "text": "fridge under 30k?"},
    {"ts": "1700000100.000100", "bot_id": "B1", "metadata": ANSWERED, "text": "The LG."},
    {"ts": "1700000200.000100", "user": "U1", "text": "and its warranty?"},
    {"ts": ASKED, "user": "U1", "text": "its price?"},
    {"ts": "1700000400.000100", "user": "U2", "text": "later"},
]
FROM_SLACK = [
    Turn("user", "fridge under 30k?"),
    Turn("assistant", "The LG."),
    Turn("user", "and its warranty?"),
]

LATER = [Turn("user", "its price?"), Turn("user", "later")]


class AwayStore:
    """Only what `thread_history` uses of a `Store`: turns, which the database cannot give."""

    async def turns(self, thread_key: str) -> list[Turn]:
        raise StoreUnavailable("the database is away")


class UpStore:
    async def turns(self, thread_key: str) -> list[Turn]:
        return [Turn("user", f"stored for {thread_key}")]


class Slack:
    def __init__(self, messages: list[dict[str, Any]] | Exception) -> None:
        self.messages = messages
        self.read: list[tuple[str, str]] = []

    async def __call__(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        self.read.append((channel, thread_ts))
        if isinstance(self.messages, Exception):
            raise self.messages
        return self.messages


def question(surface: Surface = Surface.FOLLOW_UP, ts: str = ASKED, thread: str = ROOT) -> Question:
    return Question("T1", "C1", "U1", "its price?", surface, ts, thread)


def store(kind: type[AwayStore] | type[UpStore]) -> Store:
    return kind()  # type: ignore[return-value]  # the one method used


async def test_the_stored_turns_when_the_database_answers() -> None:
    slack = Slack(THREAD)
    turns = await thread_history(store(UpStore), slack, question())
    assert turns == [Turn("user", f"stored for T1:C1:{ROOT}")]
    assert slack.read == []


@pytest.mark.parametrize(
    ("asked", "expected", "why"),
    [
        (question(), FROM_SLACK, "Slack's copy, up to the question"),
        (question(Surface.MENTION), FROM_SLACK, "a mention in the bot's thread too"),
        (question(ts="retry:1700000500.1"), [*FROM_SLACK, *LATER], "a Retry: the whole thread"),
        (question(Surface.WEB), [], "the browser chat has no Slack copy"),
        (question(Surface.TERMINAL), [], "nor has the terminal"),
        (question(ts=ROOT), [], "a question that starts its thread has nothing before it"),
        (question(thread=""), [], "not in a thread"),
    ],
)
async def test_while_the_database_is_away(asked: Question, expected: list[Turn], why: str) -> None:
    assert await thread_history(store(AwayStore), Slack(THREAD), asked) == expected, why


async def test_a_thread_with_no_answer_of_ours_is_no_history() -> None:
    """Another bot's message is not ours: the thread is context for a mention, not history."""
    others = [{**m, "metadata": {}} if m.get("bot_id") else m for m in THREAD]
    assert await thread_history(store(AwayStore), Slack(others), question()) == []


async def test_slack_failing_too_means_no_history_and_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    down = SlackUnavailable(
        "conversations.replies failed: service_unavailable",
        code="service_unavailable",
        retry_after=1.0,
        may_have_landed=False,
    )
    slack = Slack(down)
    assert await thread_history(store(AwayStore), slack, question()) == []
    [line] = [r.getMessage() for r in caplog.records]
    assert line.startswith("could not read the thread's history from Slack either")
