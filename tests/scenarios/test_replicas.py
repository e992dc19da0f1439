"""Several replicas serving one workspace, on the machine's real PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import aiohttp

from bot.app import http_app
from tests.conftest import USER, BotFactory, payload
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.serve import free_port, serve, wait_healthy
from tests.fakes.slack_server import BOT_USER, FakeSlack
from tests.scenarios.test_process import bot_env, start_bot


async def test_a_429_seen_by_one_replica_holds_back_the_other(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic, redis_url: str
) -> None:
    """Slack's pause is per workspace, so a replica that was told to wait must hold back its
    peers too: no edit is sent by either once the pause is known, until Retry-After has
    passed. An edit of the other replica's message may already be on its way when the 429 is
    answered (at most one: a message has one edit in flight); it may land just after."""
    first = await make_bot(redis_url=redis_url, replica_id="replica-a")
    second = await make_bot(redis_url=redis_url, replica_id="replica-b")
    model.script(*[Script(chunks=[f"Part {n}. " for n in range(60)], delay=0.08)] * 2)
    await first.event(payload("app_mention", text=f"<@{BOT_USER}> TVs?", channel="C0ONE"))
    await second.event(payload("app_mention", text=f"<@{BOT_USER}> ACs?", channel="C0TWO"))
    await slack.wait_for(lambda: len(slack.calls_to("chat.update")) >= 2)
    slack.retry_after = 2
    slack.throttle_next["chat.update"] = 1
    await first.finished_answers(2)
    [throttled] = [c for c in slack.calls if c.status == 429]
    later = [c for c in slack.calls_to("chat.update") if c.received > throttled.at]
    during = [c for c in later if c.received - throttled.at < 1.9]
    assert len(during) <= 1, "only an edit already in flight may arrive during the pause"
    assert all(c.payload["channel"] != throttled.payload["channel"] for c in during)
    assert len(later) > len(during), "edits go on after the pause"
    assert {m.channel for m in slack.messages} == {"C0ONE", "C0TWO"}
    for message in slack.messages:
        assert message.markdown.startswith("Part 0.") and "Part 59." in message.markdown


async def test_a_replica_killed_mid_answer_is_finished_by_a_survivor_after_its_lease(
    make_bot: BotFactory,
    slack: FakeSlack,
    model: FakeAnthropic,
    postgres_url: str,
    tmp_path: Path,
) -> None:
    """A live replica's answer is never touched (its lease is renewed); once it is killed,
    the survivor ends the half-written message with a notice after the lease runs out."""
    survivor = await make_bot(database_url=postgres_url, replica_id="replica-b", answer_lease=3.0)
    survivor.services.leases.start()
    port = free_port()
    env = bot_env(slack, model, tmp_path, port)
    env |= {
        "DATABASE_URL": postgres_url,
        "SHOPMAX_REPLICA_ID": "replica-a",
        "SHOPMAX_ANSWER_LEASE": "3",
    }
    model.script(Script(chunks=[f"Step {n}. " for n in range(400)], delay=0.05))
    victim = await start_bot(env, tmp_path)
    try:
        assert await wait_healthy(f"http://127.0.0.1:{port}/healthz", victim) == 200
        await slack.send_envelope(
            "events_api", payload("app_mention", text=f"<@{BOT_USER}> go", ts="1700003300.000100")
        )
        message = await slack.wait_for(lambda: slack.messages and slack.messages[0], 20)
        await asyncio.sleep(4.5)  # longer than the lease: the victim renews it while alive
        assert not any("restarted" in t for t in message.context)
        assert "▍" in message.markdown
    finally:
        victim.kill()
        await victim.wait()
    killed_at = time.monotonic()
    await slack.wait_for(lambda: any("restarted" in t for t in message.context), 15)
    took = time.monotonic() - killed_at
    assert "▍" not in message.markdown and message.markdown.startswith("Step 0.")
    assert "retry_answer" in str(message.blocks), "one press asks it again"
    assert took <= 3.0 + 1.0 + 2.0  # the lease, one sweep interval, and some slack
    assert len(slack.messages) == 1
    assert await survivor.services.leases.sweep() == 0


async def test_a_replica_stopped_with_sigterm_hands_nothing_over(
    make_bot: BotFactory,
    slack: FakeSlack,
    model: FakeAnthropic,
    postgres_url: str,
    tmp_path: Path,
) -> None:
    """A rolling restart: SIGTERM lets the answer finish within the grace period; the store
    keeps nothing for a survivor to finish."""
    survivor = await make_bot(database_url=postgres_url, replica_id="replica-b", answer_lease=3.0)
    port = free_port()
    env = bot_env(slack, model, tmp_path, port)
    env |= {"DATABASE_URL": postgres_url, "SHOPMAX_REPLICA_ID": "replica-a"}
    model.script(Script(chunks=[f"Step {n}. " for n in range(30)], delay=0.05))
    process = await start_bot(env, tmp_path)
    assert await wait_healthy(f"http://127.0.0.1:{port}/healthz", process) == 200
    await slack.send_envelope(
        "events_api", payload("app_mention", text=f"<@{BOT_USER}> go", ts="1700003400.000100")
    )
    await slack.wait_for(lambda: slack.messages, 20)
    process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0
    [answer] = slack.messages
    assert "Step 29." in answer.markdown and answer.context
    assert not any("restarted" in t for t in answer.context)
    assert await survivor.services.store.take_over("replica-b", 3.0, own_too=False) == []


async def test_health_says_when_redis_is_unreachable_but_stays_up(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    """Health checks keep a replica in the load balancer while Redis is away (it still
    answers, within its share of the budget) and say what is wrong."""
    port = free_port()  # nothing listens there
    bot = await make_bot(redis_url=f"redis://:pw-123@127.0.0.1:{port}/0")
    runner, url = await serve(http_app(bot.services))
    try:
        async with aiohttp.ClientSession() as http, http.get(f"{url}/healthz") as r:
            body = await r.text()
        assert r.status == 200
        assert body.startswith("ok, but Redis at 127.0.0.1:") and "unreachable" in body
        assert "pw-123" not in body
    finally:
        await runner.cleanup()


async def test_stop_pressed_on_another_replica_stops_the_answer(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic, postgres_url: str
) -> None:
    """Slack hands a button press to any replica: the one that is not streaming the answer
    relays it, and the one that is applies it (or tells a stranger why not)."""
    streaming_bot = await make_bot(database_url=postgres_url, replica_id="replica-a")
    other = await make_bot(database_url=postgres_url, replica_id="replica-b")
    for bot in (streaming_bot, other):
        await bot.services.start()
    model.script(Script(chunks=[f"Point {n}. " for n in range(300)], delay=0.02))
    await streaming_bot.event(payload("app_mention", text=f"<@{BOT_USER}> TVs?"))
    streaming = await slack.wait_for(
        lambda: next((m for m in slack.messages if "stop_answer" in str(m.blocks)), None)
    )
    await other.press(streaming, "stop_answer", user="U0STRANGER")
    notice = await slack.wait_for(lambda: slack.ephemeral)
    assert notice[0]["user"] == "U0STRANGER" and "Only the person who asked" in notice[0]["text"]
    assert streaming_bot.services.answerer.running, "still streaming"
    await other.press(streaming, "stop_answer", user=USER)
    [answer] = await streaming_bot.finished_answers(1)
    assert any(f"Stopped by <@{USER}>" in text for text in answer.context)
    await slack.wait_for(lambda: model.calls[0].disconnected)
    assert not model.calls[0].finished
