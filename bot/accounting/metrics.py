"""Prometheus metrics, on a registry of our own so tests and several apps never collide.

Time to first token is the key latency figure (above ~800 ms it is usually network latency to
the API, not the model); time to first *visible* text adds Slack's side of the trip.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.accounting.ledger import LedgerRow

LATENCY_BUCKETS = (0.1, 0.25, 0.5, 0.8, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 34.0, 60.0)


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.answers = Counter(
            "shopmax_answers",
            "Answers finished, by surface and outcome.",
            ["surface", "outcome"],
            registry=r,
        )
        self.events = Counter(
            "shopmax_slack_events",
            "Slack events handled, by kind and result (answered, duplicate, ignored, refused).",
            ["kind", "result"],
            registry=r,
        )
        self.in_flight = Gauge(
            "shopmax_answers_in_flight", "Answers streaming right now.", registry=r
        )
        self.ttft = Histogram(
            "shopmax_time_to_first_token_seconds",
            "From the model request to its first text.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.first_visible = Histogram(
            "shopmax_time_to_first_visible_seconds",
            "From the question arriving to its first text showing in Slack.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.duration = Histogram(
            "shopmax_answer_duration_seconds",
            "From the model request to the answer's end.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.tokens = Counter(
            "shopmax_tokens",
            "Tokens used, by model and kind (input, output, cache_write, cache_read).",
            ["model", "kind"],
            registry=r,
        )
        self.cost = Counter(
            "shopmax_cost_usd",
            "Estimated cost in US dollars, by model (known prices only).",
            ["model"],
            registry=r,
        )
        self.slack_calls = Counter(
            "shopmax_slack_calls", "Slack Web API calls, by method.", ["method"], registry=r
        )
        self.slack_throttled = Counter(
            "shopmax_slack_429", "Slack calls answered 429, by method.", ["method"], registry=r
        )
        self.errors = Counter("shopmax_errors", "Failures, by kind.", ["kind"], registry=r)
        self.unverified_figures = Counter(
            "shopmax_unverified_figures",
            "Figures in answers that could not be checked against the catalog or the "
            "knowledge base (marked ⚠), by model.",
            ["model"],
            registry=r,
        )
        self.dependency_failures = Counter(
            "shopmax_dependency_failures",
            "Calls that could not reach a dependency (database, redis, slack), by dependency.",
            ["dependency"],
            registry=r,
        )
        self.dependency_up = Gauge(
            "shopmax_dependency_up",
            "1 while a dependency answers, 0 while it is away, by dependency.",
            ["dependency"],
            registry=r,
        )
        self.spool_depth = Gauge(
            "shopmax_spool_entries",
            "Bookkeeping writes kept in the local spool until the database is back.",
            registry=r,
        )
        self.spool_dropped = Counter(
            "shopmax_spool_dropped",
            "Bookkeeping writes lost: the spool was full, or the database refused one on replay.",
            registry=r,
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
        return int(
            sum(
                sample.value
                for metric in self.events.collect()
                for sample in metric.samples
                if sample.name.endswith("_total")
            )
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
