"""Who is asking in the browser, and which conversations are theirs.

A sign-in makes a session: a row in the store (`WebSession`: whose answers they are, until when,
when last used, revoked or not) and a token for the browser that names it, carries its person
and expiry, and is signed with a key of the sessions' own (32 random bytes made once and kept
in the store, so every replica has it; `shopmax-bot web rotate-key` replaces it and revokes
every session). Every request is checked against the row: revoked (signed out, or the key
rotated), expired, or idle longer than `SHOPMAX_WEB_IDLE_MINUTES` is signed out. While the
database is away the signed token alone is believed (its expiry still holds), so tablets keep
answering; what they did is checked again once it is back.

A running process reads the key again from the store when it is `KEY_RELOAD_EVERY` seconds old
(before it signs or checks anything with it), so a rotation from any other process reaches
every replica within that time; from then on only the new key signs and only the new key is
believed, so a token signed with the retired key is refused even where its row could not be
checked. While the database is away the key last read stays in use (and with it, until the
database is back, a retired key that process had not yet seen replaced).

The person is whom the answers count for: a Slack user's own team and user ids after Sign in
with Slack (the same limits, ledger rows and usage as in Slack), or for the shared token the
`web` team and an id of this sign-in, so limits count per signed-in browser and a typed name
can never be taken for a Slack person's.

Sign in with Slack hands the browser a sign-in code, never a session: one use, a minute long,
naming the Slack person and the SHA-256 of a verifier the page kept before it sent the person
to Slack. The page trades code and verifier for the session by POST (`redeem`), so a code put
in someone else's address signs nobody in: their page holds no verifier for it.

Conversation ids are made here, never by the client: 128 random bits, bound to their person by
a signature (a key of its own, not rotated with the sessions'), so nobody can read or continue
another person's conversation by guessing or reusing its id.
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
from dataclasses import dataclass, replace
from typing import Any

from bot.errors import StoreUnavailable
from bot.store import Store
from bot.store.base import WebSession

NAME_LIMIT = 64
SESSIONS_KEY = "sessions"
CONVERSATIONS_KEY = "conversations"
WEB_TEAM = "web"  # the ledger's workspace for token sign-ins
TOUCH_EVERY = 30.0  # seconds between writes of a session's last use
CODE_LIFETIME = 60  # seconds from Slack's answer to the page's trade of its code
KEY_RELOAD_EVERY = 5.0  # seconds: a key older than this is read again before it is used
KEY_RELOAD_AFTER_MISMATCH = 1.0  # seconds: a signature not ours reads it again at most this often
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
class Person:
    """Whom a signed-in browser's questions count for, and what its page shows."""

    session_id: str
    team: str
    user: str
    name: str
    kind: str
    store: str = ""  # the store code chosen at sign-in ("": the person's own, if any)

    @property
    def key(self) -> str:
        return f"{self.team}:{self.user}"


class Signer:
    """HMAC-SHA256 over named parts, with a key loaded from the store when first needed."""

    def __init__(
        self, store: Store, name: str, clock: Callable[[], float], key: bytes | None = None
    ) -> None:
        self.store = store
        self.name = name
        self.clock = clock
        self._key = key  # loaded at start-up, so sign-in works while the database is away
        self._loaded_at = clock() if key is not None else 0.0

    async def key(self, *, fresh: bool = False) -> bytes:
        """The current key, read again from the store once it is `KEY_RELOAD_EVERY` seconds
        old (with `fresh`, a second old: a signature did not match, and another replica may
        have seen a rotation first). While the store is away the key last read is used; raises
        `StoreUnavailable` only when none was ever read."""
        now = self.clock()
        age = now - self._loaded_at
        if self._key is None or age >= (KEY_RELOAD_AFTER_MISMATCH if fresh else KEY_RELOAD_EVERY):
            try:
                self._key = await self.store.signing_key(self.name)
            except StoreUnavailable:
                if self._key is None:
                    raise
            self._loaded_at = now  # read, or the store is away: either way not again at once
        return self._key

    @staticmethod
    def sign(key: bytes, *parts: str) -> str:
        message = "\x00".join(parts).encode("utf-8", "surrogatepass")
        return _b64(hmac.new(key, message, hashlib.sha256).digest()[:18])

    async def signed(self, signature: str, *parts: str) -> bool:
        """Whether `signature` is ours over `parts` with the current key (a mismatch reads the
        key again, at most once a second, in case it was rotated); a retired key's is not."""
        if not signature.isascii():
            return False
        for fresh in (False, True):
            expected = self.sign(await self.key(fresh=fresh), *parts)
            if hmac.compare_digest(signature, expected):
                return True
        return False


class Sessions:
    """Makes, checks and ends browser sessions; makes and checks conversation ids."""

    def __init__(
        self,
        store: Store,
        *,
        lifetime_s: float = 12 * 3600.0,
        idle_s: float = 15 * 60.0,
        clock: Callable[[], float] = time.time,
        keys: dict[str, bytes] | None = None,
    ) -> None:
        self.store = store
        self.lifetime_s = lifetime_s
        self.idle_s = idle_s
        self.clock = clock
        keys = keys or {}
        self.signer = Signer(store, SESSIONS_KEY, clock, keys.get(SESSIONS_KEY))
        self.conversations = Signer(store, CONVERSATIONS_KEY, clock, keys.get(CONVERSATIONS_KEY))
        self._touched: dict[str, float] = {}

    async def start(self, team: str, user: str, name: str, kind: str, store: str = "") -> str:
        """A new session for this person (at the store with code `store`, checked by the
        caller against the catalog); the token the browser keeps."""
        session_id = _b64(secrets.token_bytes(16))
        now = self.clock()
        expires = int(now + self.lifetime_s)
        row = WebSession(session_id, team, user, name, kind, expires, now, store=store)
        await self.store.start_session(row)
        claims = {"s": session_id, "t": team, "u": user, "n": name, "k": kind, "e": expires}
        claims |= {"st": store} if store else {}
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{body}.{self.signer.sign(await self.signer.key(), 'session', body)}"

    async def start_typed(self, name: str, kind: str = "token", store: str = "") -> str:
        """A shared-token (or local demo) sign-in: per browser, never a Slack person."""
        sign_in = _b64(secrets.token_bytes(6))
        return await self.start(WEB_TEAM, f"{name} ({sign_in})", name, kind, store)

    async def person(self, token: str) -> Person | None:
        """The person a valid, unexpired, unrevoked and recently used session is for."""
        claims = await self._claims(token)
        if claims is None:
            return None
        person = Person(
            claims["s"], claims["t"], claims["u"], claims["n"], claims["k"], claims.get("st", "")
        )
        now = self.clock()
        try:
            row = await self.store.web_session(person.session_id)
        except StoreUnavailable:
            return person  # the signature and expiry hold; the row is checked once it is back
        if row is None or row.revoked or row.expires_at < now:
            return None
        person = replace(person, store=row.store)  # the row's, server-side, when it is read
        if now - row.last_seen > self.idle_s:
            await self.store.end_session(person.session_id)
            return None
        if now - self._touched.get(person.session_id, row.last_seen) >= TOUCH_EVERY:
            self._touched[person.session_id] = now
            if len(self._touched) > 50_000:
                self._touched.clear()
            await self.store.touch_session(person.session_id, now)
        return person

    async def _claims(self, token: str) -> dict[str, Any] | None:
        body, _, signature = token.partition(".")
        if (
            not body
            or not body.isascii()
            or not await self.signer.signed(signature, "session", body)
        ):
            return None
        try:
            claims = json.loads(_unb64(body))
        except ValueError:
            return None
        wanted = {"s": str, "t": str, "u": str, "n": str, "k": str, "e": int}
        if not isinstance(claims, dict) or any(
            not isinstance(claims.get(k), kind) for k, kind in wanted.items()
        ):
            return None
        if not isinstance(claims.get("st", ""), str):
            return None
        return claims if claims["e"] >= self.clock() else None

    async def end(self, token: str) -> bool:
        """Sign the session out; False when the token is not a session of ours."""
        claims = await self._claims(token)
        if claims is None:
            return False
        await self.store.end_session(claims["s"])
        return True

    async def new_conversation(self, person: Person) -> str:
        nonce = _b64(secrets.token_bytes(16))
        key = await self.conversations.key()
        return f"{nonce}.{self.conversations.sign(key, 'conversation', person.key, nonce)}"

    async def owns(self, person: Person, conversation_id: object) -> bool:
        """Whether `conversation_id` is one the server made for `person` (anything else, a
        non-ASCII id included, is simply not theirs)."""
        if not isinstance(conversation_id, str) or not conversation_id.isascii():
            return False
        nonce, _, signature = conversation_id.partition(".")
        if len(nonce) != 22 or not signature:
            return False
        return await self.conversations.signed(signature, "conversation", person.key, nonce)

    async def signin_code(self, team: str, user: str, name: str, challenge: str) -> str:
        """A one-use code for this Slack person, bound to the page's `challenge` (the SHA-256,
        base64url, of the verifier it kept)."""
        claims: dict[str, Any] = {"t": team, "u": user, "n": name, "c": challenge}
        claims |= {"e": int(self.clock() + CODE_LIFETIME), "i": _b64(secrets.token_bytes(12))}
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{body}.{self.signer.sign(await self.signer.key(), 'signin-code', body)}"

    async def redeem(self, code: object, verifier: object) -> tuple[str, str] | None:
        """The session and name for a sign-in code and its page's verifier, once; None for a
        code that is not ours, has expired or was used, or a verifier that is not its page's."""
        if not (isinstance(code, str) and isinstance(verifier, str) and verifier.isascii()):
            return None
        body, _, signature = code.partition(".")
        if not body.isascii() or not await self.signer.signed(signature, "signin-code", body):
            return None
        claims = json.loads(_unb64(body))
        challenge = _b64(hashlib.sha256(verifier.encode()).digest())
        if claims["e"] < self.clock() or not hmac.compare_digest(challenge, claims["c"]):
            return None
        if not await self.store.claim(f"signin-code:{claims['i']}"):
            return None
        token = await self.start(claims["t"], claims["u"], claims["n"], "slack")
        return token, claims["n"]

    async def state(self, *parts: str) -> str:
        """A signature over `parts` with the sessions' key (Sign in with Slack's cookie)."""
        return self.signer.sign(await self.signer.key(), "signin", *parts)

    async def state_ok(self, signature: str, *parts: str) -> bool:
        return await self.signer.signed(signature, "signin", *parts)
