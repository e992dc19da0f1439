"""The knowledge base in the PostgreSQL store's database, searched with PostgreSQL's own
full-text search (`KnowledgeBase`'s contract is in `base.py`; the same contract tests as the
SQLite one).

The `simple` text search configuration (no stemming, no language's stop words: staff write
English and Hinglish alike) with prefix matches, as FTS5 does; the title weighs most (A),
then the heading (B), then the text (D). Tables are created at open under an advisory lock,
so replicas starting together create them once; an import holds the same lock, so two imports
run one after the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from bot.knowledge.base import CANDIDATES, ImportReport, Section, best, changes, search_terms
from bot.knowledge.documents import Document

LOCK = 0x5A0B_0025  # any constant of our own; every replica takes the same one
CONNECT_TIMEOUT = 10.0
SCHEMA = """
CREATE TABLE IF NOT EXISTS knowledge_documents (
    path TEXT PRIMARY KEY, title TEXT NOT NULL, url TEXT, valid_from DOUBLE PRECISION,
    valid_until DOUBLE PRECISION, applies_to TEXT[] NOT NULL, digest TEXT NOT NULL,
    imported_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS knowledge_sections (
    id BIGSERIAL PRIMARY KEY,
    path TEXT NOT NULL REFERENCES knowledge_documents (path) ON DELETE CASCADE,
    position INTEGER NOT NULL, heading TEXT NOT NULL, anchor TEXT NOT NULL,
    paragraphs TEXT[] NOT NULL, search TSVECTOR NOT NULL
);
CREATE INDEX IF NOT EXISTS knowledge_sections_search ON knowledge_sections USING gin (search);
CREATE INDEX IF NOT EXISTS knowledge_sections_by_path ON knowledge_sections (path);
"""
VECTOR = (
    "setweight(to_tsvector('simple', $6), 'A') || setweight(to_tsvector('simple', $3), 'B') "
    "|| setweight(to_tsvector('simple', array_to_string($5::text[], ' ')), 'D')"
)


class PostgresKnowledge:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, url: str) -> PostgresKnowledge:
        pool = await asyncpg.create_pool(url, min_size=0, max_size=3, timeout=CONNECT_TIMEOUT)
        try:
            async with pool.acquire() as db, db.transaction():
                await db.execute("SELECT pg_advisory_xact_lock($1)", LOCK)
                await db.execute(SCHEMA)
        except BaseException:
            await pool.close()
            raise
        return cls(pool)

    async def search(
        self, query: str, *, category: str | None, at: float, limit: int
    ) -> list[Section]:
        terms = search_terms(query)
        if not terms:
            return []
        tsquery = " | ".join(f"{term}:*" for term in terms)
        where = "s.search @@ to_tsquery('simple', $1) AND (d.valid_from IS NULL OR "
        where += "d.valid_from <= $2) AND (d.valid_until IS NULL OR $2 < d.valid_until)"
        params: list[Any] = [tsquery, at, CANDIDATES]
        if category:
            where += " AND (d.applies_to = '{}' OR $4 = ANY (d.applies_to))"
            params.append(category.lower())
        rows = await self._pool.fetch(
            "SELECT d.path, d.title, s.heading, s.anchor, d.url, s.paragraphs, d.valid_until, "
            "d.applies_to FROM knowledge_sections s JOIN knowledge_documents d "
            f"ON d.path = s.path WHERE {where} ORDER BY "
            "ts_rank(s.search, to_tsquery('simple', $1), 0) DESC, d.path, s.position LIMIT $3",
            *params,
        )
        return best([_section(row) for row in rows], terms, limit)

    async def replace_all(self, documents: Sequence[Document], *, at: float) -> ImportReport:
        async with self._pool.acquire() as db, db.transaction():
            await db.execute("SELECT pg_advisory_xact_lock($1)", LOCK)
            rows = await db.fetch("SELECT path, digest FROM knowledge_documents")
            report = changes({row["path"]: row["digest"] for row in rows}, documents)
            gone = [*report.changed, *report.removed]
            if gone:
                await db.execute("DELETE FROM knowledge_documents WHERE path = ANY ($1)", gone)
            wanted = {*report.added, *report.changed}
            for document in documents:
                if document.path in wanted:
                    await _insert(db, document, at)
            return report

    async def documents(self) -> int:
        return int(await self._pool.fetchval("SELECT count(*) FROM knowledge_documents") or 0)

    async def close(self) -> None:
        if not self._pool.is_closing():
            await self._pool.close()


async def _insert(db: asyncpg.Connection, document: Document, at: float) -> None:
    await db.execute(
        "INSERT INTO knowledge_documents VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        document.path,
        document.title,
        document.url,
        document.valid_from,
        document.valid_until,
        list(document.applies_to),
        document.digest,
        at,
    )
    await db.executemany(
        "INSERT INTO knowledge_sections (path, position, heading, anchor, paragraphs, search) "
        f"VALUES ($1, $2, $3, $4, $5, {VECTOR})",
        [
            (document.path, n, part.heading, part.anchor, list(part.paragraphs), document.title)
            for n, part in enumerate(document.sections)
        ],
    )


def _section(row: Any) -> Section:
    return Section(
        path=row["path"],
        title=row["title"],
        heading=row["heading"],
        anchor=row["anchor"],
        url=row["url"],
        paragraphs=tuple(row["paragraphs"]),
        valid_until=row["valid_until"],
        applies_to=tuple(row["applies_to"]),
    )
