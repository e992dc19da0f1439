"""Try it in one command: `shopmax-bot run` on a fresh machine, with no `.env` and no
credentials at all, is the real bot without its Slack side — the browser chat on loopback,
answered by the offline demo model from the catalog, with the ledger, dashboard and `usage`."""

from __future__ import annotations

import asyncio
import json
import re
import signal
from pathlib import Path
from typing import Any

import aiohttp

from tests.conftest import run_bot
from tests.fakes.serve import free_port, wait_healthy
from tests.scenarios.test_process import start_bot


async def sse(response: aiohttp.ClientResponse) -> list[tuple[str, dict[str, Any]]]:
    seen, buffer = [], ""
    async for chunk in response.content.iter_any():
        buffer += chunk.decode()
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            lines = dict(line.split(": ", 1) for line in block.splitlines())
            seen.append((lines["event"], json.loads(lines["data"])))
    return seen


async def test_an_empty_environment_serves_the_demo_chat_on_loopback(tmp_path: Path) -> None:
    """Nothing set but the port (so tests never collide): the bot says in one line where its
    chat is, asks for no token there, streams a catalog answer with ₹ prices from the demo
    model, writes it to the ledger (the dashboard and `usage` show it), and stops cleanly."""
    port = free_port()
    env = {"PORT": str(port)}
    process = await start_bot(env, tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        assert await wait_healthy(f"{base}/healthz", process) == 200
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/api/chat/config") as r:
                config = await r.json()
            assert config["needs_token"] is False
            assert "offline demo model" in config["demo_note"]
            async with http.post(f"{base}/api/chat/session", json={"name": "Asha"}) as r:
                session = (await r.json())["session"]
            question = {"message": "Which TV under Rs 50,000 is in stock in Mumbai?"}
            headers = {"Authorization": f"Bearer {session}"}
            async with http.post(f"{base}/api/chat", json=question, headers=headers) as r:
                events = await sse(r)
            async with http.get(f"{base}/dashboard") as r:
                assert r.status == 200
            async with http.get(f"{base}/api/dashboard?days=7") as r:
                board = await r.json()
    finally:
        process.send_signal(signal.SIGTERM)
        log, _ = await asyncio.wait_for(process.communicate(), 30)
    names = [name for name, _ in events]
    assert names[0] == "start" and names[-1] == "done" and "status" in names
    answer = "".join(data["text"] for name, data in events if name == "text")
    assert re.search(r"SMX-TV-\d{4}", answer) and re.search(r"₹\d{1,3}(,\d{2,3})+", answer)
    assert events[-1][1]["footer"].endswith("offline demo model")
    assert [user["name"].split(" (")[0] for user in board["top_users"]] == ["Asha"]
    said = log.decode()
    assert process.returncode == 0, said
    assert f"serving the browser chat only, at {base}/chat" in said
    assert "offline demo model" in said and "Traceback" not in said
    code, usage, _ = await run_bot("usage", "--by", "user", env={}, cwd=tmp_path)
    assert code == 0 and re.search(r"^Asha \(\S+\)\s+1\s", usage, re.M)
