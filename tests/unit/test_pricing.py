"""Cost of an answer per model and token kind (pure)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.model.demo import DEMO_MODEL
from bot.model.pricing import cost_usd
from bot.model.usage import Usage
from bot.wording.texts import cost_text, money


@pytest.mark.parametrize(
    ("model", "usage", "expected"),
    [
        ("claude-haiku-5-5", Usage(100_000, 0), "0.01"),
        ("claude-haiku-5-5", Usage(0, 1_000_000), "0.50"),
        ("claude-haiku-5-5", Usage(0, 0, cache_write_tokens=100_000), "0.0125"),
        ("claude-haiku-5-5", Usage(0, 0, cache_read_tokens=100_000), "0.001"),
        # Over 100,000 prompt tokens the whole request is priced at the long-prompt tier.
        ("claude-haiku-5-5", Usage(150_000, 1_000), "0.0775"),
        ("claude-sonnet-5-5", Usage(1_000, 500), "0.007"),
        ("claude-haiku-4-5-20251001", Usage(1_000_000, 1_000_000), "6"),
    ],
)
def test_cost_per_model_and_token_kind(model: str, usage: Usage, expected: str) -> None:
    assert cost_usd(model, usage) == Decimal(expected)


def test_unknown_model_has_unknown_cost_not_zero() -> None:
    assert cost_usd("claude-mystery-9", Usage(1000, 1000)) is None
    assert cost_text(None, 84.0) == "cost unknown"


def test_cost_text_in_dollars_and_rupees() -> None:
    assert cost_text(Decimal("0.0125"), 84.0) == "$0.013 (₹1.05)"


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("0", "0.00"),
        ("0.0000275", "0.000028"),
        ("0.00015", "0.00015"),
        ("0.0125", "0.013"),
        ("0.15", "0.15"),
        ("1234.5", "1,234.50"),
    ],
)
def test_small_amounts_keep_two_significant_digits(amount: str, shown: str) -> None:
    """A cheap answer shows what it cost rather than $0.00."""
    assert money(Decimal(amount)) == shown


def test_the_offline_demo_model_costs_nothing_rather_than_unknown() -> None:
    """Its answers run in the bot's own process: $0 in the footer and the ledger."""
    assert cost_usd(DEMO_MODEL, Usage(5_000, 2_000)) == 0
