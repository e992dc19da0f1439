"""The browser chat, for in-store tablets and staff without Slack.

    GET  /chat                        the page
    GET  /api/chat/config             {"needs_token", "demo_note"}: what the page shows first
    POST /api/chat/session            {"name", "token"} → {"session", "name"}
    POST /api/chat                    {"message", "conversation_id"?} → Server-Sent Events
    GET  /api/conversations/<id>      the conversation's turns (its owner only)

A question from the browser goes through the same answering path as one from Slack — the same
gate and per-person limits, the same ledger and metrics — and streams into an
`EventStreamReply`. The person is the name given at sign-in (their session says so), so their
answers, limits and ledger rows are theirs; conversations are the server's ids, bound to that
person. A refusal is answered as JSON with an HTTP status; bad requests get a clear 4xx.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from importlib import resources

from aiohttp import web

from bot.answering.answerer import Answerer
from bot.delivery.replies.base import Reply
from bot.delivery.replies.event_stream import EventStreamReply
from bot.errors import StoreUnavailable
from bot.model.demo import DEMO_MODEL
from bot.question import Question, Refusal, RefusalKind, Surface
from bot.store import Store
from bot.surfaces.web.access import Access, bearer, error, json_body, readable
from bot.surfaces.web.sessions import Sessions, person_name
from bot.wording import texts

WEB_TEAM = "web"  # the ledger's workspace for browser questions
WEB_CHANNEL = "browser"

REFUSAL_STATUS = {
    RefusalKind.NOT_ENABLED: 403,
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


CHAT = web.AppKey("chat", Chat)


def add_routes(app: web.Application, chat: Chat) -> None:
    app[CHAT] = chat
    app.router.add_get("/chat", chat_page)
    app.router.add_get("/api/chat/config", config)
    app.router.add_post("/api/chat/session", sign_in)
    app.router.add_post("/api/chat", ask)
    app.router.add_get("/api/conversations/{conversation_id}", conversation)


def page(name: str) -> web.Response:
    text = resources.files("bot.surfaces.web").joinpath(f"static/{name}").read_text("utf-8")
    return web.Response(text=text, content_type="text/html", charset="utf-8")


async def chat_page(request: web.Request) -> web.Response:
    return page("chat.html")


async def config(request: web.Request) -> web.Response:
    """What the page needs before sign-in: whether to ask for the token, and a note when the
    answers come from the offline demo model rather than Claude."""
    chat = request.app[CHAT]
    demo = chat.answerer.config.model == DEMO_MODEL
    return web.json_response(
        {
            "needs_token": bool(chat.access.chat_token),
            "demo_note": texts.DEMO_NOTE if demo else None,
        }
    )


async def sign_in(request: web.Request) -> web.Response:
    chat = request.app[CHAT]
    body = await json_body(request)
    if body is None:
        return error(400, texts.WEB_BAD_JSON)
    if not chat.access.chat_token_ok(body.get("token")):
        return error(401, texts.WEB_WRONG_TOKEN)
    name = person_name(body.get("name"))
    if name is None:
        return error(400, texts.WEB_BAD_NAME)
    return web.json_response({"session": chat.sessions.start(name), "name": name})


def person(request: web.Request) -> str | None:
    session = bearer(request)
    return None if session is None else request.app[CHAT].sessions.person(session)


async def ask(request: web.Request) -> web.StreamResponse:
    chat = request.app[CHAT]
    who = person(request)
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
    conversation_id = body.get("conversation_id") or chat.sessions.new_conversation(who)
    if not isinstance(conversation_id, str) or not chat.sessions.owns(who, conversation_id):
        return error(400, texts.WEB_BAD_CONVERSATION)
    question = Question(
        team=WEB_TEAM,
        channel=WEB_CHANNEL,
        user=who,
        text=message.strip(),
        surface=Surface.WEB,
        ts=uuid.uuid4().hex,
        thread_ts=conversation_id,
    )
    reply = EventStreamReply(request, conversation_id)

    def into_this_response(_question: Question, _answer_id: str) -> Reply:
        return reply

    result = await chat.answerer.answer(question, into_this_response)
    if isinstance(result, Refusal):
        return error(REFUSAL_STATUS[result.kind], result.reason)
    return reply.response or web.Response(status=204)  # None: the browser left at once


async def conversation(request: web.Request) -> web.Response:
    chat = request.app[CHAT]
    who = person(request)
    if who is None:
        return error(401, texts.WEB_UNAUTHORISED)
    conversation_id = request.match_info["conversation_id"]
    if not chat.sessions.owns(who, conversation_id):
        return error(404, texts.WEB_BAD_CONVERSATION)
    key = Question(WEB_TEAM, WEB_CHANNEL, who, "", Surface.WEB, "", conversation_id).thread_key
    try:
        turns = await chat.store.turns(key)
    except StoreUnavailable:  # the database is away: the chat still answers
        return error(503, texts.WEB_HISTORY_UNAVAILABLE)
    shown = [{"role": t.role, "text": t.text, "note": t.note} for t in turns]
    return web.json_response({"turns": shown})
