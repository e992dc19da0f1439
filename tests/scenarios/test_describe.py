"""Bulk product descriptions against a fake Message Batches API: submit, poll, collect,
partial failure, resume; and the concurrent --no-batch path."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import anthropic
import pytest

from bot.catalog.describe import describe
from bot.catalog.load import SAMPLE_CATALOG, load_catalog
from bot.settings import Settings
from bot.store import Store, open_store
from tests.conftest import run_bot
from tests.fakes.anthropic_server import FakeAnthropic

PRODUCTS = load_catalog(SAMPLE_CATALOG)[:6]


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[Store]:
    opened = await open_store(settings.database_url)
    yield opened
    await opened.close()


@pytest.fixture
async def client(model: FakeAnthropic) -> AsyncIterator[anthropic.AsyncAnthropic]:
    made = anthropic.AsyncAnthropic(api_key="sk-ant-test", base_url=model.url, max_retries=0)
    yield made
    await made.close()


async def test_a_batch_is_submitted_polled_and_collected(
    client: anthropic.AsyncAnthropic, store: Store, model: FakeAnthropic
) -> None:
    out = io.StringIO()
    report = await describe(
        client, store, PRODUCTS, model="claude-haiku-5-5", poll_seconds=0, out=out
    )
    assert (report.written, report.failed) == (6, {})
    [(batch_id, requests)] = model.batches.items()
    assert [r["custom_id"] for r in requests] == [p.sku for p in PRODUCTS]
    params = requests[0]["params"]
    assert params["messages"][0]["content"].startswith(f"SKU: {PRODUCTS[0].sku}\n")
    assert "stream" not in params
    # Polled until it ended (the SDK's results() reads the batch once more for its URL).
    assert model.batch_polls[batch_id] == model.polls_until_done + 1
    descriptions = await store.descriptions()
    assert descriptions[PRODUCTS[0].sku] == f"{PRODUCTS[0].sku}: a description."
    assert "6/6" in out.getvalue()
    rows = await store.ledger(0)
    assert {r.surface for r in rows} == {"batch"} and len(rows) == 6
    # Batch calls cost half: 150 in, 40 out at $0.10 / $0.50 per million, halved.
    assert rows[0].cost_usd == pytest.approx((150 * 0.10 + 40 * 0.50) / 1e6 / 2)
    assert await store.pending_batch() is None


async def test_failed_items_are_reported_and_retried_by_the_next_run(
    client: anthropic.AsyncAnthropic, store: Store, model: FakeAnthropic
) -> None:
    model.failing = {PRODUCTS[1].sku, PRODUCTS[4].sku}
    first = await describe(
        client, store, PRODUCTS, model="claude-haiku-5-5", poll_seconds=0, out=io.StringIO()
    )
    assert first.written == 4
    assert first.failed == {PRODUCTS[1].sku: "errored", PRODUCTS[4].sku: "errored"}
    model.failing = set()
    second = await describe(
        client,
        store,
        PRODUCTS,
        model="claude-haiku-5-5",
        poll_seconds=0,
        only_missing=True,
        out=io.StringIO(),
    )
    assert (second.written, second.skipped) == (2, 4)
    assert [r["custom_id"] for r in list(model.batches.values())[1]] == [
        PRODUCTS[1].sku,
        PRODUCTS[4].sku,
    ]
    assert len(await store.descriptions()) == 6


async def test_an_interrupted_run_resumes_the_same_batch(
    client: anthropic.AsyncAnthropic, store: Store, model: FakeAnthropic
) -> None:
    model.polls_until_done = 10**9  # the batch never ends while the first run waits

    run = asyncio.create_task(
        describe(
            client, store, PRODUCTS, model="claude-haiku-5-5", poll_seconds=0.01, out=io.StringIO()
        )
    )
    for _ in range(500):
        if await store.pending_batch() is not None:
            break
        await asyncio.sleep(0.01)
    run.cancel()  # Ctrl-C while waiting
    with pytest.raises(asyncio.CancelledError):
        await run
    pending = await store.pending_batch()
    model.polls_until_done = 0
    report = await describe(
        client, store, PRODUCTS, model="claude-haiku-5-5", poll_seconds=0, out=io.StringIO()
    )
    assert len(model.batches) == 1, "no second batch was paid for"
    assert report.written == 6 and await store.pending_batch() is None
    assert pending == next(iter(model.batches))


async def test_no_batch_makes_bounded_concurrent_create_calls(
    client: anthropic.AsyncAnthropic, store: Store, model: FakeAnthropic
) -> None:
    model.failing = {PRODUCTS[2].sku}
    report = await describe(
        client,
        store,
        PRODUCTS,
        model="claude-haiku-5-5",
        use_batch=False,
        concurrency=2,
        out=io.StringIO(),
    )
    assert report.written == 5 and list(report.failed) == [PRODUCTS[2].sku]
    assert len(model.created) == 6 and model.batches == {}
    rows = await store.ledger(0)
    assert rows[0].cost_usd == pytest.approx((150 * 0.10 + 40 * 0.50) / 1e6)


async def test_the_describe_command(
    model: FakeAnthropic, settings: Settings, tmp_path: Path
) -> None:
    env = {
        "ANTHROPIC_API_KEY": "sk-ant-test",
        "ANTHROPIC_BASE_URL": model.url,
        "DATABASE_URL": settings.database_url,
        "SHOPMAX_BATCH_POLL_SECONDS": "0.01",
    }
    code, out, err = await run_bot("catalog", "describe", "--limit", "5", env=env, cwd=tmp_path)
    assert code == 0, err
    assert out.strip() == "5 written, 0 skipped, 0 failed"
    assert "5/5" in err
