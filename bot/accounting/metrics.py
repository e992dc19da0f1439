"""Prometheus metrics, on a registry of each app's own so tests and several apps never collide
(`instruments.py` makes them and writes the text page). Update them from the event loop only,
never from a worker thread.

Time to first token is the key latency figure (above ~800 ms it is usually network latency to
the API, not the model); time to first *visible* text adds Slack's side of the trip.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.accounting.instruments import Counter, Gauge, Histogram, Registry
from bot.accounting.ledger import LedgerRow

LATENCY_BUCKETS = (0.1, 0.25, 0.5, 0.8, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 34.0, 60.0)


@dataclass
class Metrics:
    registry: Registry = field(default_factory=Registry)

    def __post_init__(self) -> None:
        r = self.registry
        self.answers = r.add(
            Counter(
                "shopmax_answers",
                "Answers finished, by surface and outcome.",
                ["surface", "outcome"],
            )
        )
        self.events = r.add(
            Counter(
                "shopmax_slack_events",
                "Slack events handled, by kind and result (answered, duplicate, ignored, refused).",
                ["kind", "result"],
            )
        )
        self.in_flight = r.add(Gauge("shopmax_answers_in_flight", "Answers streaming right now."))
        self.ttft = r.add(
            Histogram(
                "shopmax_time_to_first_token_seconds",
                "From the model request to its first text.",
                buckets=LATENCY_BUCKETS,
            )
        )
        self.first_visible = r.add(
            Histogram(
                "shopmax_time_to_first_visible_seconds",
                "From the question arriving to its first text showing in Slack.",
                buckets=LATENCY_BUCKETS,
            )
        )
        self.duration = r.add(
            Histogram(
                "shopmax_answer_duration_seconds",
                "From the model request to the answer's end.",
                buckets=LATENCY_BUCKETS,
            )
        )
        self.tokens = r.add(
            Counter(
                "shopmax_tokens",
                "Tokens used, by model and kind (input, output, cache_write, cache_read).",
                ["model", "kind"],
            )
        )
        self.cost = r.add(
            Counter(
                "shopmax_cost_usd",
                "Estimated cost in US dollars, by model (known prices only).",
                ["model"],
            )
        )
        self.slack_calls = r.add(
            Counter("shopmax_slack_calls", "Slack Web API calls, by method.", ["method"])
        )
        self.slack_throttled = r.add(
            Counter("shopmax_slack_429", "Slack calls answered 429, by method.", ["method"])
        )
        self.errors = r.add(Counter("shopmax_errors", "Failures, by kind.", ["kind"]))
        self.unverified_figures = r.add(
            Counter(
                "shopmax_unverified_figures",
                "Figures in answers that could not be checked against the catalog or the "
                "knowledge base (marked ⚠), by model.",
                ["model"],
            )
        )
        self.dependency_failures = r.add(
            Counter(
                "shopmax_dependency_failures",
                "Calls that could not reach a dependency (database, redis, slack), by dependency.",
                ["dependency"],
            )
        )
        self.dependency_up = r.add(
            Gauge(
                "shopmax_dependency_up",
                "1 while a dependency answers, 0 while it is away, by dependency.",
                ["dependency"],
            )
        )
        self.spool_depth = r.add(
            Gauge(
                "shopmax_spool_entries",
                "Bookkeeping writes kept in the local spool until the database is back.",
            )
        )
        self.spool_dropped = r.add(
            Counter(
                "shopmax_spool_dropped",
                "Bookkeeping writes lost: the spool was full, or the database refused one "
                "on replay.",
            )
        )

    def observe(self, row: LedgerRow) -> None:
        """Count a finished answer from its ledger row."""
        if row.ttft_ms is not None:
            self.ttft.observe(row.ttft_ms / 1000)
        if row.first_visible_ms is not None:
            self.first_visible.observe(row.first_visible_ms / 1000)
        self.duration.observe(row.duration_ms / 1000)
        for kind, count in (
            ("input", row.input_tokens),
            ("output", row.output_tokens),
            ("cache_write", row.cache_write_tokens),
            ("cache_read", row.cache_read_tokens),
        ):
            self.tokens.labels(row.model, kind).inc(count)
        if row.cost_usd is not None:
            self.cost.labels(row.model).inc(row.cost_usd)
        self.unverified_figures.labels(row.model).inc(row.unverified_figures)

    def events_handled(self) -> int:
        """How many events listeners have finished with (all kinds and results)."""
        return int(self.events.total())

    def exposition(self) -> bytes:
        return self.registry.exposition()
