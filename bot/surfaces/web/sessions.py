"""Who is asking in the browser, and which conversations are theirs.

A person signs in once with their name (and the chat's shared token, where one is set) and gets
a session: their name and an expiry, signed with a key derived from the token. Every request
carries the session, so the ledger, the dashboard and the per-person limits see a person, not
"web"; the shared token itself is never stored in the browser. Sessions need no table: any
replica with the same token can check them, and changing the token signs everyone out.

Conversation ids are made here, never by the client: 128 random bits, bound to the person who
started the conversation by a signature, so nobody can read or continue another person's
conversation by guessing or reusing its id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

NAME_LIMIT = 64
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def person_name(raw: object) -> str | None:
    """A display name as a person typed it, tidied (NFC, single spaces, no control or
    invisible characters), or None when nothing usable is left or it is too long."""
    if not isinstance(raw, str):
        return None
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from JSON's \ud800
        return None
    name = " ".join(_CONTROL.sub("", unicodedata.normalize("NFC", raw)).split())
    return name if 0 < len(name) <= NAME_LIMIT else None


@dataclass(frozen=True)
class Sessions:
    """Signs and checks sessions and conversation ids with one key."""

    key: bytes
    lifetime_s: float = 12 * 3600.0
    clock: Callable[[], float] = time.time

    @classmethod
    def for_token(cls, token: str | None, lifetime_s: float) -> Sessions:
        """Sessions keyed by the chat's token (the same on every replica); without a token
        (the local demo), by a key this process makes up, so a restart signs people out."""
        if token:
            key = hashlib.sha256(b"shopmax-web-session\x00" + token.encode()).digest()
        else:
            key = secrets.token_bytes(32)
        return cls(key, lifetime_s)

    def _sign(self, *parts: str) -> str:
        message = "\x00".join(parts).encode()
        return _b64(hmac.new(self.key, message, hashlib.sha256).digest()[:18])

    def start(self, name: str) -> str:
        body = _b64(json.dumps({"n": name, "e": int(self.clock() + self.lifetime_s)}).encode())
        return f"{body}.{self._sign('session', body)}"

    def person(self, session: str) -> str | None:
        """The name a valid, unexpired session was given for; None otherwise."""
        body, _, signature = session.partition(".")
        if not body or not hmac.compare_digest(signature, self._sign("session", body)):
            return None
        try:
            claims = json.loads(_unb64(body))
        except ValueError:
            return None
        if not isinstance(claims, dict) or claims.get("e", 0) < self.clock():
            return None
        return person_name(claims.get("n"))

    def new_conversation(self, person: str) -> str:
        nonce = _b64(secrets.token_bytes(16))
        return f"{nonce}.{self._sign('conversation', person, nonce)}"

    def owns(self, person: str, conversation_id: str) -> bool:
        nonce, _, signature = conversation_id.partition(".")
        if len(nonce) != 22 or not signature:
            return False
        return hmac.compare_digest(signature, self._sign("conversation", person, nonce))
