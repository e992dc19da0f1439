"""Slack's surfaces: each listener turns one kind of Slack request into a `Question` and hands
it to the answering path, or does the small thing it asks for itself (a usage report, a Home
tab, a 👍).

They stay thin. Bolt acks events before the listener runs; slash commands are acked by us,
first thing, because Bolt does not ack them on its own.
"""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.web.async_client import AsyncWebClient

from bot.surfaces.slack import actions, assistant, command, events, home
from bot.surfaces.slack.actions import StopPresses
from bot.surfaces.slack.authorization import OneToken
from bot.surfaces.slack.surface import SlackSurface

BOLT_NAME = "shopmax-assistant"


def bolt_app(
    client: AsyncWebClient,
    signing_secret: str | None,
    surface: SlackSurface,
    authorize: OneToken,
) -> tuple[AsyncApp, StopPresses]:
    """The Bolt app with every Slack listener, and the Stop presses it handles. Each request's
    token comes from `authorize` (asked once at start), so Bolt's own client carries none."""
    logging.getLogger("slack_bolt.AsyncApp").addFilter(_not_the_unused_token_warning)
    bolt = AsyncApp(
        # A name of its own: without one Bolt calls `inspect.stack()`, which reads the source
        # of every file on the stack into memory to name the app after its caller.
        name=BOLT_NAME,
        client=AsyncWebClient(base_url=client.base_url, retry_handlers=client.retry_handlers),
        authorize=authorize,
        signing_secret=signing_secret or "",
        # Bolt acks events before running listeners, so a long answer never delays the ack.
        process_before_response=False,
    )
    stops = StopPresses(surface)
    register(bolt, surface, stops)
    return bolt, stops


def _not_the_unused_token_warning(record: logging.LogRecord) -> bool:
    """Bolt reads SLACK_BOT_TOKEN from the environment even when it is given a client, then
    warns at every start that the token will be unused. The client carries that same token
    (from our settings), so the warning only reads as a misconfiguration."""
    return record.getMessage() != warning_client_prioritized_and_token_skipped()


def register(app: AsyncApp, surface: SlackSurface, stops: StopPresses) -> None:
    """Attach every listener to `app`."""
    assistant.register(app, surface)  # first: it takes the threaded DM messages
    events.register(app, surface)
    command.register(app, surface)
    actions.register(app, surface, stops)
    home.register(app, surface)


__all__ = ["SlackSurface", "StopPresses", "bolt_app", "register"]
