"""Every answer, whatever surface it came from, is written to the usage ledger and the metrics
the same way; a slow first token is logged with the ids needed to find it."""

from __future__ import annotations

import logging

from bot.accounting.ledger import row_for
from bot.accounting.metrics import Metrics
from bot.logs import correlation_id
from bot.model.pricing import ModelPrice
from bot.model.usage import AnswerStats
from bot.question import Question
from bot.store import Store

log = logging.getLogger(__name__)


class Bookkeeper:
    """Writes answers to the ledger (the store) and the metrics."""

    def __init__(
        self,
        store: Store,
        metrics: Metrics,
        *,
        usd_inr: float,
        prices: dict[str, ModelPrice],
        ttft_warn_ms: int,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.usd_inr = usd_inr
        self.prices = prices
        self.ttft_warn_ms = ttft_warn_ms

    async def record(
        self,
        question: Question,
        stats: AnswerStats,
        outcome: str,
        first_visible_s: float | None,
        slack_calls: int,
    ) -> None:
        """Write an answer to the usage ledger and metrics; warn about a slow first token."""
        row = row_for(
            team=question.team,
            channel=question.channel,
            user=question.user,
            surface=question.surface.value,
            stats=stats,
            outcome=outcome,
            usd_inr=self.usd_inr,
            prices=self.prices,
            first_visible_s=first_visible_s,
            slack_calls=slack_calls,
        )
        await self.store.record(row)
        self.metrics.observe(row)
        if row.ttft_ms is not None and row.ttft_ms > self.ttft_warn_ms:
            log.warning(
                "slow first token: %.0f ms, over %d ms (usually network latency to the API, "
                "not the model); question %s, model request %s",
                row.ttft_ms,
                self.ttft_warn_ms,
                correlation_id.get(),
                stats.request_id,
            )
