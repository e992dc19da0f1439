"""`shopmax-bot` as a newcomer meets it, run as a real process: help that names and explains
everything, clear words for a bad `--since`, an empty ledger said plainly, and output without
log lines mixed in."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import run_bot
from tests.fakes.anthropic_server import FakeAnthropic, Script


def undocumented(help_text: str) -> list[str]:
    """Arguments and options in an argparse help text that have no help of their own."""
    lines = help_text.splitlines()
    missing = []
    for index, line in enumerate(lines):
        entry = re.match(r"^  (-[\w-]+|[a-z_]+)(.*)$", line)
        if entry is None or entry.group(1) == "-h":
            continue
        same_line = re.search(r"\S\s{2,}\S", line.strip())
        next_line = index + 1 < len(lines) and lines[index + 1].startswith(" " * 8)
        if not same_line and not next_line:
            missing.append(entry.group(1))
    return missing


async def test_the_top_level_help_names_every_command() -> None:
    code, out, _ = await run_bot("--help", env={})
    assert code == 0
    for command in ("run", "ask", "catalog", "usage"):
        assert re.search(rf"^\s+{command}\s+\w", out, flags=re.MULTILINE), command
    assert ".env" in out


async def test_run_help_explains_the_modes_env_and_key_settings() -> None:
    code, out, _ = await run_bot("run", "--help", env={})
    assert code == 0
    for words in ("Socket Mode", "HTTP mode", "web only", ".env", "/slack/events", "/chat"):
        assert words in out, words
    for setting in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET",
                    "ANTHROPIC_API_KEY", "SHOPMAX_WEB_TOKEN", "DATABASE_URL", "PORT"):  # fmt: skip
        assert setting in out, setting


@pytest.mark.parametrize(
    "command",
    [("catalog", "check"), ("catalog", "search"), ("catalog", "describe"), ("usage",), ("ask",)],
)
async def test_every_argument_and_option_has_help(command: tuple[str, ...]) -> None:
    code, out, _ = await run_bot(*command, "--help", env={})
    assert code == 0
    assert undocumented(out) == []


@pytest.mark.parametrize(
    ("since", "said"),
    [
        ("-7d", "'-7d' has a minus sign: write 7d, which already means that long ago"),
        ("0d", "'0d' covers no time: give at least 1m, 1h or 1d"),
        ("7 days", "expected a span back from now such as 90m, 24h, 7d or 30d, not '7 days'"),
    ],
)
async def test_a_bad_since_says_what_is_wrong(since: str, said: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}"}
    code, _, err = await run_bot("usage", "--since", since, env=env)
    assert code == 2
    assert err.splitlines()[-1].endswith(said)
    assert "expected one argument" not in err


async def test_usage_on_an_empty_ledger_says_so(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}"}
    code, out, err = await run_bot("usage", "--since", "24h", env=env)
    assert (code, err) == (0, "")
    assert re.fullmatch(r"no answers since \d{4}-\d\d-\d\d \d\d:\d\d IST\n", out)


async def test_ask_prints_the_answer_without_log_lines(
    model: FakeAnthropic, tmp_path: Path
) -> None:
    """No log line (the HTTP libraries' request lines, the answering path's own) mixes into the
    terminal's answer (stdout and stderr share it)."""
    model.script(Script(chunks=["Try the ", "LG 8 kg."]))
    env = {
        "ANTHROPIC_API_KEY": "sk-ant-test-key",
        "ANTHROPIC_BASE_URL": model.url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
    }
    code, out, err = await run_bot("ask", "8 kg washer?", env=env)
    assert code == 0
    assert err == ""
    assert out.startswith("ShopMax India Assistant: Try the LG 8 kg.\n\n--- Stream stats ---")
