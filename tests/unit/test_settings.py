"""Settings: defaults, the environment over `.env`, and one clear line for a bad value."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal
from pathlib import Path

import pytest

from bot.errors import SettingsError
from bot.settings import Settings, load_settings

SLACK = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "ANTHROPIC_API_KEY": "k"}


def test_defaults_follow_the_design_contract() -> None:
    settings = load_settings({}, dotenv_path=None)
    assert settings.model == "claude-haiku-5-5"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.database_url == "sqlite:///shopmax.db"
    assert (settings.bind_host, settings.port) == ("127.0.0.1", 3000), "no Slack: loopback"
    slack = load_settings(SLACK, dotenv_path=None)
    assert (slack.serves_slack, slack.bind_host) == (True, "0.0.0.0"), "Slack must reach it"
    assert load_settings({**SLACK, "HOST": "10.0.0.5"}, dotenv_path=None).bind_host == "10.0.0.5"
    assert settings.update_interval == 1.0
    assert settings.stream_transport == "native", "less lag under load: docs/pacing.md"
    assert settings.socket_mode is False


def test_environment_wins_over_dotenv(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("SHOPMAX_MODEL=claude-sonnet-5-5\nPORT=4000\n")
    settings = load_settings({"PORT": "5000"}, dotenv_path=dotenv)
    assert (settings.model, settings.port) == ("claude-sonnet-5-5", 5000)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "SHOPMAX_MAX_TOKENS",
            "lots",
            "SHOPMAX_MAX_TOKENS='lots' is not valid: expected a whole number",
        ),
        ("PORT", "70000", "PORT='70000' is not valid: expected a port between 1 and 65535"),
        (
            "SHOPMAX_UPDATE_INTERVAL",
            "0",
            "SHOPMAX_UPDATE_INTERVAL='0' is not valid: expected a number above 0",
        ),
        (
            "SLACK_API_URL",
            "slack.com",
            "SLACK_API_URL='slack.com' is not valid: expected an http(s) URL",
        ),
        (
            "DATABASE_URL",
            "mysql://x",
            "DATABASE_URL is not valid: expected sqlite:///path/to/file.db or "
            "postgresql://user@host/db",
        ),
        (
            "SHOPMAX_SYSTEM_PROMPT_FILE",
            "/no/such/file",
            "SHOPMAX_SYSTEM_PROMPT_FILE='/no/such/file' is not valid: no such file",
        ),
    ],
)
def test_malformed_settings_name_themselves(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({name: value}, dotenv_path=None)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://admin:DbPassSECRET@db/shop"),
        ("SHOPMAX_REDIS_URL", "http://:RedisPassSECRET@cache:6379/0"),
        ("SHOPMAX_WEB_TOKEN", "SECRETshort"),
        ("SHOPMAX_METRICS_TOKEN", "SECRETshort"),
    ],
)
def test_a_setting_that_can_hold_a_secret_is_never_repeated_in_its_error(
    name: str, value: str
) -> None:
    """An operator's typo must not print a password into a terminal or a log collector: the
    error names the setting and what is wrong, and leaves the value out."""
    with pytest.raises(SettingsError) as caught:
        load_settings({name: value}, dotenv_path=None)
    assert str(caught.value).startswith(f"{name} is not valid: ")
    assert "SECRET" not in str(caught.value)


def test_every_default_is_written_once() -> None:
    """The dataclass field is the one place a default lives: building `Settings()` directly
    and loading an empty environment give the same object."""
    assert load_settings({}, dotenv_path=None) == replace_replica(Settings())


def replace_replica(settings: Settings) -> Settings:
    return dataclasses.replace(settings, replica_id=load_settings({}, dotenv_path=None).replica_id)


def test_slack_settings_are_required_to_serve_slack() -> None:
    with pytest.raises(SettingsError, match="SLACK_BOT_TOKEN is not set"):
        load_settings({}, dotenv_path=None).require_slack()
    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET is not set"):
        load_settings({"SLACK_BOT_TOKEN": "xoxb-1"}, dotenv_path=None).require_slack()
    socket = load_settings(
        {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}, dotenv_path=None
    )
    socket.require_slack()
    assert socket.socket_mode is True
    load_settings(SLACK, dotenv_path=None).require_slack()


def test_env_example_documents_every_setting() -> None:
    """Each variable the settings loader reads appears in .env.example with a comment above."""
    source = (Path(__file__).parents[2] / "bot" / "settings.py").read_text()
    read = set(re.findall(r'"((?:SLACK|ANTHROPIC|SHOPMAX|DATABASE|HOST|PORT)[A-Z_]*)"', source))
    lines = (Path(__file__).parents[2] / ".env.example").read_text().splitlines()
    documented = {}
    for number, line in enumerate(lines):
        if "=" in line and not line.startswith("#"):
            documented[line.split("=", 1)[0]] = lines[number - 1].startswith("#")
    assert read - documented.keys() == set()
    assert all(documented[name] for name in read)


def test_prices_can_be_added_or_overridden() -> None:
    settings = load_settings(
        {"SHOPMAX_PRICES": '{"claude-house-1": {"input": 2, "output": 8, "cache_read": 0.1}}'},
        dotenv_path=None,
    )
    price = settings.prices["claude-house-1"].base
    assert (price.input, price.output, price.cache_read) == (2, 8, Decimal("0.1"))
    assert price.cache_write_5m == Decimal("2.5"), "cache writes default to 1.25x input"
    assert "claude-haiku-5-5" in settings.prices


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("not json", "expected JSON"),
        ('{"m": {"input": 1}}', "m: give at least input and output prices"),
        ('{"m": {"input": 1, "output": 2, "colour": 3}}', "m: unknown price 'colour'"),
        ('{"m": {"input": "cheap", "output": 2}}', "m: prices must be numbers"),
    ],
)
def test_bad_price_overrides_say_what_is_wrong(raw: str, problem: str) -> None:
    with pytest.raises(SettingsError, match=problem):
        load_settings({"SHOPMAX_PRICES": raw}, dotenv_path=None)


def test_metrics_cannot_share_the_main_port() -> None:
    """Two servers on one port would fail as "port in use"; say what is really wrong."""
    settings = load_settings({"PORT": "8000", "SHOPMAX_METRICS_PORT": "8000"}, dotenv_path=None)
    with pytest.raises(SettingsError, match="SHOPMAX_METRICS_PORT is the same as PORT"):
        settings.require_ports()
    load_settings({"SHOPMAX_METRICS_PORT": "9100"}, dotenv_path=None).require_ports()
