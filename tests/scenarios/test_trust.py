"""Trust boundaries that hold in a real deployment (issue 23), against the real app: behind a
reverse proxy nothing opens without its credential; a foreign `Host` is refused; per-person
limits hold under concurrency on one replica and two; Sign in with Slack against a fake
OpenID provider makes the browser person the Slack user; Slack Connect outsiders are refused;
a body in two TCP pieces is read; a replayed slash command is answered once."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.app import build_services, http_app
from bot.errors import SettingsError
from bot.surfaces.http import CappedSite, metrics_app
from bot.surfaces.web.sessions import KEY_RELOAD_EVERY, SESSIONS_KEY, Sessions, Signer
from tests.conftest import CHANNEL, USER, Bot, BotFactory, ledger_row, payload, signed_headers
from tests.fakes.anthropic_server import FakeAnthropic, Script, about_four_bytes_a_token
from tests.fakes.openid_provider import CLIENT_ID, CLIENT_SECRET, FakeOpenID, SlackUser
from tests.fakes.serve import free_port, serve, wait_healthy
from tests.fakes.slack_server import TEAM, FakeSlack
from tests.sites import served

TOKEN = "web-token-for-trust-tests-0123"
ADMIN = "dashboard-token-for-trust-987654"
METRICS = "metrics-token-for-trust-tests-42"
PROXIED = {"X-Forwarded-For": "203.0.113.7", "X-Real-IP": "203.0.113.7"}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def token_session(http: aiohttp.ClientSession, url: str, name: str = "Priya") -> str:
    async with http.post(f"{url}/api/chat/session", json={"name": name, "token": TOKEN}) as r:
        assert r.status == 200, await r.text()
        return str((await r.json())["session"])


async def ask(
    http: aiohttp.ClientSession, url: str, session: str, message: str = "price?"
) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {session}"}
    async with http.post(f"{url}/api/chat", json={"message": message}, headers=headers) as r:
        return r.status, await r.text()


@pytest.mark.parametrize("dashboard_token", [None, ADMIN], ids=["no-dashboard-token", "dashboard"])
async def test_behind_a_reverse_proxy_no_page_or_api_opens_without_its_credential(
    make_bot: BotFactory,
    http: aiohttp.ClientSession,
    model: FakeAnthropic,
    dashboard_token: str | None,
) -> None:
    """Loopback bind, Slack and web tokens set, every request arriving through nginx on the
    same host (with its headers, or none): the dashboard's data, the chat, history, metrics and
    readiness all need their own credential. Without SHOPMAX_DASHBOARD_TOKEN (the issue's own
    case: before, the dashboard answered 200 with everyone's names and costs) the dashboard
    is not served at all."""
    bot = await make_bot(
        host="127.0.0.1", web_signin="token", web_token=TOKEN, dashboard_token=dashboard_token
    )
    await bot.services.store.record(ledger_row())
    runner, url = await served(bot)
    try:
        for headers in (PROXIED, {}):  # a proxy may also strip its own headers
            checks = [
                ("GET", "/api/dashboard?days=7", None),
                ("POST", "/api/dashboard/session", {}),
                ("POST", "/api/chat", {"message": "hi"}),
                ("POST", "/api/chat/history", {"conversation_id": "x"}),
                ("POST", "/api/chat/session", {"name": "Priya"}),
                ("GET", "/metrics", None),
                ("GET", "/readyz", None),
            ]
            for method, path, body in checks:
                closed = 404 if path.startswith("/api/dashboard") and not dashboard_token else 401
                async with http.request(method, url + path, json=body, headers=headers) as r:
                    assert r.status == closed, (path, headers, r.status, await r.text())
                    assert USER not in await r.text()
        assert model.calls == []
        if dashboard_token:
            admin = {"Authorization": f"Bearer {ADMIN}", **PROXIED}
            async with http.get(f"{url}/api/dashboard?days=7", headers=admin) as r:
                assert r.status == 200
    finally:
        await runner.cleanup()


async def test_the_local_demo_opens_only_straight_from_this_machine(
    make_bot: BotFactory, http: aiohttp.ClientSession, model: FakeAnthropic
) -> None:
    """No Slack, web or dashboard token, bound to loopback: a direct request needs no
    credential; the same request through a proxy, or naming another host, gets nothing."""
    bot = await make_bot(slack_bot_token=None, slack_signing_secret=None, host="127.0.0.1")
    runner, url = await served(bot)
    try:
        async with http.get(f"{url}/api/dashboard") as r:
            assert r.status == 200
        async with http.get(f"{url}/api/chat/config") as r:
            assert (await r.json())["signin"] == "local"
        async with http.get(f"{url}/metrics") as r:
            assert r.status == 200
        async with http.get(f"{url}/api/dashboard", headers=PROXIED) as r:
            assert r.status == 401
        async with http.get(f"{url}/api/chat/config", headers=PROXIED) as r:
            assert (await r.json())["signin"] == "none"
        async with http.post(
            f"{url}/api/chat/session", json={"name": "Asha"}, headers=PROXIED
        ) as r:
            assert r.status == 401
        port = urlsplit(url).port
        for host in (f"rebound.evil.example:{port}", "127.0.0.1:1"):
            async with http.get(f"{url}/api/dashboard", headers={"Host": host}) as r:
                assert r.status == 421, host
    finally:
        await runner.cleanup()


async def test_a_foreign_host_is_refused(make_bot: BotFactory, http: aiohttp.ClientSession) -> None:
    """With SHOPMAX_PUBLIC_URL the pages answer to that host alone (DNS rebinding gets 421);
    /healthz still answers an orchestrator's probe by any name."""
    bot = await make_bot(
        web_signin="token", web_token=TOKEN, public_url="https://assistant.shopmax.example"
    )
    runner, url = await served(bot)
    try:
        for path in ("/chat", "/api/chat/config", "/static/chat.js", "/dashboard"):
            async with http.get(url + path, headers={"Host": "evil.example"}) as r:
                assert r.status == 421, path
                assert "not where" in (await r.json())["error"]
        ours = {"Host": "assistant.shopmax.example"}
        async with http.get(f"{url}/api/chat/config", headers=ours) as r:
            assert r.status == 200
        async with http.get(f"{url}/healthz", headers={"Host": "10.0.0.5:3000"}) as r:
            assert r.status == 200
    finally:
        await runner.cleanup()


async def test_without_a_public_url_the_pages_answer_only_to_this_machines_own_address(
    make_bot: BotFactory, http: aiohttp.ClientSession, slack: FakeSlack
) -> None:
    """Token mode and a dashboard, no SHOPMAX_PUBLIC_URL: a name rebound to this machine gets
    421 with the hint to set SHOPMAX_PUBLIC_URL, on every page and API, a right token
    included; the bound address itself works; /slack/events (signed by Slack) and /healthz
    answer by any name."""
    bot = await make_bot(web_signin="token", web_token=TOKEN, dashboard_token=ADMIN)
    runner, url = await served(bot)
    rebound = {"Host": "rebound.evil.example"}
    try:
        for path in ("/chat", "/api/chat/config", "/dashboard", "/static/chat.js"):
            async with http.get(url + path, headers=rebound) as r:
                assert r.status == 421, path
                assert "SHOPMAX_PUBLIC_URL" in (await r.json())["error"]
        signin = {"name": "Priya", "token": TOKEN}
        async with http.post(f"{url}/api/chat/session", json=signin, headers=rebound) as r:
            assert r.status == 421
        async with http.get(f"{url}/api/chat/config") as r:
            assert r.status == 200  # Host: 127.0.0.1:PORT, the address it is bound to
        event = json.dumps(payload("app_mention", ts="1700000900.000100", text="<@UBOT> hi"))
        headers = {**signed_headers(event), **rebound}
        async with http.post(f"{url}/slack/events", data=event, headers=headers) as r:
            assert r.status == 200
        async with http.get(f"{url}/healthz", headers=rebound) as r:
            assert r.status == 200
    finally:
        await runner.cleanup()


async def raw_request(url: str, head: str) -> bytes:
    """`head` sent as it is (no client tidies it), the start of the answer read back."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(head.replace("{netloc}", parts.netloc).encode() + b"Connection: close\r\n\r\n")
    await writer.drain()
    answer = await reader.read(200)
    writer.close()
    return answer


async def test_odd_hosts_and_absolute_addresses_are_refused(
    make_bot: BotFactory, http: aiohttp.ClientSession
) -> None:
    """A Host with user info, and an absolute request address naming another host beside a
    good Host: 421 (a browser sends neither; a forged request gets nothing)."""
    bot = await make_bot(
        web_signin="token", web_token=TOKEN, public_url="https://assistant.shopmax.example"
    )
    runner, url = await served(bot)
    try:
        good = "Host: assistant.shopmax.example\r\n"
        for head in (
            "GET /api/chat/config HTTP/1.1\r\nHost: evil@assistant.shopmax.example\r\n",
            "GET http://evil.example/api/chat/config HTTP/1.1\r\n" + good,
        ):
            assert (await raw_request(url, head)).startswith(b"HTTP/1.1 421"), head
        ours = "GET /api/chat/config HTTP/1.1\r\n" + good
        assert (await raw_request(url, ours)).startswith(b"HTTP/1.1 200")
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    "header",
    [
        "X-Forwarded-Host: shop.example",
        "X-Forwarded-Proto: https",
        "Via: 1.1 proxy",
        "True-Client-IP: 203.0.113.9",
        "CF-Connecting-IP: 203.0.113.9",
        "X-Client-IP: 203.0.113.9",
        "x-forwarded-for: 203.0.113.9",
    ],
)
async def test_the_local_demo_takes_any_proxy_header_as_a_proxy(
    make_bot: BotFactory, header: str
) -> None:
    """The credential-less demo reached through a proxy that adds any of these (and the Host of
    the bound address, as nginx's default does): the dashboard's data needs its credential."""
    bot = await make_bot(slack_bot_token=None, slack_signing_secret=None, host="127.0.0.1")
    runner, url = await served(bot)
    try:
        head = f"GET /api/dashboard HTTP/1.1\r\nHost: {{netloc}}\r\n{header}\r\n"
        assert (await raw_request(url, head)).startswith(b"HTTP/1.1 401")
    finally:
        await runner.cleanup()


async def test_the_credential_less_demo_with_a_real_key_says_so_at_start(
    slack: FakeSlack, model: FakeAnthropic, tmp_path: Path
) -> None:
    """No Slack, web or dashboard token, bound to loopback, but a real ANTHROPIC_API_KEY: the
    log warns that anything reaching this port spends it, and what to set."""
    from tests.scenarios.test_process import bot_env, start_bot

    port = free_port()
    env = bot_env(slack, model, tmp_path, port)
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SHOPMAX_METRICS_TOKEN"):
        env.pop(name)
    process = await start_bot(env, tmp_path)
    try:
        assert await wait_healthy(f"http://127.0.0.1:{port}/healthz", process) == 200
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 30)
    said = output.decode()
    assert "without any credential" in said and "SHOPMAX_WEB_TOKEN" in said, said
    assert "sk-ant-test-key" not in said


async def test_metrics_and_readiness_need_their_token_unless_on_their_own_loopback_port(
    make_bot: BotFactory, http: aiohttp.ClientSession
) -> None:
    """On PORT the metrics token; on a loopback port of their own none, but only by this
    machine's own name (a page rebinding a name to 127.0.0.1 gets nothing there either)."""
    bot = await make_bot(metrics_token=METRICS)
    runner, url = await served(bot)
    own_loopback, loopback_url = await serve(metrics_app(bot.services, loopback=True))
    own_open, open_url = await serve(metrics_app(bot.services, metrics_token=METRICS))
    try:
        for path in ("/metrics", "/readyz"):
            async with http.get(url + path) as r:
                assert r.status == 401
            async with http.get(url + path, headers={"Authorization": f"Bearer {METRICS}"}) as r:
                assert r.status == 200
            async with http.get(loopback_url + path) as r:
                assert r.status == 200
            async with http.get(loopback_url + path, headers={"Host": "rebound.evil"}) as r:
                assert r.status in (401, 421)
            async with http.get(open_url + path) as r:
                assert r.status == 401
    finally:
        for r in (runner, own_loopback, own_open):
            await r.cleanup()


def test_equal_chat_and_dashboard_tokens_stop_start_up(settings: Any) -> None:
    from dataclasses import replace

    with pytest.raises(SettingsError, match="SHOPMAX_DASHBOARD_TOKEN is the same"):
        replace(settings, web_token=TOKEN, dashboard_token=TOKEN).require_web()


@pytest.mark.parametrize("other", ["web_token", "dashboard_token", "metrics_token"])
def test_a_catalog_token_equal_to_another_stops_start_up(settings: Any, other: str) -> None:
    """Whoever holds the catalog token can replace every price: the chat's token is on every
    tablet, so the catalog's must be its own."""
    from dataclasses import replace

    with pytest.raises(SettingsError, match="SHOPMAX_CATALOG_TOKEN is the same"):
        replace(settings, catalog_token=TOKEN, **{other: TOKEN}).require_web()


async def test_slack_sign_in_needs_its_client_and_public_url(settings: Any) -> None:
    """Slack configured and a chat wanted: Sign in with Slack is the default, and says what it
    needs; SHOPMAX_WEB_SIGNIN=token is the explicit way back to the shared token."""
    from dataclasses import replace

    with pytest.raises(SettingsError, match="SLACK_CLIENT_ID and SLACK_CLIENT_SECRET"):
        await build_services(replace(settings, web_token=TOKEN))
    with pytest.raises(SettingsError, match="SHOPMAX_PUBLIC_URL"):
        replace(
            settings, slack_client_id=CLIENT_ID, slack_client_secret=CLIENT_SECRET
        ).require_web()
    replace(settings, web_token=TOKEN, web_signin="token").require_web()


# ---- limits under concurrency ----------------------------------------------------------------


def slow(model: FakeAnthropic, count: int) -> None:
    """`count` answers that take a moment, so the questions are all in flight at once."""
    model.script(*[Script(chunks=["One", " moment."], delay=0.1) for _ in range(count)])


async def test_twelve_browser_questions_at_once_with_a_limit_of_three_reach_the_model_three_times(
    make_bot: BotFactory, http: aiohttp.ClientSession, model: FakeAnthropic
) -> None:
    bot = await make_bot(web_signin="token", web_token=TOKEN, user_questions=3)
    slow(model, 12)
    runner, url = await served(bot)
    try:
        session = await token_session(http, url)
        results = await asyncio.gather(*(ask(http, url, session) for _ in range(12)))
        statuses = sorted(status for status, _ in results)
        assert statuses == [200] * 3 + [429] * 9
        assert len(model.calls) == 3
    finally:
        await runner.cleanup()


async def mention(bot: Bot, n: int, **event: Any) -> None:
    ts = f"{1700000100 + n}.000100"
    body = payload("app_mention", ts=ts, text=f"<@UBOT> price of TV {n}?", **event)
    await bot.event(body)


async def test_twelve_slack_questions_at_once_with_a_limit_of_three_reach_the_model_three_times(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    bot = await make_bot(user_questions=3)
    slow(model, 12)
    await asyncio.gather(*(mention(bot, n) for n in range(12)))
    await bot.handled(12)
    await bot.services.answerer.wait_idle(20)
    assert len(model.calls) == 3
    refused = [e for e in slack.ephemeral if "You have asked 3 questions" in e.get("text", "")]
    assert len(refused) == 9


async def test_on_two_replicas_the_limit_holds_across_both(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic, postgres_url: str
) -> None:
    """Two replicas sharing PostgreSQL, six questions each at the same moment, limit three:
    three answers in all (the admission is one statement under the asker's lock)."""
    first = await make_bot(database_url=postgres_url, user_questions=3, replica_id="a")
    second = await make_bot(database_url=postgres_url, user_questions=3, replica_id="b")
    slow(model, 12)
    await asyncio.gather(*(mention(first if n % 2 else second, n) for n in range(12)))
    await first.handled(6)
    await second.handled(6)
    for bot in (first, second):
        await bot.services.answerer.wait_idle(20)
    assert len(model.calls) == 3


async def until(condition: Any, within: float = 20.0) -> None:
    """Wait until `condition()` holds (checked every few milliseconds)."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        await asyncio.sleep(0.005)


async def test_questions_at_once_cannot_spend_past_the_days_tokens(
    make_bot: BotFactory, http: aiohttp.ClientSession, model: FakeAnthropic, tmp_path: Path
) -> None:
    """A day's limit of 20,000 tokens and requests of about 9,000 input tokens each (a long
    system prompt): three questions at once. The first holds what its request may cost
    (max_tokens plus its input, estimated from its bytes), so the other two are refused while
    it runs, and the day's ledger stays within the limit (before, all three were admitted,
    each holding only max_tokens, and used 27,000). The answers are held at their first token
    until every question is decided, so nothing depends on timing."""
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("You are ShopMax India's assistant; answer from the catalog. " * 600)
    bot = await make_bot(
        web_signin="token",
        web_token=TOKEN,
        user_tokens_per_day=20_000,
        max_tokens=2048,
        system_prompt_file=prompt,
    )
    decided = asyncio.Event()
    model.script(
        *[
            Script(
                chunks=["Long", " answer."],
                input_tokens=about_four_bytes_a_token,
                before_chunk={0: decided.wait},
            )
            for _ in range(3)
        ]
    )
    runner, url = await served(bot)
    try:
        session = await token_session(http, url)
        asked = [asyncio.create_task(ask(http, url, session)) for _ in range(3)]
        await until(lambda: sum(t.done() for t in asked) + len(model.calls) == 3)
        decided.set()
        statuses = sorted(status for status, _ in await asyncio.gather(*asked))
        await bot.services.answerer.wait_idle(10)
        used = sum(row.tokens for row in await bot.services.store.ledger(0))
        assert (statuses, len(model.calls)) == ([200, 429, 429], 1)
        assert 8_000 < used <= 20_000
        status, _ = await ask(http, url, session)
        assert status == 200  # settled: only the real use counts now, nothing is held
    finally:
        await runner.cleanup()


async def test_a_tool_round_the_allowance_cannot_cover_is_not_started(
    make_bot: BotFactory, http: aiohttp.ClientSession, model: FakeAnthropic
) -> None:
    """With 100 tokens a day, a question is admitted (nothing used yet), and its first request
    runs; Claude asks for a tool, but the round after it would need more than is left, so the
    model is not asked again: the answer ends with a line saying why. The day is passed by no
    more than gate.py's bound: one first request (max_tokens plus its estimated input)."""
    from bot.model.usage import request_tokens

    bot = await make_bot(web_signin="token", web_token=TOKEN, user_tokens_per_day=100)
    model.script(
        Script(
            chunks=["Let me look that up."],
            stop_reason="tool_use",
            tool_calls=[("search_products", {"query": "55 inch TV"})],
            input_tokens=about_four_bytes_a_token,
        ),
        Script(chunks=["The Sony is ₹49,990."]),
    )
    runner, url = await served(bot)
    try:
        status, events = await ask(http, url, await token_session(http, url))
        assert status == 200 and "would not cover another look-up" in events
        assert len(model.calls) == 1
        body = model.calls[0].body
        first = request_tokens(body["system"], body["tools"], body["messages"]) + 2048
        await bot.services.answerer.wait_idle(10)
        [row] = await bot.services.store.ledger(0)
        assert 100 < row.tokens <= 100 + first
    finally:
        await runner.cleanup()


async def test_all_shared_token_sign_ins_together_share_one_ceiling(
    make_bot: BotFactory, http: aiohttp.ClientSession, model: FakeAnthropic
) -> None:
    """Each sign-in with the shared token keeps its own limit (3 questions); all of them
    together get SHOPMAX_WEB_TOKEN_PEOPLE people's (here 2, so 6): the same name signed in
    four times and asking four times each gets 6 answers, not 12, and is told why."""
    bot = await make_bot(web_signin="token", web_token=TOKEN, user_questions=3, web_token_people=2)
    runner, url = await served(bot)
    try:
        statuses, said = [], ""
        for _ in range(4):
            session = await token_session(http, url, name="Priya")
            for _ in range(4):
                status, text = await ask(http, url, session)
                statuses.append(status)
                said = text if status == 429 else said
        assert (statuses.count(200), len(model.calls)) == (6, 6)
        assert "shared ShopMax web token" in said
    finally:
        await runner.cleanup()


async def test_sign_ins_from_one_address_are_limited(
    make_bot: BotFactory, http: aiohttp.ClientSession
) -> None:
    """Right tokens too: ten sign-ins a minute from one address, then 429 for the minute (no
    one mints sign-ins without end, whatever the ceiling above)."""
    bot = await make_bot(web_signin="token", web_token=TOKEN)
    runner, url = await served(bot)
    try:
        statuses = []
        for _ in range(11):
            body = {"name": "Priya", "token": TOKEN}
            async with http.post(f"{url}/api/chat/session", json=body) as r:
                statuses.append(r.status)
        assert statuses == [200] * 10 + [429]
    finally:
        await runner.cleanup()


async def test_twelve_browser_questions_at_once_on_two_replicas_reach_the_model_three_times(
    make_bot: BotFactory, http: aiohttp.ClientSession, model: FakeAnthropic
) -> None:
    """The browser chat on two replicas sharing one store: one signed-in person's twelve
    questions, sent at once to both, limit three: three answers in all."""
    first = await make_bot(web_signin="token", web_token=TOKEN, user_questions=3, replica_id="a")
    second = await make_bot(web_signin="token", web_token=TOKEN, user_questions=3, replica_id="b")
    slow(model, 12)
    first_runner, first_url = await served(first)
    second_runner, second_url = await served(second)
    try:
        session = await token_session(http, first_url)
        urls = [first_url, second_url] * 6
        results = await asyncio.gather(*(ask(http, u, session) for u in urls))
        assert sorted(status for status, _ in results) == [200] * 3 + [429] * 9
        assert len(model.calls) == 3
    finally:
        await first_runner.cleanup()
        await second_runner.cleanup()


# ---- Sign in with Slack ----------------------------------------------------------------------


def verifier_and_challenge() -> tuple[str, str]:
    """What the page makes before it sends a person to Slack: a random verifier it keeps, and
    its SHA-256 (base64url), which goes with the person to Slack and back."""
    verifier = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def slack_arrival(url: str, challenge: str) -> str:
    """Press Sign in with Slack, allow at Slack, come back: the page's fragment."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        start = f"{url}/chat/signin/slack?challenge={challenge}"
        async with browser.get(start, allow_redirects=False) as r:
            assert r.status == 302
            at_slack = r.headers["Location"]
        async with browser.get(at_slack, allow_redirects=False) as r:
            assert r.status == 302
            back = r.headers["Location"]
        async with browser.get(back, allow_redirects=False) as r:
            assert r.status == 303
            return urlsplit(r.headers["Location"]).fragment


async def exchange(url: str, code: str, verifier: str) -> tuple[int, dict[str, Any]]:
    """The page's POST of the code it came back with and the verifier it kept."""
    body = {"code": code, "verifier": verifier}
    async with aiohttp.ClientSession() as page:
        async with page.post(f"{url}/api/chat/signin/slack", json=body) as r:
            return r.status, await r.json()


async def slack_sign_in(url: str) -> str:
    """A whole Sign in with Slack as the page does it: the session, or what went wrong as
    the fragment the page came back with."""
    verifier, challenge = verifier_and_challenge()
    fragment = await slack_arrival(url, challenge)
    if not fragment.startswith("code="):
        return fragment
    status, body = await exchange(url, parse_qs(fragment)["code"][0], verifier)
    assert status == 200, body
    return str(body["session"])


async def test_sign_in_with_slack_makes_the_browser_person_the_slack_user(
    slack_site: tuple[str, Bot, FakeOpenID], http: aiohttp.ClientSession, model: FakeAnthropic
) -> None:
    """The authorize request asks for openid/profile/email with a state and nonce; the person
    is then T111/U0PRIYA: the ledger row is theirs, and a question asked in Slack and one in
    the browser share one limit (2), so the third is refused."""
    url, bot, provider = slack_site
    session = await slack_sign_in(url)
    [authorized] = provider.authorized
    assert set(authorized["scope"].split(",")) == {"openid", "profile", "email"}
    assert authorized["redirect_uri"] == f"{url}/chat/signin/slack/callback"
    assert len(authorized["state"]) >= 32 and len(authorized["nonce"]) >= 32
    await mention(bot, 1)
    await bot.handled(1)
    await bot.services.answerer.wait_idle(10)
    status, _ = await ask(http, url, session)
    assert status == 200
    status, text = await ask(http, url, session)
    assert (status, "You have asked 2 questions" in text) == (429, True)
    rows = await bot.services.store.ledger(0)
    assert sorted((r.team, r.user, r.surface) for r in rows) == [
        (TEAM, USER, "mention"),
        (TEAM, USER, "web"),
    ]


async def test_a_callback_whose_state_or_nonce_is_not_this_browsers_signs_nobody_in(
    slack_site: tuple[str, Bot, FakeOpenID],
) -> None:
    url, _, provider = slack_site
    _, challenge = verifier_and_challenge()
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        start = f"{url}/chat/signin/slack?challenge={challenge}"
        async with browser.get(start, allow_redirects=False) as r:
            at_slack = r.headers["Location"]
        async with browser.get(at_slack, allow_redirects=False) as r:
            back = r.headers["Location"]
        # An attacker's own code and state, sent to the victim's browser:
        forged = back.replace("state=", "state=x")
        async with browser.get(forged, allow_redirects=False) as r:
            assert urlsplit(r.headers["Location"]).fragment == "signin=failed"
    async with aiohttp.ClientSession() as other, other.get(back, allow_redirects=False) as r:
        assert urlsplit(r.headers["Location"]).fragment == "signin=failed"  # no cookie
    provider.nonce_override = "another-sign-in"
    assert await slack_sign_in(url) == "signin=failed"


async def test_a_workspace_the_bot_does_not_serve_cannot_sign_in(
    slack_site: tuple[str, Bot, FakeOpenID],
) -> None:
    url, _, provider = slack_site
    provider.person = SlackUser("T0VENDOR", "U0VENDOR", "Vendor")
    assert await slack_sign_in(url) == "signin=team"  # a code the page maps to a fixed text


async def test_a_sign_in_code_works_once_and_only_for_the_page_that_asked_for_it(
    slack_site: tuple[str, Bot, FakeOpenID], http: aiohttp.ClientSession
) -> None:
    """Slack sends the browser back with a short-lived code, not a session: it is exchanged by
    POST with the verifier the page kept before it left (only its SHA-256 went to Slack), and
    once. So Mallory's own code, put in a victim's address, signs nobody in: the victim's page
    holds no verifier for it (a wrong one is refused too); the session never travels in an
    address; a start without the page's challenge goes nowhere."""
    url, _, _ = slack_site
    verifier, challenge = verifier_and_challenge()
    fragment = await slack_arrival(url, challenge)
    assert fragment.startswith("code=") and "session" not in fragment
    code = parse_qs(fragment)["code"][0]
    assert (await exchange(url, code, verifier_and_challenge()[0]))[0] == 401
    assert (await exchange(url, code, ""))[0] == 401
    status, body = await exchange(url, code, verifier)
    assert status == 200 and body["name"] == "Priya Sharma"
    assert (await exchange(url, code, verifier))[0] == 401  # once
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        async with browser.get(f"{url}/chat/signin/slack", allow_redirects=False) as r:
            assert urlsplit(r.headers["Location"]).fragment == "signin=failed"


async def test_sessions_are_checked_server_side_revoked_and_rotated(
    make_bot: BotFactory, http: aiohttp.ClientSession, model: FakeAnthropic
) -> None:
    """Sign out ends the session for the server too; so does idling past the idle time; and
    rotating the signing key signs everyone out."""
    bot = await make_bot(web_signin="token", web_token=TOKEN, web_idle_minutes=0.02)
    runner, url = await served(bot)
    try:
        signed_out = await token_session(http, url)
        async with http.post(
            f"{url}/api/chat/signout", headers={"Authorization": f"Bearer {signed_out}"}
        ) as r:
            assert r.status == 200
        assert (await ask(http, url, signed_out))[0] == 401
        idle = await token_session(http, url)
        await asyncio.sleep(1.5)
        assert (await ask(http, url, idle))[0] == 401
        rotated = await token_session(http, url)
        await bot.services.store.rotate_key(SESSIONS_KEY)
        assert (await ask(http, url, rotated))[0] == 401
        assert (await ask(http, url, await token_session(http, url)))[0] == 200
    finally:
        await runner.cleanup()


async def test_typed_names_count_per_signed_in_browser_and_are_never_a_slack_persons(
    make_bot: BotFactory, http: aiohttp.ClientSession, model: FakeAnthropic
) -> None:
    bot = await make_bot(web_signin="token", web_token=TOKEN)
    runner, url = await served(bot)
    try:
        for _ in range(2):
            await ask(http, url, await token_session(http, url, name=USER))
        await bot.services.answerer.wait_idle(10)
        rows = await bot.services.store.ledger(0)
        assert {r.team for r in rows} == {"web"}
        assert len({r.user for r in rows}) == 2 and all(
            r.user.startswith(USER + " (") for r in rows
        )
    finally:
        await runner.cleanup()


async def test_wrong_tokens_are_limited(make_bot: BotFactory, http: aiohttp.ClientSession) -> None:
    bot = await make_bot(web_signin="token", web_token=TOKEN)
    runner, url = await served(bot)
    try:
        wrong = {"name": "Guess", "token": "guess-guess-guess-guess"}
        statuses = []
        for _ in range(12):
            async with http.post(f"{url}/api/chat/session", json=wrong) as r:
                statuses.append(r.status)
        assert statuses == [401] * 10 + [429] * 2
        async with http.post(f"{url}/api/chat/session", json={"name": "P", "token": TOKEN}) as r:
            assert r.status == 429  # this address waits out the minute
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("path", ["/api/dashboard", "/metrics", "/readyz"])
async def test_wrong_bearer_tokens_count_with_wrong_sign_ins(
    make_bot: BotFactory, http: aiohttp.ClientSession, path: str
) -> None:
    """Guessing the dashboard's or the metrics' token is limited like guessing the chat's: ten
    wrong bearers a minute from one address, then 429, the right token too, until the minute
    is over; and the wrong tries of each count together."""
    bot = await make_bot(
        web_signin="token", web_token=TOKEN, dashboard_token=ADMIN, metrics_token=METRICS
    )
    runner, url = await served(bot)
    right = {"/api/dashboard": ADMIN}.get(path, METRICS)
    try:
        wrong = {"name": "Guess", "token": "guess-guess-guess-guess"}
        for _ in range(5):
            async with http.post(f"{url}/api/chat/session", json=wrong) as r:
                assert r.status == 401
        statuses = []
        for n in range(7):
            headers = {"Authorization": f"Bearer guess-{n}-guess-guess-guess"}
            async with http.get(url + path, headers=headers) as r:
                statuses.append(r.status)
        assert statuses == [401] * 5 + [429] * 2
        async with http.get(url + path, headers={"Authorization": f"Bearer {right}"}) as r:
            assert r.status == 429
    finally:
        await runner.cleanup()


# ---- Slack Connect, bodies, replays, odd ids, connections --------------------------------------


async def test_an_external_slack_connect_asker_is_refused_with_a_reason(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """In a shared channel a vendor's mention arrives with their own `user_team`: refused,
    privately, with why; a ShopMax colleague in the same channel is answered."""
    bot = await make_bot()
    await mention(bot, 1, user="U0VENDOR", user_team="T0VENDOR", source_team="T0VENDOR")
    await mention(bot, 2, user_team=TEAM, source_team=TEAM)
    await bot.handled(2)
    await bot.services.answerer.wait_idle(10)
    assert len(model.calls) == 1
    [refusal] = slack.ephemeral
    assert refusal["user"] == "U0VENDOR" and "T0VENDOR" in refusal["text"]
    assert "ShopMax staff only" in refusal["text"]


async def test_an_allowed_partner_workspace_is_answered(
    make_bot: BotFactory, model: FakeAnthropic
) -> None:
    bot = await make_bot(allowed_teams=frozenset({TEAM, "T0PARTNER"}))
    await mention(bot, 1, user="U0PARTNER", user_team="T0PARTNER")
    await bot.handled(1)
    await bot.services.answerer.wait_idle(10)
    assert len(model.calls) == 1


VENDOR = {"user": "U0VENDOR", "team": "T0VENDOR"}


def refused_outsider(slack: FakeSlack) -> list[str]:
    """What the vendor was told privately (ephemeral, or through a command's response_url)."""
    told = [e["text"] for e in slack.ephemeral if e.get("user") == VENDOR["user"]]
    return told + [r["text"] for r in slack.responses if "ShopMax staff only" in r.get("text", "")]


async def test_a_slack_connect_member_pressing_retry_is_refused_and_the_model_not_asked(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """A colleague's answer in a shared channel failed midway; a vendor presses its Retry: they
    are told privately that the assistant serves ShopMax staff only, the model is not asked
    again, and no ledger row is theirs (before, the internal price was posted for them)."""
    bot = await make_bot()
    model.script(
        Script(chunks=["The LG", " OLED", " is"], error_after=1, delay=0.02),
        Script(chunks=["Internal price: ₹1,39,990, 4 in stock."]),
    )
    await mention(bot, 1, user_team=TEAM)
    [failed] = await slack.wait_for(
        lambda: [m for m in slack.messages if "retry_answer" in str(m.blocks)]
    )
    await bot.press(
        failed, "retry_answer", user=VENDOR["user"], team=VENDOR["team"], is_ext_shared_channel=True
    )
    await slack.wait_for(lambda: refused_outsider(slack) or len(model.calls) > 1)
    await bot.services.answerer.wait_idle(10)
    assert len(model.calls) == 1
    [told] = refused_outsider(slack)
    assert "ShopMax staff only" in told and "T0VENDOR" in told
    rows = await bot.services.store.ledger(0)
    assert [r.user for r in rows] == [USER]


async def test_a_slash_command_from_another_workspace_is_refused_privately(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """A command whose `team_id` names a workspace the bot does not serve: refused through its
    response_url (the asker alone sees it), the model never asked."""
    await bot.command("price of the LG OLED?", user=VENDOR["user"], team_id=VENDOR["team"])
    [told] = await slack.wait_for(lambda: refused_outsider(slack))
    await bot.services.answerer.wait_idle(10)
    assert "T0VENDOR" in told and model.calls == []


async def test_a_slash_command_in_an_externally_shared_channel_is_refused_unless_listed(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Slack's command payload names no asker's workspace, so where it says the channel is
    shared with another organisation the question is refused on the ack, privately, with how
    to ask instead (a mention says who asks); a channel listed in SHOPMAX_ALLOWED_CHANNELS is
    the admin's choice to answer everyone there."""
    bot = await make_bot()
    response = await bot.command("price of the LG OLED?", is_ext_shared_channel="true")
    body = json.loads(response.body)
    assert body["response_type"] == "ephemeral" and "Mention @ShopMax" in body["text"]
    response = await bot.command("store", is_ext_shared_channel="true")
    assert "Mention @ShopMax" in json.loads(response.body)["text"]  # nor which store it is
    listed = await make_bot(allowed_channels=frozenset({CHANNEL}))
    await listed.command("price of the LG OLED?", is_ext_shared_channel="true")
    await listed.finished_answers()
    assert len(model.calls) == 1


async def test_an_assistant_message_from_another_workspace_is_refused(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """The assistant panel's threads are checked the same way as mentions."""
    event = payload(
        "message",
        text="price of the LG OLED?",
        ts="1700012000.000300",
        thread_ts="1700012000.000100",
        channel="D0ASSIST",
        channel_type="im",
        user=VENDOR["user"],
        user_team=VENDOR["team"],
    )
    await bot.event(event)
    await bot.handled(1)
    await bot.services.answerer.wait_idle(10)
    assert model.calls == []
    [told] = refused_outsider(slack)
    assert "ShopMax staff only" in told


async def test_a_json_body_in_two_tcp_pieces_is_read_whole(
    make_bot: BotFactory, model: FakeAnthropic
) -> None:
    """A sign-in whose body arrives in two pieces (real browsers and proxies do it) is read to
    its end: 200, not 400."""
    bot = await make_bot(web_signin="token", web_token=TOKEN)
    runner, url = await served(bot)
    try:
        parts = urlsplit(url)
        body = json.dumps({"name": "Priya", "token": TOKEN}).encode()
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        head = (
            f"POST /api/chat/session HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        )
        writer.write(head.encode() + body[:20])
        await writer.drain()
        await asyncio.sleep(0.2)
        writer.write(body[20:])
        await writer.drain()
        answer = await reader.read()
        writer.close()
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        assert b'"session"' in answer
    finally:
        await runner.cleanup()


async def test_a_replayed_slash_command_is_answered_once(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """The same signed request twice within Slack's five-minute window (a replay, or Slack's
    own retry): acknowledged both times, answered once."""
    from urllib.parse import urlencode

    bot = await make_bot()
    raw = urlencode(
        {
            "team_id": TEAM,
            "channel_id": CHANNEL,
            "user_id": USER,
            "command": "/shopmax",
            "text": "price of the LG 8 kg?",
            "response_url": slack.response_url(),
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        }
    )
    headers = signed_headers(raw, content_type="application/x-www-form-urlencoded")
    for _ in range(2):
        response = await bot.services.bolt.async_dispatch(
            AsyncBoltRequest(body=raw, headers=headers)
        )
        assert response.status == 200
    await asyncio.sleep(0.3)
    await bot.services.answerer.wait_idle(10)
    assert len(model.calls) == 1


@pytest.mark.parametrize("conversation", ["caf\xe9.\u263a", "\ud7ff" * 22 + ".x", "é" * 30])
async def test_a_non_ascii_conversation_id_is_a_clear_400_not_a_500(
    make_bot: BotFactory, http: aiohttp.ClientSession, model: FakeAnthropic, conversation: str
) -> None:
    bot = await make_bot(web_signin="token", web_token=TOKEN)
    runner, url = await served(bot)
    try:
        headers = {"Authorization": f"Bearer {await token_session(http, url)}"}
        body = {"message": "hi", "conversation_id": conversation}
        async with http.post(f"{url}/api/chat", json=body, headers=headers) as r:
            assert r.status == 400
        async with http.post(
            f"{url}/api/chat/history", json={"conversation_id": conversation}, headers=headers
        ) as r:
            assert r.status == 404
        assert model.calls == []
    finally:
        await runner.cleanup()


async def test_past_the_connection_cap_a_new_connection_gets_503(make_bot: BotFactory) -> None:
    """Idle connections cannot take every socket: the third of a cap of two is turned away."""
    import socket

    bot = await make_bot()
    runner = web.AppRunner(http_app(bot.services), keepalive_timeout=5)
    await runner.setup()
    sock = socket.create_server(("127.0.0.1", 0))
    await CappedSite(runner, sock, most=2).start()
    port = sock.getsockname()[1]
    held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(2)]
    try:
        await asyncio.sleep(0.1)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        answer = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 503")
    finally:
        for _, w in held:
            w.close()
        await runner.cleanup()
        sock.close()


async def test_rotate_key_from_the_command_line_signs_everyone_out(tmp_path: Any) -> None:
    """`shopmax-bot web rotate-key` replaces the stored key and revokes every session."""
    from bot.store import open_store
    from bot.store.base import WebSession
    from tests.conftest import run_bot

    url = f"sqlite:///{tmp_path / 'shop.db'}"
    store = await open_store(url)
    before = await store.signing_key(SESSIONS_KEY)
    await store.start_session(WebSession("s1", "web", "Priya (x)", "Priya", "token", 2e9, 1e9))
    await store.close()
    code, out, err = await run_bot("web", "rotate-key", env={"DATABASE_URL": url}, cwd=tmp_path)
    assert (code, err) == (0, "") and "signed out" in out
    store = await open_store(url)
    try:
        assert await store.signing_key(SESSIONS_KEY) != before
        session = await store.web_session("s1")
        assert session is not None and session.revoked
    finally:
        await store.close()


class Clock:
    """A clock a test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def signed_by(token: str, key: bytes) -> bool:
    body, _, signature = token.partition(".")
    return signature == Signer.sign(key, "session", body)


async def test_a_key_rotated_through_another_connection_reaches_a_running_process(
    database_url: str,
) -> None:
    """A running process (one store connection) and `rotate-key` (another): within
    KEY_RELOAD_EVERY seconds of the rotation the process signs with the new key, and a token
    signed with the retired one is refused, even for a session row that is not revoked
    (someone holding the old key forges nothing). Before, it kept signing with the old key."""
    from bot.store import open_store

    running, other = await open_store(database_url), await open_store(database_url)
    clock = Clock()
    try:
        old = await running.signing_key(SESSIONS_KEY)
        sessions = Sessions(running, clock=clock, keys={SESSIONS_KEY: old})
        assert signed_by(await sessions.start_typed("Priya"), old)
        await other.rotate_key(SESSIONS_KEY)
        new = await other.signing_key(SESSIONS_KEY)
        clock.now += KEY_RELOAD_EVERY
        fresh = await sessions.start_typed("Asha")
        assert signed_by(fresh, new) and await sessions.person(fresh) is not None
        body = fresh.partition(".")[0]
        forged = f"{body}.{Signer.sign(old, 'session', body)}"
        assert await sessions.person(forged) is None
    finally:
        await running.close()
        await other.close()


async def test_rotate_key_from_the_command_line_reaches_the_running_bot(
    make_bot: BotFactory, http: aiohttp.ClientSession, database_url: str, tmp_path: Path
) -> None:
    """`shopmax-bot web rotate-key` run as a process of its own while the bot serves: sessions
    signed before are refused at once (revoked), and within KEY_RELOAD_EVERY seconds the bot
    signs new ones with the new key."""
    from bot.store import open_store
    from tests.conftest import run_bot

    bot = await make_bot(web_signin="token", web_token=TOKEN)
    runner, url = await served(bot)
    try:
        before = await token_session(http, url)
        code, _, err = await run_bot(
            "web", "rotate-key", env={"DATABASE_URL": database_url}, cwd=tmp_path
        )
        assert (code, err) == (0, ""), err
        store = await open_store(database_url)
        new = await store.signing_key(SESSIONS_KEY)
        await store.close()
        assert (await ask(http, url, before))[0] == 401
        deadline = time.monotonic() + KEY_RELOAD_EVERY + 5
        while not signed_by(await token_session(http, url), new):
            assert time.monotonic() < deadline, "the bot never signed with the rotated key"
            await asyncio.sleep(1.5)  # a few sign-ins: they are limited per address
    finally:
        await runner.cleanup()
