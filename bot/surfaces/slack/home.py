"""The App Home tab: usage for the viewer (and the workspace, for admins)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.errors import SlackError
from bot.surfaces.slack.surface import SlackSurface

log = logging.getLogger(__name__)


def register(app: AsyncApp, surface: SlackSurface) -> None:
    @app.event("app_home_opened")
    async def on_home(event: dict[str, Any], context: AsyncBoltContext) -> None:
        if event.get("tab") not in (None, "home"):
            return  # the Messages tab: nothing to render
        user = event["user"]
        view = await surface.views.home_view(context.team_id or "", user)
        try:
            await surface.slack.publish_home(user, view)
        except SlackError as exc:
            log.warning("could not publish the Home tab: %s", exc)
        finally:
            surface.metrics.events.labels("app_home_opened", "shown").inc()
