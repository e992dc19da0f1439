"""Slack's side of Sign in with Slack (OpenID Connect), played on the fake Slack's server.

It speaks the real endpoints and formats: `GET /openid/connect/authorize` (response_type code,
client_id, scope with `openid`, redirect_uri, state, nonce) signs in `person` at once, as a
browser already signed in to Slack would be after pressing Allow, and redirects to the
redirect_uri with a one-time `code` and the `state`; `POST /api/openid.connect.token` takes the
code with the client's id and secret (HTTP Basic, as slack_sdk sends them, or in the form) and
the same redirect_uri, and answers `{"ok", "access_token", "token_type", "id_token"}`, the
id_token a JWT (RS256 header, claims iss/sub/aud/exp/iat/nonce and Slack's own
`https://slack.com/team_id`, `.../user_id`); `POST /api/openid.connect.userInfo` with the
access token as bearer answers the user's claims. Errors are Slack's: `invalid_code`,
`invalid_client_id`, `bad_redirect_uri`, `invalid_auth`.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import BasicAuth, web

CLIENT_ID = "1111111111.2222222222"
CLIENT_SECRET = "fake-client-secret-0123456789"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class SlackUser:
    team: str
    user: str
    name: str


@dataclass
class FakeOpenID:
    person: SlackUser
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    authorized: list[dict[str, str]] = field(default_factory=list)  # what each authorize got
    nonce_override: str | None = None  # a test's id_token of another sign-in

    async def authorize(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.authorized.append(query)
        scopes = set(query.get("scope", "").replace(",", " ").split())
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            return web.Response(status=400, text="invalid_client_id")
        if "openid" not in scopes or not query.get("redirect_uri"):
            return web.Response(status=400, text="invalid_scope")
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"redirect_uri": query["redirect_uri"], "nonce": query.get("nonce")}
        back = {"code": code, "state": query.get("state", "")}
        raise web.HTTPFound(f"{query['redirect_uri']}?{urlencode(back)}")

    def api(self, method: str, request: web.Request, payload: dict[str, Any]) -> dict[str, Any]:
        if method == "openid.connect.token":
            return self._token(request, payload)
        if method == "openid.connect.userInfo":
            return self._user_info(request)
        return {"ok": False, "error": "unknown_method"}

    def _token(self, request: web.Request, payload: dict[str, Any]) -> dict[str, Any]:
        header = request.headers.get("Authorization", "")
        client_id, secret = payload.get("client_id"), payload.get("client_secret")
        if header.startswith("Basic "):
            basic = BasicAuth.decode(header)
            client_id, secret = basic.login, basic.password
        if client_id != self.client_id or secret != self.client_secret:
            return {"ok": False, "error": "invalid_client_id"}
        grant = self.codes.pop(str(payload.get("code")), None)  # one use only
        if grant is None:
            return {"ok": False, "error": "invalid_code"}
        if payload.get("redirect_uri") != grant["redirect_uri"]:
            return {"ok": False, "error": "bad_redirect_uri"}
        access = "xoxp-" + secrets.token_hex(12)
        self.tokens[access] = self._claims()
        nonce = self.nonce_override or grant["nonce"]
        return {
            "ok": True,
            "access_token": access,
            "token_type": "Bearer",
            "id_token": self._jwt({**self._claims(), "nonce": nonce}),
        }

    def _user_info(self, request: web.Request) -> dict[str, Any]:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        claims = self.tokens.get(token)
        if claims is None:
            return {"ok": False, "error": "invalid_auth"}
        return {"ok": True, **claims}

    def _claims(self) -> dict[str, Any]:
        now = int(time.time())
        p = self.person
        return {
            "iss": "https://slack.com",
            "sub": p.user,
            "aud": self.client_id,
            "exp": now + 3600,
            "iat": now,
            "auth_time": now,
            "https://slack.com/user_id": p.user,
            "https://slack.com/team_id": p.team,
            "https://slack.com/team_name": "ShopMax India",
            "email": f"{p.name.split()[0].lower()}@shopmax.example",
            "email_verified": True,
            "name": p.name,
            "given_name": p.name.split()[0],
            "locale": "en-IN",
        }

    def _jwt(self, claims: dict[str, Any]) -> str:
        header = {"typ": "JWT", "alg": "RS256", "kid": "fake-key-1"}
        parts = [_b64(json.dumps(x).encode()) for x in (header, claims)]
        return ".".join([*parts, _b64(secrets.token_bytes(256))])  # Slack signs; we do not
