"""`shopmax-bot run` as a real process: Socket Mode end to end, health, and a clean SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp

from tests.conftest import METRICS_TOKEN, payload
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.serve import free_port, wait_healthy
from tests.fakes.slack_server import APP_TOKEN, BOT_USER, TOKEN, FakeSlack


def bot_env(slack: FakeSlack, model: FakeAnthropic, tmp_path: Path, port: int) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": slack.api_url,
        "ANTHROPIC_API_KEY": "sk-ant-test-key",
        "ANTHROPIC_BASE_URL": model.url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        # Stable across restarts, so a restarted bot finishes its own cut-off answers at once.
        "SHOPMAX_REPLICA_ID": "test-replica",
        "SHOPMAX_METRICS_TOKEN": METRICS_TOKEN,
        "SHOPMAX_STREAM_TRANSPORT": "update",  # as the other tests (conftest's settings)
    }


async def start_bot(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


async def test_socket_mode_bot_answers_a_mention_and_stops_cleanly(
    slack: FakeSlack, model: FakeAnthropic, tmp_path: Path
) -> None:
    """Connects over Socket Mode (through SLACK_API_URL), answers, serves /healthz, exits 0."""
    port = free_port()
    env = bot_env(slack, model, tmp_path, port)
    model.script(Script(chunks=["Socket", " Mode", " works."]))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert await wait_healthy(f"http://127.0.0.1:{port}/healthz", process) == 200
        body = payload("app_mention", text=f"<@{BOT_USER}> hi", ts="1700003000.000100")
        envelope = await slack.send_envelope("events_api", body)
        await slack.wait_for(lambda: any(m.context for m in slack.messages), within=20)
        assert slack.messages[0].markdown == "Socket Mode works."
        assert {"envelope_id": envelope} in slack.socket_acks
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 0, output.decode()
    assert TOKEN not in output.decode() and APP_TOKEN not in output.decode()
    # SLACK_BOT_TOKEN is in the environment, which Bolt reads and then warns about.
    assert "will be unused" not in output.decode()


async def test_sigterm_mid_answer_reports_503_ends_the_answer_and_exits_0(
    slack: FakeSlack, model: FakeAnthropic, tmp_path: Path
) -> None:
    """During the grace period /healthz is 503; past it the answer ends with a notice."""
    port = free_port()
    env = {**bot_env(slack, model, tmp_path, port), "SHOPMAX_SHUTDOWN_GRACE": "1"}
    model.script(Script(chunks=[f"Step {n}. " for n in range(400)], delay=0.05))
    process = await start_bot(env, tmp_path)
    health = f"http://127.0.0.1:{port}/healthz"
    assert await wait_healthy(health, process) == 200
    await slack.send_envelope(
        "events_api", payload("app_mention", text=f"<@{BOT_USER}> go", ts="1700003100.000100")
    )
    await slack.wait_for(lambda: slack.messages and len(slack.messages[0].versions) >= 2, 20)
    process.send_signal(signal.SIGTERM)
    async with aiohttp.ClientSession() as http:
        async with http.get(health) as r:
            assert r.status == 503
    output, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, output.decode()
    [answer] = slack.messages
    assert any("restarted" in text for text in answer.context)
    assert "▍" not in answer.markdown


async def test_after_kill_9_the_next_start_finishes_the_cut_off_answer(
    slack: FakeSlack, model: FakeAnthropic, tmp_path: Path
) -> None:
    port = free_port()
    env = bot_env(slack, model, tmp_path, port)
    model.script(Script(chunks=[f"Step {n}. " for n in range(400)], delay=0.05))
    process = await start_bot(env, tmp_path)
    assert await wait_healthy(f"http://127.0.0.1:{port}/healthz", process) == 200
    await slack.send_envelope(
        "events_api", payload("app_mention", text=f"<@{BOT_USER}> go", ts="1700003200.000100")
    )
    await slack.wait_for(lambda: slack.messages and len(slack.messages[0].versions) >= 3, 20)
    process.kill()
    await process.wait()
    [answer] = slack.messages
    assert "▍" in answer.markdown, "left half-written by the crash"
    restarted = await start_bot(env, tmp_path)
    try:
        await slack.wait_for(lambda: any("restarted" in t for t in answer.context), 30)
        assert "▍" not in answer.markdown and answer.markdown.startswith("Step 0.")
    finally:
        restarted.send_signal(signal.SIGTERM)
        await asyncio.wait_for(restarted.communicate(), 30)
