"""`shopmax-bot run` and `usage` as real processes when what they need is not there: one line
saying what and why (never a password), a non-zero exit, no traceback, no hang, and nothing
left half-started. And `/metrics` on a port of its own, behind a token."""

from __future__ import annotations

import asyncio
import signal
import socket
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import run_bot
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.serve import free_port, wait_healthy
from tests.fakes.slack_server import FakeSlack
from tests.scenarios.test_process import bot_env, start_bot
from tests.services import POSTGRES_URL, postgres_schema

PASSWORD = "S3cretDbPass"
REFUSED = "connection refused (is the database server running, on that host and port?)"
NO_FILE = "unable to open the file (does its directory exist, and may this user write there?)"


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


async def test_a_port_in_use_stops_run_with_one_line_before_anything_starts(
    slack: FakeSlack, model: FakeAnthropic, tmp_path: Path
) -> None:
    """The port is bound first: nothing connects to Slack, no database file is created."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        code, _out, err = await run_bot(
            "run", env=bot_env(slack, model, tmp_path, port), cwd=tmp_path
        )
    assert code == 1
    assert one_line(err) == (
        f"shopmax-bot: cannot listen on 127.0.0.1:{port}: the port is already in use; "
        "stop what holds it or set PORT"
    )
    assert slack.calls == []
    assert not (tmp_path / "bot.db").exists()


def missing_role_url() -> str:
    host = POSTGRES_URL.split("@", 1)[1]
    return f"postgresql://shopmax_no_such_role:{PASSWORD}@{host}"


UNREACHABLE = [
    pytest.param(
        f"postgresql://nobody:{PASSWORD}@127.0.0.1:1/db",
        f"postgresql://nobody@127.0.0.1:1/db: {REFUSED}",
        id="nothing listening",
    ),
    pytest.param(
        "missing role",
        'role "shopmax_no_such_role" does not exist',
        id="no such role",
    ),
    pytest.param(
        "sqlite:////nonexistent/dir/x.db", f"/nonexistent/dir/x.db: {NO_FILE}", id="no directory"
    ),
    pytest.param("not a database", "file is not a database", id="not a database"),
]


async def database_url(given: str, tmp_path: Path) -> str:
    if given == "missing role":
        await postgres_schema()  # skips, saying why, where PostgreSQL is not running
        return missing_role_url()
    if given == "not a database":
        junk = tmp_path / "junk.db"
        junk.write_text("this is not a database " * 200)
        return f"sqlite:///{junk}"
    return given


@pytest.mark.parametrize(("given", "said"), UNREACHABLE)
async def test_run_with_a_database_out_of_reach_says_which_and_why_in_one_line(
    slack: FakeSlack, model: FakeAnthropic, tmp_path: Path, given: str, said: str
) -> None:
    url = await database_url(given, tmp_path)
    env = {**bot_env(slack, model, tmp_path, free_port()), "DATABASE_URL": url}
    code, out, err = await run_bot("run", env=env, cwd=tmp_path)
    assert code == 1
    line = one_line(err)
    assert line.startswith("shopmax-bot: cannot open the database ") and said in line
    assert PASSWORD not in out + err
    assert slack.calls == [], "Slack is not connected when the store cannot be opened"


@pytest.mark.parametrize(("given", "said"), UNREACHABLE[:3])
async def test_usage_with_a_database_out_of_reach_says_which_and_why_in_one_line(
    tmp_path: Path, given: str, said: str
) -> None:
    url = await database_url(given, tmp_path)
    code, out, err = await run_bot("usage", env={"DATABASE_URL": url}, cwd=tmp_path)
    assert code == 1
    line = one_line(err)
    assert line.startswith("shopmax-bot: cannot open the database ") and said in line
    assert PASSWORD not in out + err


METRICS_TOKEN = "metrics-token-0123456789"


async def test_metrics_on_a_port_of_their_own_behind_a_token(
    slack: FakeSlack, model: FakeAnthropic, tmp_path: Path
) -> None:
    """SHOPMAX_METRICS_PORT moves /metrics off the public port; the token guards it there."""
    port, metrics_port = free_port(), free_port()
    env = {
        **bot_env(slack, model, tmp_path, port),
        "SHOPMAX_METRICS_PORT": str(metrics_port),
        "SHOPMAX_METRICS_HOST": "127.0.0.1",
        "SHOPMAX_METRICS_TOKEN": METRICS_TOKEN,
    }
    process = await start_bot(env, tmp_path)
    try:
        assert await wait_healthy(f"http://127.0.0.1:{port}/healthz", process) == 200
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/metrics") as r:
                assert r.status == 404
            metrics = f"http://127.0.0.1:{metrics_port}/metrics"
            async with http.get(metrics) as r:
                # A metrics port of its own on loopback: only this machine reaches it, so the
                # token is not needed there (it still is on PORT, and on any other address).
                assert r.status == 200
            bearer = {"Authorization": f"Bearer {METRICS_TOKEN}"}
            async with http.get(metrics, headers=bearer) as r:
                assert r.status == 200
                assert "shopmax_answers_in_flight" in await r.text()
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, output.decode()
    assert METRICS_TOKEN not in output.decode()
