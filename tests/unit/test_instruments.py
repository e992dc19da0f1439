"""`/metrics` is Prometheus's text format: read back here with `prometheus_client`'s own parser
(a test dependency only; the bot writes the page itself, `bot/accounting/instruments.py`)."""

from __future__ import annotations

import math

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.accounting.instruments import Counter, Gauge, Histogram, Registry
from bot.accounting.metrics import LATENCY_BUCKETS, Metrics


def samples(registry: Registry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = registry.exposition().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_counters_gauges_and_histograms_read_back_as_prometheus_reads_them() -> None:
    registry = Registry()
    answers = registry.add(Counter("answers", "Answers.", ["surface", "outcome"]))
    dropped = registry.add(Counter("dropped", "Dropped."))
    depth = registry.add(Gauge("depth", "Depth."))
    ttft = registry.add(Histogram("ttft_seconds", "TTFT.", buckets=(0.5, 1.0)))
    answers.labels("dm", "ok").inc()
    answers.labels("dm", "ok").inc(2)
    answers.labels("slash", "failed").inc()
    dropped.inc(3)
    depth.set(5)
    depth.dec()
    for value in (0.2, 0.5, 0.7, 9.0):
        ttft.observe(value)

    read = samples(registry)

    assert read[("answers_total", (("outcome", "ok"), ("surface", "dm")))] == 3
    assert read[("answers_total", (("outcome", "failed"), ("surface", "slash")))] == 1
    assert read[("dropped_total", ())] == 3
    assert read[("depth", ())] == 4
    # Cumulative buckets; a value on a bound counts in it (`le`: at most).
    assert read[("ttft_seconds_bucket", (("le", "0.5"),))] == 2
    assert read[("ttft_seconds_bucket", (("le", "1.0"),))] == 3
    assert read[("ttft_seconds_bucket", (("le", "+Inf"),))] == 4
    assert read[("ttft_seconds_count", ())] == 4
    assert read[("ttft_seconds_sum", ())] == pytest.approx(10.4)


def test_hostile_label_values_stay_inside_their_quotes() -> None:
    registry = Registry()
    errors = registry.add(Counter("errors", 'Failures "by" kind\\\nsecond line.', ["kind"]))
    nasty = 'a"} 999\nfake_total 1\\'
    errors.labels(nasty).inc()

    read = samples(registry)

    assert read == {("errors_total", (("kind", nasty),)): 1.0}


def test_a_counter_never_goes_down_and_labels_must_match() -> None:
    counter = Counter("c", "C.", ["kind"])
    with pytest.raises(ValueError):
        counter.labels("x").inc(-1)
    with pytest.raises(ValueError):
        counter.labels("x", "y")
    with pytest.raises(ValueError):
        counter.inc()  # it has labels: a series must be named
    registry = Registry()
    registry.add(Counter("c", "C."))
    with pytest.raises(ValueError):
        registry.add(Gauge("c", "again"))
    for bad in ("9lives", "has space", "dash-ed", 'quote"'):
        with pytest.raises(ValueError):
            Counter(bad, "Bad.")
        with pytest.raises(ValueError):
            Counter("fine", "Fine.", [bad])


def test_nan_lands_in_no_bucket_and_leaves_the_sum_alone() -> None:
    registry = Registry()
    seconds = registry.add(Histogram("s", "S.", buckets=(1.0, 1.0, 2.0)))
    seconds.observe(float("nan"))
    seconds.observe(1.5)
    read = samples(registry)
    assert read[("s_count", ())] == 1 and read[("s_sum", ())] == 1.5
    assert [k[1] for k in read if k[0] == "s_bucket"] == [
        (("le", "1.0"),),
        (("le", "2.0"),),
        (("le", "+Inf"),),
    ]


def test_the_bots_page_names_every_series_it_always_had() -> None:
    metrics = Metrics()
    metrics.events.labels("app_mention", "answered").inc()
    metrics.events.labels("message", "duplicate").inc(2)
    metrics.spool_depth.set(2)

    text = metrics.exposition().decode()
    families = {f.name: f.type for f in text_string_to_metric_families(text)}

    assert metrics.events_handled() == 3
    assert "shopmax_spool_entries 2.0" in text
    assert families == {
        "shopmax_answers": "counter",
        "shopmax_slack_events": "counter",
        "shopmax_answers_in_flight": "gauge",
        "shopmax_time_to_first_token_seconds": "histogram",
        "shopmax_time_to_first_visible_seconds": "histogram",
        "shopmax_answer_duration_seconds": "histogram",
        "shopmax_tokens": "counter",
        "shopmax_cost_usd": "counter",
        "shopmax_slack_calls": "counter",
        "shopmax_slack_429": "counter",
        "shopmax_errors": "counter",
        "shopmax_unverified_figures": "counter",
        "shopmax_dependency_failures": "counter",
        "shopmax_dependency_up": "gauge",
        "shopmax_spool_entries": "gauge",
        "shopmax_spool_dropped": "counter",
    }
    assert math.inf not in LATENCY_BUCKETS  # +Inf is added by the histogram itself
