"""The chain's documents as the knowledge base holds them: read from a folder, checked whole,
split at headings into sections a citation can name.

A folder holds Markdown (`.md`, `.markdown`), plain text (`.txt`) and PDF (`.pdf`) files, in
subfolders too; hidden files and anything else are left alone. A Markdown or text file may
start with front matter between two `---` lines:

    ---
    title: No-cost EMI on HDFC Bank cards
    url: https://intranet.shopmax.in/offers/hdfc-emi
    valid_from: 2026-10-01
    valid_until: 2026-12-31
    applies_to: tv, ac, refrigerator
    ---

Dates are days in India Standard Time (the offer runs from the start of `valid_from` to the
end of `valid_until`), or a day and a time (`2026-12-31 18:00`, IST). `applies_to` names the
product categories a document is about; without it, it is about everything. A PDF has no front
matter: its title is its own (or its file name) and each page is a section.

`read_folder` checks every file before anything is imported and raises `KnowledgeError`
naming every bad file and field at once; nothing half-read is ever imported.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.errors import KnowledgeError

IST = ZoneInfo("Asia/Kolkata")
TEXT_SUFFIXES = (".md", ".markdown", ".txt")
SUFFIXES = (*TEXT_SUFFIXES, ".pdf")
FIELDS = ("title", "url", "valid_from", "valid_until", "applies_to")
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_SECTION_CHARS = 8_000  # a section is one search result: a page, not a manual
MAX_TITLE_CHARS = 150

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_ITEM = re.compile(r"^\s{0,3}(?:[-*+]|\d{1,3}[.)])\s+")
_CATEGORY = re.compile(r"^[a-z0-9_]{1,40}$")
_URL = re.compile(r"^https?://[^\s<>|\"'`]+$")


@dataclass(frozen=True)
class Part:
    """One section of a document: its heading (empty for the text before the first one), an
    anchor naming it in a link, and its text one fact (paragraph, list item, table row) each."""

    heading: str
    anchor: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Document:
    path: str  # relative to the folder, with `/`: the document's name in the knowledge base
    title: str
    url: str | None
    valid_from: float | None  # Unix time it starts to apply; None: always has
    valid_until: float | None  # Unix time it stops applying (exclusive); None: never does
    applies_to: tuple[str, ...]
    sections: tuple[Part, ...]
    digest: str  # changes whenever anything above does


def read_folder(folder: Path) -> list[Document]:
    """Every document in `folder`, checked; `KnowledgeError` lists every problem found."""
    if not folder.is_dir():
        raise KnowledgeError(f"{folder}: not a folder")
    documents: list[Document] = []
    problems: list[str] = []
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if not path.is_file() or path.suffix.lower() not in SUFFIXES or _hidden(name):
            continue
        try:
            documents.append(read_file(path, name))
        except KnowledgeError as exc:
            problems.extend(exc.problems)
    if problems:
        raise KnowledgeError(f"{folder}: {len(problems)} problem(s)", problems)
    return documents


def read_file(path: Path, name: str) -> Document:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise KnowledgeError(name, [f"{name}: larger than {MAX_FILE_BYTES // 2**20} MB"])
    raw = path.read_bytes()
    if path.suffix.lower() == ".pdf":
        return _pdf(name, raw)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise KnowledgeError(name, [f"{name}: not UTF-8 text"]) from None
    return parse_text(name, text)


def parse_text(name: str, text: str) -> Document:
    """A Markdown or plain text document (front matter optional); pure."""
    problems: list[str] = []
    fields, body = _front_matter(name, text.replace("\r\n", "\n"), problems)
    parts = split_sections(body)
    title = fields.get("title") or _first_heading(parts) or _stem(name)
    if parts and parts[0].heading == title and not parts[0].paragraphs:
        parts = parts[1:]  # a heading that only repeats the title is not a section
    return _document(name, title, fields, parts, problems)


def split_sections(body: str) -> list[Part]:
    """Sections at Markdown headings (outside code blocks); a heading under a higher one is
    named with it ("Large appliances › Time limits")."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    above: dict[int, str] = {}
    fence: str | None = None
    for line in body.split("\n"):
        opened = _FENCE.match(line)
        if opened and (fence is None or opened.group(1)[0] == fence):
            fence = None if fence else opened.group(1)[0]
        match = _HEADING.match(line) if fence is None else None
        if match is None:
            sections[-1][1].append(line)
            continue
        level, heading = len(match.group(1)), match.group(2).strip()
        above = {lvl: h for lvl, h in above.items() if lvl < level}
        parent = above.get(max(above)) if above and level >= 3 else None
        above[level] = heading
        sections.append((f"{parent} › {heading}" if parent else heading, []))
    anchors: dict[str, int] = {}
    parts = []
    for heading, lines in sections:
        paragraphs = tuple(paragraphs_of(lines))
        if not heading and not paragraphs:
            continue
        parts.append(Part(heading, _anchor(heading, anchors), paragraphs))
    return parts


def paragraphs_of(lines: Iterable[str]) -> list[str]:
    """The facts of a section: paragraphs, list items and table rows (each row with its
    header's names), whitespace folded."""
    facts: list[str] = []
    current: list[str] = []
    header: list[str] | None = None

    def close() -> None:
        if current:
            facts.append(" ".join(" ".join(current).split()))
            current.clear()

    for line in lines:
        stripped = line.strip()
        if stripped.startswith("|") and stripped.endswith("|") and len(stripped) > 1:
            close()
            cells = [c.strip() for c in stripped[1:-1].split("|")]
            if all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
                continue
            if header is None:
                header = cells
                continue
            named = [f"{h}: {c}" if h else c for h, c in zip(header, cells, strict=False) if c]
            facts.append("; ".join(named))
            continue
        header = None
        if not stripped:
            close()
        elif _ITEM.match(line):
            close()
            current.append(_ITEM.sub("", line, count=1).strip())
        else:
            current.append(stripped)
    close()
    return [f for f in facts if f]


def _front_matter(name: str, text: str, problems: list[str]) -> tuple[dict[str, str], str]:
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---\n", 3)
    if end < 0 and text.endswith("\n---"):
        end = len(text) - 4
    if end < 0:
        problems.append(f"{name}: the front matter has no closing '---' line")
        return {}, text
    fields: dict[str, str] = {}
    for number, line in enumerate(text[4:end].split("\n"), start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, colon, value = line.partition(":")
        key = key.strip()
        if not colon:
            problems.append(f"{name}: line {number}: expected 'field: value', not {line[:60]!r}")
        elif key not in FIELDS:
            problems.append(f"{name}: unknown field {key[:40]!r} (fields: {', '.join(FIELDS)})")
        elif key in fields:
            problems.append(f"{name}: {key} is given twice")
        else:
            fields[key] = value.strip().strip("'\"")
    return fields, text[end + 5 :]


def _document(
    name: str, title: str, fields: dict[str, str], parts: list[Part], problems: list[str]
) -> Document:
    url = fields.get("url") or None
    if url is not None and not _URL.match(url):
        problems.append(f"{name}: url: {url[:80]!r} is not an http(s) link")
    valid_from = _when(name, "valid_from", fields.get("valid_from"), problems, end=False)
    valid_until = _when(name, "valid_until", fields.get("valid_until"), problems, end=True)
    if valid_from is not None and valid_until is not None and valid_until <= valid_from:
        problems.append(f"{name}: valid_until is not after valid_from")
    applies_to = _categories(name, fields.get("applies_to", ""), problems)
    if len(title) > MAX_TITLE_CHARS:
        problems.append(f"{name}: title: longer than {MAX_TITLE_CHARS} characters")
    if not any(part.paragraphs for part in parts):
        problems.append(f"{name}: no text")
    for part in parts:
        size = sum(len(p) for p in part.paragraphs)
        if size > MAX_SECTION_CHARS:
            shown = part.heading or "the text before the first heading"
            problems.append(
                f"{name}: section {shown[:60]!r} has {size:,} characters, over "
                f"{MAX_SECTION_CHARS:,}: split it with headings"
            )
    if problems:
        raise KnowledgeError(name, problems)
    digest = hashlib.sha256(
        json.dumps(
            [
                title,
                url,
                valid_from,
                valid_until,
                applies_to,
                [list(p.__dict__.values()) for p in parts],
            ],
            ensure_ascii=False,
        ).encode()
    ).hexdigest()
    return Document(name, title, url, valid_from, valid_until, applies_to, tuple(parts), digest)


def _when(
    name: str, field: str, raw: str | None, problems: list[str], *, end: bool
) -> float | None:
    """A day (its start, or for an end its end) or a day and time, in IST, as Unix time."""
    if not raw:
        return None
    for form, whole_day in (
        ("%Y-%m-%d", True),
        ("%Y-%m-%d %H:%M", False),
        ("%Y-%m-%dT%H:%M", False),
    ):
        try:
            moment = datetime.strptime(raw, form).replace(tzinfo=IST)
        except ValueError:
            continue
        if whole_day and end:
            moment += timedelta(days=1)
        return moment.timestamp()
    problems.append(
        f"{name}: {field}: {raw[:40]!r} is not a date (YYYY-MM-DD, or YYYY-MM-DD HH:MM)"
    )
    return None


def _categories(name: str, raw: str, problems: list[str]) -> tuple[str, ...]:
    values = [v.strip().lower() for v in raw.strip("[]").split(",") if v.strip()]
    bad = [v for v in values if not _CATEGORY.match(v)]
    for value in bad:
        problems.append(
            f"{name}: applies_to: {value[:40]!r} is not a category (letters, digits and _)"
        )
    return tuple(dict.fromkeys(v for v in values if v not in bad))


def _pdf(name: str, raw: bytes) -> Document:
    from pypdf import PdfReader  # only where a PDF is read
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw))
        pages = [page.extract_text() or "" for page in reader.pages]
        meta = reader.metadata
        title = str(meta.title).strip() if meta is not None and meta.title else ""
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise KnowledgeError(name, [f"{name}: cannot be read as a PDF ({exc})"]) from None
    parts = [
        Part(f"Page {number}", f"page-{number}", tuple(paragraphs_of(text.split("\n"))))
        for number, text in enumerate(pages, start=1)
        if text.strip()
    ]
    return _document(name, title or _stem(name), {}, parts, [])


def _first_heading(parts: list[Part]) -> str:
    return parts[0].heading if parts and parts[0].heading else ""


def _stem(name: str) -> str:
    return Path(name).stem.replace("-", " ").replace("_", " ").strip().capitalize() or name


def _hidden(name: str) -> bool:
    return any(part.startswith((".", "_")) for part in name.split("/"))


def _anchor(heading: str, seen: dict[str, int]) -> str:
    """A GitHub-style anchor, unique within its document."""
    slug = re.sub(r"[^\w\- ]", "", heading.lower()).strip().replace(" ", "-") or "top"
    count = seen.get(slug, 0)
    seen[slug] = count + 1
    return slug if count == 0 else f"{slug}-{count}"
