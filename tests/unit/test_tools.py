"""Catalog tools while streaming: status lines, several rounds, usage summed, errors as results."""

from __future__ import annotations

import json

from bot.catalog.tools import status_line
from bot.model.citations import fields_of
from tests.conftest import Bot, BotFactory, payload
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.slack_server import BOT_USER, FakeSlack

TS = "1700011000.000100"
SEARCH = {"category": "tv", "max_price": 50000, "city": "Mumbai"}


def tool_results(body: dict) -> list[dict]:
    last = body["messages"][-1]
    return [block for block in last["content"] if block["type"] == "tool_result"]


async def test_tool_rounds_stream_into_one_message_with_status_and_summed_usage(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Look up, then look closer, then answer: one message, the status shown while looking,
    prices quoted from the catalog results Claude received, usage of all three rounds."""

    async def status_visible() -> None:
        """In the thread's loading state (or the message, once it is posted)."""
        line = "Looking up TVs under ₹50,000 in stock in Mumbai"
        await slack.wait_for(
            lambda: (
                any(
                    line in text for m in slack.messages for v in m.versions for text in _context(v)
                )
                or any(
                    line in shown
                    for c in slack.calls_to("assistant.threads.setStatus")
                    for shown in c.payload.get("loading_messages") or []
                )
            )
        )

    model.script(
        Script(
            chunks=["Let me check the catalog."],
            tool_calls=[("search_products", SEARCH)],
            stop_reason="tool_use",
            input_tokens=500,
            output_tokens=40,
        ),
        Script(
            chunks=[],
            tool_calls=[("get_product", {"sku": "SMX-TV-0037"})],
            stop_reason="tool_use",
            input_tokens=900,
            output_tokens=20,
            before_chunk={},
        ),
        Script(
            chunks=['The **Hisense E7N 43"** (SMX-TV-0037) is ₹13,890.'],
            input_tokens=1200,
            output_tokens=30,
            before_chunk={0: status_visible},
        ),
    )
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> TV under 50k in Mumbai?", ts=TS))
    [answer] = await bot.finished_answers()
    assert answer.markdown == (
        'Let me check the catalog.\n\nThe **Hisense E7N 43"** (SMX-TV-0037) is ₹13,890.'
    )
    assert len(slack.messages) == 1
    first, second, third = (call.body for call in model.calls)
    assert [t["name"] for t in first["tools"]] == [
        "search_products",
        "get_product",
        "check_stock",
        "search_knowledge",
    ]
    assert first["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    [search] = tool_results(second)
    lead, *results = search["content"]  # the result's other fields, then a search result each
    assert json.loads(lead["text"])["count"] == len(results)
    products = [fields_of(result) for result in results]
    assert products and all(p["category"] == "tv" and p["price_inr"] <= 50000 for p in products)
    assert all("Mumbai" in p["in_stock_in"] for p in products)
    assert all(
        r["source"] == f"sku:{p['sku']}" and r["citations"] == {"enabled": True}
        for r, p in zip(results, products, strict=True)
    )
    [details] = tool_results(third)
    [result] = details["content"]
    assert fields_of(result)["price_inr"] == 13890
    assert second["messages"][-2]["content"][1]["name"] == "search_products"
    footer = answer.context[-1].split(" · ")
    assert footer[:2] == ["2,600 in", "90 out"]
    await bot.handled(1)
    [row] = await bot.services.store.ledger(0)
    assert (row.input_tokens, row.output_tokens) == (2600, 90)


async def test_a_tool_error_goes_back_to_claude_as_a_result(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    model.script(
        Script(
            chunks=[], tool_calls=[("get_product", {"sku": "SMX-NOPE-1"})], stop_reason="tool_use"
        ),
        Script(chunks=["I could not find that SKU."]),
    )
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> SMX-NOPE-1?", ts=TS))
    [answer] = await bot.finished_answers()
    [result] = tool_results(model.calls[1].body)
    assert result["is_error"] is True and "No product with SKU" in result["content"]
    assert answer.markdown == "I could not find that SKU."


async def test_the_round_limit_makes_claude_answer_without_tools(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    bot = await make_bot(tool_rounds=2)
    loop = Script(
        chunks=[], tool_calls=[("search_products", {"query": "tv"})], stop_reason="tool_use"
    )
    model.script(loop, loop, Script(chunks=["Here is what I found."]))
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> tvs", ts=TS))
    [answer] = await bot.finished_answers()
    assert len(model.calls) == 3
    assert "tool_choice" not in model.calls[1].body
    assert model.calls[2].body["tool_choice"] == {"type": "none"}
    assert answer.markdown == "Here is what I found."


async def test_catalog_tools_can_be_switched_off(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Off, Claude gets the knowledge base's tool only; with that off too, no tools at all."""
    bot = await make_bot(catalog_enabled=False)
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> hi", ts=TS))
    await bot.finished_answers()
    assert [t["name"] for t in model.calls[0].body["tools"]] == ["search_knowledge"]
    bare = await make_bot(catalog_enabled=False, knowledge_enabled=False)
    await bare.event(payload("app_mention", text=f"<@{BOT_USER}> hi", ts="1700011000.000200"))
    await slack.wait_for(lambda: len(model.calls) == 2)
    assert "tools" not in model.calls[1].body


def test_status_lines_say_what_is_looked_up() -> None:
    assert status_line("search_products", SEARCH) == (
        "_:mag: Looking up TVs under ₹50,000 in stock in Mumbai…_"
    )
    assert status_line("search_products", {"query": "ifb 6.5"}) == "_:mag: Looking up ifb 6.5…_"
    assert status_line("check_stock", {"sku": "SMX-AC-0003", "city": "Chennai"}) == (
        "_:package: Checking stock of SMX-AC-0003 in Chennai…_"
    )


def _context(version: dict) -> list[str]:
    return [
        e["text"]
        for b in version.get("blocks") or []
        if b["type"] == "context"
        for e in b["elements"]
    ]
