"""The knowledge base's contract, kept by SQLite (`sqlite.py`, FTS5) and PostgreSQL
(`postgres.py`, full-text search) alike and tested by one suite (`tests/contracts/`).

`search` finds the sections that match any of a query's words (prefixes count: "return"
finds "returns"), best first: those matching more of the words first, and among those the
database's own ranking (a word in the title counts most, then in the heading, then in the
text; `best` re-ranks each backend's candidates the same way). A document outside its
validity dates at the moment asked is never returned, so an expired offer cannot be quoted;
with a category, only documents about it (or about everything) are. `replace_all` makes the
knowledge base hold exactly the documents given, in one transaction: new ones added, changed
ones replaced, gone ones removed, unchanged ones left as they are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.knowledge.documents import Document
from bot.model.citations import Reference

MAX_TERMS = 12
MAX_TERM_CHARS = 40
_WORD = re.compile(r"[^\W_]+")
# Words that say nothing about which document: English and the Hinglish staff write.
STOP_WORDS = frozenset(
    """a an the is are was were be been of to in on at for from by with and or not no do does
    did can could should would will shall may might must i me my we our you your it its this
    that these those there here what which who whom how when where why any some all about
    please tell me customer customers give show know need want if has have had than then
    so as into our us kya hai hain ka ki ke ko se mein me pe par aur ya bhi toh to na nahi
    kitna kitne kitni kaise kab kahan kaun hota hoti hote milega milegi chahiye karna karein
    batao bataiye wala wali ye yeh woh wo""".split()
)


def search_terms(query: str) -> list[str]:
    """The words a search matches on: lower-cased, stop words left out, each once, at most
    `MAX_TERMS` (the query is whatever the model sends)."""
    terms: list[str] = []
    for match in _WORD.finditer(query.lower()[:2000]):
        term = match.group(0)[:MAX_TERM_CHARS]
        if term not in STOP_WORDS and term not in terms:
            terms.append(term)
            if len(terms) == MAX_TERMS:
                break
    return terms


CANDIDATES = 40  # sections a backend ranks before `best` picks among them


def best(sections: Sequence[Section], terms: Sequence[str], limit: int) -> list[Section]:
    """The `limit` sections matching most of `terms` (as prefixes of their words) in their
    own heading and text, then in their document's title too (which every section of a
    document shares), keeping the backend's order among sections that match as many."""

    def matched(*texts: str) -> int:
        words = set(_WORD.findall(" ".join(texts).lower()))
        return sum(1 for term in terms if any(word.startswith(term) for word in words))

    def key(item: tuple[int, Section]) -> tuple[int, int, int]:
        position, section = item
        own = matched(section.heading, *section.paragraphs)
        return (-own, -matched(section.title, section.heading, *section.paragraphs), position)

    ranked = sorted(enumerate(sections), key=key)
    return [section for _, section in ranked[:limit]]


@dataclass(frozen=True)
class Section:
    """A section as a search returns it."""

    path: str
    title: str
    heading: str
    anchor: str
    url: str | None
    paragraphs: tuple[str, ...]
    valid_until: float | None = None
    applies_to: tuple[str, ...] = ()

    @property
    def reference(self) -> Reference:
        link = f"{self.url}#{self.anchor}" if self.url and self.heading else self.url
        source = link or f"kb:{self.path}" + (f"#{self.anchor}" if self.heading else "")
        section = "" if self.heading == self.title else self.heading
        return Reference(source=source, title=self.title, section=section, url=link)


@dataclass(frozen=True)
class ImportReport:
    """What an import changed, by document path."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


class KnowledgeBase(Protocol):
    async def search(
        self, query: str, *, category: str | None, at: float, limit: int
    ) -> list[Section]:
        """Sections matching `query` (see the module docstring), valid at Unix time `at`."""
        ...

    async def replace_all(self, documents: Sequence[Document], *, at: float) -> ImportReport:
        """Hold exactly `documents` from now on (imported at Unix time `at`), atomically."""
        ...

    async def documents(self) -> int:
        """How many documents it holds (valid or not)."""
        ...

    async def close(self) -> None: ...


def changes(existing: dict[str, str], documents: Sequence[Document]) -> ImportReport:
    """What replacing documents of these digests (by path) with `documents` changes. Pure."""
    given = {d.path: d.digest for d in documents}
    report = ImportReport()
    for path, digest in given.items():
        if path not in existing:
            report.added.append(path)
        elif existing[path] != digest:
            report.changed.append(path)
        else:
            report.unchanged.append(path)
    report.removed.extend(sorted(set(existing) - set(given)))
    return report
