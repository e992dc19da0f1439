"""The browser chat and dashboard in a real headless Chromium (the system's, driven by
Playwright; nothing downloads a browser). Skipped, with the reason, where none is installed."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import http_app
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
    bot = await make_bot(web_token=TOKEN, dashboard_token=ADMIN)
    runner, url = await serve(http_app(bot.services))
    yield url, bot
    await runner.cleanup()


async def signed_in_page(browser: Any, url: str) -> Any:
    """The chat page after signing in as a person through its own form."""
    page = await browser.new_page()
    await page.goto(url)
    await page.fill("#name", "Priya")
    await page.fill("#token", TOKEN)
    await page.click("#signin button")
    await page.wait_for_selector("#ask", state="visible")
    return page


async def admin_page(browser: Any, url: str) -> Any:
    page = await browser.new_page()
    await page.add_init_script(f"localStorage.setItem('shopmax.dashboard.token', '{ADMIN}')")
    await page.goto(url)
    return page


async def test_the_answer_appears_word_by_word_then_the_stats(
    browser: Any, site: tuple[str, Bot], model: FakeAnthropic
) -> None:
    url, _ = site
    words = [f"word{n} " for n in range(25)]
    model.script(Script(chunks=words, delay=0.08, input_tokens=64, output_tokens=25))
    page = await signed_in_page(browser, f"{url}/chat")
    await page.fill("#message", "Which TV under 50k?")
    await page.click("#send")
    seen: list[str] = []
    answer = page.locator(".turn.assistant").last
    for _ in range(200):
        seen.append(await answer.text_content() or "")
        if await page.locator(".stats[data-done]").count():
            break
        await asyncio.sleep(0.02)
    full = "".join(words)
    partial = [text for text in seen if text and text != full]
    assert partial, "text showed before the answer was complete"
    assert all(full.startswith(text) for text in seen)
    assert await answer.text_content() == full
    stats = await page.locator(".stats").last.text_content() or ""
    assert stats.startswith("64 in · 25 out · ") and "end_turn" in stats
    assert await page.locator(".turn.user").last.text_content() == "Which TV under 50k?"


async def test_stop_ends_the_answer_and_the_model_stream(
    browser: Any, site: tuple[str, Bot], model: FakeAnthropic
) -> None:
    url, _ = site
    model.script(Script(chunks=[f"w{n} " for n in range(300)], delay=0.03))
    page = await signed_in_page(browser, f"{url}/chat")
    await page.fill("#message", "long one")
    await page.click("#send")
    await page.wait_for_function(
        "document.querySelector('.turn.assistant')?.textContent.length > 10"
    )
    await page.click("#stop")
    await page.wait_for_function("document.querySelector('.status')?.textContent === 'Stopped.'")
    for _ in range(200):
        if model.calls[0].disconnected:
            break
        await asyncio.sleep(0.02)
    assert model.calls[0].disconnected and not model.calls[0].finished


async def test_the_dashboard_draws_its_charts(browser: Any, site: tuple[str, Bot]) -> None:
    url, bot = site
    for n in range(6):
        await bot.services.store.record(
            ledger_row(ttft_ms=300.0 + 50 * n, user=f"U0STAFF{n % 3}", channel=f"C0STORE{n % 2}")
        )
    page = await admin_page(browser, f"{url}/dashboard")
    await page.wait_for_selector("body[data-loaded]")
    assert await page.locator("#answers rect.bar").count() >= 1
    assert await page.locator("#cost rect.bar").count() >= 1
    assert await page.locator("#ttft polyline.line").count() == 2
    assert await page.locator("#channels rect.bar").count() == 2
    assert await page.locator("#users rect.bar").count() == 3
