"""One row per answer: what it cost and how fast it was. Written by the Answerer, read by limits
and reports."""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal

from bot.model.pricing import ModelPrice, cost_usd
from bot.model.usage import AnswerStats


@dataclass(frozen=True)
class LedgerRow:
    """An answer's usage and timings. Times in milliseconds; cost None when the price is unknown."""

    at: float  # Unix time the answer finished
    team: str
    channel: str
    user: str
    surface: str
    model: str
    input_tokens: int
    output_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int
    ttft_ms: float | None
    first_visible_ms: float | None
    duration_ms: float
    slack_edits: int
    stop_reason: str | None
    outcome: str  # ok, stopped, interrupted, error
    cost_usd: float | None
    cost_inr: float | None
    unverified_figures: int = 0  # figures in the answer that could not be checked (marked ⚠)

    @property
    def tokens(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_write_tokens
            + self.cache_read_tokens
        )


def row_for(
    *,
    team: str,
    channel: str,
    user: str,
    surface: str,
    stats: AnswerStats,
    outcome: str,
    usd_inr: float,
    prices: dict[str, ModelPrice],
    first_visible_s: float | None = None,
    slack_calls: int = 0,
    discount: Decimal = Decimal(1),
    unverified_figures: int = 0,
) -> LedgerRow:
    """The ledger row for an answer (or a batch call, at its `discount`). Pure but for the time."""
    usd = cost_usd(stats.model, stats.usage, prices)
    usd = None if usd is None else usd * discount
    inr = None if usd is None else usd * Decimal(str(usd_inr))
    return LedgerRow(
        at=time.time(),
        team=team,
        channel=channel,
        user=user,
        surface=surface,
        model=stats.model,
        input_tokens=stats.usage.input_tokens,
        output_tokens=stats.usage.output_tokens,
        cache_write_tokens=stats.usage.cache_write_tokens,
        cache_read_tokens=stats.usage.cache_read_tokens,
        ttft_ms=None if stats.ttft_s is None else stats.ttft_s * 1000,
        first_visible_ms=None if first_visible_s is None else first_visible_s * 1000,
        duration_ms=stats.duration_s * 1000,
        slack_edits=slack_calls,
        stop_reason=stats.stop_reason,
        outcome=outcome,
        cost_usd=None if usd is None else float(usd),
        cost_inr=None if inr is None else float(inr),
        unverified_figures=unverified_figures,
    )
