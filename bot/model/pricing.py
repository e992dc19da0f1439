"""Model prices and the cost of one answer. Pure.

Prices are US dollars per million tokens, taken from Anthropic's model pages on `PRICES_AS_OF`.
Claude Haiku 5.5 is priced in two tiers: requests whose prompt (input plus cache tokens) is over
100,000 tokens pay the higher row for the whole request. A model missing from the table has an
unknown cost, shown as such — never as zero.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

from bot.model.usage import Usage

PRICES_AS_OF = "2026-11-23"
PRICE_FIELDS = frozenset({"input", "output", "cache_write_5m", "cache_write_1h", "cache_read"})
MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class Price:
    """Dollars per million tokens for each kind of token."""

    input: Decimal
    output: Decimal
    cache_write_5m: Decimal
    cache_write_1h: Decimal
    cache_read: Decimal


@dataclass(frozen=True)
class ModelPrice:
    """A model's price, with an optional higher tier for long prompts."""

    base: Price
    long_prompt: Price | None = None
    long_prompt_over: int = 100_000

    def for_prompt(self, prompt_tokens: int) -> Price:
        if self.long_prompt is not None and prompt_tokens > self.long_prompt_over:
            return self.long_prompt
        return self.base


def _standard(input_per_mtok: str, output_per_mtok: str) -> Price:
    """Anthropic's usual ratios: 5-minute cache writes 1.25x input, 1-hour 2x, reads 0.1x."""
    base = Decimal(input_per_mtok)
    return Price(
        input=base,
        output=Decimal(output_per_mtok),
        cache_write_5m=base * Decimal("1.25"),
        cache_write_1h=base * 2,
        cache_read=base / 10,
    )


PRICES: dict[str, ModelPrice] = {
    "claude-haiku-5-5": ModelPrice(
        base=_standard("0.10", "0.50"), long_prompt=_standard("0.50", "2.50")
    ),
    "claude-sonnet-5-5": ModelPrice(base=_standard("2", "10")),
    "claude-opus-5-5": ModelPrice(base=_standard("4", "20")),
    "claude-haiku-4-5": ModelPrice(base=_standard("1", "5")),
    "claude-sonnet-4-5": ModelPrice(base=_standard("3", "15")),
    "claude-opus-4-5": ModelPrice(base=_standard("5", "25")),
    # The offline demo model (bot/model/demo) runs in the bot's own process: it really is free,
    # and its answers count as $0 rather than "unpriced".
    "shopmax-offline-demo": ModelPrice(base=_standard("0", "0")),
}


def price_for(model: str, table: dict[str, ModelPrice] = PRICES) -> ModelPrice | None:
    """The price of `model`, also for dated ids such as `claude-haiku-4-5-20251001`."""
    if model in table:
        return table[model]
    for name, price in table.items():
        if model.startswith(name + "-") and model[len(name) + 1 :].isdigit():
            return price
    return None


def cost_usd(model: str, usage: Usage, table: dict[str, ModelPrice] = PRICES) -> Decimal | None:
    """Dollars this usage cost, or None when the model's price is unknown.

    Cache writes are counted at the 5-minute rate: the bot only asks for 5-minute caching.
    """
    model_price = price_for(model, table)
    if model_price is None:
        return None
    price = model_price.for_prompt(usage.prompt_tokens)
    total = (
        usage.input_tokens * price.input
        + usage.output_tokens * price.output
        + usage.cache_write_tokens * price.cache_write_5m
        + usage.cache_read_tokens * price.cache_read
    )
    return total / MILLION


def with_overrides(raw: str, table: dict[str, ModelPrice] = PRICES) -> dict[str, ModelPrice]:
    """The price table with models added or replaced from JSON such as
    `{"claude-x": {"input": 1, "output": 5}}` (dollars per million tokens). Cache prices
    default to Anthropic's usual ratios of the input price. Raises ValueError, saying what
    is wrong."""
    try:
        overrides = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"expected JSON ({exc.msg})") from None
    if not isinstance(overrides, dict):
        raise ValueError('expected a JSON object: {"model": {"input": 1, "output": 5}}')
    merged = dict(table)
    for model, fields in overrides.items():
        if not isinstance(fields, dict) or not {"input", "output"} <= fields.keys():
            raise ValueError(f"{model}: give at least input and output prices")
        unknown = set(fields) - {
            "input",
            "output",
            "cache_write_5m",
            "cache_write_1h",
            "cache_read",
        }
        if unknown:
            raise ValueError(f"{model}: unknown price {sorted(unknown)[0]!r}")
        try:
            base = _standard(str(fields["input"]), str(fields["output"]))
            price = Price(
                input=base.input,
                output=base.output,
                cache_write_5m=Decimal(str(fields.get("cache_write_5m", base.cache_write_5m))),
                cache_write_1h=Decimal(str(fields.get("cache_write_1h", base.cache_write_1h))),
                cache_read=Decimal(str(fields.get("cache_read", base.cache_read))),
            )
        except ArithmeticError:
            raise ValueError(f"{model}: prices must be numbers") from None
        merged[model] = ModelPrice(base=price)
    return merged
