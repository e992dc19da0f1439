"""The knowledge base's search contract (`bot.knowledge.base`), run against every backend:
SQLite FTS5 always, PostgreSQL full-text search where one is reachable."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path

import pytest

from bot.knowledge import SAMPLE_KNOWLEDGE, KnowledgeBase, open_knowledge, read_folder
from bot.knowledge.documents import IST, parse_text
from tests.services import POSTGRES_URL, drop_schema, postgres_schema

Opener = Callable[[], Awaitable[KnowledgeBase]]
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=IST).timestamp()


@pytest.fixture(params=["sqlite", "postgres"])
async def opener(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Opener]:
    """Opens knowledge bases on one fresh database of the backend under test."""
    opened: list[KnowledgeBase] = []
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/knowledge.db"
    else:
        schema = await postgres_schema()
        url = f"{POSTGRES_URL}?search_path={schema}"

    async def open_one() -> KnowledgeBase:
        opened.append(await open_knowledge(url))
        return opened[-1]

    yield open_one
    for knowledge in opened:
        await knowledge.close()
    if schema:
        await drop_schema(schema)


async def sample(opener: Opener) -> KnowledgeBase:
    knowledge = await opener()
    await knowledge.replace_all(read_folder(SAMPLE_KNOWLEDGE), at=NOW)
    return knowledge


async def titles(knowledge: KnowledgeBase, query: str, **given: object) -> list[str]:
    category = given.get("category")
    at = float(given.get("at", NOW))  # type: ignore[arg-type]
    found = await knowledge.search(query, category=category, at=at, limit=5)  # type: ignore[arg-type]
    return [f"{s.title} / {s.heading}" for s in found]


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("return window for a TV", "Returns and exchange policy / Time limits"),
        ("split AC installation charge", "Delivery and installation charges / Air conditioners"),
        ("extended warranty price plans", "ShopMax Care extended warranty / Plans and prices"),
        ("no-cost EMI tenure", "No-cost EMI and HDFC Bank instant discount / No-cost EMI"),
        ("refund", "Returns and exchange policy / Refunds"),
    ],
)
async def test_the_best_matching_section_comes_first(
    opener: Opener, query: str, first: str
) -> None:
    """Words in the title weigh most, then the heading, then the text; prefixes count."""
    knowledge = await sample(opener)
    assert (await titles(knowledge, query))[0] == first


async def test_an_expired_offer_is_never_returned(opener: Opener) -> None:
    """The SBI Diwali cashback ran in 2024: it cannot be found in 2026, and could in 2024."""
    knowledge = await sample(opener)
    assert not any("SBI" in t for t in await titles(knowledge, "sbi diwali cashback"))
    during = datetime(2024, 11, 1, 12, 0, tzinfo=IST).timestamp()
    assert (await titles(knowledge, "sbi diwali cashback", at=during))[0].startswith("SBI Card")


async def test_validity_dates_are_whole_days_in_india_standard_time(opener: Opener) -> None:
    """valid_until 2026-12-31 runs to midnight IST, not UTC; valid_from starts at midnight IST."""
    knowledge = await opener()
    document = parse_text(
        "offer.md", "---\nvalid_from: 2026-12-01\nvalid_until: 2026-12-31\n---\nFestive offer."
    )
    await knowledge.replace_all([document], at=NOW)

    async def found(day: int, hour: int, minute: int = 0) -> bool:
        when = datetime(2026, 12, day, hour, minute, tzinfo=IST).timestamp()
        return bool(await knowledge.search("festive", category=None, at=when, limit=5))

    assert [await found(1, 0), await found(31, 23, 59), await found(30, 23, 59)] == [True] * 3
    late = datetime(2027, 1, 1, 0, 0, tzinfo=IST).timestamp()
    early = datetime(2026, 11, 30, 23, 59, tzinfo=IST).timestamp()
    for when in (late, early):
        assert await knowledge.search("festive", category=None, at=when, limit=5) == []


async def test_a_category_finds_documents_about_it_or_about_everything(opener: Opener) -> None:
    knowledge = await sample(opener)
    for_tv = await titles(knowledge, "troubleshooting technician", category="tv")
    assert any("TV shows no signal" in t for t in for_tv)
    assert not any("AC not cooling" in t for t in for_tv)
    everything = await titles(knowledge, "returns", category="tv")
    assert everything[0].startswith("Returns and exchange policy")


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        '"',
        "NEAR(a b)",
        "return* OR AND NOT -x",
        "emi:* & | ! ( ) '",
        "a" * 5000,
        "\x00\u2028\ufeff",
        "the of and to kya hai",
    ],
)
async def test_hostile_or_empty_queries_return_results_or_nothing_never_an_error(
    opener: Opener, query: str
) -> None:
    knowledge = await sample(opener)
    found = await knowledge.search(query, category=None, at=NOW, limit=5)
    assert isinstance(found, list)


async def test_hinglish_questions_find_their_section(opener: Opener) -> None:
    knowledge = await sample(opener)
    found = await titles(knowledge, "AC lagane ka installation charge kitna hai")
    assert found[0] == "Delivery and installation charges / Air conditioners"


async def test_reimport_changes_only_what_changed_and_removes_what_is_gone(
    opener: Opener, tmp_path: Path
) -> None:
    knowledge = await opener()
    one = parse_text("one.md", "# One\n\n## Alpha\n\nFirst fact.")
    two = parse_text("two.md", "# Two\n\n## Beta\n\nSecond fact.")
    first = await knowledge.replace_all([one, two], at=NOW)
    assert (first.added, first.changed, first.removed) == (["one.md", "two.md"], [], [])
    changed = parse_text("one.md", "# One\n\n## Alpha\n\nFirst fact, revised.")
    three = parse_text("three.md", "# Three\n\nThird fact.")
    second = await knowledge.replace_all([changed, three], at=NOW)
    assert (second.added, second.changed, second.removed, second.unchanged) == (
        ["three.md"],
        ["one.md"],
        ["two.md"],
        [],
    )
    assert await knowledge.documents() == 2
    assert await knowledge.search("second", category=None, at=NOW, limit=5) == []
    [revised] = await knowledge.search("revised", category=None, at=NOW, limit=5)
    assert revised.paragraphs == ("First fact, revised.",)
    again = await knowledge.replace_all([changed, three], at=NOW)
    assert (again.added, again.changed, again.removed) == ([], [], [])


async def test_imports_racing_from_two_replicas_leave_one_whole_knowledge_base(
    opener: Opener,
) -> None:
    first, second = await opener(), await opener()
    documents = read_folder(SAMPLE_KNOWLEDGE)
    await asyncio.gather(
        first.replace_all(documents, at=NOW), second.replace_all(documents, at=NOW)
    )
    assert await first.documents() == len(documents)
    assert len(await titles(first, "refund")) >= 1


async def test_a_section_names_its_document_section_and_link(opener: Opener) -> None:
    knowledge = await sample(opener)
    [section] = await knowledge.search("refunds neft", category=None, at=NOW, limit=1)
    reference = section.reference
    assert reference.title == "Returns and exchange policy"
    assert reference.section == "Refunds"
    assert reference.url == "https://intranet.shopmax.in/policies/returns-and-exchange#refunds"
    assert "Cash purchases over ₹10,000 are refunded by bank transfer (NEFT), never in cash." in (
        section.paragraphs
    )
