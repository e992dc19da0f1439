"""The answering path and the usage views while the database is away, in process: the real
app on a throwaway PostgreSQL crashed under it, the fakes for Slack and the model.

Answers go on (their bookkeeping kept for later), a thread's history is read back from Slack,
per-person limits count what this process knows, and the views that need the database say
that usage figures are unavailable for now — never a traceback.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import http_app
from bot.delivery.slack_api import ANSWER_EVENT
from bot.wording import texts
from tests.conftest import CHANNEL, USER, Bot, BotFactory, payload
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.serve import serve
from tests.fakes.slack_server import BOT_ID, BOT_USER, TEAM, FakeSlack
from tests.services import ThrowawayPostgres

WEB_TOKEN = "web-token-for-tests-0123456789"
ADMIN_TOKEN = "dashboard-token-for-tests-98765"


@pytest.fixture
async def away(make_bot: BotFactory, throwaway_postgres: ThrowawayPostgres) -> Bot:
    """A bot on its own PostgreSQL, which has just crashed."""
    bot = await make_bot(
        database_url=throwaway_postgres.url,
        admin_users=frozenset({USER}),
        web_signin="token",
        web_token=WEB_TOKEN,
        dashboard_token=ADMIN_TOKEN,
        user_questions=3,
    )
    await throwaway_postgres.crash()
    return bot


@pytest.fixture
async def site(away: Bot) -> AsyncIterator[str]:
    runner, url = await serve(http_app(away.services))
    yield url
    await runner.cleanup()


def no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.exc_info], "no traceback in the log"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def home_opened(user: str) -> dict[str, Any]:
    return {
        "type": "event_callback",
        "team_id": TEAM,
        "event_id": f"Ev{user}",
        "event": {
            "type": "app_home_opened",
            "user": user,
            "channel": "D0HOME",
            "tab": "home",
            "event_ts": "1700020001.000100",
        },
    }


async def test_usage_and_the_home_tab_say_figures_are_unavailable_for_now(
    away: Bot, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """`/shopmax usage` and the Home tab need the ledger: they say so plainly."""
    text = json.loads((await away.command("usage")).body)["text"]
    assert text == f"{texts.USAGE_TITLE}\n{texts.USAGE_UNAVAILABLE}"
    await away.event(home_opened(USER))
    await slack.wait_for(lambda: USER in slack.home)
    shown = json.dumps(slack.home[USER])
    assert "Usage figures are unavailable for now" in shown and "Answers:" not in shown
    assert texts.HOME_HINT.split(":")[0] in shown
    no_traceback(caplog)


async def test_the_dashboard_and_a_chat_reload_answer_503_with_a_reason(
    site: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The dashboard's figures and a conversation's earlier turns wait for the database; the
    browser is told why, in words."""
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{site}/api/dashboard?days=7", headers=admin) as r:
            assert (r.status, await r.json()) == (503, {"error": texts.USAGE_UNAVAILABLE})
        body = {"name": "Priya", "token": WEB_TOKEN}
        async with http.post(f"{site}/api/chat/session", json=body) as r:
            session = {"Authorization": f"Bearer {(await r.json())['session']}"}
        async with http.post(f"{site}/api/chat", json={"message": "hi"}, headers=session) as r:
            assert r.status == 200, "the chat still answers"
            sent = [
                json.loads(line.removeprefix("data: "))
                for line in (await r.text()).splitlines()
                if line.startswith("data: ")
            ]
        [conversation] = {event["conversation_id"] for event in sent if "conversation_id" in event}
        history = {"conversation_id": conversation}
        async with http.post(f"{site}/api/chat/history", json=history, headers=session) as r:
            assert (r.status, await r.json()) == (503, {"error": texts.WEB_HISTORY_UNAVAILABLE})
    no_traceback(caplog)


async def test_a_threads_history_is_read_back_from_slack(
    away: Bot, slack: FakeSlack, model: FakeAnthropic, caplog: pytest.LogCaptureFixture
) -> None:
    """A mention in a thread where the bot answered before: the stored turns cannot be read,
    so the model gets the thread as Slack has it — the person's question and our answer (ours
    by its metadata), not another bot's message."""
    root, answer, other, asked = (f"1700020{n}00.000100" for n in range(4))
    slack.threads[(CHANNEL, root)] = [
        {"type": "message", "ts": root, "user": USER, "text": "fridge under 30k?"},
        {
            "type": "message",
            "ts": answer,
            "user": BOT_USER,
            "bot_id": BOT_ID,
            "text": "The LG 260 L.",
            "blocks": [{"type": "markdown", "text": "The **LG 260 L**."}],
            "metadata": {"event_type": ANSWER_EVENT, "event_payload": {"question_id": "q1"}},
        },
        {"type": "message", "ts": other, "user": "U0BOT2", "bot_id": "B0OTHER", "text": "beep"},
    ]
    model.script(Script(chunks=["It is ₹28,990."]))
    await away.event(
        payload("app_mention", text=f"<@{BOT_USER}> its price?", ts=asked, thread_ts=root)
    )
    [message] = await away.finished_answers(1)
    assert message.markdown == "It is ₹28,990 ⚠."  # no tool: unchecked
    assert model.calls[0].body["messages"] == [
        {"role": "user", "content": "fridge under 30k?"},
        {"role": "assistant", "content": "The **LG 260 L**."},
        {"role": "user", "content": "its price?"},
    ]
    assert away.services.store.spooled > 0, "its bookkeeping is kept for later"
    no_traceback(caplog)


async def test_per_person_limits_count_what_this_process_knows(
    away: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Three questions a window (this bot's setting): the fourth, asked while the database is
    away, is refused from the questions this process saw."""
    for n in range(4):
        await away.event(payload("app_mention", text=f"<@{BOT_USER}> q{n}", ts=f"17000300{n}.1"))
        await away.handled(n + 1)
    assert len(model.calls) == 3
    assert len(await away.finished_answers(3)) == 3
    [refusal] = slack.ephemeral
    assert refusal["user"] == USER and refusal["text"].startswith("You have asked 3 questions")


async def test_stop_still_stops_an_answer_while_the_database_is_away(
    away: Bot, slack: FakeSlack, model: FakeAnthropic, caplog: pytest.LogCaptureFixture
) -> None:
    """A Stop press on the replica streaming the answer needs no database: the model stream
    closes and the message ends with who stopped it."""
    model.script(Script(chunks=[f"Point {n}. " for n in range(300)], delay=0.02))
    await away.event(payload("app_mention", text=f"<@{BOT_USER}> TVs?", ts="1700040000.000100"))
    streaming = await slack.wait_for(
        lambda: next((m for m in slack.messages if "stop_answer" in str(m.blocks)), None)
    )
    await away.press(streaming, "stop_answer")
    [answer] = await away.finished_answers(1)
    assert any(f"Stopped by <@{USER}>" in text for text in answer.context)
    await slack.wait_for(lambda: model.calls[0].disconnected)
    no_traceback(caplog)


async def test_a_locked_sqlite_file_does_not_stop_answers_and_gets_their_rows_after(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic, tmp_path: Path
) -> None:
    """Another process holds the SQLite file's write lock: the question is answered without
    waiting for it, and its ledger row and turns are written once the lock is released."""
    path = tmp_path / "locked.db"
    bot = await make_bot(database_url=f"sqlite:///{path}", database_timeout=0.5)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        model.script(Script(chunks=["The LG 260 L."]))
        await bot.event(payload("app_mention", text=f"<@{BOT_USER}> fridge?", ts="1700050000.1"))
        [answer] = await bot.finished_answers(1)
        assert answer.markdown == "The LG 260 L." and not bot.services.store.up
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    store = bot.services.store
    await slack.wait_for(lambda: store.up and store.spooled == 0, 15)
    [row] = await store.ledger(0)
    assert (row.outcome, row.channel) == ("ok", CHANNEL)
    assert len(await store.turns(f"{TEAM}:{CHANNEL}:1700050000.1")) == 2
