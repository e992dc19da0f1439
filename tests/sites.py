"""The bot's HTTP app served for a test, and a bot whose chat signs in with Slack against the
fake OpenID provider (`slack_site`: a fixture every test module can use, `tests/conftest.py`
names it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest
from aiohttp import web

from bot.app import http_app
from tests.fakes.openid_provider import CLIENT_ID, CLIENT_SECRET, FakeOpenID, SlackUser
from tests.fakes.serve import free_port, serve
from tests.fakes.slack_server import TEAM, FakeSlack

if TYPE_CHECKING:
    from tests.conftest import Bot, BotFactory

PERSON = "U0PRIYA"  # the Slack person who signs in (the tests' USER)


async def served(bot: Bot, port: int = 0) -> tuple[web.AppRunner, str]:
    """The bot's HTTP app on 127.0.0.1:`port` (0: any free port)."""
    if not port:
        return await serve(http_app(bot.services))
    runner = web.AppRunner(http_app(bot.services))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


@pytest.fixture
async def slack_site(
    make_bot: BotFactory, slack: FakeSlack
) -> AsyncIterator[tuple[str, Bot, FakeOpenID]]:
    """A bot whose chat signs in with Slack (two questions per person), served where its
    SHOPMAX_PUBLIC_URL says; its URL, the bot and the OpenID provider playing Slack."""
    provider = FakeOpenID(SlackUser(TEAM, PERSON, "Priya Sharma"))
    slack.openid = provider
    port = free_port()
    bot = await make_bot(
        web_signin="slack",
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        public_url=f"http://127.0.0.1:{port}",
        slack_authorize_url=f"{slack.url}/openid/connect/authorize",
        user_questions=2,
    )
    runner, url = await served(bot, port)
    yield url, bot, provider
    await runner.cleanup()
