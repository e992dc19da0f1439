"""Stored turns to Claude messages, trimmed to a token budget from the oldest end (pure)."""

from __future__ import annotations

from bot.answering.conversation import build_messages
from bot.model.usage import estimate_tokens
from bot.question import Turn


def test_the_question_alone() -> None:
    assert build_messages([], "hi", 100) == [{"role": "user", "content": "hi"}]


def test_history_comes_first_in_order() -> None:
    history = [Turn("user", "q1"), Turn("assistant", "a1")]
    assert build_messages(history, "q2", 1000) == [
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "q2"},
    ]


def test_oldest_turns_are_dropped_first_and_the_result_starts_with_the_user() -> None:
    history = [
        Turn("user", "x" * 400),
        Turn("assistant", "y" * 40),
        Turn("user", "q2"),
        Turn("assistant", "a2"),
    ]
    budget = (
        estimate_tokens("y" * 40)
        + estimate_tokens("q2")
        + estimate_tokens("a2")
        + estimate_tokens("q3")
    )
    messages = build_messages(history, "q3", budget)
    assert messages == [
        {"role": "user", "content": "q2"},
        {"role": "assistant", "content": "a2"},
        {"role": "user", "content": "q3"},
    ]


def test_the_question_is_sent_even_over_budget() -> None:
    assert build_messages([Turn("user", "old")], "z" * 1000, 10) == [
        {"role": "user", "content": "z" * 1000}
    ]


def test_consecutive_turns_of_one_role_are_merged() -> None:
    """A question whose answer failed left two user turns in a row; the API needs alternation."""
    history = [Turn("user", "q1"), Turn("user", "q1 again")]
    assert build_messages(history, "q2", 1000) == [
        {"role": "user", "content": "q1\n\nq1 again\n\nq2"}
    ]
