"""Bulk product descriptions: non-streaming calls, as the ShopMax guide reserves them for batch
work. Through the Message Batches API by default (half the price: submit, poll, collect), or
with `--no-batch` as bounded concurrent `messages.create` calls.

Resumable: descriptions are stored per SKU as they arrive, and a submitted batch's id is kept
until its results are collected, so an interrupted run picks the same batch up again instead
of paying twice. Items that fail are reported at the end and, having no description, are asked
again by the next `--only-missing` run. Each call's usage goes to the ledger (surface `batch`).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TextIO

import anthropic

from bot.accounting.ledger import row_for
from bot.catalog.product import Product
from bot.model.pricing import PRICES, ModelPrice
from bot.model.usage import AnswerStats, usage_from
from bot.store import Store

PROMPT = (
    "You write product descriptions for ShopMax India's store listings. Write two or three "
    "plain sentences (at most 60 words) describing the product for a shopper, using only the "
    "facts given. Do not state a price, an offer or anything not in the facts."
)
BATCH_DISCOUNT = Decimal("0.5")
POLL_SECONDS = 10.0


@dataclass
class Described:
    written: int = 0
    skipped: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # sku -> reason


def request_for(product: Product, model: str) -> dict[str, Any]:
    """The Messages API parameters that describe one product."""
    facts = json.dumps(
        {k: v for k, v in product.details().items() if k not in ("stock", "in_stock_in")},
        ensure_ascii=False,
    )
    return {
        "model": model,
        "max_tokens": 200,
        "system": PROMPT,
        "messages": [{"role": "user", "content": f"SKU: {product.sku}\n{facts}"}],
    }


class ProgressBar:
    """A one-line progress bar on a terminal stream."""

    def __init__(self, total: int, out: TextIO = sys.stderr) -> None:
        self.total, self.done, self.out = total, 0, out

    def advance(self, count: int = 1) -> None:
        self.done += count
        filled = int(30 * self.done / max(self.total, 1))
        self.out.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total}")
        self.out.flush()
        if self.done >= self.total:
            self.out.write("\n")


async def describe(
    client: anthropic.AsyncAnthropic,
    store: Store,
    products: Sequence[Product],
    *,
    model: str,
    use_batch: bool = True,
    only_missing: bool = False,
    limit: int | None = None,
    concurrency: int = 4,
    usd_inr: float = 84.0,
    prices: dict[str, ModelPrice] = PRICES,
    poll_seconds: float = POLL_SECONDS,
    out: TextIO = sys.stderr,
) -> Described:
    result = Described()
    done = await store.descriptions()
    todo = [p for p in products if not (only_missing and p.sku in done)]
    result.skipped = len(products) - len(todo)
    if limit is not None:
        todo = todo[:limit]
    pending = await store.pending_batch()
    if not todo and pending is None:
        return result
    costs = _CostRows(store, usd_inr, prices)
    if use_batch:
        await _by_batch(client, store, todo, model, result, costs, pending, poll_seconds, out)
    else:
        await _concurrently(client, store, todo, model, result, costs, concurrency, out)
    return result


async def _by_batch(
    client: anthropic.AsyncAnthropic,
    store: Store,
    todo: Sequence[Product],
    model: str,
    result: Described,
    costs: _CostRows,
    pending: str | None,
    poll_seconds: float,
    out: TextIO,
) -> None:
    if pending is None:
        requests: list[Any] = [{"custom_id": p.sku, "params": request_for(p, model)} for p in todo]
        batch = await client.messages.batches.create(requests=requests)
        pending = batch.id
        await store.set_pending_batch(pending)
        out.write(f"submitted batch {pending} with {len(todo)} products\n")
    else:
        out.write(f"resuming batch {pending}\n")
    while True:
        batch = await client.messages.batches.retrieve(pending)
        if batch.processing_status == "ended":
            break
        await asyncio.sleep(poll_seconds)
    counts = batch.request_counts
    progress = ProgressBar(
        counts.succeeded + counts.errored + counts.canceled + counts.expired, out
    )
    async for item in await client.messages.batches.results(pending):
        if item.result.type == "succeeded":
            message = item.result.message
            await store.save_description(item.custom_id, _text(message.content), message.model)
            await costs.add(message.model, message.usage, discount=BATCH_DISCOUNT)
            result.written += 1
        else:
            result.failed[item.custom_id] = item.result.type
        progress.advance()
    await store.set_pending_batch(None)


async def _concurrently(
    client: anthropic.AsyncAnthropic,
    store: Store,
    todo: Sequence[Product],
    model: str,
    result: Described,
    costs: _CostRows,
    concurrency: int,
    out: TextIO,
) -> None:
    progress = ProgressBar(len(todo), out)
    gate = asyncio.Semaphore(concurrency)

    async def one(product: Product) -> None:
        async with gate:
            try:
                message = await client.messages.create(**request_for(product, model))
            except anthropic.APIError as exc:
                result.failed[product.sku] = type(exc).__name__
            else:
                await store.save_description(product.sku, _text(message.content), message.model)
                await costs.add(message.model, message.usage, discount=Decimal(1))
                result.written += 1
            progress.advance()

    await asyncio.gather(*(one(p) for p in todo))


def _text(content: Any) -> str:
    return "".join(block.text for block in content if block.type == "text").strip()


class _CostRows:
    """Each call's usage as a ledger row (surface `batch`), batch calls at half price."""

    def __init__(self, store: Store, usd_inr: float, prices: dict[str, ModelPrice]) -> None:
        self.store, self.usd_inr, self.prices = store, usd_inr, prices

    async def add(self, model: str, usage: Any, *, discount: Decimal) -> None:
        stats = AnswerStats(model, usage_from(usage), "end_turn", duration_s=0.0, ttft_s=None)
        await self.store.record(
            row_for(
                team="batch",
                channel="catalog",
                user="batch",
                surface="batch",
                stats=stats,
                outcome="ok",
                usd_inr=self.usd_inr,
                prices=self.prices,
                discount=discount,
            )
        )
