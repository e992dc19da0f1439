"""The App Home: the Home tab shows usage for the viewer (and the workspace, for admins); the
Messages tab (Slack's agent view, the default for new apps) gets suggested prompts for store
staff at its top.

`app_home_opened` comes every time a person opens either tab. The Messages tab's prompts are
set once per person and DM for a while (`PROMPTS_KEPT`), not on every open; a payload without
a user, with a channel that is not a DM, or naming a tab we do not know is ignored.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.errors import SlackError
from bot.surfaces.slack.surface import SlackSurface
from bot.wording import texts

log = logging.getLogger(__name__)

PROMPTS_KEPT = 3600.0  # seconds before a person's Messages tab gets its prompts set again
REMEMBERED = 10_000  # people remembered at most (the oldest are forgotten first)


class Prompted:
    """Who had the prompts set lately, bounded in size."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.at: OrderedDict[tuple[str, str, str], float] = OrderedDict()

    def due(self, key: tuple[str, str, str]) -> bool:
        """True (and remembered now) when `key`'s prompts are not set or were set long ago."""
        now = self.clock()
        last = self.at.get(key)
        if last is not None and now - last < PROMPTS_KEPT:
            return False
        self.at[key] = now
        self.at.move_to_end(key)
        while len(self.at) > REMEMBERED:
            self.at.popitem(last=False)
        return True

    def forget(self, key: tuple[str, str, str]) -> None:
        self.at.pop(key, None)


def register(app: AsyncApp, surface: SlackSurface) -> None:
    prompted = Prompted()

    @app.event("app_home_opened")
    async def on_home(event: dict[str, Any], context: AsyncBoltContext) -> None:
        user, tab = event.get("user"), event.get("tab")
        if not isinstance(user, str) or not user:
            surface.metrics.events.labels("app_home_opened", "ignored").inc()
            return
        if tab == "messages":
            result = await _messages_tab(surface, prompted, context.team_id or "", user, event)
            surface.metrics.events.labels("app_home_opened", result).inc()
            return
        if tab not in (None, "home"):
            surface.metrics.events.labels("app_home_opened", "ignored").inc()
            return
        view = await surface.views.home_view(context.team_id or "", user)
        try:
            await surface.slack.publish_home(user, view)
        except SlackError as exc:
            log.warning("could not publish the Home tab: %s", exc)
        finally:
            surface.metrics.events.labels("app_home_opened", "shown").inc()


async def _messages_tab(
    surface: SlackSurface, prompted: Prompted, team: str, user: str, event: dict[str, Any]
) -> str:
    """Suggested prompts at the top of the person's DM with the bot (no thread: the agent
    view keeps them above the conversation). Answers in that DM work as in any DM."""
    channel = event.get("channel")
    if not isinstance(channel, str) or not channel.startswith("D"):
        return "ignored"
    key = (team, user, channel)
    if not prompted.due(key):
        return "prompted"
    try:
        await surface.slack.suggest_prompts(
            channel, list(texts.SUGGESTED_PROMPTS), title=texts.MESSAGES_TAB_TITLE
        )
    except SlackError as exc:
        prompted.forget(key)  # try again on the next open
        log.warning("could not set the Messages tab's suggested prompts: %s", exc)
        return "failed"
    return "prompted"
