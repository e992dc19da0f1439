"""Cost and SLA visibility: the ledger, /shopmax usage, the Home tab, the terminal report,
/metrics, the slow-first-token warning and JSON logs."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.logs import CorrelationFilter, JsonFormatter, correlation_id
from bot.settings import Settings
from bot.store import open_store
from tests.conftest import USER, Bot, BotFactory, ledger_row, payload
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.slack_server import BOT_USER, TEAM, FakeSlack

TS = "1700010000.000100"


async def test_every_answer_writes_one_ledger_row_with_its_outcome(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """ok, interrupted and error answers each leave a complete row."""
    model.script(
        Script(chunks=["Fine."], input_tokens=120, output_tokens=8, cache_read_tokens=30),
        Script(chunks=["Half", " of it"], error_after=1),
        Script(status=400),
    )
    for n in range(3):
        await bot.event(payload("app_mention", text=f"<@{BOT_USER}> q{n}", ts=f"{TS}{n}"))
        await bot.handled(n + 1)
    rows = await bot.services.store.ledger(0)
    assert [r.outcome for r in rows] == ["ok", "interrupted", "error"]
    ok = rows[0]
    assert (ok.team, ok.user, ok.surface, ok.model) == (TEAM, USER, "mention", "claude-haiku-5-5")
    assert (ok.input_tokens, ok.output_tokens, ok.cache_read_tokens) == (120, 8, 30)
    assert ok.stop_reason == "end_turn" and ok.slack_edits == 1  # short: one post, whole
    assert ok.ttft_ms is not None and ok.first_visible_ms is not None
    assert ok.first_visible_ms >= ok.ttft_ms
    assert ok.cost_usd == pytest.approx((120 * 0.10 + 8 * 0.50 + 30 * 0.01) / 1e6)
    assert ok.cost_inr == pytest.approx(ok.cost_usd * 84)


async def test_a_stopped_answer_is_recorded_as_stopped(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    model.script(Script(chunks=[f"w{n} " for n in range(300)], delay=0.02))
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> long", ts=TS))
    message = await slack.wait_for(
        lambda: next(
            (m for m in slack.messages if any(b["type"] == "actions" for b in m.blocks)), None
        )
    )
    await bot.press(message, "stop_answer")
    await bot.handled(1)
    [row] = await bot.services.store.ledger(0)
    assert (row.outcome, row.stop_reason) == ("stopped", "stopped")


async def test_rows_survive_a_restart(make_bot: BotFactory, slack: FakeSlack) -> None:
    first = await make_bot()
    await first.services.store.record(ledger_row())
    await first.services.close()
    second = await make_bot()
    assert len(await second.services.store.ledger(0)) == 1


async def test_usage_command_shows_the_asker_their_day_and_month(
    bot: Bot, slack: FakeSlack
) -> None:
    store = bot.services.store
    await store.record(ledger_row())
    await store.record(ledger_row(user="U0OTHER", cost_usd=0.05, cost_inr=4.2))
    response = await bot.command("usage")
    text = json.loads(response.body)["text"]
    assert "*Today:* 1 answer · 1,500 tokens · $0.010 (₹0.84)" in text
    assert "*This month:* 1 answer" in text
    assert "Whole workspace" not in text, "only admins see the workspace"


async def test_admins_also_see_the_workspace_by_channel_user_and_model(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    bot = await make_bot(admin_users=frozenset({USER}))
    await bot.services.store.record(ledger_row())
    await bot.services.store.record(ledger_row(user="U0OTHER", channel="C0SALES"))
    text = json.loads((await bot.command("usage")).body)["text"]
    assert "*Whole workspace, this month:* 2 answers · 3,000 tokens" in text
    assert "*By channel*\n• <#C0SALES>: 1 answer · 1,500 tokens" in text
    assert "• <#C0STORE>: 1 answer" in text
    assert "<@U0OTHER>: 1 answer" in text
    assert "`claude-haiku-5-5`: 2 answers" in text


async def test_home_tab_shows_the_viewers_week_and_admins_the_workspace(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    bot = await make_bot(admin_users=frozenset({"U0ADMIN"}))
    await bot.services.store.record(ledger_row(ttft_ms=300.0))
    await bot.services.store.record(ledger_row(ttft_ms=900.0, user="U0OTHER"))
    for viewer in (USER, "U0ADMIN"):
        body = {
            "type": "event_callback",
            "team_id": TEAM,
            "event_id": f"Ev{viewer}",
            "event": {
                "type": "app_home_opened",
                "user": viewer,
                "channel": "D0HOME",
                "tab": "home",
                "event_ts": "1700010001.000100",
            },
        }
        await bot.event(body)
    await slack.wait_for(lambda: len(slack.home) == 2)
    staff = json.dumps(slack.home[USER])
    assert "Answers: *1*" in staff and "median *300 ms*" in staff
    assert "Whole workspace" not in staff
    admin = json.dumps(slack.home["U0ADMIN"])
    assert "Answers: *0*" in admin
    assert "Answers: *2*" in admin and "p95 *900 ms*" in admin


async def test_terminal_usage_report_as_table_and_csv(settings: Settings, tmp_path: Path) -> None:
    store = await open_store(settings.database_url)
    await store.record(ledger_row())
    await store.record(ledger_row(user="U0OTHER", model="claude-sonnet-5-5"))
    await store.record(ledger_row(at=time.time() - 30 * 86400))  # outside --since 7d
    await store.close()
    env = {"PATH": os.environ.get("PATH", ""), "DATABASE_URL": settings.database_url}

    async def run(*args: str) -> str:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "usage",
            *args,
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        out, err = await process.communicate()
        assert process.returncode == 0, err.decode()
        return out.decode()

    table = (await run("--since", "7d", "--by", "model")).splitlines()
    assert table[0].split()[:2] == ["model", "answers"]
    assert table[-1].split()[:2] == ["TOTAL", "2"]
    csv_lines = (await run("--since", "7d", "--by", "user", "--csv")).splitlines()
    assert csv_lines[0].startswith("user,answers,input,output")
    assert sorted(line.split(",")[0] for line in csv_lines[1:]) == ["U0OTHER", USER]


async def test_metrics_after_answers(bot: Bot, slack: FakeSlack, model: FakeAnthropic) -> None:
    model.script(
        Script(chunks=["One."], input_tokens=10, output_tokens=3),
        Script(chunks=["Two."], input_tokens=20, output_tokens=4),
    )
    for n in range(2):
        await bot.event(payload("app_mention", text=f"<@{BOT_USER}> q{n}", ts=f"{TS}{n}"))
        await bot.handled(n + 1)
    text = bot.services.metrics.exposition().decode()
    assert "shopmax_time_to_first_token_seconds_count 2.0" in text
    assert "shopmax_time_to_first_visible_seconds_count 2.0" in text
    assert "shopmax_answer_duration_seconds_count 2.0" in text
    assert 'shopmax_tokens_total{kind="input",model="claude-haiku-5-5"} 30.0' in text
    assert 'shopmax_tokens_total{kind="output",model="claude-haiku-5-5"} 7.0' in text
    assert 'shopmax_cost_usd_total{model="claude-haiku-5-5"}' in text
    assert 'shopmax_slack_calls_total{method="chat.postMessage"} 2.0' in text
    assert 'shopmax_answers_total{outcome="ok",surface="mention"} 2.0' in text
    assert "shopmax_answers_in_flight 0.0" in text


async def test_slow_first_token_logs_a_warning_with_both_ids(
    make_bot: BotFactory, model: FakeAnthropic, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await make_bot(ttft_warn_ms=50)
    model.script(Script(chunks=["Late."], first_token_delay=0.2))
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> q", ts=TS))
    await bot.handled(1)
    [warning] = [r for r in caplog.records if "slow first token" in r.getMessage()]
    assert warning.levelno == logging.WARNING
    message = warning.getMessage()
    assert "over 50 ms" in message and "model request req_1" in message
    answer_id = message.split("question ")[1].split(",")[0]
    assert len(answer_id) == 32, "the question's correlation id"


async def test_fast_first_token_logs_no_warning(
    bot: Bot, model: FakeAnthropic, caplog: pytest.LogCaptureFixture
) -> None:
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> q", ts=TS))
    await bot.handled(1)
    assert not [r for r in caplog.records if "slow first token" in r.getMessage()]


def test_json_log_lines_carry_the_correlation_id() -> None:
    token = correlation_id.set("abc123")
    try:
        record = logging.LogRecord(
            "bot.answering.answerer", logging.INFO, __file__, 1, "hello %s", ("x",), None
        )
        CorrelationFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
    finally:
        correlation_id.reset(token)
    assert (line["message"], line["correlation_id"], line["level"]) == ("hello x", "abc123", "INFO")
    assert line["time"].endswith("Z")
