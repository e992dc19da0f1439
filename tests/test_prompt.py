"""The system prompt Claude receives, built in or from a file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bot.prompt import SYSTEM_PROMPT, system_prompt
from tests.conftest import Bot, payload
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.slack_server import BOT_USER


async def test_claude_receives_the_shopmax_system_prompt(bot: Bot, model: FakeAnthropic) -> None:
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> hi", ts="1700004000.000100"))
    await bot.finished_answers()
    system = model.calls[0].body["system"]
    assert system == SYSTEM_PROMPT
    assert "ShopMax India" in system and "rupees" in system
    assert model.calls[0].body["max_tokens"] == 2048


def test_a_prompt_file_replaces_the_built_in_prompt(tmp_path: Path) -> None:
    path = tmp_path / "prompt.txt"
    path.write_text("You are the Diwali sale assistant.\n")
    assert system_prompt(path) == "You are the Diwali sale assistant."
    assert system_prompt(None) == SYSTEM_PROMPT


async def test_configured_prompt_reaches_claude(bot: Bot, model: FakeAnthropic) -> None:
    answerer = bot.services.answerer
    answerer.config = replace(answerer.config, system_prompt="Only talk about fridges.")
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> hi", ts="1700004100.000100"))
    await bot.finished_answers()
    assert model.calls[0].body["system"] == "Only talk about fridges."
