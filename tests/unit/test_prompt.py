"""The system prompt Claude receives, built in or from a file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bot.answering.prompt import CATALOG_RULES, KNOWLEDGE_RULES, SYSTEM_PROMPT, system_prompt
from bot.wording import texts
from tests.conftest import Bot, payload
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.slack_server import BOT_USER


async def test_claude_receives_the_shopmax_system_prompt(bot: Bot, model: FakeAnthropic) -> None:
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> hi", ts="1700004000.000100"))
    await bot.finished_answers()
    [system] = model.calls[0].body["system"]
    assert system == {
        "type": "text",
        "text": system_prompt(None, catalog=True, knowledge=True),
        "cache_control": {"type": "ephemeral"},
    }
    assert "only from tool results" in CATALOG_RULES.replace("\n", " ")
    assert "ShopMax India" in SYSTEM_PROMPT and "rupees" in SYSTEM_PROMPT
    assert model.calls[0].body["max_tokens"] == 2048


def test_a_prompt_file_replaces_the_built_in_prompt(tmp_path: Path) -> None:
    path = tmp_path / "prompt.txt"
    path.write_text("You are the Diwali sale assistant.\n")
    escalation = texts.escalation("your store manager")
    assert system_prompt(path) == f"You are the Diwali sale assistant.\n{escalation}\n"
    assert system_prompt(None) == f"{SYSTEM_PROMPT}{escalation}\n"


def test_when_nothing_is_found_claude_is_told_whom_to_point_staff_to() -> None:
    """SHOPMAX_ESCALATE_TO in the prompt, with the rules of the tools that are on."""
    prompt = system_prompt(None, catalog=True, knowledge=True, escalate_to="the floor manager")
    assert prompt.endswith(
        "say so plainly and tell the staff member to ask the floor manager; never guess a "
        "price, stock level, policy or offer.\n"
    )
    assert CATALOG_RULES.strip() in prompt and KNOWLEDGE_RULES.strip() in prompt
    assert KNOWLEDGE_RULES.strip() not in system_prompt(None, catalog=True)


async def test_configured_prompt_reaches_claude(bot: Bot, model: FakeAnthropic) -> None:
    answerer = bot.services.answerer
    answerer.config = replace(answerer.config, system_prompt="Only talk about fridges.")
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> hi", ts="1700004100.000100"))
    await bot.finished_answers()
    assert model.calls[0].body["system"][0]["text"] == "Only talk about fridges."


async def test_cache_tokens_show_in_the_footer_and_the_cost(bot: Bot, model: FakeAnthropic) -> None:
    """A cache hit: read and written tokens in the footer, priced at their own rates."""
    model.script(
        Script(
            chunks=["Cached."],
            input_tokens=10,
            output_tokens=5,
            cache_read_tokens=2000,
            cache_write_tokens=100,
        )
    )
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> hi", ts="1700004200.000100"))
    [answer] = await bot.finished_answers()
    parts = answer.context[-1].split(" · ")
    assert parts[2] == "cache 2,000 read / 100 written"
    # 10 x 0.10 + 5 x 0.50 + 2,000 x 0.01 + 100 x 0.125 per million = $0.000036
    assert parts[-2].startswith("$0.000036 ")
    assert parts[-1] == "not from the catalog"  # no tool was used
