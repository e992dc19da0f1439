"""The small rules behind riding out an outage, as tables of cases: the health board, how long
to wait for Slack, which calls the SDK may send twice, what this process remembers, and
claims kept in memory."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from aiohttp import ClientConnectorError, ServerDisconnectedError
from aiohttp.client_reqrep import ConnectionKey
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.accounting.health import Health
from bot.accounting.metrics import Metrics
from bot.delivery.slack_retry import ConnectionRetry, ServerErrorRetry, wait_before
from bot.question import Question, Surface, Turn
from bot.store import writes
from bot.store.base import Admission
from bot.store.claims import FallbackClaims
from bot.store.recent import DAY, Recent
from tests.conftest import ledger_row


def test_the_board_says_when_a_dependency_goes_and_comes_back_once_each() -> None:
    clock = iter([100.0, 200.0, 300.0, 400.0]).__next__
    health = Health(Metrics(), clock=clock)
    health.watch("database")
    assert [health.failed("database", "OSError"), health.failed("database", "OSError")] == [
        True,
        False,
    ]
    state = health.states()["database"]
    assert (state.ok, state.since, state.reason) == (False, 200.0, "OSError")
    assert [health.ok("database"), health.ok("database")] == [True, False]
    assert health.states()["database"].since == 300.0
    assert health.can_answer


def test_only_a_fatal_failure_means_no_one_can_be_answered() -> None:
    health = Health()
    health.failed("database", "OSError")
    health.failed("slack", "service_unavailable")
    assert health.can_answer
    health.failed("slack", "token_revoked", fatal=True)
    assert not health.can_answer
    health.ok("slack")
    assert health.can_answer


def test_failures_are_counted_per_dependency() -> None:
    metrics = Metrics()
    health = Health(metrics)
    for _ in range(3):
        health.failed("slack", "unreachable")
    text = metrics.exposition().decode()
    assert 'shopmax_dependency_failures_total{dependency="slack"} 3.0' in text
    assert 'shopmax_dependency_up{dependency="slack"} 0.0' in text


@pytest.mark.parametrize(
    ("attempt", "retry_after", "expected"),
    [(1, 1.0, 1.0), (2, 1.0, 2.0), (3, 1.0, 4.0), (6, 1.0, 30.0), (1, 5.0, 5.0), (9, 5.0, 30.0)],
)
def test_waiting_out_slack_doubles_to_a_cap(
    attempt: int, retry_after: float, expected: float
) -> None:
    assert wait_before(attempt, retry_after, jitter=0.0) == expected


def test_waiting_out_slack_adds_up_to_a_second_of_jitter() -> None:
    waits = {wait_before(1, 1.0) for _ in range(50)}
    assert all(1.0 <= w < 2.0 for w in waits) and len(waits) > 1


def request(method: str) -> HttpRequest:
    return HttpRequest(method="POST", url=f"https://slack.com/api/{method}", headers={})


REFUSED = ClientConnectorError(
    ConnectionKey("slack.com", 443, True, True, None, None, None), OSError(111, "refused")
)


@pytest.mark.parametrize(
    ("method", "error", "retried"),
    [
        ("chat.postMessage", REFUSED, True),  # never reached Slack
        ("chat.postMessage", ServerDisconnectedError(), False),  # may have landed
        ("chat.appendStream", ServerDisconnectedError(), False),  # would append twice
        ("chat.update", ServerDisconnectedError(), True),  # replaces the text: harmless
        ("conversations.replies", ServerDisconnectedError(), True),
        ("chat.update", TimeoutError(), False),  # no blip: the caller sends the newest text
    ],
)
async def test_the_sdk_resends_only_what_cannot_land_twice(
    method: str, error: Exception, retried: bool
) -> None:
    handler = ConnectionRetry()
    state = RetryState()
    assert (
        await handler.can_retry_async(state=state, request=request(method), error=error) is retried
    )


@pytest.mark.parametrize(
    ("method", "status", "retried"),
    [
        ("chat.update", 503, True),
        ("chat.update", 502, True),
        ("chat.update", 500, True),
        ("chat.postMessage", 503, False),
        ("chat.update", 429, False),  # the scheduler owns Slack's budget
        ("chat.update", 400, False),
    ],
)
async def test_the_sdk_resends_5xx_only_for_calls_that_cannot_land_twice(
    method: str, status: int, retried: bool
) -> None:
    response = HttpResponse(status_code=status, headers={}, body={"ok": False})
    handler = ServerErrorRetry()
    state = RetryState()
    assert (
        await handler.can_retry_async(state=state, request=request(method), response=response)
        is retried
    )


def test_this_process_remembers_a_days_limits_threads_and_questions() -> None:
    now = time.time()
    clock = [now]
    recent = Recent(clock=lambda: clock[0])
    question = Question("T1", "C1", "U1", "price?", Surface.MENTION, "1.1", "1.0")
    recent.note(writes.save_question("q1", question, at=now - 600))
    recent.note(writes.record(ledger_row(team="T1", user="U1", at=now - 600)))
    recent.note(writes.add_turns("T1:C1:1.0", [Turn("user", "q")]))
    assert recent.questions_since("T1", "U1", now - 3600) == 1
    assert recent.questions_since("T1", "U1", now - 60) == 0
    assert recent.tokens_since("T1", "U1", now - DAY) == 1500
    assert recent.has_thread("T1:C1:1.0") and recent.question("q1") == question
    clock[0] = now + DAY
    recent.note(writes.end_answer("a1"))  # any write: what is older than a day is forgotten
    assert recent.questions_since("T1", "U1", 0) == 0 and recent.tokens_since("T1", "U1", 0) == 0


def test_while_the_database_is_away_this_process_holds_tokens_and_a_teams_ceiling() -> None:
    """The same rules as the store's, on what this process admitted: a question is let in
    while the day's tokens used and held are under the limit; a top-up only when covered; a
    team with a ceiling is refused as a whole past it."""
    now = time.time()
    recent = Recent(clock=lambda: now)
    rules = Admission(now - 3600, 5, now - DAY, 1000, 400, now - 3600)
    shared = replace(rules, team_most=2, team_tokens_most=10_000)
    asker = Question("web", "browser", "Priya (a)", "price?", Surface.WEB, "1", "c")
    assert recent.verdict("web", "Priya (a)", rules) is None
    recent.note(writes.save_question("q1", asker, at=now, reserved=400))
    assert recent.top_up("q1", asker, 600, rules) and not recent.top_up("q1", asker, 1, rules)
    assert recent.verdict("web", "Priya (a)", rules) == "tokens"  # 1,000 held
    recent.note(writes.settle("q1"))
    assert recent.verdict("web", "Priya (a)", rules) is None
    recent.note(writes.save_question("q2", replace(asker, user="Asha (b)"), at=now, reserved=1))
    assert recent.verdict("web", "Ravi (c)", shared) == "team"  # two asked by the team
    assert recent.verdict("web", "Ravi (c)", rules) is None


async def test_claims_in_memory_recognise_a_retry_for_a_day(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = [0.0]
    claims = FallbackClaims(clock=lambda: clock[0])
    assert [await claims.claim("k"), await claims.claim("k"), await claims.claim("j")] == [
        True,
        False,
        True,
    ]
    clock[0] = DAY + 1
    assert await claims.claim("k")
    assert len([r for r in caplog.records if "deduplication is degraded" in r.getMessage()]) == 1
