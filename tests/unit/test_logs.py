"""No token, key or signing secret appears in logs, at any level."""

from __future__ import annotations

import logging

import pytest

from bot.settings import Settings
from tests.conftest import Bot, payload
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.slack_server import BOT_USER, FakeSlack


async def test_debug_logs_of_a_whole_answer_hold_no_secret(
    bot: Bot,
    slack: FakeSlack,
    model: FakeAnthropic,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    model.script(Script(status=529), Script(chunks=["Logged", " answer."]))
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> hi", ts="1700009000.000100"))
    await bot.finished_answers()
    await bot.services.answerer.wait_idle(10)
    logged = "\n".join(
        f"{record.getMessage()} {record.args!r} {record.__dict__!r}" for record in caplog.records
    )
    assert len(caplog.records) > 10, "debug logging was on"
    for secret in (
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.anthropic_api_key,
    ):
        assert secret and secret not in logged
