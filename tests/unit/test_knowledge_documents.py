"""Reading the chain's documents (`bot.knowledge.documents`): front matter, sections at
headings, facts one per block, PDFs, and a folder checked whole with every problem named."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.errors import KnowledgeError
from bot.knowledge import SAMPLE_KNOWLEDGE, read_folder
from bot.knowledge.documents import IST, parse_text, read_file, split_sections


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


def encrypted(pdf: bytes, user_password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password, owner_password="owner-only", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_an_encrypted_pdf_is_named_and_one_only_protected_is_read(tmp_path: Path) -> None:
    pdf = minimal_pdf(["Stabiliser costs 2490 rupees."])
    (tmp_path / "locked.pdf").write_bytes(encrypted(pdf, "secret"))
    (tmp_path / "protected.pdf").write_bytes(encrypted(pdf, ""))
    with pytest.raises(KnowledgeError) as caught:
        read_folder(tmp_path)
    assert caught.value.problems == [
        "locked.pdf: encrypted with a password: save a copy without one"
    ]
    (tmp_path / "locked.pdf").unlink()
    [document] = read_folder(tmp_path)
    assert "Stabiliser costs 2490 rupees." in document.sections[0].paragraphs[0]


def test_a_pdf_of_images_only_is_named(tmp_path: Path) -> None:
    (tmp_path / "scan.pdf").write_bytes(minimal_pdf([]))
    with pytest.raises(KnowledgeError) as caught:
        read_folder(tmp_path)
    assert caught.value.problems[0].startswith("scan.pdf: no text could be read from it")


def test_a_pdfs_front_matter_is_in_its_sidecar(tmp_path: Path) -> None:
    (tmp_path / "hdfc-emi.pdf").write_bytes(minimal_pdf(["No-cost EMI on 6 and 9 months."]))
    (tmp_path / "hdfc-emi.pdf.meta").write_text(
        "title: No-cost EMI on HDFC Bank cards\n"
        "url: https://intranet.shopmax.in/offers/hdfc-emi\n"
        "valid_from: 2026-10-01\nvalid_until: 2026-12-31\napplies_to: tv, ac\n"
    )
    [document] = read_folder(tmp_path)
    assert (document.title, document.url, document.applies_to) == (
        "No-cost EMI on HDFC Bank cards",
        "https://intranet.shopmax.in/offers/hdfc-emi",
        ("tv", "ac"),
    )
    assert document.valid_until is not None and document.valid_from is not None
    (tmp_path / "hdfc-emi.pdf.meta").write_text("---\nvalid_until: 31/12/2026\nfoo: 1\n---\n")
    (tmp_path / "gone.pdf.meta").write_text("title: Gone\n")
    with pytest.raises(KnowledgeError) as caught:
        read_folder(tmp_path)
    assert caught.value.problems == [
        "gone.pdf.meta: no gone.pdf next to it",
        "hdfc-emi.pdf.meta: unknown field 'foo' (fields: title, url, valid_from, valid_until, "
        "applies_to)",
        "hdfc-emi.pdf: valid_until: '31/12/2026' is not a date (YYYY-MM-DD, or YYYY-MM-DD HH:MM)",
    ]


PDF_TOKENS = [b" 3 0 R", b" 4 0 R", b"<<", b">>", b"/Kids [", b"9999999999", b"obj", b"/Count 7"]
PDF_TOKENS += [b"/Length 65535", b"/Root 2 0 R", b"]", b"stream\n", b"/Parent 3 0 R", b"0"]


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(
        st.tuples(
            st.integers(0, 10_000),
            st.integers(0, 2),
            st.binary(min_size=1, max_size=12) | st.sampled_from(PDF_TOKENS),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_a_mangled_pdf_raises_nothing_but_a_knowledge_error(
    edits: list[tuple[int, int, bytes]],
) -> None:
    """Bytes flipped, cut and inserted anywhere in a good PDF: read, or named as a problem."""
    data = bytearray(minimal_pdf(["Stabiliser costs 2490 rupees.", "Call 1800-266-7629."]))
    for at, kind, piece in edits:
        at %= len(data) or 1
        if kind == 0:
            data[at : at + len(piece)] = piece
        elif kind == 1:
            del data[at : at + len(piece)]
        else:
            data[at:at] = piece
    try:
        read_file_bytes("mangled.pdf", bytes(data))
    except KnowledgeError as exc:
        assert exc.problems and all(p.startswith("mangled.pdf: ") for p in exc.problems)


def read_file_bytes(name: str, data: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        read_file(path, name)


def test_the_sample_knowledge_base_reads_clean_with_one_offer_expired() -> None:
    documents = {d.path: d for d in read_folder(SAMPLE_KNOWLEDGE)}
    assert len(documents) == 7
    expired = [d for d in documents.values() if d.valid_until and d.valid_until < 1.8e9]
    assert [d.path for d in expired] == ["offers/sbi-diwali-cashback.md"]
