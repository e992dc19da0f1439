"""The App Home tab: usage for the viewer (and the workspace, for admins)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.answering.answerer import Answerer
from bot.errors import SlackError
from bot.surfaces.slack.usage_views import UsageReports

log = logging.getLogger(__name__)


def register(app: AsyncApp, answerer: Answerer, reports: UsageReports) -> None:
    @app.event("app_home_opened")
    async def on_home(event: dict[str, Any], context: AsyncBoltContext) -> None:
        if event.get("tab") not in (None, "home"):
            return  # the Messages tab: nothing to render
        user = event["user"]
        view = await reports.home_view(context.team_id or "", user)
        try:
            await answerer.slack.publish_home(user, view)
        except SlackError as exc:
            log.warning("could not publish the Home tab: %s", exc)
        finally:
            answerer.metrics.events.labels("app_home_opened", "shown").inc()
