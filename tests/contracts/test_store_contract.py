"""The store contract, run against every backend: SQLite always, PostgreSQL where one is
reachable (SHOPMAX_TEST_POSTGRES_URL, default the local test database)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace

import pytest

from bot.question import Question, Surface, Turn
from bot.store import Store, open_store
from bot.store.base import CHANNEL_SCOPE, PERSON_SCOPE, Admission, StoreChoice, WebSession
from bot.store.postgres import PostgresStore
from bot.store.retention import Retention
from tests.conftest import BotFactory, ledger_row, payload
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.slack_server import BOT_USER, FakeSlack
from tests.services import POSTGRES_URL, drop_schema, postgres_schema

Opener = Callable[[], Awaitable[Store]]
TS = "1700013000.000100"


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


def limits(**changes: int | None) -> Admission:
    """An admission of the last hour and day: 2 questions, 1,000 tokens, 400 held each."""
    now = time.time()
    base = Admission(now - 3600, 2, now - 86400, 1000, 400, now - 3600)
    return replace(base, **changes)  # type: ignore[arg-type]


async def test_admission_counts_questions_and_holds_tokens_atomically(opener: Opener) -> None:
    """Concurrent admissions of one person on several connections are counted one after the
    other; a held reservation counts like used tokens until it is settled; a team with a
    ceiling is refused as a whole past it (`team`), other teams are not."""
    stores = [await opener() for _ in range(3)]
    asked = Question("T1", "C1", "U1", "price?", Surface.WEB, "1.1", "c1")
    verdicts = await asyncio.gather(
        *(s.admit(f"q{n}", asked, limits(tokens_most=10_000)) for n, s in enumerate(stores * 2))
    )
    assert sorted(map(str, verdicts)) == ["None", "None"] + ["questions"] * 4
    store = stores[0]
    other, five = replace(asked, user="U2"), limits(most=5)
    for n in range(3):  # 0, 400 and 800 held of 1,000: each is let in (and holds 400 more)
        assert await store.admit(f"q1{n}", other, five) is None
    assert await store.admit("q13", other, five) == "tokens"  # 1,200 held
    for n in range(3):
        await store.settle(f"q1{n}")
    assert await store.admit("q14", other, five) is None
    shared = replace(asked, team="web", user="a")
    ceiling = {"team_most": 3, "team_tokens_most": 10_000}
    for n, user in enumerate(["a", "a", "b"]):
        assert await store.admit(f"w{n}", replace(shared, user=user), limits(**ceiling)) is None
    assert await store.admit("w3", replace(shared, user="c"), limits(**ceiling)) == "team"
    assert await store.admit("w4", replace(shared, user="c"), limits()) is None


async def test_a_top_up_is_held_only_when_the_allowance_covers_it(opener: Opener) -> None:
    """A reservation grows only while the person's (and team's) tokens used and held, plus the
    top-up, stay within the limit; refused, nothing changes."""
    store = await opener()
    asked = Question("T1", "C1", "U1", "price?", Surface.WEB, "1.1", "c1")
    assert await store.admit("q1", asked, limits()) is None  # 400 held of 1,000
    assert await store.top_up("q1", asked, 600, limits())  # 1,000: exactly covered
    assert not await store.top_up("q1", asked, 1, limits())
    await store.settle("q1")
    assert await store.admit("q2", asked, limits()) is None
    shared = replace(asked, team="web")
    assert await store.admit("w1", shared, limits()) is None
    assert not await store.top_up("w1", shared, 300, limits(team_tokens_most=500))
    assert await store.top_up("w1", shared, 300, limits(team_tokens_most=700))


async def test_a_live_replicas_answers_are_not_taken_over(opener: Opener) -> None:
    store = await opener()
    await store.begin_answer("a1", "T1", "C1", "", owner="r1", lease=60)
    await store.answer_progress("a1", "9.9", "partial text")
    assert await store.take_over("r2", 60, own_too=False) == []
    await store.end_answer("a1")
    assert await store.take_over("r1", 60, own_too=True) == []


async def test_an_expired_lease_hands_the_answer_to_a_survivor_with_its_text(
    opener: Opener,
) -> None:
    store = await opener()
    await store.begin_answer("a1", "T1", "C1", "", owner="r1", lease=0.05)
    await store.answer_progress("a1", "9.9", "partial text")
    await asyncio.sleep(0.1)
    [taken] = await store.take_over("r2", 60, own_too=False)
    assert (taken.answer_id, taken.channel, taken.ts, taken.text) == (
        "a1",
        "C1",
        "9.9",
        "partial text",
    )
    # Now r2 holds it: nobody else takes it again while r2's lease runs.
    assert await store.take_over("r3", 60, own_too=False) == []


async def test_renewing_keeps_a_replicas_answers(opener: Opener) -> None:
    store = await opener()
    await store.begin_answer("a1", "T1", "C1", "", owner="r1", lease=0.3)
    await store.begin_answer("b1", "T1", "C1", "", owner="r2", lease=0.3)
    await asyncio.sleep(0.2)
    await store.renew_leases("r1", 60)
    await asyncio.sleep(0.2)
    assert [u.answer_id for u in await store.take_over("r3", 60, own_too=False)] == ["b1"]


async def test_a_restarted_replica_takes_back_its_own_answers_at_once(opener: Opener) -> None:
    store = await opener()
    await store.begin_answer("a1", "T1", "C1", "", owner="r1", lease=60)
    await store.begin_answer("b1", "T1", "C1", "", owner="r2", lease=60)
    assert [u.answer_id for u in await store.take_over("r1", 60, own_too=True)] == ["a1"]


async def test_survivors_sweeping_at_once_never_take_the_same_answer(opener: Opener) -> None:
    stores = [await opener() for _ in range(3)]
    for n in range(12):
        await stores[0].begin_answer(f"a{n}", "T1", "C1", "", owner="dead", lease=0.01)
    await asyncio.sleep(0.05)
    taken = await asyncio.gather(
        *(s.take_over(f"r{i}", 60, own_too=False) for i, s in enumerate(stores))
    )
    ids = [u.answer_id for batch in taken for u in batch]
    assert sorted(ids) == sorted(f"a{n}" for n in range(12))


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
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic, postgres_url: str
) -> None:
    """Two bots on one PostgreSQL database get the app_mention and its message twin: one answer."""
    first, second = (
        await make_bot(database_url=postgres_url),
        await make_bot(database_url=postgres_url),
    )
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


async def test_a_keyed_write_written_twice_is_kept_once(opener: Opener) -> None:
    """A replay after an outage (or a retry whose first try landed) writes again with the
    same key: one ledger row, one copy of the turns. Without a key each write is new."""
    store = await opener()
    row = ledger_row(team="T1", user="U1")
    for _ in range(2):
        await store.record(row, key="k-ledger")
        await store.add_turns("t1", [Turn("user", "q"), Turn("assistant", "a")], key="k-turns")
    await store.record(row)
    await store.record(row)
    assert len(await store.ledger(0)) == 3
    assert await store.turns("t1") == [Turn("user", "q"), Turn("assistant", "a")]


async def test_writes_kept_for_later_keep_the_time_they_happened(opener: Opener) -> None:
    """A question written after an outage counts for limits at the time it was asked."""
    store = await opener()
    question = Question("T1", "C1", "U1", "price?", Surface.MENTION, "1.1", "1.0")
    hour_ago = time.time() - 3600
    await store.save_question("q1", question, at=hour_ago)
    assert await store.questions_since("T1", "U1", hour_ago - 1) == 1
    assert await store.questions_since("T1", "U1", hour_ago + 1) == 0


async def test_ping_answers_while_the_database_does(opener: Opener) -> None:
    store = await opener()
    await store.ping()


async def test_retention_forgets_claims_after_a_day_and_history_after_its_days(
    opener: Opener,
) -> None:
    """Claims go after a day; turns and questions after SHOPMAX_HISTORY_DAYS; the ledger,
    figures only, is kept whatever its age. Deleted in batches until nothing is left."""
    store = await opener()
    now = time.time()
    day = 24 * 60 * 60
    question = Question("T1", "C1", "U1", "price?", Surface.MENTION, "1.1", "1.0")
    assert await store.claim("T1:C1:1.1")
    for n in range(5):
        await store.add_turns("old", [Turn("user", f"q{n}")], at=now - 91 * day)
        await store.save_question(f"old{n}", question, at=now - 91 * day)
    await store.add_turns("recent", [Turn("user", "kept")], at=now - 88 * day)
    await store.save_question("recent", question, at=now - 88 * day)
    await store.record(ledger_row(at=now - 400 * day))
    # A day and a minute later, with 90 days of history: 1 claim, 5 turns, 5 questions go.
    retention = Retention(store, history_days=90, batch=2, clock=lambda: now + day + 60)
    assert await retention.run_once() == 11
    assert await store.claim("T1:C1:1.1"), "the claim was forgotten"
    assert await store.turns("old") == [] and await store.question("old0") is None
    assert await store.turns("recent") == [Turn("user", "kept")]
    assert await store.question("recent") == question
    assert len(await store.ledger(0)) == 1
    retention = Retention(store, history_days=90, clock=lambda: now)
    await store.add_turns("fresh", [Turn("user", "kept")])
    assert await retention.run_once() == 0
    assert await store.turns("fresh") == [Turn("user", "kept")]


async def test_a_channels_store_comes_before_the_persons_own_and_both_can_go(
    opener: Opener,
) -> None:
    """Which store a question is about: the channel's mapping, else the asker's own, else
    none; a second choice replaces the first, per team; None removes it; another replica
    sees it at once."""
    store, other = await opener(), await opener()
    assert await store.asker_store("T1", "C1", "U1") is None
    await store.choose_store("T1", PERSON_SCOPE, "U1", "MUM-01", by="U1")
    assert await other.asker_store("T1", "C1", "U1") == StoreChoice(
        "MUM-01", PERSON_SCOPE, "U1", "U1"
    )
    await store.choose_store("T1", CHANNEL_SCOPE, "C1", "PUN-02", by="UADMIN")
    await store.choose_store("T1", CHANNEL_SCOPE, "C1", "PUN-03", by="UADMIN")
    mapped = StoreChoice("PUN-03", CHANNEL_SCOPE, "C1", "UADMIN")
    assert await other.asker_store("T1", "C1", "U1") == mapped
    assert await other.asker_store("T1", "C2", "U1") == StoreChoice(
        "MUM-01", PERSON_SCOPE, "U1", "U1"
    )
    assert await other.asker_store("T2", "C1", "U1") is None  # another workspace's ids
    assert await other.store_choice("T1", CHANNEL_SCOPE, "C1") == mapped
    await store.choose_store("T1", CHANNEL_SCOPE, "C1", None, by="UADMIN")
    assert await other.store_choice("T1", CHANNEL_SCOPE, "C1") is None
    assert (await other.asker_store("T1", "C1", "U1")) == StoreChoice(
        "MUM-01", PERSON_SCOPE, "U1", "U1"
    )
    await store.choose_store("T1", PERSON_SCOPE, "U1", None, by="U1")
    assert await other.asker_store("T1", "C1", "U1") is None


async def test_a_browser_session_keeps_its_store(opener: Opener) -> None:
    store = await opener()
    session = WebSession("s1", "T1", "U1", "Priya", "slack", time.time() + 60, time.time())
    await store.start_session(replace(session, store="BLR-07"))
    await store.start_session(replace(session, session_id="s2"))
    kept = await store.web_session("s1")
    assert kept is not None and kept.store == "BLR-07"
    bare = await store.web_session("s2")
    assert bare is not None and bare.store == ""
