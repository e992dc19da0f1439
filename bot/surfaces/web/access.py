"""Who may open the browser pages, and how a request proves it.

Nothing is trusted for where it comes from. Behind nginx or Caddy on the same host every
request arrives from loopback, so the bind address says nothing about who is asking; and any
web page a browser in the store visits can point a name of its own at 127.0.0.1 (DNS
rebinding) and read what loopback serves. So:

* every page's API needs its own credential: the chat a session (Sign in with Slack, or the
  shared `SHOPMAX_WEB_TOKEN` and a typed name), the dashboard the admin token
  (`SHOPMAX_DASHBOARD_TOKEN`) or a session made from it, `/metrics` and `/readyz` the metrics
  token (`SHOPMAX_METRICS_TOKEN`) unless they have a loopback port of their own;
* the one exception is the credential-less local demo (`Settings.local_demo`: no Slack tokens,
  no web or dashboard token, no Sign in with Slack; bound to loopback): there a request
  straight from this machine (no proxy header of any kind, `PROXY_HEADERS`, and a `Host`
  naming the bound address and port) needs none. A proxy that adds no header and passes the
  bound address as `Host` (nginx's defaults) cannot be told from a browser on this machine:
  never put one in front of the credential-less demo (README, docs/security.md);
* the pages answer to one host: `SHOPMAX_PUBLIC_URL`'s, or without it only the address the
  request arrived on (the bound address, or a loopback name) and its port. A request naming
  another `Host` (a rebound name), one with user info in it, or an absolute request address
  naming another host is refused (421, saying to set `SHOPMAX_PUBLIC_URL`) before anything
  reads it. `/slack/events` is not: Slack signs its requests, whatever name it uses;
* wrong credentials (a sign-in's token, a bearer on the dashboard's API, `/metrics` or
  `/readyz`) count against their address in one limiter (`Tries`): ten a minute, then 429.

The page shells (`/chat`, `/dashboard`, `/static/*`) carry no data: they are the sign-in forms.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

BODY_LIMIT = 64 * 1024  # a question is at most a few thousand characters
# Any of these says a proxy passed the request on (aiohttp's headers ignore case).
PROXY_HEADERS = (
    "Forwarded",
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Proto",
    "X-Real-IP",
    "Via",
    "True-Client-IP",
    "CF-Connecting-IP",
    "X-Client-IP",
)
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
TRIES_PER_MINUTE = 10  # wrong tokens from one address before it waits out the minute


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_and_port(value: str, default_port: int | None = None) -> tuple[str, int | None]:
    """`Host: example.in:8443` as ("example.in", 8443); a bracketed IPv6 address unbracketed.
    ("", None) for a value that is not a host (user info, a path, spaces)."""
    if not value or any(c in value for c in "@/?#\\ \t"):
        return "", None
    try:
        parts = urlsplit("//" + value)
        return (parts.hostname or "").lower(), parts.port or default_port
    except ValueError:  # a port that is not a number
        return "", None


@dataclass(frozen=True)
class Access:
    """The rules of the module docstring, for one running bot."""

    chat_token: str | None = None
    dashboard_token: str | None = None
    local_demo: bool = False  # nothing configured that a credential could guard
    loopback: bool = False  # bound to a loopback address
    public_url: str | None = None

    @property
    def trusts_local(self) -> bool:
        return self.local_demo and self.loopback

    @property
    def public_host(self) -> tuple[str, int | None] | None:
        if not self.public_url:
            return None
        scheme, _, host = self.public_url.partition("://")
        return host_and_port(host, 443 if scheme == "https" else 80)

    def host_ok(self, request: web.Request) -> bool:
        """Whether the request names the host the pages answer to (and an absolute request
        address, which browsers never send, names no other)."""
        named = request.headers.get("Host", "")
        if request.host != named:  # aiohttp reads the host of an absolute address first
            return False
        wanted = self.public_host
        if wanted is not None:
            return host_and_port(request.headers.get("Host", ""), wanted[1]) == wanted
        return names_this_socket(request)

    def from_this_machine(self, request: web.Request) -> bool:
        """A request of the local demo straight from this machine: no credential needed."""
        return (
            self.trusts_local
            and not any(name in request.headers for name in PROXY_HEADERS)
            and names_this_socket(request)
        )

    def admin_token_ok(self, given: str | None) -> bool:
        token = self.dashboard_token
        return token is not None and given is not None and same(given, token)

    def chat_token_ok(self, given: object) -> bool:
        token = self.chat_token
        return token is not None and isinstance(given, str) and same(given, token)


def names_this_socket(request: web.Request) -> bool:
    """`Host` is the loopback address (or `localhost`) and port the request arrived on."""
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    if not sockname:
        return False
    host, port = host_and_port(request.headers.get("Host", ""), 80)
    return host in LOOPBACK_NAMES | {str(sockname[0])} and port == sockname[1]


@dataclass
class Tries:
    """What one address did this minute, at most `most` times, then 429 until the minute is
    over. One instance counts wrong credentials (sign-in tokens and bearers alike) for the
    whole server; another, the shared token's sign-ins. Behind a proxy every request has the
    proxy's address, so a guesser there slows everyone down for a minute, which is the price
    of not believing forwarded headers."""

    most: int = TRIES_PER_MINUTE
    clock: Callable[[], float] = time.monotonic
    _failed: dict[str, deque[float]] = field(default_factory=dict)

    def blocked(self, request: web.Request) -> bool:
        recent = self._recent(request.remote or "")
        return len(recent) >= self.most

    def note(self, request: web.Request) -> None:
        self._recent(request.remote or "").append(self.clock())

    def _recent(self, address: str) -> deque[float]:
        now = self.clock()
        recent = self._failed.get(address)
        if recent is None:
            if len(self._failed) >= 10_000:  # a flood of addresses: start again, not grow
                self._failed.clear()
            recent = self._failed[address] = deque()
        while recent and now - recent[0] > 60:
            recent.popleft()
        return recent


def same(given: str, secret: str) -> bool:
    """Constant-time comparison that cannot fail on odd characters."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), secret.encode("utf-8"))


def bearer(request: web.Request) -> str | None:
    """The bearer credential of a request, or None (absent, malformed, or not plain ASCII)."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or not header.isascii() or not header.isprintable():
        return None
    return header.removeprefix("Bearer ").strip() or None


def error(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


async def json_body(request: web.Request) -> dict[str, Any] | None:
    """The request's JSON object, or None for anything else: too big, not UTF-8, not JSON,
    nested deeper than Python can parse, or not an object. The body is read to its end,
    however many TCP pieces it comes in (one `read` returns only what has arrived)."""
    if request.content_length is not None and request.content_length > BODY_LIMIT:
        return None
    raw = bytearray()
    while len(raw) <= BODY_LIMIT:
        piece = await request.content.read(BODY_LIMIT + 1 - len(raw))
        if not piece:
            break
        raw += piece
    if len(raw) > BODY_LIMIT:
        return None
    try:
        body = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    return body if isinstance(body, dict) else None


def readable(text: str) -> bool:
    """Text that can be written back out as UTF-8 (JSON lets a lone surrogate through)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
