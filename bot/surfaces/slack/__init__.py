"""Slack's surfaces: each listener turns one kind of Slack request into a `Question` and hands
it to the answering path, or does the small thing it asks for itself (a usage report, a Home
tab, a 👍).

They stay thin. Bolt acks events before the listener runs; slash commands are acked by us,
first thing, because Bolt does not ack them on its own.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.surfaces.slack import actions, assistant, command, events, home
from bot.surfaces.slack.actions import StopPresses
from bot.surfaces.slack.surface import SlackSurface


def register(app: AsyncApp, surface: SlackSurface, stops: StopPresses) -> None:
    """Attach every listener to `app`."""
    assistant.register(app, surface)  # first: it takes the threaded DM messages
    events.register(app, surface)
    command.register(app, surface)
    actions.register(app, surface, stops)
    home.register(app, surface)


__all__ = ["SlackSurface", "StopPresses", "register"]
