"""`shopmax-bot ask`: the answer printed as it streams, then the stream stats."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
import subprocess
import sys
from pathlib import Path

from bot.settings import Settings
from tests.conftest import run_bot
from tests.fakes.anthropic_server import FakeAnthropic, Script


async def test_ask_streams_the_answer_and_prints_stream_stats(
    model: FakeAnthropic, settings: Settings, tmp_path: Path
) -> None:
    """The real command, run as a process against the fake model; the answer goes through the
    same answering path as Slack, so it is in the ledger (`shopmax-bot usage`)."""
    model.script(
        Script(chunks=["Sure: ", "the LG 8 kg", " washer."], input_tokens=77, output_tokens=12)
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "ANTHROPIC_API_KEY": "sk-ant-test-key",
        "ANTHROPIC_BASE_URL": model.url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shopmax.db'}",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "ask",
        "best 8 kg washer?",
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert lines[0] == "ShopMax India Assistant: Sure: the LG 8 kg washer."
    assert lines[2] == "--- Stream stats ---"
    assert lines[3:5] == ["Input tokens: 77", "Output tokens: 12"]
    assert lines[5].startswith("Time to complete: ") and lines[5].endswith(" s")
    assert lines[6].startswith("Time to first token: ") and lines[6].endswith(" ms")
    assert lines[7] == "Stop reason: end_turn"
    assert lines[9:11] == ["--- Sources ---", "not from the catalog"]  # no tool was used
    assert model.calls[0].body["messages"] == [{"role": "user", "content": "best 8 kg washer?"}]
    status, usage, _ = await run_bot("usage", "--by", "surface", "--csv", env=env, cwd=tmp_path)
    assert status == 0
    [row] = list(csv.DictReader(io.StringIO(usage)))
    assert (row["surface"], row["answers"], row["input"], row["output"]) == (
        "terminal",
        "1",
        "77",
        "12",
    )


async def test_ask_is_limited_like_every_surface(model: FakeAnthropic, tmp_path: Path) -> None:
    """The terminal goes through the same gate: over the person's question limit, it says why
    (exit status 2) and the model is never called."""
    env = {
        "ANTHROPIC_API_KEY": "sk-ant-test-key",
        "ANTHROPIC_BASE_URL": model.url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shopmax.db'}",
        "SHOPMAX_USER_QUESTIONS": "1",
    }
    first, _, _ = await run_bot("ask", "hi", env=env, cwd=tmp_path)
    second, out, _ = await run_bot("ask", "again", env=env, cwd=tmp_path)
    assert (first, second) == (0, 2)
    assert out.startswith("You have asked 1 question in the last hour")
    assert len(model.calls) == 1


async def test_without_a_key_the_offline_demo_model_answers(tmp_path: Path) -> None:
    """A fresh machine with no ANTHROPIC_API_KEY: `ask` answers from the catalog through the
    offline demo model, says how to switch to Claude, and prints the stream stats — with no
    log line mixed in."""
    code, out, err = await run_bot(
        "ask", "Which TV under Rs 50,000 is in Mumbai?", env={}, cwd=tmp_path
    )
    assert (code, err) == (0, "")
    answer, _, stats = out.partition("\n--- Stream stats ---\n")
    assert answer.startswith("ShopMax India Assistant: ")
    assert re.search(r"SMX-TV-\d{4}", answer) and "₹" in answer
    assert "ANTHROPIC_API_KEY" in answer
    assert re.search(r"^Output tokens: [1-9]\d*$", stats, re.M)
    assert "Estimated cost: $0.00 (₹0.00)" in stats
