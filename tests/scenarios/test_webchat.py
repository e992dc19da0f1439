"""The browser chat over Server-Sent Events: a person signs in, asks through the same answering
path as Slack (gate, limits, ledger), and sees the answer stream; hostile requests get a clear
4xx; the chat's token does not open the dashboard; conversations are the server's and their
owner's."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from bot.app import http_app
from tests.conftest import METRICS_HEADERS, Bot, BotFactory, ledger_row
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.serve import serve

TOKEN = "web-token-for-tests-0123456789"
ADMIN = "dashboard-token-for-tests-98765"

Site = tuple[str, Bot]


@pytest.fixture
async def site(make_bot: BotFactory) -> AsyncIterator[Site]:
    bot = await make_bot(web_signin="token", web_token=TOKEN, dashboard_token=ADMIN)
    runner, url = await serve(http_app(bot.services))
    yield url, bot
    await runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


SignIn = Callable[[str], Awaitable[dict[str, str]]]


@pytest.fixture
def sign_in(site: Site, http: aiohttp.ClientSession) -> SignIn:
    """Sign a person in; returns the headers their requests carry."""

    async def sign(name: str) -> dict[str, str]:
        body = {"name": name, "token": TOKEN}
        async with http.post(f"{site[0]}/api/chat/session", json=body) as r:
            assert r.status == 200, await r.text()
            session = (await r.json())["session"]
        return {"Authorization": f"Bearer {session}"}

    return sign


async def events(response: aiohttp.ClientResponse) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    buffer = ""
    async for chunk in response.content.iter_any():
        buffer += chunk.decode()
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            lines = dict(line.split(": ", 1) for line in block.splitlines())
            yield lines["event"], json.loads(lines["data"])


async def asked(
    http: aiohttp.ClientSession, url: str, headers: dict[str, str], **body: Any
) -> list[tuple[str, dict[str, Any]]]:
    async with http.post(f"{url}/api/chat", json=body, headers=headers) as r:
        assert r.status == 200, await r.text()
        return [event async for event in events(r)]


async def test_answer_streams_as_text_events_then_done_with_stats(
    site: Site, http: aiohttp.ClientSession, sign_in: SignIn, model: FakeAnthropic
) -> None:
    """Each text delta reaches the browser before the model has finished; `done` carries the
    stats line's figures."""
    seen: list[tuple[str, dict[str, Any]]] = []

    async def browser_has_first_text() -> None:
        for _ in range(200):
            if any(name == "text" for name, _ in seen):
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the first text event never reached the browser")

    model.script(
        Script(
            chunks=["The Bosch", " 7 kg is ₹29,490."],
            input_tokens=70,
            output_tokens=9,
            before_chunk={1: browser_has_first_text},
        )
    )
    headers = await sign_in("Priya")
    async with http.post(
        f"{site[0]}/api/chat", json={"message": "7 kg washer?"}, headers=headers
    ) as r:
        assert r.headers["Content-Type"].startswith("text/event-stream")
        async for event in events(r):
            seen.append(event)
    assert [name for name, _ in seen] == ["start", "text", "text", "done"]
    text = "".join(data["text"] for name, data in seen if name == "text")
    assert text == "The Bosch 7 kg is ₹29,490."
    done = seen[-1][1]
    assert (done["input_tokens"], done["output_tokens"], done["stop_reason"]) == (70, 9, "end_turn")
    assert done["ttft_s"] is not None and done["duration_s"] >= done["ttft_s"]
    assert done["cost"].startswith("$")
    assert done["footer"].startswith("70 in · 9 out · ")


async def test_every_browser_answer_is_in_the_ledger_under_its_person(
    site: Site,
    http: aiohttp.ClientSession,
    sign_in: SignIn,
    model: FakeAnthropic,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A browser answer — and a failed one — is a ledger row under the name given at sign-in,
    not under "web", so the dashboard and the limits mean something; a failure also leaves its
    cause in the log and a count in /metrics."""
    url, bot = site
    model.script(Script(chunks=["Voltas."]), *[Script(status=500)] * 3)  # 3: the SDK retries twice
    await asked(http, url, await sign_in("Priya Sharma"), message="best AC?")
    failed = await asked(http, url, await sign_in("Ravi"), message="and a fridge?")
    assert [name for name, _ in failed] == ["start", "error"]
    assert "could not answer" in failed[-1][1]["error"]
    rows = await bot.services.store.ledger(0)
    # Under the name and this sign-in's own id (limits count per signed-in browser).
    assert [(r.user.rsplit(" (", 1)[0], r.team, r.surface, r.outcome) for r in rows] == [
        ("Priya Sharma", "web", "web", "ok"),
        ("Ravi", "web", "web", "error"),
    ]
    assert any("model failed: model request failed: api_error" in m for m in caplog.messages)
    async with http.get(f"{url}/metrics", headers=METRICS_HEADERS) as r:
        exposition = await r.text()
    assert 'shopmax_answers_total{outcome="error",surface="web"} 1.0' in exposition


async def test_the_browser_is_gated_like_slack(
    make_bot: BotFactory, http: aiohttp.ClientSession, model: FakeAnthropic
) -> None:
    """With SHOPMAX_USER_QUESTIONS=2 a person's third question in the browser is refused with a
    clear reason (429) and never reaches the model; someone else may still ask."""
    bot = await make_bot(web_signin="token", web_token=TOKEN, user_questions=2)
    runner, url = await serve(http_app(bot.services))
    try:
        sessions = {}
        for name in ("Priya", "Ravi"):
            body = {"name": name, "token": TOKEN}
            async with http.post(f"{url}/api/chat/session", json=body) as r:
                sessions[name] = {"Authorization": f"Bearer {(await r.json())['session']}"}
        for _ in range(2):
            await asked(http, url, sessions["Priya"], message="price of the LG 8 kg?")
        async with http.post(
            f"{url}/api/chat", json={"message": "one more?"}, headers=sessions["Priya"]
        ) as r:
            assert r.status == 429
            assert "You have asked 2 questions" in (await r.json())["error"]
        assert len(model.calls) == 2
        await asked(http, url, sessions["Ravi"], message="and mine?")
        assert len(model.calls) == 3
    finally:
        await runner.cleanup()


async def test_a_conversation_continues_with_its_earlier_turns(
    site: Site, http: aiohttp.ClientSession, sign_in: SignIn, model: FakeAnthropic
) -> None:
    url, _ = site
    model.script(Script(chunks=["Voltas."]), Script(chunks=["₹38,990."]))
    priya = await sign_in("Priya")
    first = await asked(http, url, priya, message="best AC?")
    conversation = first[0][1]["conversation_id"]
    second = await asked(http, url, priya, message="price?", conversation_id=conversation)
    async with http.post(
        f"{url}/api/chat/history", json={"conversation_id": conversation}, headers=priya
    ) as r:
        turns = (await r.json())["turns"]
    assert second[0][1]["conversation_id"] == conversation
    assert [m["content"] for m in model.calls[1].body["messages"]] == [
        "best AC?",
        "Voltas.",
        "price?",
    ]
    assert [t["text"] for t in turns] == ["best AC?", "Voltas.", "price?", "₹38,990 ⚠."]


async def test_conversations_are_made_by_the_server_and_bound_to_their_person(
    site: Site, http: aiohttp.ClientSession, sign_in: SignIn, model: FakeAnthropic
) -> None:
    """An id the client made up is refused, and another person can neither read a
    conversation nor continue it with its id."""
    url, _ = site
    model.script(Script(chunks=["Voltas."]))
    priya, ravi = await sign_in("Priya"), await sign_in("Ravi")
    started = await asked(http, url, priya, message="best AC?")
    conversation = started[0][1]["conversation_id"]
    assert len(conversation.split(".")[0]) == 22, "128 random bits, base64url"
    async with http.post(
        f"{url}/api/chat/history", json={"conversation_id": conversation}, headers=ravi
    ) as r:
        assert r.status == 404
    for made_up in ("abcdefgh", conversation.split(".")[0] + ".forged", "../../etc/passwd"):
        body = {"message": "hi", "conversation_id": made_up}
        async with http.post(f"{url}/api/chat", json=body, headers=priya) as r:
            assert r.status == 400
            assert "not yours" in (await r.json())["error"]
    body = {"message": "hi", "conversation_id": conversation}
    async with http.post(f"{url}/api/chat", json=body, headers=ravi) as r:
        assert r.status == 400
    assert len(model.calls) == 1


async def test_catalog_lookups_are_status_events(
    site: Site, http: aiohttp.ClientSession, sign_in: SignIn, model: FakeAnthropic
) -> None:
    model.script(
        Script(
            chunks=[],
            tool_calls=[("search_products", {"category": "tv", "max_price": 20000})],
            stop_reason="tool_use",
        ),
        Script(chunks=['Hisense E7N 43".']),
    )
    seen = await asked(http, site[0], await sign_in("Priya"), message="cheap tv")
    assert [n for n, _ in seen] == ["start", "status", "text", "done"]
    assert seen[1][1]["status"] == "Looking up TVs under ₹20,000…"


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer wrong-session",
        f"Bearer {TOKEN}",  # the shared token is for signing in, not a session
        TOKEN,
        "Bearer caf\xe9-\xff",  # a non-ASCII byte in the header
    ],
)
async def test_a_missing_or_wrong_session_is_401(
    site: Site, http: aiohttp.ClientSession, model: FakeAnthropic, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    async with http.post(f"{site[0]}/api/chat", json={"message": "hi"}, headers=headers) as r:
        assert r.status == 401
        assert "Sign in" in (await r.json())["error"]
    assert model.calls == []


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b'{"name": "Priya", "token": "wrong-token-123456789"}', 401, "not the ShopMax web token"),
        (b'{"token": "' + TOKEN.encode() + b'"}', 400, "Type your name"),
        (b'{"name": "\\u0000\\u200b", "token": "' + TOKEN.encode() + b'"}', 400, "Type your name"),
        (b'{"name": "\\ud800", "token": "' + TOKEN.encode() + b'"}', 400, "Type your name"),
        (b"[" * 100_000, 400, "Send JSON"),
    ],
)
async def test_sign_in_refuses_a_wrong_token_or_name(
    site: Site, http: aiohttp.ClientSession, body: bytes, status: int, reason: str
) -> None:
    async with http.post(f"{site[0]}/api/chat/session", data=body) as r:
        assert r.status == status
        assert reason in (await r.json())["error"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "Send JSON"),
        (b"[1, 2]", "Send JSON"),
        (b"[" * 100_000, "Send JSON"),  # nested deeper than the parser can go
        (b"\xff\xfe{}", "Send JSON"),  # not UTF-8
        (b'{"message": "  "}', "empty"),
        (b'{"message": 42}', "empty"),
        (b'{"message": "hi \\ud800 there"}', "cannot be read"),  # a lone surrogate
        (json.dumps({"message": "x" * 5000}).encode(), "5,000 characters"),
    ],
)
async def test_bad_bodies_are_400_with_a_reason(
    site: Site,
    http: aiohttp.ClientSession,
    sign_in: SignIn,
    model: FakeAnthropic,
    body: bytes,
    reason: str,
) -> None:
    headers = await sign_in("Priya")
    async with http.post(f"{site[0]}/api/chat", data=body, headers=headers) as r:
        assert r.status == 400
        assert reason in (await r.json())["error"]
    assert model.calls == []


async def test_a_browser_that_leaves_stops_the_model_stream(
    site: Site, http: aiohttp.ClientSession, sign_in: SignIn, model: FakeAnthropic
) -> None:
    """A closed tab stops costing tokens; the answer is still in the ledger, as stopped."""
    url, bot = site
    model.script(Script(chunks=[f"word{n} " for n in range(400)], delay=0.02))
    headers = await sign_in("Priya")
    async with http.post(f"{url}/api/chat", json={"message": "long"}, headers=headers) as r:
        async for name, _ in events(r):
            if name == "text":
                break
    for _ in range(300):
        if model.calls[0].disconnected:
            break
        await asyncio.sleep(0.02)
    assert model.calls[0].disconnected and not model.calls[0].finished
    await bot.services.answerer.wait_idle(10)
    [row] = await bot.services.store.ledger(0)
    assert (row.user.split(" (")[0], row.outcome) == ("Priya", "stopped")


async def test_the_chat_page_is_served(site: Site, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{site[0]}/chat") as r:
        assert r.status == 200 and r.content_type == "text/html"
        page = await r.text()
    assert 'src="/static/chat.js"' in page and 'id="stop"' in page


async def test_without_tokens_off_loopback_there_is_no_chat_and_no_dashboard(
    make_bot: BotFactory, http: aiohttp.ClientSession
) -> None:
    bot = await make_bot(host="0.0.0.0")
    runner, url = await serve(http_app(bot.services))
    try:
        for path in ("/chat", "/api/chat/config", "/dashboard", "/api/dashboard"):
            async with http.get(f"{url}{path}") as r:
                assert r.status == 404, path
    finally:
        await runner.cleanup()


async def test_the_chat_token_does_not_open_the_dashboard(
    site: Site, http: aiohttp.ClientSession, sign_in: SignIn
) -> None:
    """The dashboard shows everyone's cost: neither the chat's token nor a chat session opens
    it; only the admin token does."""
    url, bot = site
    await bot.services.store.record(ledger_row(user="U0STAFF1"))
    for headers in (
        {},
        {"Authorization": f"Bearer {TOKEN}"},
        await sign_in("Priya"),
    ):
        async with http.get(f"{url}/api/dashboard", headers=headers) as r:
            assert r.status == 401
    admin = {"Authorization": f"Bearer {ADMIN}"}
    async with http.get(f"{url}/api/dashboard?days=7", headers=admin) as r:
        data = await r.json()
    assert [u["name"] for u in data["top_users"]] == ["U0STAFF1"]
    assert len(data["days"]) == 1 and data["days"][0]["answers"] == 1
    for days in ("0", "91", "x", "٣"):
        async with http.get(f"{url}/api/dashboard?days={days}", headers=admin) as r:
            assert r.status == 400


async def test_bound_to_loopback_the_pages_need_no_credential(
    make_bot: BotFactory, http: aiohttp.ClientSession, model: FakeAnthropic
) -> None:
    """The local demo: a bot bound to 127.0.0.1 serves the chat (sign-in asks only a name) and
    the dashboard without tokens, since only this machine can reach it."""
    bot = await make_bot(slack_bot_token=None, slack_signing_secret=None, host="127.0.0.1")
    runner, url = await serve(http_app(bot.services))
    try:
        async with http.get(f"{url}/api/chat/config") as r:
            config = await r.json()
        assert (config["signin"], config["needs_token"], config["demo_note"]) == (
            "local",
            False,
            None,
        )
        async with http.post(f"{url}/api/chat/session", json={"name": "Asha"}) as r:
            session = (await r.json())["session"]
        seen = await asked(http, url, {"Authorization": f"Bearer {session}"}, message="hi")
        assert seen[-1][0] == "done"
        async with http.get(f"{url}/api/dashboard") as r:
            assert r.status == 200
            assert [u["name"].split(" (")[0] for u in (await r.json())["top_users"]] == ["Asha"]
    finally:
        await runner.cleanup()
