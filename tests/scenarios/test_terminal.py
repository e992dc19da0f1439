"""`shopmax-bot ask`: the answer printed as it streams, then the stream stats."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from bot.settings import Settings
from tests.fakes.anthropic_server import FakeAnthropic, Script


async def test_ask_streams_the_answer_and_prints_stream_stats(
    model: FakeAnthropic, settings: Settings
) -> None:
    """The real command, run as a process against the fake model."""
    model.script(
        Script(chunks=["Sure: ", "the LG 8 kg", " washer."], input_tokens=77, output_tokens=12)
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "ANTHROPIC_API_KEY": "sk-ant-test-key",
        "ANTHROPIC_BASE_URL": model.url,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "ask",
        "best 8 kg washer?",
        env=env,
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
    assert model.calls[0].body["messages"] == [{"role": "user", "content": "best 8 kg washer?"}]


async def test_a_missing_key_stops_with_one_clear_line() -> None:
    env = {"PATH": os.environ.get("PATH", "")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "ask",
        "hi",
        env=env,
        cwd="/",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert err.decode().strip() == (
        "shopmax-bot: ANTHROPIC_API_KEY is not set: create a key in the Claude Console"
    )
