"""The browser chat and dashboard in a real headless Chromium (the system's, driven by
Playwright; nothing downloads a browser). Skipped, with the reason, where none is installed."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import http_app
from bot.model.demo import DEMO_API_KEY, DEMO_MODEL, INSTANT, DemoModel
from tests.conftest import Bot, BotFactory, ledger_row
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.serve import serve

TOKEN = "browser-test-token-0123456789"
ADMIN = "browser-admin-token-9876543210"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str | None:
    for candidate in (
        os.environ.get("SHOPMAX_CHROMIUM"),
        "chromium",
        "chromium-browser",
        "google-chrome",
    ):
        if candidate and (path := shutil.which(candidate)):
            return path
    return None


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    executable = chromium()
    if executable is None:
        pytest.skip(
            "no Chromium on this machine (apt-get install chromium, or set SHOPMAX_CHROMIUM)"
        )
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield launched
        await launched.close()


@pytest.fixture
async def site(make_bot: BotFactory) -> AsyncIterator[tuple[str, Bot]]:
    bot = await make_bot(web_signin="token", web_token=TOKEN, dashboard_token=ADMIN)
    runner, url = await serve(http_app(bot.services))
    yield url, bot
    await runner.cleanup()


async def new_page(browser: Any, *, bypass_csp: bool = False) -> Any:
    """A fresh page. Console errors and uncaught exceptions (a script the Content Security
    Policy refused would be one) are kept in `page.problems`."""
    context = await browser.new_context(bypass_csp=bypass_csp)
    page = await context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    return page


async def signed_in_page(browser: Any, url: str, *, bypass_csp: bool = False) -> Any:
    """The chat page after signing in as a person through its own form."""
    page = await new_page(browser, bypass_csp=bypass_csp)
    await page.goto(url)
    await page.fill("#name", "Priya")
    await page.fill("#token", TOKEN)
    await page.click("#signin button")
    await page.wait_for_selector("#ask", state="visible")
    return page


async def admin_page(browser: Any, url: str) -> Any:
    """The dashboard signed in through its form with the admin token (traded for a session)."""
    page = await new_page(browser)
    await page.goto(url)
    await page.wait_for_selector("#signin:not([hidden])")
    await page.fill("#token", ADMIN)
    await page.click("#signin button")
    return page


def words(text: str | None) -> str:
    return " ".join((text or "").split())


async def finished(page: Any) -> Any:
    """The last answer on the page, once its stats line says it is done."""
    await page.wait_for_selector(".stats[data-done]")
    return page.locator(".turn.assistant").last


async def test_the_answer_appears_word_by_word_then_the_stats(
    browser: Any, site: tuple[str, Bot], model: FakeAnthropic
) -> None:
    url, _ = site
    chunks = [f"word{n} " for n in range(25)]
    model.script(Script(chunks=chunks, delay=0.08, input_tokens=64, output_tokens=25))
    page = await signed_in_page(browser, f"{url}/chat")
    await page.fill("#message", "Which TV under 50k?")
    await page.click("#send")
    seen: list[str] = []
    answer = page.locator(".turn.assistant").last
    for _ in range(200):
        seen.append(words(await answer.text_content()))
        if await page.locator(".stats[data-done]").count():
            break
        await asyncio.sleep(0.02)
    full = words("".join(chunks))
    partial = [text for text in seen if text and text != full]
    assert partial, "text showed before the answer was complete"
    assert all(full.startswith(text) for text in seen)
    assert words(await answer.text_content()) == full
    assert page.problems == []
    stats = await page.locator(".stats").last.text_content() or ""
    assert stats.startswith("64 in · 25 out · ") and "end_turn" in stats
    assert await page.locator(".turn.user").last.text_content() == "Which TV under 50k?"


async def test_signing_in_through_the_form_then_asking(
    browser: Any, site: tuple[str, Bot], model: FakeAnthropic
) -> None:
    """A first visit shows the sign-in form only (name and token); a wrong token is said so;
    once signed in, the question form, and the answer is in the ledger under the name."""
    url, bot = site
    model.script(Script(chunks=["Signed in."]))
    page = await browser.new_page()
    await page.goto(f"{url}/chat")
    assert await page.locator("#ask").is_hidden()
    await page.fill("#name", "Meena Iyer")
    await page.fill("#token", "not-the-token-at-all-123")
    await page.click("#signin button")
    await page.wait_for_selector("#signin-error:has-text('not the ShopMax web token')")
    await page.fill("#token", TOKEN)
    await page.click("#signin button")
    await page.fill("#message", "hello")
    await page.click("#send")
    assert words(await (await finished(page)).text_content()) == "Signed in."
    assert await page.locator("#signin").is_hidden()
    await bot.services.answerer.wait_idle(10)
    [row] = await bot.services.store.ledger(0)
    assert (row.team, row.user.split(" (")[0]) == ("web", "Meena Iyer")


async def test_stop_ends_the_answer_and_the_model_stream(
    browser: Any, site: tuple[str, Bot], model: FakeAnthropic
) -> None:
    url, _ = site
    model.script(Script(chunks=[f"w{n} " for n in range(300)], delay=0.03))
    page = await signed_in_page(browser, f"{url}/chat")
    await page.fill("#message", "long one")
    await page.click("#send")
    # Waiting with selectors, not wait_for_function: the page's policy forbids the eval it uses.
    await page.wait_for_selector(".turn.assistant:has-text('w5 ')")
    await page.click("#stop")
    await page.wait_for_selector(".status:text-is('Stopped.')")
    for _ in range(200):
        if model.calls[0].disconnected:
            break
        await asyncio.sleep(0.02)
    assert model.calls[0].disconnected and not model.calls[0].finished


async def test_answers_render_as_markdown_while_they_stream(
    browser: Any, site: tuple[str, Bot], model: FakeAnthropic
) -> None:
    """Bold, lists, tables and code show as such, already before the answer is complete."""
    model.script(
        Script(
            chunks=[
                "Here are **two** TVs:\n\n",
                "- Sony `SMX-TV-0002`\n- LG\n\n",
                "| TV | Price |\n|---|---:|\n| Sony | ₹41,990 |\n\n",
                "```\nprint('in stock')\n```\n",
            ],
            delay=0.4,
        )
    )
    page = await signed_in_page(browser, f"{url_of(site)}/chat")
    await page.fill("#message", "two TVs?")
    await page.click("#send")
    await page.wait_for_selector(".turn.assistant strong")
    assert await page.locator(".stats[data-done]").count() == 0, "rendered while streaming"
    answer = await finished(page)
    assert await answer.locator("strong").text_content() == "two"
    assert await answer.locator("li").all_text_contents() == ["Sony SMX-TV-0002", "LG"]
    assert await answer.locator("li code").text_content() == "SMX-TV-0002"
    assert await answer.locator("td").all_text_contents() == ["Sony", "₹41,990"]
    assert await answer.locator("pre code").text_content() == "print('in stock')\n"
    assert page.problems == []


HOSTILE = (
    'Look: <img src=x onerror="window.pwned=1"> and <script>window.pwned=2</script>\n\n'
    '[click me](javascript:window.pwned=3) <a href="javascript:window.pwned=4">raw link</a>\n\n'
    '<b onmouseover="window.pwned=5">bold?</b> ![pic](x" onerror="window.pwned=6)\n\n'
    "<div><svg onload=window.pwned=7></svg></div>\n"
)


async def test_nothing_the_model_writes_runs_as_html(
    browser: Any, site: tuple[str, Bot], model: FakeAnthropic
) -> None:
    """Raw HTML from the model shows as the text it is, links lose `javascript:`, and no script
    runs — checked with the Content Security Policy switched off, so the renderer and the
    sanitiser hold on their own."""
    model.script(Script(chunks=[HOSTILE[i : i + 9] for i in range(0, len(HOSTILE), 9)]))
    page = await signed_in_page(browser, f"{url_of(site)}/chat", bypass_csp=True)
    await page.fill("#message", "anything")
    await page.click("#send")
    answer = await finished(page)
    shown = await answer.text_content() or ""
    assert '<img src=x onerror="window.pwned=1">' in shown
    assert "<script>window.pwned=2</script>" in shown and "<svg onload=window.pwned=7>" in shown
    assert await answer.locator("img, script, svg, [onerror], [onload], [onmouseover]").count() == 0
    assert await page.locator('a[href^="javascript:"]').count() == 0
    await answer.get_by_text("click me").click()
    await answer.get_by_text("bold?").hover()
    await page.wait_for_timeout(100)
    assert await page.evaluate("window.pwned") is None


async def test_the_pages_run_under_their_content_security_policy(
    browser: Any, site: tuple[str, Bot]
) -> None:
    """Every script and style is the bot's own file: the policy refuses nothing."""
    url, bot = site
    await bot.services.store.record(ledger_row())
    chat = await signed_in_page(browser, url + "/chat")
    dashboard = await admin_page(browser, url + "/dashboard")
    for page, ready in [(chat, "#ask:not([hidden])"), (dashboard, "body[data-loaded]")]:
        await page.wait_for_selector(ready)
        policy = await page.evaluate("() => fetch(location.href).then((r) => r.headers.get("
                                     "'content-security-policy'))")  # fmt: skip
        assert "script-src 'self'" in policy
        assert page.problems == []


async def test_the_dashboard_draws_its_charts_for_the_period_chosen(
    browser: Any, site: tuple[str, Bot]
) -> None:
    """Every day of the period on the axis with a readable date, answers and cost per day,
    p50 and p95 time to first token, top channels and users; 7 days leaves out older rows."""
    url, bot = site
    for n in range(6):
        await bot.services.store.record(
            ledger_row(ttft_ms=300.0 + 50 * n, user=f"U0STAFF{n % 3}", channel=f"C0STORE{n % 2}")
        )
    await bot.services.store.record(ledger_row(at=time.time() - 10 * 86400, user="U0OLD"))
    page = await admin_page(browser, f"{url}/dashboard")
    await page.wait_for_selector('body[data-loaded="14"]')
    answers = await chart(page, "answers")
    assert len(answers["labels"]) == 14 and sum(answers["data"][0]) == 7
    assert all(re.match(r"^[A-Z][a-z]{2}, ", label) for label in answers["labels"])
    assert len((await chart(page, "cost"))["data"][0]) == 14
    ttft = await chart(page, "ttft")
    assert ttft["series"] == ["p50", "p95"] and max(v for v in ttft["data"][1] if v) >= 300
    assert sorted((await chart(page, "channels"))["labels"]) == ["C0STORE", "C0STORE0", "C0STORE1"]
    assert "U0OLD" in (await chart(page, "users"))["labels"]
    await page.click('#range button[data-days="7"]')
    await page.wait_for_selector('body[data-loaded="7"]')
    answers = await chart(page, "answers")
    assert len(answers["labels"]) == 7 and sum(answers["data"][0]) == 6
    assert "U0OLD" not in (await chart(page, "users"))["labels"]
    assert await page.locator("#period").text_content() == "last 7 days"
    assert page.problems == []


async def test_an_empty_ledger_shows_an_empty_state_not_empty_charts(
    browser: Any, site: tuple[str, Bot]
) -> None:
    url, _ = site
    page = await admin_page(browser, f"{url}/dashboard")
    await page.wait_for_selector("body[data-loaded]")
    assert await page.locator("#charts").is_hidden()
    empty = await page.locator("#empty").text_content() or ""
    assert empty.startswith("No answers in the last 14 days yet.")


async def chart(page: Any, canvas: str) -> dict[str, Any]:
    """What a Chart.js chart on the page draws: its labels, series names and values."""
    return dict(
        await page.evaluate(
            """(id) => { const c = Chart.getChart(id);
                return { labels: c.data.labels, series: c.data.datasets.map((d) => d.label),
                         data: c.data.datasets.map((d) => d.data) }; }""",
            canvas,
        )
    )


def url_of(site: tuple[str, Bot]) -> str:
    return site[0]


async def test_after_a_reload_the_stats_line_and_stopped_are_kept(
    browser: Any, site: tuple[str, Bot], model: FakeAnthropic
) -> None:
    """A reload shows the conversation as it ended: the finished answer with its stats line,
    and the stopped one with exactly the text that was saved and "Stopped." under it."""
    url, bot = site
    model.script(
        Script(chunks=["The LG 8 kg ", "is ₹33,990."], input_tokens=51, output_tokens=7),
        Script(chunks=[f"w{n} " for n in range(300)], delay=0.03),
    )
    page = await signed_in_page(browser, f"{url}/chat")
    await page.fill("#message", "8 kg washer?")
    await page.click("#send")
    await finished(page)
    stats_line = await page.locator(".stats[data-done]").last.text_content()
    await page.fill("#message", "tell me everything")
    await page.click("#send")
    await page.wait_for_selector(".turn.assistant:has-text('w5 ')")
    await page.click("#stop")
    await page.wait_for_selector(".status:text-is('Stopped.')")
    await bot.services.answerer.wait_idle(10)
    conversation = await page.evaluate("localStorage.getItem('shopmax.chat.conversation')")
    saved = [t.text for t in await bot.services.store.turns(f"web:browser:{conversation}")]
    assert len(saved) == 4
    await page.reload()
    await page.wait_for_selector(".turn.assistant >> nth=1")
    answers = page.locator(".turn.assistant")
    assert await page.locator(".stats[data-done]").first.text_content() == stats_line
    assert stats_line and stats_line.startswith("51 in · 7 out · ")
    assert words(await answers.nth(1).text_content()) == words(saved[3])
    assert await page.locator(".status:text-is('Stopped.')").count() == 1
    assert page.problems == []


async def test_the_offline_demo_answers_in_markdown_on_a_loopback_bot(
    browser: Any, make_bot: BotFactory
) -> None:
    """The local demo as a newcomer sees it: no token asked, a banner saying the answers come
    from the offline demo model, and a catalog answer rendered as a table with ₹ prices."""
    async with DemoModel.start(pace=INSTANT) as demo:
        bot = await make_bot(
            slack_bot_token=None,
            slack_signing_secret=None,
            host="127.0.0.1",
            anthropic_base_url=demo.url,
            anthropic_api_key=DEMO_API_KEY,
            model=DEMO_MODEL,
        )
        runner, url = await serve(http_app(bot.services))
        try:
            page = await new_page(browser)
            await page.goto(f"{url}/chat")
            await page.wait_for_selector("#demo:not([hidden])")
            assert "offline demo model" in (await page.locator("#demo").text_content() or "")
            assert await page.locator("#token").is_hidden()
            await page.fill("#name", "Asha")
            await page.click("#signin button")
            await page.fill("#message", "Which TV under Rs 50,000 is in stock in Mumbai?")
            await page.click("#send")
            answer = await finished(page)
            assert await answer.locator("table tr").count() >= 2
            assert re.search(r"₹\d{1,3}(,\d{2,3})+", await answer.text_content() or "")
            assert await answer.locator("code:text-matches('SMX-TV-\\\\d{4}')").count() >= 1
            stats = await page.locator(".stats[data-done]").last.text_content() or ""
            assert stats.endswith("offline demo model")
            assert page.problems == []
        finally:
            await runner.cleanup()


async def shopmax_storage(page: Any) -> dict[str, str]:
    """What the page keeps in the browser under its own names."""
    kept = await page.evaluate(
        "() => Object.fromEntries([...Object.entries(localStorage), "
        "...Object.entries(sessionStorage)].filter(([k]) => k.startsWith('shopmax.')))"
    )
    return dict(kept)


async def test_sign_out_clears_the_shared_tablet(
    browser: Any, site: tuple[str, Bot], model: FakeAnthropic
) -> None:
    """Sign out ends the session on the server and leaves nothing of the person: no session,
    no conversation id, no turns on the page, none after a reload."""
    url, _ = site
    model.script(Script(chunks=["The LG 8 kg is ₹33,990."]))
    page = await signed_in_page(browser, f"{url}/chat")
    await page.fill("#message", "8 kg washer?")
    await page.click("#send")
    await finished(page)
    kept = await shopmax_storage(page)
    assert {"shopmax.chat.session", "shopmax.chat.conversation"} <= kept.keys()
    await page.click("#signout")
    await page.wait_for_selector("#signin:not([hidden])")
    assert await shopmax_storage(page) == {}
    assert await page.locator(".turn").count() == 0
    await page.reload()
    await page.wait_for_selector("#signin:not([hidden])")
    assert await page.locator(".turn").count() == 0
    status = await page.evaluate(
        """(s) => fetch('/api/chat', {method: 'POST', headers: {'Content-Type':
        'application/json', Authorization: 'Bearer ' + s}, body: '{"message": "hi"}'})
        .then((r) => r.status)""",
        kept["shopmax.chat.session"],
    )
    assert status == 401  # the server has ended it too (the page's console shows that 401)


async def test_a_tablet_left_idle_signs_its_person_out(
    browser: Any, site: tuple[str, Bot], model: FakeAnthropic
) -> None:
    """A tablet unused for longer than the idle time shows the sign-in form, not the last
    person's chat, when it is picked up again (here: reloaded)."""
    url, _ = site
    page = await signed_in_page(browser, f"{url}/chat")
    await page.evaluate("localStorage.setItem('shopmax.chat.used', String(Date.now() - 3600e3))")
    await page.reload()
    await page.wait_for_selector("#signin:not([hidden])")
    assert await shopmax_storage(page) == {}


async def test_a_link_is_a_link_only_when_its_text_is_its_target(
    browser: Any, site: tuple[str, Bot], model: FakeAnthropic
) -> None:
    """`[Reset your password](<https://evil.example/a b>)`, nested brackets and a label over
    lines show their text and then their address; a plain address stays a link."""
    answer = (
        "[Reset your password](<https://evil.example/a b>) and "
        "[Reset [your] password](https://evil.example/n) and "
        "[Reset\nyour password](https://evil.example/l) and https://shopmax.example/offers"
    )
    model.script(Script(chunks=[answer]))
    page = await signed_in_page(browser, f"{url_of(site)}/chat")
    await page.fill("#message", "links?")
    await page.click("#send")
    shown = await finished(page)
    links = await shown.locator("a").evaluate_all(
        "(as) => as.map((a) => [a.textContent, a.getAttribute('href')])"
    )
    assert all(text == href for text, href in links), links
    assert "https://shopmax.example/offers" in [text for text, _ in links]
    text = words(await shown.text_content())
    assert "Reset your password (https://evil.example/a%20b)" in text or (
        "Reset your password (https://evil.example/a b)" in text
    )
    assert "(https://evil.example/n)" in text and "(https://evil.example/l)" in text


async def test_a_policy_answer_shows_its_sources_as_footnotes_and_marks_show(
    browser: Any, make_bot: BotFactory
) -> None:
    """On the offline demo model: the answer's [1] markers, then numbered footnotes naming the
    document and section, each linking (http(s) only) to it."""
    async with DemoModel.start(pace=INSTANT) as demo:
        bot = await make_bot(
            host="127.0.0.1",
            anthropic_base_url=demo.url,
            anthropic_api_key=DEMO_API_KEY,
            model=DEMO_MODEL,
            web_signin="token",
            web_token=TOKEN,
        )
        runner, url = await serve(http_app(bot.services))
        try:
            page = await signed_in_page(browser, f"{url}/chat")
            await page.fill("#message", "What is the return window for a TV?")
            await page.click("#send")
            answer = await finished(page)
            assert "[1]" in (await answer.text_content() or "")
            notes = page.locator("ol.sources li")
            assert await notes.count() >= 1
            first = notes.first.locator("a")
            assert words(await first.text_content()) == "Returns and exchange policy › Time limits"
            href = await first.get_attribute("href")
            assert href == "https://intranet.shopmax.in/policies/returns-and-exchange#time-limits"
            assert page.problems == []
        finally:
            await runner.cleanup()


async def test_an_unchecked_figure_shows_marked_in_the_browser(
    browser: Any, site: tuple[str, Bot], model: FakeAnthropic
) -> None:
    url, _ = site
    model.script(Script(chunks=["The Voltas is ", "₹38,990."]))
    page = await signed_in_page(browser, f"{url}/chat")
    await page.fill("#message", "best AC?")
    await page.click("#send")
    answer = await finished(page)
    assert words(await answer.text_content()) == "The Voltas is ₹38,990 ⚠."
    status = await page.locator(".status").last.text_content() or ""
    assert "1 figure in this answer was not found" in status


async def test_a_tablet_left_idle_signs_its_person_out_while_the_page_is_open(
    browser: Any, make_bot: BotFactory, model: FakeAnthropic
) -> None:
    """The page's own timer: with a short idle time, a tablet nobody touches goes back to the
    sign-in form by itself, with nothing of the person kept, and the server ends the session."""
    bot = await make_bot(web_signin="token", web_token=TOKEN, web_idle_minutes=0.03)
    runner, url = await serve(http_app(bot.services))
    try:
        page = await signed_in_page(browser, f"{url}/chat")
        session = (await shopmax_storage(page))["shopmax.chat.session"]
        await page.wait_for_selector("#signin:not([hidden])", timeout=10_000)
        assert await shopmax_storage(page) == {}
        status = await page.evaluate(
            """(s) => fetch('/api/chat', {method: 'POST', headers: {'Content-Type':
            'application/json', Authorization: 'Bearer ' + s}, body: '{"message": "hi"}'})
            .then((r) => r.status)""",
            session,
        )
        assert status == 401
    finally:
        await runner.cleanup()


async def test_sign_in_with_slack_through_the_button(
    browser: Any, slack_site: tuple[str, Bot, Any], model: FakeAnthropic
) -> None:
    """The button goes to Slack and back; the page trades its code for a session, and the
    person's question is theirs in the ledger, as in Slack."""
    url, bot, _ = slack_site
    model.script(Script(chunks=["The LG 8 kg is ₹33,990."]))
    page = await new_page(browser)
    await page.goto(f"{url}/chat")
    await page.click("#slack")
    await page.wait_for_selector("#ask", state="visible")
    assert "#" not in page.url and "challenge" not in page.url
    await page.fill("#message", "8 kg washer?")
    await page.click("#send")
    await finished(page)
    await bot.services.answerer.wait_idle(10)
    rows = await bot.services.store.ledger(0)
    assert [(r.team, r.user, r.surface) for r in rows] == [("T111", "U0PRIYA", "web")]
    assert page.problems == []


async def test_a_link_carrying_someone_elses_sign_in_signs_nobody_in(
    browser: Any, slack_site: tuple[str, Bot, Any], model: FakeAnthropic
) -> None:
    """Mallory signs in herself and sends a tablet a link with what came back (the sign-in
    code, or a session), or a sign-in error in words of her own: the tablet stays signed out,
    says only the bot's own fixed words, and nothing is asked as Mallory."""
    from tests.scenarios.test_trust import slack_arrival, slack_sign_in, verifier_and_challenge

    url, _, _ = slack_site
    code = (await slack_arrival(url, verifier_and_challenge()[1])).removeprefix("code=")
    session = await slack_sign_in(url)
    for fragment in (
        f"code={code}",
        f"session={session}",
        "signin=team:Reset%20your%20password%20at%20evil.example",
    ):
        page = await new_page(browser)
        await page.goto(f"{url}/chat#{fragment}")
        await page.wait_for_selector("#signin:not([hidden])", timeout=10_000)
        await page.wait_for_selector("#signin-error:not(:empty)")
        shown = await page.text_content("#signin-error") or ""
        assert "evil" not in shown and "did not work" in shown, shown
        assert "shopmax.chat.session" not in await shopmax_storage(page)
        assert "#" not in page.url
    assert model.calls == []
