"""`/shopmax store`: which store the answers are for.

    /shopmax store            what is set here (the channel's store, your own) and how to change it
    /shopmax store CODE       in a DM with the bot: your own store; in a channel: the channel's
    /shopmax store clear      removes it again (`none`, `off`, `remove` and `unset` work too)

Mapping a channel is an admin's: someone in `SHOPMAX_ADMIN_USERS`, or a workspace admin or
owner as Slack's `users.info` says (asked with the bot token, never taken from the request,
and only for a member of the installing workspace: a Slack Connect guest's own admins do not
count here). A person's own store is their own to set, in a DM with the bot.

Everything is checked against the catalog's stores (`StoreDirectory`) before it is kept: a code
it does not know changes nothing and the reply names the nearest known ones. The reply rides
on the command's ack (ephemeral, like `/shopmax help`), so it is all done within
`BUDGET` seconds; what the database or Slack cannot answer in that time is "try again".
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from bot.catalog.stores import MAX_CODE, StoreDirectory, nearest, store_code
from bot.delivery.slack_api import SlackApi
from bot.errors import SlackError, StoreUnavailable
from bot.store import Store
from bot.store.base import CHANNEL_SCOPE, PERSON_SCOPE
from bot.wording import texts
from bot.wording.inert import neutralise

log = logging.getLogger(__name__)

WORD = "store"
CLEAR_WORDS = frozenset({"clear", "none", "off", "remove", "unset"})
BUDGET = 2.5  # seconds: the reply rides on the ack, which Slack wants within three
ADMIN_TTL = 600.0  # seconds a workspace admin answer from Slack is believed


class Admins:
    """Who may map a channel to a store (see the module docstring)."""

    def __init__(
        self,
        listed: frozenset[str],
        slack: SlackApi | None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.listed = listed
        self.slack = slack
        self.clock = clock
        self._known: dict[tuple[str, str], tuple[bool, float]] = {}

    async def is_admin(self, team: str, user: str) -> bool:
        if user in self.listed:
            return True
        if self.slack is None:
            return False
        known = self._known.get((team, user))
        if known is not None and self.clock() - known[1] < ADMIN_TTL:
            return known[0]
        try:
            info = await self.slack.user_info(user)
        except SlackError as exc:  # no `users:read` yet, or Slack away: only the list counts
            log.warning("could not ask Slack whether %s is an admin: %s", user, exc)
            return False
        ours = str(info.get("team_id") or team) == team
        admin = ours and any(info.get(f) is True for f in ("is_admin", "is_owner"))
        if len(self._known) > 10_000:
            self._known.clear()
        self._known[(team, user)] = (admin, self.clock())
        return admin


def is_store_command(text: str) -> bool:
    """Whether `/shopmax TEXT` is the store command: `store` alone or with one word after it
    (any case). "store timings in Pune?" and "store hours?" are questions: a question mark
    never ends a store code."""
    words = text.split()
    if text.rstrip().endswith(("?", "？")):
        return False
    return 1 <= len(words) <= 2 and words[0].lower() == WORD


def in_direct_message(command: dict[str, Any]) -> bool:
    """A DM (with the bot, or between people): Slack's channel ids for those start with D."""
    channel = str(command.get("channel_id") or "")
    return channel.startswith("D") or command.get("channel_name") == "directmessage"


async def reply(
    text: str,
    command: dict[str, Any],
    team: str,
    *,
    store: Store,
    directory: StoreDirectory | None,
    admins: Admins,
) -> str:
    """What `/shopmax store ...` says back, having done what it asks (within `BUDGET`)."""
    try:
        return await asyncio.wait_for(_reply(text, command, team, store, directory, admins), BUDGET)
    except (StoreUnavailable, TimeoutError):
        return texts.STORE_UNAVAILABLE
    except Exception as exc:  # the catalog's database away (it has no spool): say so
        log.warning("/shopmax store could not be answered: %r", exc)
        return texts.STORE_UNAVAILABLE


async def _reply(
    text: str,
    command: dict[str, Any],
    team: str,
    store: Store,
    directory: StoreDirectory | None,
    admins: Admins,
) -> str:
    if directory is None:
        return texts.STORE_NO_CATALOG
    user, channel = str(command.get("user_id") or ""), str(command.get("channel_id") or "")
    in_dm = in_direct_message(command)
    words = text.split()
    typed = words[1] if len(words) > 1 else ""
    if not typed:
        return await _status(team, channel, user, in_dm, store, directory)
    scope, key = (PERSON_SCOPE, user) if in_dm else (CHANNEL_SCOPE, channel)
    if scope == CHANNEL_SCOPE and not await admins.is_admin(team, user):
        return texts.STORE_NOT_ADMIN
    if typed.lower() in CLEAR_WORDS:
        await store.choose_store(team, scope, key, None, by=user)
        log.info("%s %s store cleared by %s", scope, key, user)
        return texts.store_cleared(channel=scope == CHANNEL_SCOPE)
    code = store_code(typed)
    found = None if code is None else await directory.store(code)
    if found is None:
        near = nearest(typed, await directory.stores())
        if code is None and not near:
            return texts.STORE_BAD_CODE
        return texts.store_unknown(_shown(typed), [f"`{s.code}` ({_inert(s.name)})" for s in near])
    await store.choose_store(team, scope, key, found.code, by=user)
    log.info("%s %s set to store %s by %s", scope, key, found.code, user)
    return texts.store_set(_inert(found.label), channel=scope == CHANNEL_SCOPE)


async def _status(
    team: str, channel: str, user: str, in_dm: bool, store: Store, directory: StoreDirectory
) -> str:
    mapped = None if in_dm else await store.store_choice(team, CHANNEL_SCOPE, channel)
    own = await store.store_choice(team, PERSON_SCOPE, user)
    return texts.store_status(
        None if mapped is None else await _label(mapped.code, directory),
        None if own is None else await _label(own.code, directory),
        in_dm=in_dm,
    )


async def _label(code: str, directory: StoreDirectory) -> str:
    """A kept code as a person reads it; one the catalog no longer has says so."""
    found = await directory.store(code)
    return _inert(found.label) if found else texts.store_gone(code)


def _shown(typed: str) -> str:
    """What was typed, as the reply repeats it: one line, cut short, inert, no backticks."""
    one_line = " ".join(typed.split()).replace("`", "'")
    cut = one_line if len(one_line) <= MAX_CODE else one_line[: MAX_CODE - 1] + "…"
    return neutralise(cut)


def _inert(text: str) -> str:
    """A store's name or label from the catalog: the feed's text, made inert too."""
    return neutralise(text.replace("*", ""))
