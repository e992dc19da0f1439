"""Reading the chain's documents (`bot.knowledge.documents`): front matter, sections at
headings, facts one per block, PDFs, and a folder checked whole with every problem named."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bot.errors import KnowledgeError
from bot.knowledge import SAMPLE_KNOWLEDGE, read_folder
from bot.knowledge.documents import IST, parse_text, split_sections


def test_front_matter_gives_the_title_link_dates_in_ist_and_categories() -> None:
    document = parse_text(
        "offers/emi.md",
        "---\ntitle: No-cost EMI\nurl: https://intranet.shopmax.in/emi\nvalid_from: 2026-10-01\n"
        "valid_until: 2026-12-31 18:00\napplies_to: [TV, ac]\n---\n\n## Tenures\n\n3, 6 months.",
    )
    assert (document.title, document.url, document.applies_to) == (
        "No-cost EMI",
        "https://intranet.shopmax.in/emi",
        ("tv", "ac"),
    )
    assert document.valid_from == datetime(2026, 10, 1, tzinfo=IST).timestamp()
    assert document.valid_until == datetime(2026, 12, 31, 18, 0, tzinfo=IST).timestamp()


def test_a_whole_day_runs_to_the_end_of_that_day_in_ist() -> None:
    document = parse_text("a.md", "---\nvalid_until: 2026-12-31\n---\nText.")
    assert document.valid_until == datetime(2027, 1, 1, tzinfo=IST).timestamp()


def test_sections_split_at_headings_and_facts_one_per_paragraph_item_and_row() -> None:
    parts = split_sections(
        "# Title\n\nIntro line one\nline two.\n\n## Charges\n\n- Split AC: ₹1,500.\n"
        "- Window AC: ₹800.\n\n| Plan | Price |\n|---|---|\n| 1 year | ₹999 |\n\n"
        "### Extra pipe\n\n```\n# not a heading\n```\n"
    )
    assert [(p.heading, p.anchor) for p in parts] == [
        ("Title", "title"),
        ("Charges", "charges"),
        ("Charges › Extra pipe", "charges--extra-pipe"),
    ]
    assert parts[0].paragraphs == ("Intro line one line two.",)
    assert parts[1].paragraphs == (
        "Split AC: ₹1,500.",
        "Window AC: ₹800.",
        "Plan: 1 year; Price: ₹999",
    )
    assert parts[2].paragraphs == ("``` # not a heading ```",)  # a fence's heading is text


def test_every_bad_file_and_field_is_named_and_nothing_is_read(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text("# Good\n\nFine.")
    (tmp_path / "bad.md").write_text(
        "---\ntitle: Bad\nurl: javascript:alert(1)\nvalid_from: 2026-02-30\ncolour: red\n"
        "applies_to: TV!!\n---\nText."
    )
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "latin.md").write_bytes(b"caf\xe9")
    (tmp_path / "open.md").write_text("---\ntitle: never closed\nText.")
    (tmp_path / "backwards.md").write_text(
        "---\nvalid_from: 2026-12-31\nvalid_until: 2026-01-01\n---\nText."
    )
    (tmp_path / ".hidden.md").write_bytes(b"\xff")
    (tmp_path / "notes.docx").write_bytes(b"\xff")
    with pytest.raises(KnowledgeError) as caught:
        read_folder(tmp_path)
    assert sorted(caught.value.problems) == sorted(
        [
            "bad.md: unknown field 'colour' (fields: title, url, valid_from, valid_until, "
            "applies_to)",
            "bad.md: url: 'javascript:alert(1)' is not an http(s) link",
            "bad.md: valid_from: '2026-02-30' is not a date (YYYY-MM-DD, or YYYY-MM-DD HH:MM)",
            "bad.md: applies_to: 'tv!!' is not a category (letters, digits and _)",
            "empty.txt: no text",
            "latin.md: not UTF-8 text",
            "open.md: the front matter has no closing '---' line",
            "backwards.md: valid_until is not after valid_from",
        ]
    )


def test_a_section_too_long_to_be_one_search_result_is_refused() -> None:
    with pytest.raises(KnowledgeError) as caught:
        parse_text("manual.md", "# Manual\n\n## Everything\n\n" + "word " * 3000)
    assert "section 'Everything' has 14,999 characters" in caught.value.problems[0]


def minimal_pdf(lines: list[str]) -> bytes:
    """A one-page PDF with these lines of text, written by hand (objects and xref offsets)."""
    text = " ".join(f"({line}) Tj 0 -16 Td" for line in lines)
    stream = f"BT /F1 12 Tf 72 720 Td {text} ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def test_a_pdf_is_read_a_page_a_section(tmp_path: Path) -> None:
    (tmp_path / "stabiliser-guide.pdf").write_bytes(minimal_pdf(["Stabiliser costs 2490 rupees."]))
    [document] = read_folder(tmp_path)
    assert document.title == "Stabiliser guide"
    [page] = document.sections
    assert page.heading == "Page 1"
    assert "Stabiliser costs 2490 rupees." in " ".join(page.paragraphs)


def test_a_broken_pdf_is_named(tmp_path: Path) -> None:
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    with pytest.raises(KnowledgeError) as caught:
        read_folder(tmp_path)
    assert caught.value.problems[0].startswith("broken.pdf: cannot be read as a PDF")


def test_the_sample_knowledge_base_reads_clean_with_one_offer_expired() -> None:
    documents = {d.path: d for d in read_folder(SAMPLE_KNOWLEDGE)}
    assert len(documents) == 7
    expired = [d for d in documents.values() if d.valid_until and d.valid_until < 1.8e9]
    assert [d.path for d in expired] == ["offers/sbi-diwali-cashback.md"]
