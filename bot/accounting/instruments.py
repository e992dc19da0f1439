"""Counters, gauges and histograms, and Prometheus's text format (version 0.0.4) for them.

Why not `prometheus_client`: the bot needs a dozen series and one text page, and importing
that library (with `wsgiref`, `http.server` and the rest it brings) holds about 1.5 MB of every
process's memory for it — issue 26 counts every megabyte of the bot's peak. What `/metrics`
shows is unchanged: the same names, `_total` on counters, `_bucket`/`_count`/`_sum` on
histograms, labels sorted by name; the `_created` series `prometheus_client` added are left
out (Prometheus does not need them). `tests/unit/test_instruments.py` reads the page back with
`prometheus_client`'s own parser.

Single-threaded by design: every update comes from the event loop (a metric updated from a
worker thread could change a dict while `/metrics` is being written).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from typing import Any, Generic, TypeVar

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")  # metric and label names (a bad one fails a scrape)

Labels = tuple[tuple[str, str], ...]


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    return repr(float(value))


def _label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _series(name: str, labels: Labels, value: float) -> str:
    inside = ",".join(f'{key}="{_label_value(text)}"' for key, text in sorted(labels))
    return f"{name}{{{inside}}} {_number(value)}" if inside else f"{name} {_number(value)}"


class _Value:
    """One series' number."""

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        self.value += amount


class _GaugeValue(_Value):
    def inc(self, amount: float = 1.0) -> None:
        self.value += amount

    def dec(self, amount: float = 1.0) -> None:
        self.value -= amount

    def set(self, value: float) -> None:
        self.value = float(value)


class _Buckets:
    """One histogram series: a count per upper bound (cumulated when shown), the sum."""

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = bounds
        self.counts = [0] * len(bounds)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        if math.isnan(value):
            return  # in no bucket, and it would make the sum NaN for good
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value


C = TypeVar("C", _Value, _GaugeValue, _Buckets)


class _Metric(Generic[C]):
    """A named metric with optional label names; `labels(...)` gives one series (`C`)."""

    kind = ""

    def __init__(self, name: str, help_text: str, label_names: Sequence[str] = ()) -> None:
        for checked in (name, *label_names):
            if not NAME.fullmatch(checked) or checked.startswith("__"):
                raise ValueError(f"{checked!r} is not a Prometheus name")
        self.name, self.help, self.label_names = name, help_text, tuple(label_names)
        self._children: dict[Labels, C] = {}
        if not self.label_names:
            self._children[()] = self._new()

    def _new(self) -> C:
        raise NotImplementedError

    def labels(self, *values: str) -> C:
        if len(values) != len(self.label_names):
            raise ValueError(f"{self.name} takes labels {self.label_names}")
        key = tuple(zip(self.label_names, (str(v) for v in values), strict=True))
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self._new()
        return child

    def _only(self) -> C:
        if self.label_names:
            raise ValueError(f"{self.name} needs its labels {self.label_names}")
        return self._children[()]

    def _header(self, name: str) -> Iterator[str]:
        help_text = self.help.replace("\\", "\\\\").replace("\n", "\\n")
        yield f"# HELP {name} {help_text}"
        yield f"# TYPE {name} {self.kind}"

    def lines(self) -> Iterator[str]:
        raise NotImplementedError


class _Valued(_Metric[C]):
    """A counter or a gauge: one number per series, shown as `name` + `suffix`."""

    suffix = ""

    def lines(self) -> Iterator[str]:
        name = self.name + self.suffix
        yield from self._header(name)
        for labels, child in self._children.items():
            assert isinstance(child, _Value)
            yield _series(name, labels, child.value)


class Counter(_Valued[_Value]):
    kind, suffix = "counter", "_total"

    def _new(self) -> _Value:
        return _Value()

    def inc(self, amount: float = 1.0) -> None:
        self._only().inc(amount)

    def total(self) -> float:
        """The sum over every series."""
        return sum(c.value for c in self._children.values())


class Gauge(_Valued[_GaugeValue]):
    kind = "gauge"

    def _new(self) -> _GaugeValue:
        return _GaugeValue()

    def inc(self, amount: float = 1.0) -> None:
        self._only().inc(amount)

    def dec(self, amount: float = 1.0) -> None:
        self._only().dec(amount)

    def set(self, value: float) -> None:
        self._only().set(value)


class Histogram(_Metric[_Buckets]):
    """Without labels (the bot's histograms have none)."""

    kind = "histogram"

    def __init__(self, name: str, help_text: str, buckets: Sequence[float]) -> None:
        self.bounds = (*sorted({float(b) for b in buckets if b != math.inf}), math.inf)
        super().__init__(name, help_text)

    def _new(self) -> _Buckets:
        return _Buckets(self.bounds)

    def observe(self, value: float) -> None:
        self._only().observe(value)

    def lines(self) -> Iterator[str]:
        yield from self._header(self.name)
        child = self._only()
        seen = 0
        for bound, count in zip(child.bounds, child.counts, strict=True):
            seen += count
            yield _series(f"{self.name}_bucket", (("le", _number(bound)),), seen)
        yield _series(f"{self.name}_count", (), seen)
        yield _series(f"{self.name}_sum", (), child.sum)


_M = TypeVar("_M", bound=_Metric[Any])


class Registry:
    """The metrics of one app, shown in the order they were made."""

    def __init__(self) -> None:
        self.metrics: list[_Metric[Any]] = []

    def add(self, metric: _M) -> _M:
        if any(m.name == metric.name for m in self.metrics):
            raise ValueError(f"{metric.name} is already registered")
        self.metrics.append(metric)
        return metric

    def exposition(self) -> bytes:
        lines = [line for metric in self.metrics for line in metric.lines()]
        return ("\n".join(lines) + "\n").encode()
