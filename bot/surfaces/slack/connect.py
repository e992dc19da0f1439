"""Slack Connect: the asker's own workspace, whichever way a question reaches the model.

In a channel shared with another organisation, the installing workspace is only where a request
came through; whether the asker is ShopMax staff is their own workspace's to say (the gate
refuses one that is not allowed, `bot.answering.gate`). Each kind of request says it its own
way:

* an event (mention, DM, thread reply, the assistant panel) carries `user_team`;
* a button press (Retry) carries the presser's `user.team_id`;
* a slash command carries only `team_id`: Slack documents no field naming the invoker's own
  workspace in a command's payload. So `team_id` is checked like the others, and a command in
  a channel the payload says is externally shared (`is_ext_shared_channel`) is refused unless
  that channel is listed in `SHOPMAX_ALLOWED_CHANNELS`: there the bot cannot tell a vendor
  from a colleague, and a mention, which says who asks, works instead.

On an Enterprise Grid org Slack may name the org (an enterprise id) instead of one of its
workspaces: the installing org's own id means one of ours.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncBoltContext


def home_team(context: AsyncBoltContext) -> str:
    """The installing workspace (the bot token's own, from `auth.test`)."""
    installed = context.authorize_result
    return str((installed.team_id if installed else None) or context.team_id or "")


def _own(team: str, context: AsyncBoltContext) -> str:
    """`team`, or the installing workspace when `team` is the installing org's enterprise id."""
    installed = context.authorize_result
    ours = {context.enterprise_id, installed.enterprise_id if installed else None} - {None, ""}
    return home_team(context) if team and team in ours else team


def of_event(event: dict[str, Any], context: AsyncBoltContext) -> str:
    """The asker's workspace as an event says it; "" when it does not (one workspace's own
    channel)."""
    return _own(str(event.get("user_team") or ""), context)


def of_press(body: dict[str, Any], context: AsyncBoltContext) -> str:
    """The workspace of whoever pressed a button."""
    user = body.get("user") or {}
    return _own(str(user.get("team_id") or "") if isinstance(user, dict) else "", context)


def of_command(command: dict[str, Any], context: AsyncBoltContext) -> str:
    """The workspace a slash command names (its `team_id`)."""
    return _own(str(command.get("team_id") or ""), context)


def externally_shared(payload: dict[str, Any]) -> bool:
    """Whether Slack says the request came from a channel shared with another organisation
    (`true` in a JSON body, `"true"` in a form-encoded one)."""
    value = payload.get("is_ext_shared_channel")
    return value is True or str(value).lower() == "true"
