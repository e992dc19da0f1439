"""The knowledge base in the SQLite store's file: documents and sections in tables of their own,
searched with FTS5 (`KnowledgeBase`'s contract is in `base.py`).

It has a connection of its own on a worker thread of its own (WAL: a search never waits for
the store's writes, nor they for it), and creates its tables itself, under the write lock, so
processes starting together create them once.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from bot.knowledge.base import CANDIDATES, ImportReport, Section, best, changes, search_terms
from bot.knowledge.documents import Document

T = TypeVar("T")

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS knowledge_documents (
        path TEXT PRIMARY KEY, title TEXT NOT NULL, url TEXT, valid_from REAL,
        valid_until REAL, applies_to TEXT NOT NULL, digest TEXT NOT NULL,
        imported_at REAL NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS knowledge_sections (
        id INTEGER PRIMARY KEY, path TEXT NOT NULL, position INTEGER NOT NULL,
        heading TEXT NOT NULL, anchor TEXT NOT NULL, paragraphs TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS knowledge_sections_by_path ON knowledge_sections (path)",
    # The section's id is the row id: the search index row goes with its section.
    """CREATE VIRTUAL TABLE IF NOT EXISTS knowledge_search USING fts5(
        title, heading, body, tokenize='unicode61 remove_diacritics 2')""",
)
# Column weights for bm25: a word in the title counts most, then in the heading.
RANK = "bm25(knowledge_search, 6.0, 3.0, 1.0)"


class SqliteKnowledge:
    def __init__(self, db: sqlite3.Connection, worker: ThreadPoolExecutor) -> None:
        self._db = db
        self._worker = worker
        self._closed = False

    @classmethod
    async def open(cls, path: str) -> SqliteKnowledge:
        worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="knowledge")
        loop = asyncio.get_running_loop()
        try:
            db = await loop.run_in_executor(
                worker, lambda: sqlite3.connect(path, timeout=10.0, check_same_thread=False)
            )
        except BaseException:
            worker.shutdown(wait=False)
            raise
        knowledge = cls(db, worker)
        try:
            await knowledge._run(_create)
        except BaseException:
            await knowledge.close()
            raise
        return knowledge

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._worker, work, self._db)

    async def search(
        self, query: str, *, category: str | None, at: float, limit: int
    ) -> list[Section]:
        terms = search_terms(query)
        if not terms:
            return []
        match = " OR ".join(f'"{term}"*' for term in terms)
        where = "knowledge_search MATCH ? AND (d.valid_from IS NULL OR d.valid_from <= ?) "
        where += "AND (d.valid_until IS NULL OR ? < d.valid_until)"
        params: list[Any] = [match, at, at]
        if category:
            where += " AND (d.applies_to = '' OR instr(d.applies_to, ?) > 0)"
            params.append(f",{category.lower()},")
        sql = (
            "SELECT d.path, d.title, s.heading, s.anchor, d.url, s.paragraphs, d.valid_until, "
            "d.applies_to FROM knowledge_search JOIN knowledge_sections s "
            "ON s.id = knowledge_search.rowid JOIN knowledge_documents d ON d.path = s.path "
            f"WHERE {where} ORDER BY {RANK}, d.path, s.position LIMIT ?"
        )
        rows = await self._run(lambda db: db.execute(sql, [*params, CANDIDATES]).fetchall())
        return best([_section(row) for row in rows], terms, limit)

    async def replace_all(self, documents: Sequence[Document], *, at: float) -> ImportReport:
        def replace(db: sqlite3.Connection) -> ImportReport:
            db.execute("BEGIN IMMEDIATE")
            try:
                existing = dict(db.execute("SELECT path, digest FROM knowledge_documents"))
                report = changes(existing, documents)
                for path in [*report.changed, *report.removed]:
                    _delete(db, path)
                wanted = {*report.added, *report.changed}
                for document in documents:
                    if document.path in wanted:
                        _insert(db, document, at)
                db.commit()
                return report
            except BaseException:
                db.rollback()
                raise

        return await self._run(replace)

    async def documents(self) -> int:
        row = await self._run(
            lambda db: db.execute("SELECT count(*) FROM knowledge_documents").fetchone()
        )
        return int(row[0]) if row else 0

    async def close(self) -> None:
        """Close once; closing again does nothing (services may be closed twice)."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._run(lambda db: db.close())
        finally:
            self._worker.shutdown(wait=False)


def _create(db: sqlite3.Connection) -> None:
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("BEGIN IMMEDIATE")
    try:
        for statement in SCHEMA:
            db.execute(statement)
        db.commit()
    except BaseException:
        db.rollback()
        raise


def _delete(db: sqlite3.Connection, path: str) -> None:
    db.execute(
        "DELETE FROM knowledge_search WHERE rowid IN "
        "(SELECT id FROM knowledge_sections WHERE path = ?)",
        (path,),
    )
    db.execute("DELETE FROM knowledge_sections WHERE path = ?", (path,))
    db.execute("DELETE FROM knowledge_documents WHERE path = ?", (path,))


def _insert(db: sqlite3.Connection, document: Document, at: float) -> None:
    applies = f",{','.join(document.applies_to)}," if document.applies_to else ""
    db.execute(
        "INSERT INTO knowledge_documents VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            document.path,
            document.title,
            document.url,
            document.valid_from,
            document.valid_until,
            applies,
            document.digest,
            at,
        ),
    )
    for position, part in enumerate(document.sections):
        cursor = db.execute(
            "INSERT INTO knowledge_sections (path, position, heading, anchor, paragraphs) "
            "VALUES (?, ?, ?, ?, ?)",
            (document.path, position, part.heading, part.anchor, json.dumps(part.paragraphs)),
        )
        db.execute(
            "INSERT INTO knowledge_search (rowid, title, heading, body) VALUES (?, ?, ?, ?)",
            (cursor.lastrowid, document.title, part.heading, "\n".join(part.paragraphs)),
        )


def _section(row: Sequence[Any]) -> Section:
    path, title, heading, anchor, url, paragraphs, valid_until, applies = row
    return Section(
        path=path,
        title=title,
        heading=heading,
        anchor=anchor,
        url=url,
        paragraphs=tuple(json.loads(paragraphs)),
        valid_until=valid_until,
        applies_to=tuple(a for a in applies.split(",") if a),
    )
