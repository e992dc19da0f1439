"""The Slack app manifest asks for what the code uses, and nothing more.

The code's side is read from the code itself (as text, nothing is run): the events and the
slash command its Bolt listeners are registered for, the Web API methods it calls, and Bolt's
assistant helpers its listeners take. Slack's side is its documented scope for each event and
method. A listener added without its subscription, or a scope nothing needs any more, fails
here with what to change in `manifest.yml`.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parents[2]
LISTENERS = ROOT / "bot" / "surfaces" / "slack"

# Slack's documented scopes: for each event subscription, and for each Web API method.
EVENT_SCOPES = {
    "app_home_opened": set(),
    "app_mention": {"app_mentions:read"},
    "assistant_thread_started": {"assistant:write"},
    "assistant_thread_context_changed": {"assistant:write"},
    "message.channels": {"channels:history"},
    "message.groups": {"groups:history"},
    "message.im": {"im:history"},
    "message.mpim": {"mpim:history"},
}
METHOD_SCOPES = {
    "chat.postMessage": {"chat:write"},
    "chat.update": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    "chat.startStream": {"chat:write"},
    "chat.appendStream": {"chat:write"},
    "chat.stopStream": {"chat:write"},
    "views.publish": set(),
    "users.info": {"users:read"},  # whether the person is a workspace admin or owner
    # A thread's earlier messages, in the public and private channels and DMs the bot answers.
    "conversations.replies": {"channels:history", "groups:history", "im:history"},
    # Since March 2026 the loading status needs only chat:write, in any thread.
    "assistant.threads.setStatus": {"chat:write"},
    "reactions.add": {"reactions:write"},
    "reactions.remove": {"reactions:write"},
    "assistant.threads.setTitle": {"assistant:write"},
    "assistant.threads.setSuggestedPrompts": {"assistant:write"},
}
# Bolt's assistant listeners (`@assistant.thread_started`, ...) and the events they handle.
ASSISTANT_EVENTS = {
    "thread_started": "assistant_thread_started",
    "thread_context_changed": "assistant_thread_context_changed",
    "user_message": "message",
}
# Bolt's helpers a listener may take, and the method each calls.
HELPER_METHODS = {
    "say": "chat.postMessage",
    "set_status": "assistant.threads.setStatus",
    "set_title": "assistant.threads.setTitle",
    "set_suggested_prompts": "assistant.threads.setSuggestedPrompts",
}


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    return loaded


def listeners() -> tuple[set[str], set[str], bool, set[str]]:
    """(event types, slash commands, has button actions, helpers taken) of the listeners."""
    events: set[str] = set()
    commands: set[str] = set()
    actions = False
    helpers: set[str] = set()
    for path in LISTENERS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                kind, argument = _decorator(decorator)
                if kind == "event":
                    events.add(argument)
                elif kind == "command":
                    commands.add(argument)
                elif kind == "action":
                    actions = True
                elif kind in ASSISTANT_EVENTS:
                    events.add(ASSISTANT_EVENTS[kind])
                else:
                    continue
                helpers |= {a.arg for a in node.args.args} & set(HELPER_METHODS)
    return events, commands, actions, helpers


def _decorator(node: ast.expr) -> tuple[str, str]:
    """`@app.event("x")` -> ("event", "x"); `@assistant.user_message` -> ("user_message", "")."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        first = node.args[0] if node.args else None
        value = first.value if isinstance(first, ast.Constant) else ""
        return node.func.attr, str(value)
    if isinstance(node, ast.Attribute):
        return node.attr, ""
    return "", ""


def methods_called() -> set[str]:
    """Web API methods the bot calls: `self._call("chat_postMessage", ...)` and Bolt helpers."""
    found = set()
    for path in (ROOT / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "_call"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
                and "_" in node.args[0].value
            ):
                found.add(node.args[0].value.replace("_", "."))
    return found | {HELPER_METHODS[h] for h in listeners()[3]}


def test_the_manifest_subscribes_to_exactly_the_events_the_listeners_handle() -> None:
    """`message.im`, `.channels` and `.groups` are all the one `message` event type."""
    subscribed = manifest()["settings"]["event_subscriptions"]["bot_events"]
    handled = listeners()[0]
    assert {event.split(".")[0] for event in subscribed} == handled


def test_the_manifest_declares_exactly_the_slash_commands_the_code_handles() -> None:
    declared = {c["command"] for c in manifest()["features"]["slash_commands"]}
    assert declared == listeners()[1]


def test_interactivity_is_on_because_the_answers_have_buttons() -> None:
    assert listeners()[2] and manifest()["settings"]["interactivity"]["is_enabled"] is True


def test_the_manifest_asks_for_no_scope_the_bot_does_not_use_and_every_one_it_does() -> None:
    app = manifest()
    called = methods_called()
    assert called <= METHOD_SCOPES.keys(), f"add the scope of {called - METHOD_SCOPES.keys()}"
    needed = set().union(
        *(EVENT_SCOPES[event] for event in app["settings"]["event_subscriptions"]["bot_events"]),
        *(METHOD_SCOPES[method] for method in called),
        {"commands"} if app["features"]["slash_commands"] else set(),
    )
    assert sorted(app["oauth_config"]["scopes"]["bot"]) == sorted(needed)


def test_sign_in_with_slack_asks_for_its_openid_scopes_and_redirect() -> None:
    """The user scopes are exactly what the browser's Sign in with Slack requests, and the
    redirect URL is its callback."""
    from bot.surfaces.web.slack_signin import CALLBACK, SCOPES

    oauth = manifest()["oauth_config"]
    assert sorted(oauth["scopes"]["user"]) == sorted(SCOPES)
    assert [url.endswith(CALLBACK) for url in oauth["redirect_urls"]] == [True]
