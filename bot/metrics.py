"""Prometheus metrics, on a registry of our own so tests and several apps never collide."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.answers = Counter(
            "shopmax_answers",
            "Answers finished, by surface and outcome.",
            ["surface", "outcome"],
            registry=self.registry,
        )
        self.events = Counter(
            "shopmax_slack_events",
            "Slack events handled, by kind and result (answered, duplicate, ignored, refused).",
            ["kind", "result"],
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "shopmax_answers_in_flight", "Answers streaming right now.", registry=self.registry
        )

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
