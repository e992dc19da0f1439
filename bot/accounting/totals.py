"""Usage reports from the ledger: totals, groups, and their text, CSV and Slack forms. Pure.

Costs add up only what is priced; answers on a model without a price are counted apart
("unpriced") so a total is never silently low.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from bot.accounting.ledger import LedgerRow
from bot.wording import texts
from bot.wording.inert import Mentioning

GROUPS = ("user", "channel", "model", "day", "surface")


@dataclass(frozen=True)
class Totals:
    answers: int
    input_tokens: int
    output_tokens: int
    cache_tokens: int
    cost_usd: float
    cost_inr: float
    unpriced: int
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None
    unverified_figures: int = 0

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens + self.cache_tokens


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The value below which `fraction` of `values` lie (nearest rank); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(math.ceil(fraction * len(ordered)), 1)
    return ordered[rank - 1]


def totals(rows: Iterable[LedgerRow]) -> Totals:
    rows = list(rows)
    ttfts = [r.ttft_ms for r in rows if r.ttft_ms is not None]
    return Totals(
        answers=len(rows),
        input_tokens=sum(r.input_tokens for r in rows),
        output_tokens=sum(r.output_tokens for r in rows),
        cache_tokens=sum(r.cache_write_tokens + r.cache_read_tokens for r in rows),
        cost_usd=sum(r.cost_usd or 0.0 for r in rows),
        cost_inr=sum(r.cost_inr or 0.0 for r in rows),
        unpriced=sum(1 for r in rows if r.cost_usd is None),
        ttft_p50_ms=percentile(ttfts, 0.5),
        ttft_p95_ms=percentile(ttfts, 0.95),
        unverified_figures=sum(r.unverified_figures for r in rows),
    )


def key_for(by: str, tz: tzinfo) -> Callable[[LedgerRow], str]:
    if by == "day":
        return lambda row: datetime.fromtimestamp(row.at, tz).strftime("%Y-%m-%d")
    if by not in GROUPS:
        raise ValueError(f"cannot group by {by!r}; choose one of {', '.join(GROUPS)}")
    return lambda row: str(getattr(row, by))


def grouped(rows: Iterable[LedgerRow], by: str, tz: tzinfo) -> list[tuple[str, Totals]]:
    """Totals per group: by day in date order, otherwise the costliest first."""
    key = key_for(by, tz)
    groups: dict[str, list[LedgerRow]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    result = [(name, totals(members)) for name, members in groups.items()]
    if by == "day":
        return sorted(result)
    return sorted(result, key=lambda item: (-item[1].cost_usd, -item[1].tokens, item[0]))


COLUMNS = (
    "answers",
    "input",
    "output",
    "cache",
    "cost_usd",
    "cost_inr",
    "unpriced",
    "ttft_p50_ms",
    "ttft_p95_ms",
)


def _cells(t: Totals) -> list[str]:
    def ms(value: float | None) -> str:
        return "" if value is None else f"{value:.0f}"

    return [
        str(t.answers),
        str(t.input_tokens),
        str(t.output_tokens),
        str(t.cache_tokens),
        f"{t.cost_usd:.6f}",
        f"{t.cost_inr:.4f}",
        str(t.unpriced),
        ms(t.ttft_p50_ms),
        ms(t.ttft_p95_ms),
    ]


def as_csv(groups: Sequence[tuple[str, Totals]], by: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([by, *COLUMNS])
    for name, t in groups:
        writer.writerow([name, *_cells(t)])
    return out.getvalue()


def as_table(groups: Sequence[tuple[str, Totals]], by: str) -> str:
    """A fixed-width table for the terminal, with a total line."""
    rows = [[by, *COLUMNS]] + [[name, *_cells(t)] for name, t in groups]
    if groups:
        everything = _sum(t for _, t in groups)
        rows.append(["TOTAL", *_cells(everything)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _sum(items: Iterable[Totals]) -> Totals:
    items = list(items)
    return Totals(
        answers=sum(t.answers for t in items),
        input_tokens=sum(t.input_tokens for t in items),
        output_tokens=sum(t.output_tokens for t in items),
        cache_tokens=sum(t.cache_tokens for t in items),
        cost_usd=sum(t.cost_usd for t in items),
        cost_inr=sum(t.cost_inr for t in items),
        unpriced=sum(t.unpriced for t in items),
        ttft_p50_ms=None,
        ttft_p95_ms=None,
        unverified_figures=sum(t.unverified_figures for t in items),
    )


def summary_line(t: Totals) -> str:
    """One line for Slack: answers, tokens, cost (and unpriced answers), TTFT."""
    cost = texts.costs(t.cost_usd, t.cost_inr, t.unpriced)
    line = f"{texts.answers(t.answers)} · {t.tokens:,} tokens · {cost}"
    if t.ttft_p50_ms is not None and t.ttft_p95_ms is not None:
        line += f" · first token p50 {t.ttft_p50_ms:.0f} ms, p95 {t.ttft_p95_ms:.0f} ms"
    return line


def top_lines(groups: Sequence[tuple[str, Totals]], by: str, limit: int = 5) -> str:
    """The biggest groups, one line each; people and channels by their live Slack names (ids
    from the ledger, which Slack gave us, so the mentions are allowed through)."""

    def name(value: str) -> str:
        return {"user": f"<@{value}>", "channel": f"<#{value}>"}.get(by, f"`{value}`")

    shown = groups[:limit]
    lines = "\n".join(f"• {name(n)}: {summary_line(t)}" for n, t in shown) or texts.NO_USAGE
    return Mentioning(lines, (n for n, _ in shown)) if by in ("user", "channel") else lines
