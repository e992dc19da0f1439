"""The chain's own documents (policies, offers, guides) for Claude to answer from, with sources.

`read_folder(DIR)` reads and checks a folder of Markdown, text and PDF files
(`documents.py`); `open_knowledge(DATABASE_URL)` opens the knowledge base in the store's
database (SQLite FTS5 or PostgreSQL full-text search, one contract: `base.py`);
`replace_all` imports a folder's documents; `search_tool` is Claude's `search_knowledge`
(`tool.py`), and `CitedTools` hands Claude the catalog's products as search results too, so
every figure it quotes can be cited to where it came from (`cited.py`).
"""

from __future__ import annotations

from pathlib import Path

from bot.knowledge.base import ImportReport, KnowledgeBase, Section, search_terms
from bot.knowledge.documents import Document, read_folder

SAMPLE_KNOWLEDGE = Path(__file__).parent / "sample"


async def open_knowledge(database_url: str) -> KnowledgeBase:
    """The knowledge base in the database `database_url` names (its tables made if new)."""
    if database_url.startswith(("postgresql://", "postgres://")):
        from bot.knowledge.postgres import PostgresKnowledge

        return await PostgresKnowledge.open(database_url)
    from bot.knowledge.sqlite import SqliteKnowledge

    return await SqliteKnowledge.open(database_url.removeprefix("sqlite:///"))


__all__ = [
    "SAMPLE_KNOWLEDGE",
    "Document",
    "ImportReport",
    "KnowledgeBase",
    "Section",
    "open_knowledge",
    "read_folder",
    "search_terms",
]
