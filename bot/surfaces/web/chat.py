"""The browser chat, for in-store tablets and staff without Slack.

    GET  /chat                        the page
    GET  /api/chat/config             how the page signs in, and what it shows first
    POST /api/chat/session            {"name", "token"} → {"session", "name"} (token sign-in)
    POST /api/chat/signout            ends the session (Authorization: Bearer <session>)
    POST /api/chat                    {"message", "conversation_id"?} → Server-Sent Events
    POST /api/chat/history            {"conversation_id"} → the conversation's turns (its owner's)

Sign in with Slack (`slack_signin.py`) is the default where Slack is configured; the shared
token with a typed name (`SHOPMAX_WEB_SIGNIN=token`) is for stores without it, and the
credential-less local demo asks only a name. A question from the browser goes through the same
answering path as one from Slack — the same gate and per-person limits, the same ledger and
metrics — and streams into an `EventStreamReply`. Conversation ids travel in bodies, never in
an address, so no access log holds one. A refusal is JSON with an HTTP status; bad requests get
a clear 4xx.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from aiohttp import web

from bot.answering.answerer import Answerer
from bot.catalog.stores import MAX_CODE, StoreDirectory, nearest, store_code
from bot.delivery.replies.base import Reply
from bot.delivery.replies.event_stream import EventStreamReply
from bot.errors import StoreUnavailable
from bot.model.demo import DEMO_MODEL
from bot.question import Question, Refusal, RefusalKind, Surface
from bot.store import Store
from bot.surfaces.web.access import Access, Tries, bearer, error, json_body, readable
from bot.surfaces.web.sessions import Person, Sessions, person_name
from bot.surfaces.web.slack_signin import PROBLEMS
from bot.wording import texts

WEB_CHANNEL = "browser"

REFUSAL_STATUS = {
    RefusalKind.NOT_ENABLED: 403,
    RefusalKind.OUTSIDER: 403,
    RefusalKind.EMPTY: 400,
    RefusalKind.TOO_LONG: 400,
    RefusalKind.TOO_MANY: 429,
    RefusalKind.TOKENS_USED_UP: 429,
    RefusalKind.CLOSING: 503,
}


@dataclass(frozen=True)
class Chat:
    answerer: Answerer
    store: Store
    sessions: Sessions
    access: Access
    signin: str = "token"  # "slack", "token" or "local" (the credential-less demo)
    idle_minutes: float = 15.0
    tries: Tries = field(default_factory=Tries)  # wrong tokens (shared with the other pages)
    signins: Tries = field(default_factory=Tries)  # shared-token sign-ins, right or wrong
    stores: StoreDirectory | None = None  # the catalog's stores, offered at sign-in


CHAT = web.AppKey("chat", Chat)


def add_routes(app: web.Application, chat: Chat) -> None:
    app[CHAT] = chat
    app.router.add_get("/chat", chat_page)
    app.router.add_get("/api/chat/config", config)
    app.router.add_post("/api/chat/session", sign_in)
    app.router.add_post("/api/chat/signout", sign_out)
    app.router.add_post("/api/chat", ask)
    app.router.add_post("/api/chat/history", history)


def page(name: str) -> web.Response:
    text = resources.files("bot.surfaces.web").joinpath(f"static/{name}").read_text("utf-8")
    return web.Response(text=text, content_type="text/html", charset="utf-8")


async def chat_page(request: web.Request) -> web.Response:
    return page("chat.html")


async def config(request: web.Request) -> web.Response:
    """What the page needs before sign-in: how it signs in (`slack`, `token` or, straight
    from this machine in the local demo, `local`: a name only), how long a tablet may sit
    unused, and a note when the answers come from the offline demo model rather than Claude."""
    chat = request.app[CHAT]
    signin = _signin_here(chat, request)
    demo = chat.answerer.config.model == DEMO_MODEL
    stores = [] if signin in ("none", "slack") else await _known_stores(chat)
    return web.json_response(
        {
            "signin": signin,
            "needs_token": signin == "token",
            "idle_minutes": chat.idle_minutes,
            "demo_note": texts.DEMO_NOTE if demo else None,
            "problems": PROBLEMS,
            "stores": stores,
        }
    )


MAX_LISTED = 2000  # stores offered in the sign-in form's list (a chain has about 500)


async def _known_stores(chat: Chat) -> list[dict[str, str]]:
    """The stores the sign-in form offers (the page shows them as text, never as markup)."""
    if chat.stores is None:
        return []
    try:
        known = await chat.stores.stores()
    except Exception:  # the catalog cannot be read now: a code can still be typed
        return []
    return [{"code": s.code, "label": s.label} for s in known[:MAX_LISTED]]


def _signin_here(chat: Chat, request: web.Request) -> str:
    if chat.signin == "local" and not chat.access.from_this_machine(request):
        return "none"  # the local demo reached through a proxy: nothing opens it
    return chat.signin


@dataclass(frozen=True)
class SignInDetails:
    """What a typed sign-in gives. One place to add a field: parse it in `sign_in_details`,
    and the form in chat.html / chat-api.js `signinFields`."""

    name: str
    store: str = ""  # a store code the catalog knows, or "" for none


async def sign_in_details(
    body: dict[str, Any], stores: StoreDirectory | None
) -> SignInDetails | str:
    """The sign-in form's fields, or what is wrong with them. The store is checked against the
    catalog: a code it does not know is refused with the nearest known ones."""
    name = person_name(body.get("name"))
    if name is None:
        return texts.WEB_BAD_NAME
    typed = body.get("store")
    if typed is None or (isinstance(typed, str) and not typed.strip()) or stores is None:
        return SignInDetails(name=name)
    code = store_code(typed)
    found = None if code is None else await stores.store(code)
    if found is not None:
        return SignInDetails(name=name, store=found.code)
    shown = typed if isinstance(typed, str) else ""
    near = nearest(shown, await stores.stores()) if person_name(shown) else []
    if code is None and not near:
        return texts.WEB_BAD_STORE
    shown = " ".join(shown.split())
    shown = shown if len(shown) <= MAX_CODE else shown[: MAX_CODE - 1] + "…"
    return texts.web_unknown_store(shown, [f"{s.code} ({s.name})" for s in near])


async def sign_in(request: web.Request) -> web.Response:
    """A typed sign-in: the shared token and a name (a name only in the local demo). Wrong
    tokens are limited per address (`Tries`), and so are the shared token's sign-ins: each is
    a person with a person's limits, so nobody mints them without end."""
    chat = request.app[CHAT]
    signin = _signin_here(chat, request)
    if signin == "slack":
        return error(400, texts.WEB_USE_SLACK)
    if signin == "none":
        return error(401, texts.WEB_UNAUTHORISED)
    if chat.tries.blocked(request):
        return error(429, texts.WEB_TOO_MANY_TRIES)
    if signin == "token" and chat.signins.blocked(request):
        return error(429, texts.WEB_TOO_MANY_SIGNINS)
    body = await json_body(request)
    if body is None:
        return error(400, texts.WEB_BAD_JSON)
    if signin == "token" and not chat.access.chat_token_ok(body.get("token")):
        chat.tries.note(request)
        return error(401, texts.WEB_WRONG_TOKEN)
    try:
        details = await sign_in_details(body, chat.stores)
    except Exception:  # the catalog cannot say which stores there are right now
        details = SignInDetails(name=person_name(body.get("name")) or "")
        if not details.name:
            return error(400, texts.WEB_BAD_NAME)
    if isinstance(details, str):
        return error(400, details)
    try:
        session = await chat.sessions.start_typed(details.name, signin, details.store)
    except StoreUnavailable:
        return error(503, texts.WEB_SIGNIN_UNAVAILABLE)
    if signin == "token":
        chat.signins.note(request)
    return web.json_response({"session": session, "name": details.name, "store": details.store})


async def person(request: web.Request) -> Person | None:
    session = bearer(request)
    if session is None:
        return None
    try:
        return await request.app[CHAT].sessions.person(session)
    except StoreUnavailable:  # never loaded the key, and the database is away
        return None


async def sign_out(request: web.Request) -> web.Response:
    session = bearer(request)
    if session is not None:
        await request.app[CHAT].sessions.end(session)
    return web.json_response({"signed_out": True, "message": texts.WEB_SIGNED_OUT})


async def ask(request: web.Request) -> web.StreamResponse:
    chat = request.app[CHAT]
    who = await person(request)
    if who is None:
        return error(401, texts.WEB_UNAUTHORISED)
    body = await json_body(request)
    if body is None:
        return error(400, texts.WEB_BAD_JSON)
    message = body.get("message")
    if not isinstance(message, str) or not message.strip():
        return error(400, texts.WEB_NO_MESSAGE)
    if not readable(message):
        return error(400, texts.WEB_BAD_TEXT)
    conversation_id = body.get("conversation_id") or await chat.sessions.new_conversation(who)
    if not await chat.sessions.owns(who, conversation_id):
        return error(400, texts.WEB_BAD_CONVERSATION)
    question = Question(
        team=who.team,
        channel=WEB_CHANNEL,
        user=who.user,
        text=message.strip(),
        surface=Surface.WEB,
        ts=uuid.uuid4().hex,
        thread_ts=conversation_id,
        store=who.store,
    )
    reply = EventStreamReply(request, conversation_id)

    def into_this_response(_question: Question, _answer_id: str) -> Reply:
        return reply

    result = await chat.answerer.answer(question, into_this_response)
    if isinstance(result, Refusal):
        return error(REFUSAL_STATUS[result.kind], result.reason)
    return reply.response or web.Response(status=204)  # None: the browser left at once


async def history(request: web.Request) -> web.Response:
    chat = request.app[CHAT]
    who = await person(request)
    if who is None:
        return error(401, texts.WEB_UNAUTHORISED)
    body = await json_body(request)
    conversation_id = None if body is None else body.get("conversation_id")
    if not await chat.sessions.owns(who, conversation_id):
        return error(404, texts.WEB_BAD_CONVERSATION)
    assert isinstance(conversation_id, str)
    key = Question(who.team, WEB_CHANNEL, who.user, "", Surface.WEB, "", conversation_id).thread_key
    try:
        turns = await chat.store.turns(key)
    except StoreUnavailable:  # the database is away: the chat still answers
        return error(503, texts.WEB_HISTORY_UNAVAILABLE)
    shown = [{"role": t.role, "text": t.text, "note": t.note} for t in turns]
    return web.json_response({"turns": shown, "name": who.name, "store": who.store})
