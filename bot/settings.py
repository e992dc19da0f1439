"""The one frozen settings object, read once at start-up from the environment and `.env`.

Nothing else in the package reads the environment: the composition root calls
`load_settings()` and passes the result (or the parts a module needs) down.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from bot.errors import SettingsError
from bot.model.pricing import PRICES, ModelPrice, with_overrides

T = TypeVar("T")
NO_IDS: frozenset[str] = frozenset()


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


def _folder(raw: str) -> Path:
    path = Path(raw).expanduser()
    if not path.is_dir():
        raise ValueError("no such folder")
    return path


def _person(raw: str) -> str:
    if len(raw) > 100 or "\n" in raw:
        raise ValueError("use one line of up to 100 characters, e.g. your store manager")
    return raw


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
        raise ValueError("expected an http(s) URL")
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


def _spool_file(raw: str) -> Path:
    path = Path(raw).expanduser()
    if not path.parent.is_dir():
        raise ValueError(f"no such directory: {path.parent}")
    return path


def _public_url(raw: str) -> str:
    """The address people open the pages at, `https://assistant.shopmax.example`: a scheme and
    a host (and port), no path, so its host is the one the pages answer to."""
    scheme, sep, rest = raw.partition("://")
    host = rest.rstrip("/")
    if scheme not in ("http", "https") or not sep or not host or any(c in host for c in "/?#@ "):
        raise ValueError("expected https://host (or http://host:port), without a path")
    return f"{scheme}://{host.lower()}"


def _signin(raw: str) -> str:
    value = raw.lower()
    if value not in {"token", "slack"}:
        raise ValueError("expected token or slack")
    return value


def _database_url(raw: str) -> str:
    if not raw.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise ValueError("expected sqlite:///path/to/file.db or postgresql://user@host/db")
    return raw


def setting(
    name: str,
    default: Any = None,
    parse: Callable[[str], Any] = str,
    *,
    secret: bool = False,
    factory: Callable[[], Any] | None = None,
) -> Any:
    """A field of `Settings`: the variable it is read from, its default (written here and
    nowhere else) and how its text is checked. A `secret` setting's value is never repeated
    in an error, since it may hold a token or a password."""
    meta = {"env": name, "parse": parse, "secret": secret}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Settings:
    """Everything the bot can be configured with. See `.env.example` for one line on each."""

    slack_bot_token: str | None = setting("SLACK_BOT_TOKEN", secret=True)
    slack_signing_secret: str | None = setting("SLACK_SIGNING_SECRET", secret=True)
    slack_app_token: str | None = setting("SLACK_APP_TOKEN", secret=True)
    slack_api_url: str = setting("SLACK_API_URL", "https://slack.com/api/", _api_url)
    anthropic_api_key: str | None = setting("ANTHROPIC_API_KEY", secret=True)
    anthropic_base_url: str | None = setting("ANTHROPIC_BASE_URL")
    model: str = setting("SHOPMAX_MODEL", "claude-haiku-5-5")
    max_tokens: int = setting("SHOPMAX_MAX_TOKENS", 2048, _positive_int)
    database_url: str = setting("DATABASE_URL", "sqlite:///shopmax.db", _database_url, secret=True)
    # None: 0.0.0.0 when serving Slack; 127.0.0.1 without Slack tokens (the local demo)
    host: str | None = setting("HOST")
    port: int = setting("PORT", 3000, _port)
    # None: /metrics is served on PORT with everything else
    metrics_port: int | None = setting("SHOPMAX_METRICS_PORT", None, _port)
    # None: the same address as HOST
    metrics_host: str | None = setting("SHOPMAX_METRICS_HOST", None)
    metrics_token: str | None = setting("SHOPMAX_METRICS_TOKEN", None, _web_token, secret=True)
    update_interval: float = setting("SHOPMAX_UPDATE_INTERVAL", 1.0, _positive_float)
    thinking_after: float = setting("SHOPMAX_THINKING_AFTER", 0.7, _non_negative_float)
    updates_per_minute: int = setting("SHOPMAX_UPDATES_PER_MINUTE", 50, _positive_int)
    appends_per_minute: int = setting("SHOPMAX_APPENDS_PER_MINUTE", 100, _positive_int)
    stream_starts_per_minute: int = setting("SHOPMAX_STREAM_STARTS_PER_MINUTE", 20, _positive_int)
    stream_transport: str = setting("SHOPMAX_STREAM_TRANSPORT", "native", _transport)
    update_burst: int = setting("SHOPMAX_UPDATE_BURST", 5, _positive_int)
    history_tokens: int = setting("SHOPMAX_HISTORY_TOKENS", 8000, _positive_int)
    system_prompt_file: Path | None = setting("SHOPMAX_SYSTEM_PROMPT_FILE", None, _readable_file)
    usd_inr: float = setting("SHOPMAX_USD_INR", 84.0, _positive_float)
    log_level: str = setting("SHOPMAX_LOG_LEVEL", "INFO", _log_level)
    model_retries: int = setting("SHOPMAX_MODEL_RETRIES", 2, _non_negative_int)
    stream_idle_timeout: float = setting("SHOPMAX_STREAM_IDLE_TIMEOUT", 60.0, _positive_float)
    shutdown_grace: float = setting("SHOPMAX_SHUTDOWN_GRACE", 10.0, _non_negative_float)
    admin_users: frozenset[str] = setting("SHOPMAX_ADMIN_USERS", NO_IDS, _ids)
    allowed_teams: frozenset[str] = setting("SHOPMAX_ALLOWED_TEAMS", NO_IDS, _ids)
    allowed_channels: frozenset[str] = setting("SHOPMAX_ALLOWED_CHANNELS", NO_IDS, _ids)
    max_question_chars: int = setting("SHOPMAX_MAX_QUESTION_CHARS", 4000, _positive_int)
    user_questions: int = setting("SHOPMAX_USER_QUESTIONS", 30, _positive_int)
    user_window: float = setting("SHOPMAX_USER_WINDOW", 3600.0, _positive_float)
    user_tokens_per_day: int = setting("SHOPMAX_USER_TOKENS_PER_DAY", 200_000, _positive_int)
    ttft_warn_ms: int = setting("SHOPMAX_TTFT_WARN_MS", 800, _positive_int)
    log_format: str = setting("SHOPMAX_LOG_FORMAT", "text", _log_format)
    timezone: str = setting("SHOPMAX_TIMEZONE", "Asia/Kolkata", _timezone)
    # None: the sample catalog shipped with the bot
    catalog: Path | None = setting("SHOPMAX_CATALOG", None, _catalog_path)
    catalog_enabled: bool = setting("SHOPMAX_CATALOG_TOOLS", True, _on_off)
    # Bearer token for POST /api/catalog/... (a POS or ERP pushing feeds); None: endpoint off
    catalog_token: str | None = setting("SHOPMAX_CATALOG_TOKEN", None, _web_token, secret=True)
    stock_stale_hours: float = setting("SHOPMAX_STOCK_STALE_HOURS", 24.0, _positive_float)
    tool_rounds: int = setting("SHOPMAX_TOOL_ROUNDS", 4, _positive_int)
    web_token: str | None = setting("SHOPMAX_WEB_TOKEN", None, _web_token, secret=True)
    dashboard_token: str | None = setting("SHOPMAX_DASHBOARD_TOKEN", None, _web_token, secret=True)
    web_session_hours: float = setting("SHOPMAX_WEB_SESSION_HOURS", 12.0, _positive_float)
    batch_poll_seconds: float = setting("SHOPMAX_BATCH_POLL_SECONDS", 10.0, _positive_float)
    prices: dict[str, ModelPrice] = setting(
        "SHOPMAX_PRICES", parse=with_overrides, factory=lambda: dict(PRICES)
    )
    # None: each process keeps its own Slack budget
    redis_url: str | None = setting("SHOPMAX_REDIS_URL", None, _redis_url, secret=True)
    replica_id: str = setting("SHOPMAX_REPLICA_ID", parse=_replica_id, factory=default_replica_id)
    answer_lease: float = setting("SHOPMAX_ANSWER_LEASE", 15.0, _lease)
    database_timeout: float = setting("SHOPMAX_DATABASE_TIMEOUT", 3.0, _positive_float)
    spool_path: Path = setting("SHOPMAX_SPOOL_FILE", Path("shopmax-spool.jsonl"), _spool_file)
    spool_limit: int = setting("SHOPMAX_SPOOL_LIMIT", 20_000, _positive_int)
    history_days: float = setting("SHOPMAX_HISTORY_DAYS", 90.0, _positive_float)
    slack_outage_wait: float = setting("SHOPMAX_SLACK_OUTAGE_WAIT", 300.0, _positive_float)
    slack_retry_max: float = setting("SHOPMAX_SLACK_RETRY_MAX", 30.0, _positive_float)
    # Trust boundaries of the browser pages (docs/security.md).
    public_url: str | None = setting("SHOPMAX_PUBLIC_URL", None, _public_url)
    # None: slack when Slack is configured, token otherwise (see `web_signin_method`)
    web_signin: str | None = setting("SHOPMAX_WEB_SIGNIN", None, _signin)
    slack_client_id: str | None = setting("SLACK_CLIENT_ID")
    slack_client_secret: str | None = setting("SLACK_CLIENT_SECRET", secret=True)
    slack_authorize_url: str = setting(
        "SHOPMAX_SLACK_AUTHORIZE_URL", "https://slack.com/openid/connect/authorize", _api_url
    )
    web_idle_minutes: float = setting("SHOPMAX_WEB_IDLE_MINUTES", 15.0, _positive_float)
    # All shared-token sign-ins together: the questions and tokens of this many people at most
    web_token_people: int = setting("SHOPMAX_WEB_TOKEN_PEOPLE", 10, _positive_int)
    max_connections: int = setting("SHOPMAX_MAX_CONNECTIONS", 512, _positive_int)
    # None: the knowledge base as last imported (the sample one while the store has none)
    knowledge_dir: Path | None = setting("SHOPMAX_KNOWLEDGE_DIR", None, _folder)
    knowledge_enabled: bool = setting("SHOPMAX_KNOWLEDGE_TOOLS", True, _on_off)
    escalate_to: str = setting("SHOPMAX_ESCALATE_TO", "your store manager", _person)

    @property
    def serves_slack(self) -> bool:
        """Slack is served when any of its tokens is set; without them the bot runs web only
        (the browser chat and the dashboard)."""
        return bool(self.slack_bot_token or self.slack_app_token or self.slack_signing_secret)

    @property
    def bind_host(self) -> str:
        """Where the HTTP server listens: `HOST`, else every interface when Slack must reach
        it and loopback only when nothing but this machine's browser needs it."""
        if self.host:
            return self.host
        return "0.0.0.0" if self.serves_slack else "127.0.0.1"

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

    def require_ports(self) -> None:
        """Stop with a clear line when the metrics port would collide with the main one."""
        if self.metrics_port is not None and self.metrics_port == self.port:
            raise SettingsError(
                "SHOPMAX_METRICS_PORT is the same as PORT: give metrics a port of its own, "
                "or leave it empty to serve /metrics on PORT"
            )

    @property
    def web_signin_method(self) -> str:
        """How the browser chat signs people in: `SHOPMAX_WEB_SIGNIN`, else Sign in with Slack
        where Slack is configured (the browser person is then a Slack user) and the shared
        token with a typed name where it is not."""
        if self.web_signin:
            return self.web_signin
        return "slack" if self.serves_slack else "token"

    @property
    def local_demo(self) -> bool:
        """Nothing configured that a credential could guard: no Slack tokens, no web or
        dashboard token, no Sign in with Slack. Only then does a direct loopback request open
        the pages without one (`bot.surfaces.web.access`)."""
        return not (
            self.serves_slack or self.web_token or self.dashboard_token or self.slack_client_id
        )

    def require_web(self) -> None:
        """Stop with a clear line when the browser pages' credentials cannot work as set."""
        if self.web_token and self.dashboard_token and self.web_token == self.dashboard_token:
            raise SettingsError(
                "SHOPMAX_DASHBOARD_TOKEN is the same as SHOPMAX_WEB_TOKEN: give the dashboard "
                "a token of its own (the chat's token is shared with every store tablet)"
            )
        others = {
            "SHOPMAX_WEB_TOKEN": self.web_token,
            "SHOPMAX_DASHBOARD_TOKEN": self.dashboard_token,
            "SHOPMAX_METRICS_TOKEN": self.metrics_token,
        }
        for name, token in others.items():
            if self.catalog_token and token and self.catalog_token == token:
                raise SettingsError(
                    f"SHOPMAX_CATALOG_TOKEN is the same as {name}: give catalog pushes a token "
                    "of their own (whoever holds it can replace every price and product)"
                )
        if self.web_signin_method != "slack" or not (self.web_token or self.slack_client_id):
            return
        if not (self.slack_client_id and self.slack_client_secret):
            raise SettingsError(
                "the browser chat signs in with Slack (SHOPMAX_WEB_SIGNIN=slack, the default "
                "with Slack configured), which needs SLACK_CLIENT_ID and SLACK_CLIENT_SECRET "
                "from the app's Basic Information; or set SHOPMAX_WEB_SIGNIN=token"
            )
        if not self.public_url:
            raise SettingsError(
                "Sign in with Slack needs SHOPMAX_PUBLIC_URL, the address staff open the chat "
                "at (its /chat/signin/slack/callback is the app's redirect URL)"
            )

    def require_anthropic(self) -> None:
        """Stop with a clear line when the model cannot be called."""
        if not self.anthropic_api_key:
            raise SettingsError("ANTHROPIC_API_KEY is not set: create a key in the Claude Console")


def load_settings(
    environ: Mapping[str, str] | None = None, dotenv_path: Path | None = Path(".env")
) -> Settings:
    """Build `Settings` from `.env` (if present) overlaid by the real environment.

    Raises `SettingsError` naming the first malformed setting (and its value, unless the
    setting can hold a secret).
    """
    values: dict[str, str] = {}
    if dotenv_path is not None and dotenv_path.is_file():
        values.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    env = {k: v.strip() for k, v in values.items() if v.strip()}
    given: dict[str, Any] = {}
    for spec in fields(Settings):
        name = spec.metadata["env"]
        raw = env.get(name)
        if raw is None:
            continue  # the field's own default
        try:
            given[spec.name] = spec.metadata["parse"](raw)
        except ValueError as exc:
            shown = name if spec.metadata["secret"] else f"{name}={raw!r}"
            raise SettingsError(f"{shown} is not valid: {exc}") from None
    return Settings(**given)
