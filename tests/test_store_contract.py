"""The store contract, run against every backend: SQLite always, PostgreSQL where one is
reachable (SHOPMAX_TEST_POSTGRES_URL, default the local test database)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest

from bot.conversation import Turn
from bot.question import Question, Surface
from bot.store import Store, open_store
from bot.store.postgres import PostgresStore
from tests.conftest import BotFactory, ledger_row, payload
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.slack_server import BOT_USER, FakeSlack

POSTGRES_URL = os.environ.get(
    "SHOPMAX_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
Opener = Callable[[], Awaitable[Store]]
TS = "1700013000.000100"


async def postgres_schema() -> str:
    """A fresh schema for one test, or skip (with the reason) when PostgreSQL is not there."""
    try:
        db = await asyncio.wait_for(asyncpg.connect(POSTGRES_URL), 5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}")
    schema = f"shopmax_test_{uuid.uuid4().hex[:12]}"
    await db.execute(f"CREATE SCHEMA {schema}")
    await db.close()
    return schema


async def drop_schema(schema: str) -> None:
    db = await asyncpg.connect(POSTGRES_URL)
    await db.execute(f"DROP SCHEMA {schema} CASCADE")
    await db.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def opener(request: pytest.FixtureRequest, tmp_path: object) -> AsyncIterator[Opener]:
    """Opens stores on one fresh database of the backend under test."""
    opened: list[Store] = []
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/contract.db"

        async def open_one() -> Store:
            opened.append(await open_store(url))
            return opened[-1]
    else:
        schema = await postgres_schema()

        async def open_one() -> Store:
            opened.append(await PostgresStore.open(POSTGRES_URL, schema=schema))
            return opened[-1]

    yield open_one
    for store in opened:
        await store.close()
    if schema:
        await drop_schema(schema)


async def test_a_message_is_claimed_once_even_by_racing_replicas(opener: Opener) -> None:
    stores = [await opener() for _ in range(3)]
    results = await asyncio.gather(*(s.claim("T1:C1:1.0") for s in stores for _ in range(4)))
    assert sorted(results) == [False] * 11 + [True]


async def test_turns_come_back_in_order_per_thread(opener: Opener) -> None:
    store = await opener()
    await store.add_turns("t1", [Turn("user", "q1"), Turn("assistant", "a1")])
    await store.add_turns("t2", [Turn("user", "other")])
    await store.add_turns("t1", [Turn("user", "q2")])
    assert await store.turns("t1") == [
        Turn("user", "q1"),
        Turn("assistant", "a1"),
        Turn("user", "q2"),
    ]
    assert await store.has_thread("t2") and not await store.has_thread("t3")


async def test_questions_are_kept_for_retry_and_counted_for_limits(opener: Opener) -> None:
    store = await opener()
    question = Question("T1", "C1", "U1", "price?", Surface.COMMAND, "1.1", "1.0", "https://r")
    await store.save_question("q1", question)
    assert await store.question("q1") == question
    assert await store.question("nope") is None
    assert await store.questions_since("T1", "U1", 0) == 1
    assert await store.questions_since("T1", "U2", 0) == 0


async def test_answers_in_flight_are_tracked_until_ended(opener: Opener) -> None:
    store = await opener()
    await store.begin_answer("a1", "T1", "C1", "")
    await store.answer_progress("a1", "9.9", "partial text")
    [unfinished] = await store.unfinished_answers()
    assert (unfinished.answer_id, unfinished.ts, unfinished.text) == ("a1", "9.9", "partial text")
    await store.end_answer("a1")
    assert await store.unfinished_answers() == []


async def test_the_ledger_round_trips_and_sums_tokens(opener: Opener) -> None:
    store = await opener()
    row = ledger_row(team="T1", user="U1")
    await store.record(row)
    await store.record(ledger_row(team="T1", user="U2", cost_usd=None, cost_inr=None))
    rows = await store.ledger(0)
    assert rows[0] == row and rows[1].cost_usd is None
    assert await store.tokens_since("T1", "U1", 0) == 1500


async def test_feedback_descriptions_and_the_pending_batch(opener: Opener) -> None:
    store = await opener()
    await store.rate("a1", "U1", "bad")
    await store.rate("a1", "U1", "good")
    assert await store.feedback("a1") == {"U1": "good"}
    await store.save_description("SKU-1", "first", "m")
    await store.save_description("SKU-1", "second", "m")
    assert await store.descriptions() == {"SKU-1": "second"}
    assert await store.pending_batch() is None
    await store.set_pending_batch("msgbatch_1")
    assert await store.pending_batch() == "msgbatch_1"
    await store.set_pending_batch(None)
    assert await store.pending_batch() is None


async def test_migrations_are_safe_to_run_again_and_at_once(opener: Opener) -> None:
    """Replicas starting together migrate once; a restart migrates nothing and keeps data."""
    first, second = await asyncio.gather(opener(), opener())
    await first.add_turns("t", [Turn("user", "kept")])
    third = await opener()
    assert await third.turns("t") == [Turn("user", "kept")]
    assert await second.has_thread("t")


async def test_the_bot_answers_on_postgres_and_two_replicas_answer_a_mention_once(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Two bots on one PostgreSQL database get the app_mention and its message twin: one answer."""
    schema = await postgres_schema()
    try:
        url = f"{POSTGRES_URL}?search_path={schema}"
        first, second = await make_bot(database_url=url), await make_bot(database_url=url)
        text = f"<@{BOT_USER}> fridge under 30k?"
        await asyncio.gather(
            first.event(payload("app_mention", text=text, ts=TS)),
            second.event(payload("message", text=text, ts=TS, thread_ts=TS)),
            second.event(payload("app_mention", text=text, ts=TS)),
        )
        await first.handled(1)
        await second.handled(2)
        await first.services.answerer.wait_idle(10)
        await second.services.answerer.wait_idle(10)
        assert len(model.calls) == 1
        assert len(slack.calls_to("chat.postMessage")) == 1
        rows = await first.services.store.ledger(0)
        assert [r.outcome for r in rows] == ["ok"]
        await first.services.close()
        await second.services.close()
    finally:
        await drop_schema(schema)
