"""The chat and dashboard pages over HTTP: their files under /static/, and the security headers
that let no script run but the bot's own."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.app import http_app
from bot.surfaces.web.assets import STATIC
from tests.conftest import BotFactory
from tests.fakes.serve import serve

ROOT = Path(__file__).parents[2]
TOKEN = "pages-test-token-0123456789"
SECURE = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@pytest.fixture
async def site(make_bot: BotFactory) -> AsyncIterator[str]:
    bot = await make_bot(
        web_signin="token", web_token=TOKEN, dashboard_token="pages-admin-token-0123456789"
    )
    runner, url = await serve(http_app(bot.services))
    yield url
    await runner.cleanup()


async def get(url: str) -> tuple[int, dict[str, str], bytes]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, dict(response.headers), await response.read()


@pytest.mark.parametrize(
    "path",
    ["/chat", "/dashboard", "/static/chat.js", "/static/vendor/marked.umd.js", "/static/nothing"],
)
async def test_pages_and_their_files_carry_the_security_headers(site: str, path: str) -> None:
    _, headers, _ = await get(site + path)
    assert {name: headers.get(name) for name in SECURE} == SECURE


@pytest.mark.parametrize("page", ["chat.html", "dashboard.html"])
def test_pages_have_no_inline_script_style_or_handlers(page: str) -> None:
    """What the policy would block: inline <script>, <style>, style="…" and on…= handlers."""
    html = (STATIC / page).read_text(encoding="utf-8")
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert re.findall(r"<style|\sstyle=|\son[a-z]+=", html, flags=re.IGNORECASE) == []


@pytest.mark.parametrize("page", ["/chat", "/dashboard"])
async def test_every_file_a_page_links_is_served_with_its_type(site: str, page: str) -> None:
    _, _, html = await get(site + page)
    linked = re.findall(r'(?:src|href)="(/static/[^"]+)"', html.decode())
    assert "/static/favicon.svg" in linked
    # Either JavaScript type passes `nosniff`; which one depends on the system's mime table.
    types = {
        ".js": ("text/javascript", "application/javascript"),
        ".css": ("text/css",),
        ".svg": ("image/svg+xml",),
    }
    for path in linked:
        status, headers, body = await get(site + path)
        assert status == 200 and body, path
        assert headers["Content-Type"].startswith(types[Path(path).suffix]), path


@pytest.mark.parametrize("path", ["/static/../chat.py", "/static/%2e%2e/assets.py", "/static/"])
async def test_nothing_outside_the_static_folder_is_served(site: str, path: str) -> None:
    status, _, body = await get(site + path)
    assert status in (403, 404) and b"import" not in body


async def test_without_the_web_chat_there_are_no_pages_or_files(make_bot: BotFactory) -> None:
    bot = await make_bot()
    runner, url = await serve(http_app(bot.services))
    try:
        assert (await get(url + "/static/chat.js"))[0] == 404
        assert (await get(url + "/chat"))[0] == 404
    finally:
        await runner.cleanup()


def test_vendored_libraries_match_their_recorded_versions_and_hashes() -> None:
    """`scripts/update_vendor.py --check` (offline): each file as fetched, licences kept."""
    done = subprocess.run(
        [sys.executable, "scripts/update_vendor.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert (done.returncode, done.stderr) == (0, "")
    licences = sorted(p.name for p in (STATIC / "vendor").glob("*LICENSE*"))
    assert licences == ["chart.js.LICENSE.md", "dompurify.LICENSE", "marked.LICENSE"]
