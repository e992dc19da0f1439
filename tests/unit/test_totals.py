"""Usage reports from the ledger (pure): totals, groups, percentiles, text and CSV."""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest

from bot.accounting.ledger import LedgerRow
from bot.accounting.totals import as_csv, as_table, grouped, percentile, totals
from tests.conftest import ledger_row

IST = ZoneInfo("Asia/Kolkata")
NOV_20 = 1763577000.0  # 2025-11-20 00:00 IST

BASE = ledger_row(
    at=NOV_20 + 3600,
    team="T1",
    channel="C1",
    user="U1",
    input_tokens=100,
    output_tokens=50,
    ttft_ms=500.0,
    cost_usd=0.001,
    cost_inr=0.084,
)


def rows() -> list[LedgerRow]:
    return [
        BASE,
        replace(BASE, user="U2", ttft_ms=900.0, cost_usd=0.002, cost_inr=0.168),
        replace(BASE, channel="C2", at=NOV_20 + 86400 + 60, ttft_ms=300.0),
        replace(BASE, model="claude-mystery-9", cost_usd=None, cost_inr=None, ttft_ms=None),
    ]


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([], 0.5, None),
        ([7.0], 0.95, 7.0),
        ([1.0, 2.0, 3.0, 4.0], 0.5, 2.0),
        ([float(n) for n in range(1, 101)], 0.95, 95.0),
    ],
)
def test_percentile_is_nearest_rank(values: list[float], fraction: float, expected: float) -> None:
    assert percentile(values, fraction) == expected


def test_totals_count_unpriced_answers_apart() -> None:
    t = totals(rows())
    assert (t.answers, t.input_tokens, t.output_tokens, t.tokens) == (4, 400, 200, 600)
    assert t.cost_usd == pytest.approx(0.004)
    assert t.unpriced == 1
    assert (t.ttft_p50_ms, t.ttft_p95_ms) == (500.0, 900.0)


def test_grouping_by_day_uses_the_stores_time_zone() -> None:
    by_day = grouped(rows(), "day", IST)
    assert [(day, t.answers) for day, t in by_day] == [("2025-11-20", 3), ("2025-11-21", 1)]


def test_grouping_by_user_puts_the_costliest_first() -> None:
    by_user = grouped(rows(), "user", IST)
    assert [name for name, _ in by_user] == ["U1", "U2"]
    assert by_user[0][1].answers == 3


def test_unknown_grouping_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot group by 'colour'"):
        grouped(rows(), "colour", IST)


def test_csv_has_a_header_and_a_row_per_group() -> None:
    text = as_csv(grouped(rows(), "model", IST), "model")
    lines = text.splitlines()
    assert lines[0] == (
        "model,answers,input,output,cache,cost_usd,cost_inr,unpriced,ttft_p50_ms,ttft_p95_ms"
    )
    assert lines[1] == "claude-haiku-5-5,3,300,150,0,0.004000,0.3360,0,500,900"
    assert lines[2] == "claude-mystery-9,1,100,50,0,0.000000,0.0000,1,,"


def test_table_lines_up_and_ends_with_a_total() -> None:
    table = as_table(grouped(rows(), "channel", IST), "channel").splitlines()
    assert table[0].split()[:3] == ["channel", "answers", "input"]
    assert set(table[1]) <= {"-", " "}
    assert table[-1].split()[:2] == ["TOTAL", "4"]
    assert len({len(line) for line in table}) == 1, "columns line up"
