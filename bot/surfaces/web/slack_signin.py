"""Sign in with Slack (OpenID Connect), so the person in the browser is a Slack user.

    GET  /chat/signin/slack?challenge=…  → 302 to Slack's authorize page (state, nonce)
    GET  /chat/signin/slack/callback     ← Slack sends the browser back with `code` and `state`
    POST /api/chat/signin/slack          {"code", "verifier"} → {"session", "name"}

The flow is Slack's OpenID Connect one: the authorize page (`SHOPMAX_SLACK_AUTHORIZE_URL`,
scopes `openid profile email`), then `openid.connect.token` (the code, with the app's client id
and secret) and `openid.connect.userInfo` on the Web API (`SLACK_API_URL`). The browser carries
a short-lived signed cookie with the `state` and `nonce` it was sent with: the callback's
`state` must be that one (no one can sign someone else in by sending them a link), and the
id_token's `nonce` too (no token of another sign-in is taken), its `aud` our client id, its
`iss` Slack and its `exp` ahead. The id_token comes straight from Slack's token endpoint over
TLS, which OpenID Connect (Core 3.1.3.7) lets stand for checking its signature.

The person is the Slack user's own team and user ids, so their browser questions share their
Slack limits, ledger rows and usage; a workspace the bot does not serve
(`SHOPMAX_ALLOWED_TEAMS`, else the installing one) cannot sign in.

No session ever travels in an address. Before it sends the person to Slack, the page keeps a
random verifier (sessionStorage) and sends only its SHA-256 (`challenge`), which rides in the
signed cookie; the callback sends the browser back to `/chat#code=…` with a one-use sign-in code
bound to that challenge (`Sessions.signin_code`), and the page trades code and verifier for the
session by POST. A code planted in someone else's address (login CSRF, session fixation) signs
nobody in: their page has no verifier for it and does not ask. What went wrong comes back as
`#signin=` and a fixed code (`PROBLEMS`); the page shows only the fixed text for it.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth import OpenIDConnectAuthorizeUrlGenerator
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import StoreUnavailable
from bot.surfaces.web.access import Tries, error, json_body
from bot.surfaces.web.sessions import Sessions
from bot.wording import texts

log = logging.getLogger(__name__)

SCOPES = ("openid", "profile", "email")
ISSUER = "https://slack.com"
COOKIE = "shopmax_signin"
CALLBACK = "/chat/signin/slack/callback"
STATE_LIFETIME = 600  # seconds from the button to Slack's answer
TEAM_CLAIM = "https://slack.com/team_id"
USER_CLAIM = "https://slack.com/user_id"
CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")  # SHA-256, base64url without padding
# What the page may be told went wrong (`#signin=<code>`): fixed texts, nothing from the address.
PROBLEMS = {
    "failed": texts.WEB_SLACK_SIGNIN_FAILED,
    "unavailable": texts.WEB_SIGNIN_UNAVAILABLE,
    "team": texts.WEB_NOT_ALLOWED_TEAM,
}


@dataclass(frozen=True)
class SlackSignIn:
    client_id: str
    client_secret: str
    public_url: str
    authorize_url: str
    api_url: str
    sessions: Sessions
    allowed_teams: Callable[[], Awaitable[frozenset[str]]]
    clock: Callable[[], float] = time.time
    tries: Tries = field(default_factory=Tries)

    @property
    def redirect_uri(self) -> str:
        return self.public_url + CALLBACK


SIGNIN = web.AppKey("slack_signin", SlackSignIn)


def add_routes(app: web.Application, signin: SlackSignIn) -> None:
    app[SIGNIN] = signin
    app.router.add_get("/chat/signin/slack", start)
    app.router.add_get(CALLBACK, callback)
    app.router.add_post("/api/chat/signin/slack", trade)


async def start(request: web.Request) -> web.StreamResponse:
    """To Slack's authorize page, with a fresh state and nonce, and the page's challenge, kept
    in a signed cookie. Without a challenge (a link not made by the page) it goes nowhere."""
    signin = request.app[SIGNIN]
    challenge = request.query.get("challenge", "")
    if not CHALLENGE.fullmatch(challenge):
        return _back(signin, "failed")
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    expires = str(int(signin.clock() + STATE_LIFETIME))
    try:
        signature = await signin.sessions.state(state, nonce, expires, challenge)
    except StoreUnavailable:
        return _back(signin, "unavailable")
    generator = OpenIDConnectAuthorizeUrlGenerator(
        client_id=signin.client_id,
        redirect_uri=quote(signin.redirect_uri, safe=""),
        scopes=list(SCOPES),
        authorization_url=signin.authorize_url.rstrip("/"),
    )
    response = web.Response(status=302, headers={"Location": generator.generate(state, nonce)})
    response.set_cookie(
        COOKIE,
        ".".join((state, nonce, expires, challenge, signature)),
        max_age=STATE_LIFETIME,
        path="/chat/signin",
        httponly=True,
        secure=signin.public_url.startswith("https://"),
        samesite="Lax",  # sent on the top-level navigation back from Slack
    )
    return response


async def callback(request: web.Request) -> web.StreamResponse:
    signin = request.app[SIGNIN]
    try:
        code = await _signed_in(signin, request)
    except SignInRefused as refused:
        log.warning("a Sign in with Slack was refused: %s", refused.why)
        return _back(signin, refused.shown)
    except StoreUnavailable:
        return _back(signin, "unavailable")
    return _back(signin, None, code)


async def trade(request: web.Request) -> web.Response:
    """The page's sign-in code and its verifier for the session (once). A wrong verifier counts
    as a wrong try for the address (`Tries`)."""
    signin = request.app[SIGNIN]
    if signin.tries.blocked(request):
        return error(429, texts.WEB_TOO_MANY_TRIES)
    body = await json_body(request) or {}
    try:
        traded = await signin.sessions.redeem(body.get("code"), body.get("verifier"))
    except StoreUnavailable:
        return error(503, texts.WEB_SIGNIN_UNAVAILABLE)
    if traded is None:
        signin.tries.note(request)
        return error(401, texts.WEB_SLACK_SIGNIN_FAILED)
    session, name = traded
    return web.json_response({"session": session, "name": name})


class SignInRefused(Exception):
    def __init__(self, why: str, shown: str = "failed") -> None:
        super().__init__(why)
        self.why = why
        self.shown = shown


async def _signed_in(signin: SlackSignIn, request: web.Request) -> str:
    """A sign-in code for the Slack user coming back from Slack; `SignInRefused` else."""
    nonce, challenge = await _checked_state(signin, request)
    if "code" not in request.query:
        raise SignInRefused(f"Slack sent no code ({request.query.get('error', 'no error')})")
    client = AsyncWebClient(base_url=signin.api_url)
    try:
        # The client's id and secret in the form (`client_secret_post`, which Slack's OpenID
        # configuration lists): slack_sdk's helper sends them through aiohttp's BasicAuth,
        # deprecated in aiohttp 3.14 with a warning on every sign-in.
        grant = {"client_id": signin.client_id, "client_secret": signin.client_secret}
        grant |= {"code": request.query["code"], "redirect_uri": signin.redirect_uri}
        tokens = await client.api_call(
            "openid.connect.token", data={**grant, "grant_type": "authorization_code"}
        )
        claims = _id_token(signin, str(tokens.get("id_token") or ""), nonce)
        info = await AsyncWebClient(
            base_url=signin.api_url, token=str(tokens["access_token"])
        ).openid_connect_userInfo()
    except (SlackApiError, KeyError, OSError) as exc:
        raise SignInRefused(f"Slack's OpenID Connect call failed: {exc!r}") from None
    team, user = info.get(TEAM_CLAIM), info.get(USER_CLAIM)
    if info.get("sub") != claims.get("sub") or team != claims.get(TEAM_CLAIM) or not user:
        raise SignInRefused("userInfo does not match the id_token")
    if team not in await signin.allowed_teams():
        raise SignInRefused(f"workspace {team} is not served", "team")
    name = str(info.get("name") or info.get("given_name") or user)[:64]
    return await signin.sessions.signin_code(str(team), str(user), name, challenge)


async def _checked_state(signin: SlackSignIn, request: web.Request) -> tuple[str, str]:
    """The nonce and the page's challenge of this browser's sign-in, once the callback's state
    is the cookie's."""
    cookie = request.cookies.get(COOKIE, "").split(".") + [""] * 5
    state, nonce, expires, challenge, signature = cookie[:5]
    given = request.query.get("state", "")
    if not (state and expires.isdigit() and signature):
        raise SignInRefused("no sign-in cookie (started elsewhere, or over 10 minutes ago)")
    if not await signin.sessions.state_ok(signature, state, nonce, expires, challenge):
        raise SignInRefused("the sign-in cookie is not ours")
    if int(expires) < signin.clock():
        raise SignInRefused("the sign-in took over 10 minutes")
    if not hmac.compare_digest(given.encode(), state.encode()):
        raise SignInRefused("the state Slack sent back is not this browser's")
    return nonce, challenge


def _id_token(signin: SlackSignIn, id_token: str, nonce: str) -> dict[str, Any]:
    """The id_token's claims, checked: issuer, audience, expiry and nonce."""
    try:
        payload = id_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError) as exc:
        raise SignInRefused(f"an id_token that cannot be read: {exc}") from None
    if not isinstance(claims, dict):
        raise SignInRefused("an id_token that is not an object")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if claims.get("iss") != ISSUER or signin.client_id not in audiences:
        raise SignInRefused("an id_token for another issuer or app")
    if not isinstance(claims.get("exp"), int | float) or claims["exp"] < signin.clock():
        raise SignInRefused("an expired id_token")
    if not hmac.compare_digest(str(claims.get("nonce", "")).encode(), nonce.encode()):
        raise SignInRefused("an id_token of another sign-in (nonce)")
    return claims


def _back(signin: SlackSignIn, problem: str | None, code: str = "") -> web.StreamResponse:
    """Back to the chat page: with the sign-in code in the fragment, or what went wrong."""
    fragment = f"code={code}" if problem is None else f"signin={problem}"
    response = web.Response(status=303, headers={"Location": f"/chat#{fragment}"})
    response.del_cookie(COOKIE, path="/chat/signin")
    return response
