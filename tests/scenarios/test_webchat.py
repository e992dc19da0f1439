"""The browser chat over Server-Sent Events: order and content of events, streaming before the
model finishes, auth, bad bodies, and a browser that leaves stopping the model."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.app import http_app
from tests.conftest import BotFactory
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.serve import serve

TOKEN = "web-token-for-tests-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def chat_url(make_bot: BotFactory) -> AsyncIterator[str]:
    bot = await make_bot(web_token=TOKEN)
    runner, url = await serve(http_app(bot.services))
    yield url
    await runner.cleanup()


async def events(response: aiohttp.ClientResponse) -> AsyncIterator[tuple[str, dict]]:
    buffer = ""
    async for chunk in response.content.iter_any():
        buffer += chunk.decode()
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            lines = dict(line.split(": ", 1) for line in block.splitlines())
            yield lines["event"], json.loads(lines["data"])


async def test_answer_streams_as_text_events_then_done_with_stats(
    chat_url: str, model: FakeAnthropic
) -> None:
    seen: list[tuple[str, dict]] = []

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
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{chat_url}/api/chat", json={"message": "7 kg washer?"}, headers=AUTH
        ) as r:
            assert r.status == 200
            assert r.headers["Content-Type"].startswith("text/event-stream")
            async for event in events(r):
                seen.append(event)
    names = [name for name, _ in seen]
    assert names == ["start", "text", "text", "done"]
    conversation = seen[0][1]["conversation_id"]
    assert len(conversation) == 32
    assert (
        "".join(data["text"] for name, data in seen if name == "text")
        == "The Bosch 7 kg is ₹29,490."
    )
    done = seen[-1][1]
    assert (done["input_tokens"], done["output_tokens"], done["stop_reason"]) == (70, 9, "end_turn")
    assert done["ttft_s"] is not None and done["duration_s"] >= done["ttft_s"]
    assert done["cost"].startswith("$")


async def test_a_conversation_continues_with_its_earlier_turns(
    chat_url: str, model: FakeAnthropic
) -> None:
    model.script(Script(chunks=["Voltas."]), Script(chunks=["₹38,990."]))
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{chat_url}/api/chat", json={"message": "best AC?"}, headers=AUTH
        ) as r:
            first = [e async for e in events(r)]
        conversation = first[0][1]["conversation_id"]
        async with http.post(
            f"{chat_url}/api/chat",
            headers=AUTH,
            json={"message": "price?", "conversation_id": conversation},
        ) as r:
            second = [e async for e in events(r)]
        async with http.get(f"{chat_url}/api/conversations/{conversation}", headers=AUTH) as r:
            turns = (await r.json())["turns"]
    assert second[0][1]["conversation_id"] == conversation
    assert [m["content"] for m in model.calls[1].body["messages"]] == [
        "best AC?",
        "Voltas.",
        "price?",
    ]
    assert [t["text"] for t in turns] == ["best AC?", "Voltas.", "price?", "₹38,990."]


async def test_catalog_lookups_are_status_events(chat_url: str, model: FakeAnthropic) -> None:
    model.script(
        Script(
            chunks=[],
            tool_calls=[("search_products", {"category": "tv", "max_price": 20000})],
            stop_reason="tool_use",
        ),
        Script(chunks=['Hisense E7N 43".']),
    )
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{chat_url}/api/chat", json={"message": "cheap tv"}, headers=AUTH
        ) as r:
            seen = [e async for e in events(r)]
    assert [n for n, _ in seen] == ["start", "status", "text", "done"]
    assert seen[1][1]["status"] == "_:mag: Looking up TVs under ₹20,000…_"


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong-token-123456789"}, {"Authorization": TOKEN}]
)
async def test_a_wrong_or_missing_token_is_401(
    chat_url: str, model: FakeAnthropic, headers: dict
) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{chat_url}/api/chat", json={"message": "hi"}, headers=headers) as r:
            assert r.status == 401
            assert "token" in (await r.json())["error"]
    assert model.calls == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "Send JSON"),
        (b"[1, 2]", "Send JSON"),
        (b'{"message": "  "}', "empty"),
        (json.dumps({"message": "x" * 5000}).encode(), "5,000 characters"),
        (b'{"message": "hi", "conversation_id": "../../etc"}', "conversation_id"),
    ],
)
async def test_bad_bodies_are_400_with_a_reason(
    chat_url: str, model: FakeAnthropic, body: bytes, reason: str
) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{chat_url}/api/chat", data=body, headers=AUTH) as r:
            assert r.status == 400
            assert reason in (await r.json())["error"]
    assert model.calls == []


async def test_a_browser_that_leaves_stops_the_model_stream(
    chat_url: str, model: FakeAnthropic
) -> None:
    model.script(Script(chunks=[f"word{n} " for n in range(400)], delay=0.02))
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{chat_url}/api/chat", json={"message": "long"}, headers=AUTH) as r:
            async for name, _ in events(r):
                if name == "text":
                    break
    for _ in range(300):
        if model.calls[0].disconnected:
            break
        await asyncio.sleep(0.02)
    assert model.calls[0].disconnected and not model.calls[0].finished


async def test_the_chat_page_is_served(chat_url: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{chat_url}/chat") as r:
            assert r.status == 200 and r.content_type == "text/html"
            page = await r.text()
    assert 'src="/static/chat.js"' in page and 'id="stop"' in page


async def test_without_a_web_token_there_is_no_chat(make_bot: BotFactory) -> None:
    bot = await make_bot()
    runner, url = await serve(http_app(bot.services))
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{url}/api/chat", json={"message": "hi"}) as r:
                assert r.status in (404, 405)
    finally:
        await runner.cleanup()


async def test_dashboard_data_needs_the_token_and_sums_per_day(
    chat_url: str,
) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{chat_url}/api/dashboard") as r:
            assert r.status == 401
        async with http.get(f"{chat_url}/api/dashboard?days=7", headers=AUTH) as r:
            data = await r.json()
    assert data == {"days": [], "top_channels": [], "top_users": []}
