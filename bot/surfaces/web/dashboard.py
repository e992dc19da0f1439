"""The usage dashboard for admins: the ledger as charts.

    GET  /dashboard                  the page
    POST /api/dashboard/session      {"token"} → {"session"}: the admin token for a session
    GET  /api/dashboard?days=14      what it draws (1–90 days)
    GET  /api/dashboard/config       {"needs_token"}: whether the page asks for the token

It needs the dashboard's own admin credential (`SHOPMAX_DASHBOARD_TOKEN`), never the chat's
(see `access.py`): it shows everyone's cost by person and channel. The page trades the token
for an admin session (expiring, idle-timed, revocable like the chat's) and keeps only that, in
the tab's sessionStorage; a script may send the token itself as its bearer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.accounting.ledger import LedgerRow
from bot.accounting.totals import grouped
from bot.errors import StoreUnavailable
from bot.store import Store
from bot.surfaces.web.access import Access, Tries, bearer, error, json_body
from bot.surfaces.web.chat import page
from bot.surfaces.web.sessions import Sessions
from bot.wording import texts

TOP = 8


@dataclass(frozen=True)
class Dashboard:
    store: Store
    access: Access
    timezone: str
    sessions: Sessions
    tries: Tries = field(default_factory=Tries)

    async def refused(self, request: web.Request) -> web.Response | None:
        """None when the request may read the dashboard: the admin token or an admin session
        as its bearer, or (the local demo only) straight from this machine. Else 401, or 429
        once this address has guessed wrong too often this minute (a wrong bearer counts
        with wrong sign-ins, `Tries`)."""
        if self.access.from_this_machine(request):
            return None
        if self.tries.blocked(request):
            return error(429, texts.WEB_TOO_MANY_TRIES)
        given = bearer(request)
        if given is None:
            return error(401, texts.DASHBOARD_UNAUTHORISED)
        if self.access.admin_token_ok(given):
            return None
        try:
            person = await self.sessions.person(given)
        except StoreUnavailable:
            return error(401, texts.DASHBOARD_UNAUTHORISED)
        if person is not None and person.kind == "admin":
            return None
        self.tries.note(request)
        return error(401, texts.DASHBOARD_UNAUTHORISED)


DASHBOARD = web.AppKey("dashboard", Dashboard)


def add_routes(app: web.Application, board: Dashboard) -> None:
    app[DASHBOARD] = board
    app.router.add_get("/dashboard", dashboard_page)
    app.router.add_get("/api/dashboard", dashboard_data)
    app.router.add_post("/api/dashboard/session", admin_sign_in)
    app.router.add_get("/api/dashboard/config", dashboard_config)


async def dashboard_config(request: web.Request) -> web.Response:
    """Whether the page must ask for the admin token (everywhere but the local demo)."""
    board = request.app[DASHBOARD]
    return web.json_response({"needs_token": not board.access.from_this_machine(request)})


async def dashboard_page(request: web.Request) -> web.Response:
    return page("dashboard.html")


async def dashboard_data(request: web.Request) -> web.Response:
    """The ledger of the last `days` (default 14) for the dashboard's charts."""
    board = request.app[DASHBOARD]
    refused = await board.refused(request)
    if refused is not None:
        return refused
    raw = request.query.get("days", "14")
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 90):
        return error(400, texts.DASHBOARD_BAD_DAYS)
    try:
        rows = await board.store.ledger(time.time() - int(raw) * 86400)
    except StoreUnavailable:  # the database is away: answers go on, the figures wait
        return error(503, texts.USAGE_UNAVAILABLE)
    return web.json_response(drawn(rows, ZoneInfo(board.timezone)))


async def admin_sign_in(request: web.Request) -> web.Response:
    """The admin token for an admin session, so the page never keeps the token itself."""
    board = request.app[DASHBOARD]
    if board.tries.blocked(request):
        return error(429, texts.WEB_TOO_MANY_TRIES)
    body = await json_body(request)
    token = None if body is None else body.get("token")
    local = board.access.from_this_machine(request)
    if not local and not (isinstance(token, str) and board.access.admin_token_ok(token)):
        board.tries.note(request)
        return error(401, texts.DASHBOARD_UNAUTHORISED)
    try:
        session = await board.sessions.start("admin", "admin", "admin", "admin")
    except StoreUnavailable:
        return error(503, texts.WEB_SIGNIN_UNAVAILABLE)
    return web.json_response({"session": session})


def drawn(rows: list[LedgerRow], tz: tzinfo) -> dict[str, Any]:
    """What the dashboard draws: per day, and the top channels and people. Pure."""

    def top(by: str) -> list[dict[str, Any]]:
        return [
            {"name": name, "answers": t.answers, "cost_usd": round(t.cost_usd, 6)}
            for name, t in grouped(rows, by, tz)[:TOP]
        ]

    return {
        "days": [
            {
                "day": day,
                "answers": t.answers,
                "cost_usd": round(t.cost_usd, 6),
                "ttft_p50_ms": t.ttft_p50_ms,
                "ttft_p95_ms": t.ttft_p95_ms,
                "unverified_figures": t.unverified_figures,
            }
            for day, t in grouped(rows, "day", tz)
        ],
        "top_channels": top("channel"),
        "top_users": top("user"),
    }
