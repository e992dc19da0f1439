"""The one frozen settings object, read once at start-up from the environment and `.env`.

Nothing else in the package reads the environment: the composition root calls
`load_settings()` and passes the result (or the parts a module needs) down.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from bot.errors import SettingsError
from bot.model.pricing import PRICES, ModelPrice, with_overrides

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_MODEL = "claude-haiku-5-5"

T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    """Everything the bot can be configured with. See `.env.example` for one line on each."""

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    anthropic_api_key: str | None = None
    anthropic_base_url: str | None = None
    model: str = DEFAULT_MODEL
    max_tokens: int = 2048
    database_url: str = "sqlite:///shopmax.db"
    host: str = "0.0.0.0"
    port: int = 3000
    update_interval: float = 1.0
    thinking_after: float = 0.7
    updates_per_minute: int = 50
    appends_per_minute: int = 100
    stream_transport: str = "update"
    update_burst: int = 3
    history_tokens: int = 8000
    system_prompt_file: Path | None = None
    usd_inr: float = 84.0
    log_level: str = "INFO"
    model_retries: int = 2
    stream_idle_timeout: float = 60.0
    shutdown_grace: float = 10.0
    admin_users: frozenset[str] = frozenset()
    allowed_teams: frozenset[str] = frozenset()
    allowed_channels: frozenset[str] = frozenset()
    max_question_chars: int = 4000
    user_questions: int = 30
    user_window: float = 3600.0
    user_tokens_per_day: int = 200_000
    ttft_warn_ms: int = 800
    log_format: str = "text"
    timezone: str = "Asia/Kolkata"
    catalog: Path | None = None  # None: the sample catalog shipped with the bot
    catalog_enabled: bool = True
    tool_rounds: int = 4
    web_token: str | None = None
    batch_poll_seconds: float = 10.0
    prices: dict[str, ModelPrice] = field(default_factory=lambda: dict(PRICES))
    redis_url: str | None = None  # None: each process keeps its own Slack budget
    replica_id: str = field(default_factory=lambda: default_replica_id())
    answer_lease: float = 15.0

    @property
    def socket_mode(self) -> bool:
        """Socket Mode when an app-level token is configured; HTTP mode otherwise."""
        return bool(self.slack_app_token)

    def require_slack(self) -> None:
        """Stop with a clear line when the Slack settings needed to serve Slack are missing."""
        if not self.slack_bot_token:
            raise SettingsError(
                "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...)"
            )
        if not self.slack_bot_token.startswith("xoxb-"):
            raise SettingsError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
        if self.slack_app_token is not None and not self.slack_app_token.startswith("xapp-"):
            raise SettingsError("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
        if not self.socket_mode and not self.slack_signing_secret:
            raise SettingsError(
                "SLACK_SIGNING_SECRET is not set: HTTP mode needs it to verify Slack's requests "
                "(or set SLACK_APP_TOKEN for Socket Mode)"
            )

    def require_anthropic(self) -> None:
        """Stop with a clear line when the model cannot be called."""
        if not self.anthropic_api_key:
            raise SettingsError("ANTHROPIC_API_KEY is not set: create a key in the Claude Console")


def load_settings(
    environ: Mapping[str, str] | None = None, dotenv_path: Path | None = Path(".env")
) -> Settings:
    """Build `Settings` from `.env` (if present) overlaid by the real environment.

    Raises `SettingsError` naming the first malformed setting.
    """
    values: dict[str, str] = {}
    if dotenv_path is not None and dotenv_path.is_file():
        values.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    env = {k: v.strip() for k, v in values.items() if v.strip()}
    return Settings(
        slack_bot_token=env.get("SLACK_BOT_TOKEN"),
        slack_signing_secret=env.get("SLACK_SIGNING_SECRET"),
        slack_app_token=env.get("SLACK_APP_TOKEN"),
        slack_api_url=_api_url(env.get("SLACK_API_URL", DEFAULT_SLACK_API_URL)),
        anthropic_api_key=env.get("ANTHROPIC_API_KEY"),
        anthropic_base_url=env.get("ANTHROPIC_BASE_URL"),
        model=env.get("SHOPMAX_MODEL", DEFAULT_MODEL),
        max_tokens=_parse(env, "SHOPMAX_MAX_TOKENS", 2048, _positive_int),
        database_url=_database_url(env.get("DATABASE_URL", "sqlite:///shopmax.db")),
        host=env.get("HOST", "0.0.0.0"),
        port=_parse(env, "PORT", 3000, _port),
        update_interval=_parse(env, "SHOPMAX_UPDATE_INTERVAL", 1.0, _positive_float),
        thinking_after=_parse(env, "SHOPMAX_THINKING_AFTER", 0.7, _non_negative_float),
        updates_per_minute=_parse(env, "SHOPMAX_UPDATES_PER_MINUTE", 50, _positive_int),
        appends_per_minute=_parse(env, "SHOPMAX_APPENDS_PER_MINUTE", 100, _positive_int),
        stream_transport=_parse(env, "SHOPMAX_STREAM_TRANSPORT", "update", _transport),
        update_burst=_parse(env, "SHOPMAX_UPDATE_BURST", 3, _positive_int),
        history_tokens=_parse(env, "SHOPMAX_HISTORY_TOKENS", 8000, _positive_int),
        system_prompt_file=_parse(env, "SHOPMAX_SYSTEM_PROMPT_FILE", None, _readable_file),
        usd_inr=_parse(env, "SHOPMAX_USD_INR", 84.0, _positive_float),
        log_level=_parse(env, "SHOPMAX_LOG_LEVEL", "INFO", _log_level),
        model_retries=_parse(env, "SHOPMAX_MODEL_RETRIES", 2, _non_negative_int),
        stream_idle_timeout=_parse(env, "SHOPMAX_STREAM_IDLE_TIMEOUT", 60.0, _positive_float),
        shutdown_grace=_parse(env, "SHOPMAX_SHUTDOWN_GRACE", 10.0, _non_negative_float),
        admin_users=_parse(env, "SHOPMAX_ADMIN_USERS", frozenset(), _ids),
        allowed_teams=_parse(env, "SHOPMAX_ALLOWED_TEAMS", frozenset(), _ids),
        allowed_channels=_parse(env, "SHOPMAX_ALLOWED_CHANNELS", frozenset(), _ids),
        max_question_chars=_parse(env, "SHOPMAX_MAX_QUESTION_CHARS", 4000, _positive_int),
        user_questions=_parse(env, "SHOPMAX_USER_QUESTIONS", 30, _positive_int),
        user_window=_parse(env, "SHOPMAX_USER_WINDOW", 3600.0, _positive_float),
        user_tokens_per_day=_parse(env, "SHOPMAX_USER_TOKENS_PER_DAY", 200_000, _positive_int),
        ttft_warn_ms=_parse(env, "SHOPMAX_TTFT_WARN_MS", 800, _positive_int),
        log_format=_parse(env, "SHOPMAX_LOG_FORMAT", "text", _log_format),
        timezone=_parse(env, "SHOPMAX_TIMEZONE", "Asia/Kolkata", _timezone),
        catalog=_parse(env, "SHOPMAX_CATALOG", None, _catalog_path),
        catalog_enabled=_parse(env, "SHOPMAX_CATALOG_TOOLS", True, _on_off),
        tool_rounds=_parse(env, "SHOPMAX_TOOL_ROUNDS", 4, _positive_int),
        web_token=_parse(env, "SHOPMAX_WEB_TOKEN", None, _web_token),
        batch_poll_seconds=_parse(env, "SHOPMAX_BATCH_POLL_SECONDS", 10.0, _positive_float),
        prices=_parse(env, "SHOPMAX_PRICES", dict(PRICES), with_overrides),
        redis_url=_parse(env, "SHOPMAX_REDIS_URL", None, _redis_url),
        replica_id=_parse(env, "SHOPMAX_REPLICA_ID", default_replica_id(), _replica_id),
        answer_lease=_parse(env, "SHOPMAX_ANSWER_LEASE", 15.0, _lease),
    )


def _parse(env: Mapping[str, str], name: str, default: T, convert: Callable[[str], T]) -> T:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        return convert(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r} is not valid: {exc}") from None


def _number(convert: Callable[[str], T], *, zero_allowed: bool) -> Callable[[str], T]:
    """A converter for a whole number (`int`) or any number (`float`) above 0, or from 0."""
    kind = "a whole number" if convert is int else "a number"

    def parse(raw: str) -> T:
        try:
            value = convert(raw)
        except ValueError:
            raise ValueError(f"expected {kind}") from None
        if not (value >= 0 if zero_allowed else value > 0):  # type: ignore[operator]
            raise ValueError(
                "expected a number of 0 or more" if zero_allowed else "expected a number above 0"
            )
        return value

    return parse


_positive_int = _number(int, zero_allowed=False)
_non_negative_int = _number(int, zero_allowed=True)
_positive_float = _number(float, zero_allowed=False)
_non_negative_float = _number(float, zero_allowed=True)


def _ids(raw: str) -> frozenset[str]:
    """Comma- or space-separated Slack ids such as U0123ABCD, C0456EFGH or T0789IJKL."""
    ids = frozenset(part for part in raw.replace(",", " ").split() if part)
    bad = sorted(i for i in ids if not i.isalnum() or not i[0].isupper())
    if bad:
        raise ValueError(f"expected Slack ids separated by commas, not {bad[0]!r}")
    return ids


def _port(raw: str) -> int:
    value = _positive_int(raw)
    if value > 65535:
        raise ValueError("expected a port between 1 and 65535")
    return value


def _readable_file(raw: str) -> Path:
    path = Path(raw).expanduser()
    if not path.is_file():
        raise ValueError("no such file")
    return path


def _web_token(raw: str) -> str:
    if len(raw) < 16:
        raise ValueError("use at least 16 characters (a long random string)")
    return raw


def _catalog_path(raw: str) -> Path:
    path = _readable_file(raw)
    if path.suffix.lower() not in (".json", ".csv"):
        raise ValueError("expected a .json or .csv catalog file")
    return path


def _on_off(raw: str) -> bool:
    value = raw.lower()
    if value in {"on", "true", "1", "yes"}:
        return True
    if value in {"off", "false", "0", "no"}:
        return False
    raise ValueError("expected on or off")


def _timezone(raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("expected a time zone name such as Asia/Kolkata") from None
    return raw


def _log_format(raw: str) -> str:
    value = raw.lower()
    if value not in {"text", "json"}:
        raise ValueError("expected text or json")
    return value


def _transport(raw: str) -> str:
    value = raw.lower()
    if value not in {"update", "native"}:
        raise ValueError("expected update or native")
    return value


def _log_level(raw: str) -> str:
    level = raw.upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ValueError("expected DEBUG, INFO, WARNING or ERROR")
    return level


def _api_url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise SettingsError(f"SLACK_API_URL={raw!r} is not valid: expected an http(s) URL")
    return raw if raw.endswith("/") else raw + "/"


def default_replica_id() -> str:
    """Host name and process id: unique among processes running at once, and a container
    restarted under its old host name (PID 1 again) keeps its id and finishes its own answers."""
    return f"{socket.gethostname()}-{os.getpid()}"


def _replica_id(raw: str) -> str:
    if len(raw) > 100 or not all(c.isalnum() or c in "-_.:" for c in raw):
        raise ValueError("use up to 100 letters, digits, '-', '_', '.' or ':'")
    return raw


def _redis_url(raw: str) -> str:
    if not raw.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("expected redis://host:6379/0 (or rediss:// for TLS)")
    return raw


def _lease(raw: str) -> float:
    value = _positive_float(raw)
    if value < 3:
        raise ValueError("use 3 seconds or more (the lease is renewed every third of it)")
    return value


def _database_url(raw: str) -> str:
    if not raw.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise SettingsError(
            f"DATABASE_URL={raw!r} is not valid: expected sqlite:///path/to/file.db or "
            "postgresql://user@host/db"
        )
    return raw
