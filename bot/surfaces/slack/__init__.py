"""Bolt listeners: each turns one kind of Slack request into a `Question` and hands it on.

They stay thin. Bolt acks events before the listener runs; slash commands are acked by us,
first thing, because Bolt does not ack them on its own.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.answering.answerer import Answerer
from bot.surfaces.slack import actions, assistant, command, events, home
from bot.surfaces.slack.usage_views import UsageReports


def register(app: AsyncApp, answerer: Answerer, reports: UsageReports) -> None:
    """Attach every listener to `app`."""
    assistant.register(app, answerer)  # first: it takes the threaded DM messages
    events.register(app, answerer)
    command.register(app, answerer, reports)
    actions.register(app, answerer)
    home.register(app, answerer, reports)
