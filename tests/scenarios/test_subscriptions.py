"""Every event the manifest subscribes to reaches a listener of the real built app (and one it
does not subscribe to reaches none): the other half of tests/unit/test_manifest.py."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import CHANNEL, USER, Bot
from tests.fakes.slack_server import TEAM

MANIFEST = yaml.safe_load((Path(__file__).parents[2] / "manifest.yml").read_text())
SUBSCRIBED = MANIFEST["settings"]["event_subscriptions"]["bot_events"]
THREAD = {"user_id": USER, "channel_id": "D0ASSIST", "thread_ts": "1700070000.000100"}
# One event of each kind, written by another bot where it could be answered, so that each is
# handled (acked by a listener) without starting an answer.
EVENTS: dict[str, dict[str, Any]] = {
    "app_home_opened": {"type": "app_home_opened", "user": USER, "tab": "home"},
    "app_mention": {"type": "app_mention", "user": USER, "bot_id": "B0OTHER", "text": "hi"},
    "assistant_thread_started": {"type": "assistant_thread_started", "assistant_thread": THREAD},
    "assistant_thread_context_changed": {
        "type": "assistant_thread_context_changed",
        "assistant_thread": THREAD,
    },
    "message.im": {"type": "message", "channel_type": "im", "bot_id": "B0OTHER", "text": "x"},
    "message.channels": {"type": "message", "channel_type": "channel", "text": "chatter"},
    "message.groups": {"type": "message", "channel_type": "group", "text": "chatter"},
    "reaction_added": {"type": "reaction_added", "user": USER, "reaction": "thumbsup"},
}


def delivered(name: str, n: int) -> dict[str, Any]:
    ts = f"17000700{n:02d}.000100"
    event = {"channel": CHANNEL, "user": USER, "ts": ts, "event_ts": ts, **EVENTS[name]}
    return {
        "token": "verification-token",
        "team_id": TEAM,
        "api_app_id": "A111",
        "type": "event_callback",
        "event_id": f"EvSub{n}",
        "event_time": int(time.time()),
        "event": event,
    }


def test_each_subscribed_event_has_an_example_here() -> None:
    assert set(SUBSCRIBED) <= set(EVENTS)


@pytest.mark.parametrize("name", sorted(EVENTS))
async def test_subscribed_events_are_handled_and_others_are_not(bot: Bot, name: str) -> None:
    response = await bot.event(delivered(name, sorted(EVENTS).index(name)))
    assert response.status == (200 if name in SUBSCRIBED else 404)
