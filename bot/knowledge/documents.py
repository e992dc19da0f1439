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
product categories a document is about; without it, it is about everything. A PDF carries its
front matter in a sidecar file next to it, `NAME.pdf.meta`, holding the same fields (with or
without the `---` lines); its title is the sidecar's, else the PDF's own, else its file name,
and each page is a section. A PDF that cannot be read (broken, encrypted with a password,
or only images of text) is a problem named for its file, like any other: `read_file` raises
nothing but `KnowledgeError`, whatever the bytes.

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
from typing import Any
from zoneinfo import ZoneInfo

from bot.errors import KnowledgeError

IST = ZoneInfo("Asia/Kolkata")
TEXT_SUFFIXES = (".md", ".markdown", ".txt")
SUFFIXES = (*TEXT_SUFFIXES, ".pdf")
SIDECAR = ".meta"  # NAME.pdf.meta: a PDF's front matter
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
        if path.is_file() and _is_sidecar(path) and not _hidden(name):
            if not path.with_suffix("").is_file():
                problems.append(f"{name}: no {path.with_suffix('').name} next to it")
            continue
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
        return _pdf(name, raw, _sidecar(path, name))
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


def _sidecar(path: Path, name: str) -> tuple[dict[str, str], list[str]]:
    """A PDF's front matter from `NAME.pdf.meta` (none when there is no such file), and the
    problems found in it."""
    meta = path.with_name(path.name + SIDECAR)
    if not meta.is_file():
        return {}, []
    label = f"{name}{SIDECAR}"
    try:
        text = meta.read_bytes()[:MAX_FILE_BYTES].decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError:
        return {}, [f"{label}: not UTF-8 text"]
    except OSError as exc:
        return {}, [f"{label}: cannot be read ({exc.strerror})"]
    if not text.startswith("---\n"):
        text = "---\n" + text.rstrip("\n") + "\n---\n"
    problems: list[str] = []
    fields, rest = _front_matter(label, text, problems)
    if rest.strip():
        problems.append(f"{label}: text after the front matter (a sidecar holds only its fields)")
    return fields, problems


def _pdf(name: str, raw: bytes, meta: tuple[dict[str, str], list[str]] = ({}, [])) -> Document:
    fields, problems = meta
    title, pages = _pdf_text(name, raw)
    parts = [
        Part(f"Page {number}", f"page-{number}", tuple(paragraphs_of(text.split("\n"))))
        for number, text in enumerate(pages, start=1)
        if text.strip()
    ]
    if not parts:
        raise KnowledgeError(
            name,
            [
                f"{name}: no text could be read from it (a scan or images of text?): "
                "give it as a PDF with a text layer, or as Markdown",
                *problems,
            ],
        )
    return _document(name, fields.get("title") or title or _stem(name), fields, parts, problems)


def _pdf_text(name: str, raw: bytes) -> tuple[str, list[str]]:
    """A PDF's own title and the text of each page. pypdf raises many kinds of errors on bytes
    it cannot make sense of (and some it was not written for), so any failure while reading is
    the file's problem, named as such; nothing else escapes."""
    from pypdf import PdfReader  # only where a PDF is read
    from pypdf.errors import FileNotDecryptedError

    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not _opens_without_a_password(reader):
            raise FileNotDecryptedError("encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
        meta = reader.metadata
        title = str(meta.title).strip() if meta is not None and meta.title else ""
    except FileNotDecryptedError:
        raise KnowledgeError(
            name, [f"{name}: encrypted with a password: save a copy without one"]
        ) from None
    except RecursionError:
        raise KnowledgeError(name, [f"{name}: cannot be read as a PDF (nested too deep)"]) from None
    except Exception as exc:  # any pypdf failure on bad bytes: see the docstring
        reason = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise KnowledgeError(name, [f"{name}: cannot be read as a PDF ({reason})"]) from None
    return title[:MAX_TITLE_CHARS], pages


def _opens_without_a_password(reader: Any) -> bool:
    """Whether an encrypted PDF opens with the empty password (many are only "protected")."""
    try:
        return bool(reader.decrypt(""))
    except Exception:  # an encryption pypdf cannot undo without extras counts as locked
        return False


def _is_sidecar(path: Path) -> bool:
    return path.suffix.lower() == SIDECAR and path.with_suffix("").suffix.lower() == ".pdf"


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
