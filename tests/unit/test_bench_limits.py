"""The benchmark's fake Slack enforces Slack's documented tiers, and its 429s are counted."""

from __future__ import annotations

from bench.deploy import slack_limits
from bench.measure import throttled_streams
from bench.workloads import all_workloads
from tests.fakes.slack_server import Call, FakeSlack


def test_the_bench_enforces_the_streaming_methods_tiers() -> None:
    """Slack's documented limits per workspace: chat.startStream and chat.stopStream Tier 2
    (20 a minute each), chat.appendStream Tier 4 (100), chat.update Tier 3 (50)."""
    for workload in all_workloads(quick=True):
        expected = {
            "chat.update": 50,
            "chat.appendStream": 100,
            "chat.startStream": 20,
            "chat.stopStream": 20,
        }
        assert expected == slack_limits(workload)


def test_the_twenty_first_start_in_a_minute_is_refused() -> None:
    """With the bench's limits, 20 streams start in a minute and the 21st meets a 429 (with a
    Retry-After), while chat.stopStream keeps a window of its own."""
    slack = FakeSlack()
    slack.per_minute.update(slack_limits(all_workloads(quick=True)[0]))
    waits = [slack._rate_limited("chat.startStream", {}) for _ in range(21)]
    assert [0] * 20 == waits[:20]
    assert waits[20] >= 1
    assert slack._rate_limited("chat.stopStream", {}) == 0


def test_the_default_fake_slack_enforces_no_minute_window() -> None:
    """Other tests rely on the fake's default: no per-minute window unless a test sets one."""
    slack = FakeSlack()
    assert {} == slack.per_minute
    assert all(slack._rate_limited("chat.startStream", {}) == 0 for _ in range(50))


def test_stream_start_and_stop_429s_are_counted_apart() -> None:
    """Of the 429s, those on chat.startStream and chat.stopStream are counted on their own
    (the 429s column still counts every method)."""
    calls = [
        Call("chat.startStream", {}, 0.0, 429),
        Call("chat.stopStream", {}, 0.0, 429),
        Call("chat.startStream", {}, 0.0, 200),
        Call("chat.update", {}, 0.0, 429),
        Call("chat.appendStream", {}, 0.0, 429),
    ]
    assert throttled_streams(calls) == 2
