"""One row per answer: what it cost and how fast it was. Written by the Answerer, read by limits
and reports."""

from __future__ import annotations

from dataclasses import dataclass


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

    @property
    def tokens(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_write_tokens
            + self.cache_read_tokens
        )
