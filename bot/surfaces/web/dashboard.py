"""The usage dashboard for admins: the ledger as charts.

    GET /dashboard                  the page
    GET /api/dashboard?days=14      what it draws (1–90 days)

It needs the dashboard's own admin credential (`SHOPMAX_DASHBOARD_TOKEN`), never the chat's
(see `access.py`): it shows everyone's cost by person and channel.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.accounting.ledger import LedgerRow
from bot.accounting.totals import grouped
from bot.errors import StoreUnavailable
from bot.store import Store
from bot.surfaces.web.access import Access, error
from bot.surfaces.web.chat import page
from bot.wording import texts

TOP = 8


@dataclass(frozen=True)
class Dashboard:
    store: Store
    access: Access
    timezone: str


DASHBOARD = web.AppKey("dashboard", Dashboard)


def add_routes(app: web.Application, board: Dashboard) -> None:
    app[DASHBOARD] = board
    app.router.add_get("/dashboard", dashboard_page)
    app.router.add_get("/api/dashboard", dashboard_data)


async def dashboard_page(request: web.Request) -> web.Response:
    return page("dashboard.html")


async def dashboard_data(request: web.Request) -> web.Response:
    """The ledger of the last `days` (default 14) for the dashboard's charts."""
    board = request.app[DASHBOARD]
    if not board.access.admin(request):
        return error(401, texts.DASHBOARD_UNAUTHORISED)
    raw = request.query.get("days", "14")
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 90):
        return error(400, texts.DASHBOARD_BAD_DAYS)
    try:
        rows = await board.store.ledger(time.time() - int(raw) * 86400)
    except StoreUnavailable:  # the database is away: answers go on, the figures wait
        return error(503, texts.USAGE_UNAVAILABLE)
    return web.json_response(drawn(rows, ZoneInfo(board.timezone)))


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
