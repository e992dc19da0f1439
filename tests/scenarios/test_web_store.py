"""The browser chat asks for the store at sign-in: the form offers the known stores, the server
checks a typed code (naming the nearest known for one it does not know), the session keeps it,
and the model is told it. A person signed in with Slack gets their own store from Slack."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.app import http_app
from bot.store.base import PERSON_SCOPE
from bot.wording import texts
from tests.conftest import USER, Bot, BotFactory
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.openid_provider import FakeOpenID
from tests.fakes.serve import serve
from tests.fakes.slack_server import TEAM
from tests.scenarios.test_trust import slack_sign_in

TOKEN = "web-token-for-tests-0123456789"
Site = tuple[str, Bot]


@pytest.fixture
async def site(make_bot: BotFactory) -> AsyncIterator[Site]:
    bot = await make_bot(web_signin="token", web_token=TOKEN)
    runner, url = await serve(http_app(bot.services))
    yield url, bot
    await runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def signing_in(
    http: aiohttp.ClientSession, url: str, **fields: Any
) -> tuple[int, dict[str, Any]]:
    body = {"name": "Priya", "token": TOKEN, **fields}
    async with http.post(f"{url}/api/chat/session", json=body) as r:
        return r.status, await r.json()


async def ask(http: aiohttp.ClientSession, url: str, session: str, message: str) -> None:
    headers = {"Authorization": f"Bearer {session}"}
    async with http.post(f"{url}/api/chat", json={"message": message}, headers=headers) as r:
        assert r.status == 200, await r.text()
        await r.read()


async def test_the_sign_in_form_offers_the_known_stores(
    site: Site, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{site[0]}/api/chat/config") as r:
        stores = (await r.json())["stores"]
    assert {"code": "MUMBAI", "label": "Mumbai (MUMBAI)"} in stores
    assert len(stores) == 6
    async with http.get(f"{site[0]}/chat") as r:
        page = await r.text()
    assert 'id="store"' in page and 'list="stores"' in page


async def test_the_store_chosen_at_sign_in_reaches_the_model_and_stays_with_the_session(
    site: Site, http: aiohttp.ClientSession, model: FakeAnthropic
) -> None:
    url, bot = site
    status, body = await signing_in(http, url, store=" chennai ")
    assert (status, body["store"]) == (200, "CHENNAI")
    model.script(Script(chunks=["4 in stock."]), Script(chunks=["Yes."]))
    await ask(http, url, body["session"], "is the LG fridge in stock?")
    system = model.calls[0].body["system"]
    assert "store code CHENNAI" in system[1]["text"]
    _, bare = await signing_in(http, url, store="")
    assert bare["store"] == ""
    await ask(http, url, bare["session"], "is the LG fridge in stock?")
    assert len(model.calls[1].body["system"]) == 1
    kept = await bot.services.store.web_session(_session_id(body["session"]))
    assert kept is not None and kept.store == "CHENNAI"


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("CHENAI", texts.web_unknown_store("CHENAI", ["CHENNAI (Chennai)"])),
        ("<script>alert(1)</script>", texts.WEB_BAD_STORE),
        ("<@U0BOSS>", texts.WEB_BAD_STORE),
        ("M" * 5000, texts.WEB_BAD_STORE),
        (["MUMBAI"], texts.WEB_BAD_STORE),
        ("\ud800", texts.WEB_BAD_STORE),
    ],
)
async def test_a_store_the_catalog_does_not_know_is_refused_with_the_nearest(
    site: Site, http: aiohttp.ClientSession, typed: Any, said: str
) -> None:
    status, body = await signing_in(http, site[0], store=typed)
    assert (status, body["error"]) == (400, said)
    assert "session" not in body


async def test_a_person_signed_in_with_slack_gets_their_own_store(
    slack_site: tuple[str, Bot, FakeOpenID], model: FakeAnthropic
) -> None:
    url, bot, _ = slack_site
    await bot.services.store.choose_store(TEAM, PERSON_SCOPE, USER, "KOLKATA", by=USER)
    session = await slack_sign_in(url)
    model.script(Script(chunks=["2 in stock."]))
    async with aiohttp.ClientSession() as http:
        await ask(http, url, session, "is the LG fridge in stock?")
    assert "store code KOLKATA" in model.calls[0].body["system"][1]["text"]


def _session_id(token: str) -> str:
    """The session id a token names (its signed claims, as the server made them)."""
    body = token.split(".")[0]
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return str(claims["s"])
