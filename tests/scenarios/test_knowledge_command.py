"""`shopmax-bot knowledge import DIR` as a real process: the folder checked whole, imported in one
transaction, re-imported changing only what changed; a bad folder imports nothing and names
every problem."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.knowledge import SAMPLE_KNOWLEDGE
from tests.conftest import run_bot


async def test_import_then_reimport_changes_only_what_changed(
    tmp_path: Path, database_url: str
) -> None:
    folder = tmp_path / "kb"
    shutil.copytree(SAMPLE_KNOWLEDGE, folder)
    env = {"DATABASE_URL": database_url}
    code, out, err = await run_bot("knowledge", "import", str(folder), env=env, cwd=tmp_path)
    assert (code, out.strip()) == (
        0,
        f"imported {folder}: 7 added, 0 changed, 0 removed, 0 unchanged",
    ), err
    (folder / "guides" / "ac-not-cooling.md").unlink()
    charges = folder / "installation-charges.md"
    charges.write_text(charges.read_text().replace("₹1,500", "₹1,650"))
    code, out, err = await run_bot("knowledge", "import", str(folder), env=env, cwd=tmp_path)
    assert out.strip() == f"imported {folder}: 0 added, 1 changed, 1 removed, 5 unchanged", err
    code, out, _ = await run_bot(
        "knowledge", "search", "split AC installation charge", env=env, cwd=tmp_path
    )
    assert code == 0 and "₹1,650" in out and "₹1,500" not in out


async def test_a_bad_folder_imports_nothing_and_names_every_problem(
    tmp_path: Path, database_url: str
) -> None:
    folder = tmp_path / "kb"
    shutil.copytree(SAMPLE_KNOWLEDGE, folder)
    env = {"DATABASE_URL": database_url}
    assert (await run_bot("knowledge", "import", str(folder), env=env, cwd=tmp_path))[0] == 0
    (folder / "returns-and-exchange.md").unlink()
    (folder / "offers" / "new.md").write_text("---\nvalid_until: 31/12/2026\ncolour: red\n---\nx")
    code, out, err = await run_bot("knowledge", "import", str(folder), env=env, cwd=tmp_path)
    assert (code, out) == (2, "")
    assert "offers/new.md: valid_until: '31/12/2026' is not a date" in err
    assert "offers/new.md: unknown field 'colour'" in err
    code, out, _ = await run_bot("knowledge", "search", "refund", env=env, cwd=tmp_path)
    assert "Returns and exchange policy" in out  # the last good import still stands


async def test_check_names_each_bad_pdf_without_a_traceback(
    tmp_path: Path, database_url: str
) -> None:
    """A broken, an encrypted and an image-only PDF: one problem each, exit status 2, no
    traceback; a good PDF with a sidecar passes."""
    from tests.unit.test_knowledge_documents import encrypted, minimal_pdf

    folder = tmp_path / "kb"
    folder.mkdir()
    good = minimal_pdf(["Stabiliser costs 2490 rupees."])
    (folder / "good.pdf").write_bytes(good)
    (folder / "good.pdf.meta").write_text("title: Stabiliser guide\nvalid_until: 2099-12-31\n")
    (folder / "broken.pdf").write_bytes(good[: len(good) // 2] + b"\x00garbage 3 0 R <<")
    (folder / "locked.pdf").write_bytes(encrypted(good, "secret"))
    (folder / "scan.pdf").write_bytes(minimal_pdf([]))
    env = {"DATABASE_URL": database_url}
    code, out, err = await run_bot("knowledge", "check", str(folder), env=env, cwd=tmp_path)
    assert (code, out) == (2, "")
    assert "Traceback" not in err
    assert "broken.pdf: cannot be read as a PDF" in err
    assert "locked.pdf: encrypted with a password: save a copy without one" in err
    assert "scan.pdf: no text could be read from it" in err
    assert "good.pdf" not in err.replace("good.pdf.meta", "")
    for bad in ("broken.pdf", "locked.pdf", "scan.pdf"):
        (folder / bad).unlink()
    code, out, err = await run_bot("knowledge", "check", str(folder), env=env, cwd=tmp_path)
    assert code == 0, err
