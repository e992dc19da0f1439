"""The pace of the loading status and the reactions (`bot.delivery.call_limits`), by a clock
the test moves, and status lines as Slack's loading state shows them."""

from __future__ import annotations

import pytest

from bot.delivery.call_limits import Bucket, RollingWindow, StatusLimits
from bot.wording import texts


def test_a_bucket_allows_its_burst_then_refills_at_its_rate() -> None:
    bucket = Bucket(burst=3, per_second=1)
    for _ in range(3):
        assert bucket.wait(0.0) == 0
        bucket.take(0.0)
    assert bucket.wait(0.0) == pytest.approx(1.0)
    assert bucket.wait(0.5) == pytest.approx(0.5)
    assert bucket.wait(1.0) == 0
    bucket.take(1.0)
    assert bucket.wait(1.0) == pytest.approx(1.0)
    assert bucket.tokens_at(100.0) == 3, "never more than the burst"


def test_a_rolling_window_counts_the_last_span_only() -> None:
    window = RollingWindow(limit=2, span=60)
    window.take(0.0)
    window.take(10.0)
    assert window.wait(30.0) == pytest.approx(30.0)
    assert window.wait(60.0) == 0, "the first call left the window"


@pytest.mark.parametrize(
    ("calls", "now", "wait"),
    [
        ([], 0.0, 0.0),
        ([0.0] * 3, 0.0, 1 / 0.9),
        ([0.0] * 3, 1 / 0.9, 0.0),
    ],
)
def test_status_limits_per_channel(calls: list[float], now: float, wait: float) -> None:
    limits = StatusLimits(burst=3, per_second=0.9)
    for at in calls:
        limits.take("C1", at)
    assert limits.wait("C1", now) == pytest.approx(wait)
    assert limits.wait("C2", now) == 0, "another channel has its own pace"


def test_status_limits_for_the_workspace_and_after_a_429() -> None:
    limits = StatusLimits(per_minute=2)
    limits.take("C1", 0.0)
    limits.take("C2", 0.0)
    assert limits.wait("C3", 1.0) == pytest.approx(59.0), "the workspace's minute is spent"
    limits = StatusLimits()
    limits.block("C1", 30.0)
    assert limits.wait("C1", 10.0) == pytest.approx(20.0)
    assert limits.wait("C2", 10.0) == 0
    limits.block("", 12.0)
    assert limits.wait("C2", 10.0) == pytest.approx(2.0), "'' blocks every channel"


def test_idle_channels_are_forgotten() -> None:
    limits = StatusLimits()
    for n in range(200):
        limits.take(f"C{n}", float(n))
    assert len(limits.channels) <= 66


@pytest.mark.parametrize(
    ("line", "plain"),
    [
        (
            texts.looking_up("TVs under ₹50,000 in Mumbai"),
            "Looking up TVs under ₹50,000 in Mumbai…",
        ),
        (texts.checking_stock("SMX-TV-0005", "Pune"), "Checking stock of SMX-TV-0005 in Pune…"),
        ("plain already", "plain already"),
        ("_", "_"),
        ("", ""),
    ],
)
def test_status_lines_become_plain_text(line: str, plain: str) -> None:
    assert texts.plain_status(line) == plain
