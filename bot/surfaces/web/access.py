"""Who may open the browser pages, and how a request proves it.

The chat and the dashboard each have their own credential: the chat a shared sign-in token
(`SHOPMAX_WEB_TOKEN`, exchanged for a per-person session), the dashboard an admin token
(`SHOPMAX_DASHBOARD_TOKEN`) — so a store tablet signed into the chat cannot see everyone's
costs. A page without its credential configured is off, with one exception: a bot bound to
loopback only (the local demo) serves both without one, since only this machine can reach it.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

BODY_LIMIT = 64 * 1024  # a question is at most a few thousand characters


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Access:
    chat_token: str | None = None
    dashboard_token: str | None = None
    loopback: bool = False

    @property
    def chat_on(self) -> bool:
        return bool(self.chat_token) or self.loopback

    @property
    def dashboard_on(self) -> bool:
        return bool(self.dashboard_token) or self.loopback

    def admin(self, request: web.Request) -> bool:
        """Whether the request may read the dashboard."""
        if not self.dashboard_token:
            return self.loopback
        given = bearer(request)
        return given is not None and same(given, self.dashboard_token)

    def chat_token_ok(self, given: object) -> bool:
        if not self.chat_token:
            return True
        return isinstance(given, str) and same(given, self.chat_token)


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
    nested deeper than Python can parse, or not an object."""
    if request.content_length is not None and request.content_length > BODY_LIMIT:
        return None
    raw = await request.content.read(BODY_LIMIT + 1)
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
