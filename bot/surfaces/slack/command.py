"""The `/shopmax` slash command: help, or a question answered in the channel.

Subcommands: `help` (or nothing), `usage`, `store` alone or with one word (`store_command.py`;
"store timings in Pune?" is a question). Text starting with `-` is an option we do not have and
gets help; anything else is a question.

Slack needs the ack within three seconds and Bolt does not send it for commands, so `ack()`
comes first; help rides on the ack itself as an ephemeral reply, and so does the refusal of a
question in a channel shared with another organisation, where a command cannot say whose it
is (`connect.py`).
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.question import Question, Surface
from bot.surfaces.slack import connect, store_command
from bot.surfaces.slack.surface import SlackSurface
from bot.wording import texts
from bot.wording.inert import neutralise

HELP_WORDS = frozenset({"", "help", "?"})


def register(app: AsyncApp, surface: SlackSurface) -> None:
    @app.command("/shopmax")
    async def on_command(ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext) -> None:
        text = (command.get("text") or "").strip()
        if text.lower() in HELP_WORDS:
            await ack(text=texts.HELP, response_type="ephemeral")
            return
        if text.lower() == "usage":
            report = await surface.views.command_text(
                context.team_id or command.get("team_id", ""), command["user_id"]
            )
            await ack(text=report, response_type="ephemeral")
            return
        if _shared_and_unknown(surface, command):
            # Before the store command too: a vendor in a shared channel neither reads nor
            # sets which store the channel is for.
            await ack(text=texts.SHARED_CHANNEL_COMMAND, response_type="ephemeral")
            return
        if store_command.is_store_command(text):
            team = connect.home_team(context) or command.get("team_id", "")
            said = await store_command.reply(
                text,
                command,
                team,
                store=surface.store,
                directory=surface.stores,
                admins=surface.admins,
            )
            await ack(text=said, response_type="ephemeral")
            return
        if text.startswith("-"):
            # Options are not questions: `/shopmax --reset` gets help, not an answer. The ack is
            # Bolt's reply, not a Web API call, so the echoed option is made inert here.
            option = neutralise(text.split()[0])
            await ack(text=texts.unknown_option(option), response_type="ephemeral")
            return
        await ack()
        # A command replayed within Slack's five-minute signature window passes the signature
        # check again: its trigger id (one per invocation) is claimed, so it is answered once.
        trigger = command.get("trigger_id") or ""
        if not await surface.store.claim(f"command:{command.get('team_id', '')}:{trigger}"):
            return
        question = Question(
            team=connect.home_team(context) or command.get("team_id", ""),
            channel=command["channel_id"],
            user=command["user_id"],
            text=text,
            surface=Surface.COMMAND,
            ts=command.get("trigger_id", ""),
            response_url=command.get("response_url", ""),
            asker_team=connect.of_command(command, context),
        )
        await surface.answerer.answer(question)


def _shared_and_unknown(surface: SlackSurface, command: dict[str, Any]) -> bool:
    """A question in a channel shared with another organisation, where a command cannot say
    whose it is (`connect`), and the channel is not one the admin listed as answered."""
    listed = surface.answerer.gate.limits.allowed_channels
    return connect.externally_shared(command) and command.get("channel_id") not in listed
