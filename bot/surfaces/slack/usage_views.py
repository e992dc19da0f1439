"""Usage reports for people in Slack: `/shopmax usage` and the App Home tab.

Everyone sees their own answers; the users in `SHOPMAX_ADMIN_USERS` also see the workspace's,
by channel, user and model. Days and months are counted in `SHOPMAX_TIMEZONE` (India by
default), the way the stores count them.
"""

from __future__ import annotations

import time
from datetime import datetime, tzinfo
from typing import Any

from bot.accounting.totals import grouped, summary_line, top_lines, totals
from bot.errors import StoreUnavailable
from bot.store import Store
from bot.wording import texts
from bot.wording.inert import Mentioning

WEEK = 7 * 24 * 60 * 60


class UsageViews:
    def __init__(self, store: Store, admins: frozenset[str], tz: tzinfo) -> None:
        self.store = store
        self.admins = admins
        self.tz = tz

    def _starts(self, now: float) -> tuple[float, float]:
        local = datetime.fromtimestamp(now, self.tz)
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return day.timestamp(), day.replace(day=1).timestamp()

    async def command_text(self, team: str, user: str, now: float | None = None) -> str:
        """What `/shopmax usage` shows the asker (that figures are unavailable for now while
        the database is away)."""
        now = time.time() if now is None else now
        today, month = self._starts(now)
        try:
            rows = [r for r in await self.store.ledger(month) if r.team == team]
        except StoreUnavailable:
            return f"{texts.USAGE_TITLE}\n{texts.USAGE_UNAVAILABLE}"
        mine = [r for r in rows if r.user == user]
        lines = [
            texts.USAGE_TITLE,
            f"*{texts.TODAY}:* " + summary_line(totals(r for r in mine if r.at >= today)),
            f"*{texts.THIS_MONTH}:* " + summary_line(totals(mine)),
        ]
        if user in self.admins:
            lines.append(f"\n*{texts.WORKSPACE_THIS_MONTH}:* " + summary_line(totals(rows)))
            for by, title in (
                ("channel", texts.BY_CHANNEL),
                ("user", texts.BY_USER),
                ("model", texts.BY_MODEL),
            ):
                lines.append(f"*{title}*\n" + top_lines(grouped(rows, by, self.tz), by))
        return "\n".join(lines)

    async def home_view(self, team: str, user: str, now: float | None = None) -> dict[str, Any]:
        """The App Home tab: the viewer's last 7 days, and the workspace's for admins (that
        figures are unavailable for now while the database is away)."""
        now = time.time() if now is None else now
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": texts.HOME_TITLE}},
        ]
        try:
            rows = [r for r in await self.store.ledger(now - WEEK) if r.team == team]
        except StoreUnavailable:
            blocks.append(_section(texts.USAGE_UNAVAILABLE))
            return {"type": "home", "blocks": [*blocks, _hint()]}
        blocks.append(
            _section(f"*{texts.YOUR_WEEK}*\n" + _home_line(r for r in rows if r.user == user))
        )
        if user in self.admins:
            blocks.append({"type": "divider"})
            blocks.append(_section(f"*{texts.WORKSPACE_WEEK}*\n" + _home_line(rows)))
            channels = top_lines(grouped(rows, "channel", self.tz), "channel")
            by_channel = Mentioning.around(f"*{texts.BY_CHANNEL}*\n{channels}", channels)
            blocks.append(_section(by_channel))
        return {"type": "home", "blocks": [*blocks, _hint()]}


def _hint() -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": texts.HOME_HINT}]}


def _home_line(rows: Any) -> str:
    t = totals(rows)
    p50 = "—" if t.ttft_p50_ms is None else f"{t.ttft_p50_ms:.0f} ms"
    p95 = "—" if t.ttft_p95_ms is None else f"{t.ttft_p95_ms:.0f} ms"
    cost = texts.costs(t.cost_usd, t.cost_inr, t.unpriced)
    return (
        f"Answers: *{t.answers}*   Tokens: *{t.tokens:,}*   Cost: *{cost}*\n"
        f"Time to first token: median *{p50}*, p95 *{p95}*"
    )


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}
