"""The offline demo model, driven by the real Anthropic SDK and by the bot's own model stream
with the real catalog tools: what it calls, what it writes, what it counts, how it paces."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import anthropic
import pytest

from bot.answering.prompt import system_prompt
from bot.catalog.index import Catalog, SearchFilters
from bot.catalog.load import SAMPLE_CATALOG, load_catalog
from bot.errors import ModelUnavailable
from bot.model.demo import DEMO_API_KEY, DEMO_MODEL, INSTANT, DemoModel, Names, Pace, tokens
from bot.model.demo.answer import rupees
from bot.model.stream import Finished, ModelRequest, TextDelta, ToolCall, stream_answer
from bot.model.tools import Tools
from tests.catalogs import sample_schemas, sample_tools
from tests.conftest import BotFactory, payload
from tests.fakes.slack_server import BOT_USER
from tests.scenarios.test_store_choice import FEED

CATALOG = Catalog(load_catalog(SAMPLE_CATALOG))
SCHEMAS = sample_schemas()


@pytest.fixture
async def demo() -> AsyncIterator[DemoModel]:
    async with DemoModel.start(pace=INSTANT) as running:
        yield running


@pytest.fixture
async def client(demo: DemoModel) -> AsyncIterator[anthropic.AsyncAnthropic]:
    sdk = anthropic.AsyncAnthropic(base_url=demo.url, api_key=DEMO_API_KEY, max_retries=0)
    yield sdk
    await sdk.close()


def request(question: str, max_tokens: int = 1024) -> ModelRequest:
    return ModelRequest(
        model="claude-haiku-5-5",
        max_tokens=max_tokens,
        system=system_prompt(None, catalog=True),
        messages=[{"role": "user", "content": question}],
    )


async def answer(
    client: anthropic.AsyncAnthropic,
    question: str,
    tools: Tools | None = None,
    *,
    max_tokens: int = 1024,
    max_rounds: int = 4,
) -> tuple[list[ToolCall], str, Finished]:
    """Run the bot's model stream to the end: the tool calls, the text, the final event."""
    calls: list[ToolCall] = []
    text = ""
    finished = None
    stream = stream_answer(
        client, request(question, max_tokens), tools=tools, max_rounds=max_rounds
    )
    async for event in stream:
        if isinstance(event, ToolCall):
            calls.append(event)
        elif isinstance(event, TextDelta):
            text += event.text
        elif isinstance(event, Finished):
            finished = event
    assert finished is not None and finished.text == text
    return calls, text, finished


async def catalog_tools() -> Tools:
    return await sample_tools()


async def test_a_price_question_first_calls_search_with_what_the_question_asks(
    client: anthropic.AsyncAnthropic,
) -> None:
    """Category and city come from the tool schema's enums, the budget from the words; the
    tool call streams as `input_json_delta` pieces and stops with `tool_use`."""
    seen: list[str] = []
    async with client.messages.stream(
        model="claude-haiku-5-5",
        max_tokens=1024,
        messages=[{"role": "user", "content": "Which TV under Rs 50,000 for a Mumbai flat?"}],
        tools=SCHEMAS,
    ) as stream:
        async for event in stream:
            seen.append(event.type)
        message = await stream.get_final_message()
    assert message.stop_reason == "tool_use"
    assert message.model == DEMO_MODEL
    [call] = message.content
    assert call.type == "tool_use" and call.name == "search_products"
    assert call.input == {"category": "tv", "city": "Mumbai", "max_price": 50000}
    assert seen[0] == "message_start" and seen[-1] == "message_stop"
    assert {"content_block_start", "input_json", "content_block_stop", "message_delta"} <= set(seen)


async def test_the_answer_quotes_catalog_prices_skus_and_stock(
    client: anthropic.AsyncAnthropic,
) -> None:
    """Two rounds through the real tools: the table lists the catalog's own cheapest matches,
    each with its SKU and its price written like ₹13,990, and ends with the switch hint."""
    calls, text, finished = await answer(
        client, "Which TV under Rs 50,000 is in stock in Mumbai?", await catalog_tools()
    )
    expected = CATALOG.search("", SearchFilters(category="tv", max_price=50000, city="Mumbai"))
    assert [c.name for c in calls] == ["search_products"]
    for product in expected[:5]:
        row = next(line for line in text.splitlines() if product.sku in line)
        assert f"**{rupees(product.price)}**" in row and product.name in row
    assert all(p.price <= 50000 and p.stock["Mumbai"] > 0 for p in expected)
    assert "ANTHROPIC_API_KEY" in text.splitlines()[-1]
    assert finished.stats.stop_reason == "end_turn"
    assert finished.stats.model == DEMO_MODEL


async def test_a_sku_question_reads_the_product_and_its_stock_by_city(
    client: anthropic.AsyncAnthropic,
) -> None:
    product = CATALOG.get("SMX-TV-0002")
    assert product is not None
    calls, text, _ = await answer(client, "price of smx-tv-0002?", await catalog_tools())
    assert [(c.name, c.args) for c in calls] == [("get_product", {"sku": "SMX-TV-0002"})]
    assert f"**{rupees(product.price)}**" in text and f"MRP {rupees(product.mrp)}" in text
    [line] = [line for line in text.splitlines() if line.startswith("- stock: ")]
    assert sorted(line.removeprefix("- stock: ").split(", ")) == sorted(
        f"{count} in stock in {city}" if count else f"out of stock in {city}"
        for city, count in product.stock.items()
    )  # the stores with most units first
    assert f"({rupees(product.mrp - product.price)} below MRP)" in text


async def test_a_stock_question_checks_stock_for_the_best_matches(
    client: anthropic.AsyncAnthropic,
) -> None:
    calls, text, _ = await answer(
        client, "Is a 1.5 ton AC available in Chennai?", await catalog_tools()
    )
    assert [c.name for c in calls] == ["search_products", "check_stock", "check_stock"]
    assert calls[0].args == {"query": "1.5 ton", "category": "ac", "city": "Chennai"}
    for call in calls[1:]:
        product = CATALOG.get(call.args["sku"])
        assert product is not None and call.args["city"] == "Chennai"
        count = product.stock["Chennai"]
        shown = f"{count} in stock in Chennai" if count else "out of stock in Chennai"
        assert f"(`{product.sku}`): {shown}" in text


async def test_a_search_that_finds_nothing_is_tried_again_without_its_words(
    client: anthropic.AsyncAnthropic,
) -> None:
    calls, text, _ = await answer(
        client, "fridge for my parents' flat under 30k in Delhi", await catalog_tools()
    )
    assert [c.args for c in calls] == [
        {"query": "parents", "category": "refrigerator", "city": "Delhi", "max_price": 30000},
        {"category": "refrigerator", "city": "Delhi", "max_price": 30000},
    ]
    cheapest = CATALOG.search("", SearchFilters("refrigerator", max_price=30000, city="Delhi"))
    assert cheapest and cheapest[0].sku in text


async def test_nothing_in_the_catalog_is_said_plainly(client: anthropic.AsyncAnthropic) -> None:
    _, text, finished = await answer(client, "a TV under ₹1,000 in Kolkata", await catalog_tools())
    assert text.startswith("The ShopMax catalog has no TVs under ₹1,000 in stock in Kolkata.")
    assert "please ask your store manager" in text  # SHOPMAX_ESCALATE_TO, as Claude is told
    assert finished.stats.stop_reason == "end_turn"


@pytest.mark.parametrize(
    "question", ["a TV under ₹1,000 in Kolkata", "price of SMX-ZZ-0001?", "SMX-ZZ-0001 stock?"]
)
async def test_when_nothing_is_found_it_says_so_and_names_whom_to_ask(question: str) -> None:
    """The demo model, like the system prompt tells Claude, points to SHOPMAX_ESCALATE_TO
    instead of guessing."""
    async with DemoModel.start(pace=INSTANT, escalate_to="Priya, the floor manager") as demo:
        sdk = anthropic.AsyncAnthropic(base_url=demo.url, api_key=DEMO_API_KEY, max_retries=0)
        try:
            calls, text, _ = await answer(sdk, question, await catalog_tools())
        finally:
            await sdk.close()
    assert calls and "please ask Priya, the floor manager." in text


@pytest.mark.parametrize(
    ("tools", "question", "opening"),
    [
        (True, "What is the return policy for opened boxes?", "I'm the offline demo model"),
        (False, "Which TV under 50k?", "The catalog tools are switched off here"),
    ],
)
async def test_what_it_cannot_ground_it_declines_politely_without_tools(
    client: anthropic.AsyncAnthropic, tools: bool, question: str, opening: str
) -> None:
    calls, text, finished = await answer(client, question, await catalog_tools() if tools else None)
    assert calls == []
    assert text.startswith(opening) and "- Which TV under 50,000 is in stock in Mumbai?" in text
    assert finished.stats.stop_reason == "end_turn"


async def test_output_tokens_are_what_it_sent_and_input_grows_with_the_request(
    client: anthropic.AsyncAnthropic,
) -> None:
    """Honest counts: output is the tool call's JSON plus the text, token for token; 4,000
    more characters of question cost about 1,000 more input tokens."""
    calls, text, finished = await answer(client, "is SMX-AC-0031 in stock?", await catalog_tools())
    sent = sum(len(tokens(json.dumps(c.args, ensure_ascii=False))) for c in calls)
    assert finished.stats.usage.output_tokens == sent + len(tokens(text))
    assert 2.5 < len(text) / len(tokens(text)) < 6
    _, _, short = await answer(client, "hello there")
    _, _, long = await answer(client, "hello there" + " please" * 570)
    grown = long.stats.usage.input_tokens - short.stats.usage.input_tokens
    assert 900 <= grown <= 1100
    assert short.stats.usage.cache_read_tokens == short.stats.usage.cache_write_tokens == 0


async def test_a_long_answer_stops_at_max_tokens(client: anthropic.AsyncAnthropic) -> None:
    _, text, finished = await answer(client, "tell me a story", max_tokens=20)
    assert finished.stats.stop_reason == "max_tokens"
    assert finished.stats.usage.output_tokens == 20 == len(tokens(text))


async def test_after_the_last_tool_round_it_answers_with_what_it_has(
    client: anthropic.AsyncAnthropic,
) -> None:
    """With no rounds left (`tool_choice: none`) it writes instead of calling a tool."""
    calls, text, _ = await answer(
        client, "which laptop under 60k?", await catalog_tools(), max_rounds=0
    )
    assert calls == [] and text.startswith("I couldn't look that up in the catalog.")


@pytest.mark.parametrize(
    "question",
    [
        "",
        "   \n\t ",
        "<img src=x onerror=alert(1)> <script>alert(2)</script> TV under 20k",
        "टीवी 50000 के अंदर मुंबई में?",
        "🤖📺💸 " * 300,
        "under 99999999999999999999999 rupees",
        "\x00\x01\x1b[31m fridge \u202e",
        "SKU: SMX-XX-9999, smx-tv-0001 and SMX-AC-0031, SMX-PH-0001",
        "a" * 100_000,
        "| pipes | in | a | table |\n|---|",
    ],
)
async def test_odd_questions_get_an_answer_not_a_crash(
    client: anthropic.AsyncAnthropic, question: str
) -> None:
    _, text, finished = await answer(client, question, await catalog_tools())
    assert text.strip() and finished.stats.stop_reason == "end_turn"


async def test_a_prompt_over_the_context_window_is_refused_like_the_api(
    client: anthropic.AsyncAnthropic,
) -> None:
    with pytest.raises(ModelUnavailable) as refused:
        await answer(client, "x " * 450_000)
    assert refused.value.kind == "invalid_request_error"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "the body is not valid JSON"),
        (b'{"max_tokens": 10, "messages": []}', "messages: at least one message is required"),
        (b'{"messages": [{"role": "user", "content": "hi"}]}', "max_tokens: a whole number"),
        (b'{"max_tokens": 5, "messages": [{"role": "system", "content": "x"}]}', "messages: each"),
        (b"[1, 2, 3]", "the request body must be a JSON object"),
    ],
)
async def test_bad_requests_get_the_apis_error_shape(
    demo: DemoModel, body: bytes, message: str
) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{demo.url}/v1/messages", data=body) as response,
    ):
        error: dict[str, Any] = await response.json()
    assert response.status == 400
    assert error["type"] == "error" and error["error"]["type"] == "invalid_request_error"
    assert error["error"]["message"].startswith(message)


async def test_non_streaming_create_and_count_tokens_answer_too(
    client: anthropic.AsyncAnthropic,
) -> None:
    messages: Any = [{"role": "user", "content": "cheapest phone in Hyderabad"}]
    created = await client.messages.create(
        model="claude-haiku-5-5", max_tokens=512, messages=messages, tools=SCHEMAS
    )
    assert created.stop_reason == "tool_use"
    assert [(b.type, b.input) for b in created.content if b.type == "tool_use"] == [
        ("tool_use", {"category": "phone", "city": "Hyderabad"})
    ]
    counted = await client.messages.count_tokens(
        model="claude-haiku-5-5", messages=messages, tools=SCHEMAS
    )
    assert counted.input_tokens == created.usage.input_tokens > 0


async def test_a_client_that_stops_reading_leaves_the_demo_serving(
    demo: DemoModel,
) -> None:
    """Leaving the stream early (Stop, a closed tab) closes it; the next answer is whole."""
    async with DemoModel.start(pace=Pace(first_token_s=0.0, tokens_per_second=200)) as slow:
        sdk = anthropic.AsyncAnthropic(base_url=slow.url, api_key=DEMO_API_KEY, max_retries=0)
        async with sdk.messages.stream(**_params("hello")) as stream:
            async for event in stream:
                if event.type == "text":
                    break
        again = await sdk.messages.create(**_params("hello again"))
        await sdk.close()
    assert again.stop_reason == "end_turn" and again.content[0].type == "text"


async def test_it_writes_at_its_pace() -> None:
    """The first token waits `first_token_s`; the rest come no faster than the rate. (Lower
    bounds only: the sleeps guarantee them, a busy machine only adds.)"""
    pace = Pace(first_token_s=0.3, tokens_per_second=400)
    async with DemoModel.start(pace=pace) as paced:
        sdk = anthropic.AsyncAnthropic(base_url=paced.url, api_key=DEMO_API_KEY, max_retries=0)
        _, text, finished = await answer(sdk, "hello")
        await sdk.close()
    stats = finished.stats
    assert stats.ttft_s is not None and stats.ttft_s >= 0.3
    assert stats.duration_s >= 0.3 + (len(tokens(text)) - 3) / 400


async def test_answers_at_the_same_time_do_not_mix(client: anthropic.AsyncAnthropic) -> None:
    tools = await catalog_tools()
    results = await asyncio.gather(
        answer(client, "price of SMX-TV-0002", tools),
        answer(client, "price of SMX-AC-0031", tools),
    )
    assert "SMX-TV-0002" in results[0][1] and "SMX-AC-0031" not in results[0][1]
    assert "SMX-AC-0031" in results[1][1] and "SMX-TV-0002" not in results[1][1]


async def test_the_whole_bot_answers_a_mention_from_the_demo_model(
    make_bot: BotFactory, demo: DemoModel
) -> None:
    """Gate, tools, streaming into Slack, footer and ledger, all for real: the Slack answer
    carries the catalog's prices, and the ledger row is the demo model's, at $0."""
    bot = await make_bot(anthropic_base_url=demo.url, anthropic_api_key=DEMO_API_KEY)
    question = "which TV under Rs 50,000 is in stock in Mumbai?"
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> {question}", ts="1700090000.1"))
    await bot.handled(1)
    [message] = await bot.finished_answers()
    cheapest = CATALOG.search("", SearchFilters("tv", max_price=50000, city="Mumbai"))[0]
    assert cheapest.sku in message.markdown and rupees(cheapest.price) in message.markdown
    assert "end_turn" in message.context[-1]
    [row] = await bot.services.store.ledger(0)
    assert (row.model, row.cost_usd, row.outcome) == (DEMO_MODEL, 0, "ok")
    assert row.output_tokens > 0 and row.input_tokens > 0


def _params(question: str) -> dict[str, Any]:
    return {
        "model": "claude-haiku-5-5",
        "max_tokens": 256,
        "messages": [{"role": "user", "content": question}],
    }


# Tool schemas as a catalog in the database gives them: no fixed list of cities or categories,
# and a store argument (the values come from the data; see docs/catalog.md).
FEED_SCHEMAS = [
    {
        "name": "search_products",
        "description": "Search the catalog.",
        "input_schema": {
            "type": "object",
            "properties": {
                "query": {"type": "string"},
                "category": {"type": "string"},
                "city": {"type": "string"},
                "store": {"type": "string"},
                "max_price": {"type": "integer"},
            },
        },
    },
    {
        "name": "check_stock",
        "description": "Stock of one SKU.",
        "input_schema": {
            "type": "object",
            "properties": {
                "sku": {"type": "string"},
                "city": {"type": "string"},
                "store": {"type": "string"},
            },
            "required": ["sku"],
        },
    },
]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "headphones under 5k in Pune?",
            {"category": "headphones", "city": "Pune", "max_price": 5000},
        ),
        ("any microwave in stock at pun-02?", {"category": "microwave", "store": "PUN-02"}),
        ("TV in Nashik under 40k", {"category": "tv", "city": "Nashik", "max_price": 40000}),
    ],
)
async def test_given_the_catalogs_names_it_reads_a_feeds_own_cities_stores_and_categories(
    demo: DemoModel, client: anthropic.AsyncAnthropic, question: str, expected: dict[str, Any]
) -> None:
    """The schemas list no values: the demo reads the question against the names the bot
    gives it from the catalog (asked on each request, so a new feed is read at once)."""

    async def names() -> Names:
        return Names(
            categories=("tv", "headphones", "microwave"),
            cities=("Pune", "Nashik"),
            stores={"PUN-01": "Pune", "PUN-02": "Pune", "NSK-01": "Nashik"},
        )

    demo.names = names
    message = await client.messages.create(
        model="claude-haiku-5-5",
        max_tokens=1024,
        messages=[{"role": "user", "content": question}],
        tools=FEED_SCHEMAS,  # type: ignore[arg-type]
    )
    [call] = message.content
    assert call.type == "tool_use" and call.name == "search_products"
    assert call.input == expected


async def test_a_stock_question_names_the_store_it_asks_about(
    demo: DemoModel, client: anthropic.AsyncAnthropic
) -> None:
    """After the search, `check_stock` for the store the question names; with none named,
    no place at all, so the tool answers for the asker's store."""

    async def names() -> Names:
        return Names(categories=("microwave",), cities=("Pune",), stores={"PUN-02": "Pune"})

    demo.names = names
    found = json.dumps({"count": 1, "products": [{"sku": "SMX-MW-0001", "name": "IFB 25L"}]})
    for question, place in (
        ("is the IFB microwave available at PUN-02?", {"store": "PUN-02"}),
        ("is the IFB microwave available?", {}),
    ):
        message = await client.messages.create(
            model="claude-haiku-5-5",
            max_tokens=1024,
            tools=FEED_SCHEMAS,  # type: ignore[arg-type]
            messages=[
                {"role": "user", "content": question},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "tool_use", "id": "t1", "name": "search_products", "input": {}}
                    ],
                },
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "t1", "content": found}],
                },
            ],
        )
        [call] = message.content
        assert call.type == "tool_use" and call.name == "check_stock"
        assert call.input == {"sku": "SMX-MW-0001", **place}


async def test_names_it_cannot_read_leave_it_answering_from_the_schemas(
    demo: DemoModel, client: anthropic.AsyncAnthropic
) -> None:
    async def broken() -> Names:
        raise OSError("the catalog's database is away")

    demo.names = broken
    message = await client.messages.create(
        model="claude-haiku-5-5",
        max_tokens=1024,
        messages=[{"role": "user", "content": "Which TV under Rs 50,000 for a Mumbai flat?"}],
        tools=SCHEMAS,  # type: ignore[arg-type]
    )
    [call] = message.content
    assert call.type == "tool_use"
    assert call.input == {"category": "tv", "city": "Mumbai", "max_price": 50000}


async def test_the_whole_bot_answers_from_an_imported_feed_by_its_own_store_and_category(
    make_bot: BotFactory, demo: DemoModel
) -> None:
    """A feed whose category (microwave), city (Pune) and stores exist nowhere else: the demo
    model, given the catalog's names as the bot gives them, asks the tools for that store, and
    the answer in Slack carries the feed's product and its stock there."""
    bot = await make_bot(anthropic_base_url=demo.url, anthropic_api_key=DEMO_API_KEY)
    assert bot.services.catalog is not None and bot.services.catalog_names is not None
    await bot.services.catalog.replace(FEED, at=time.time())
    demo.names = bot.services.catalog_names
    question = "is the IFB microwave available at PUN-02?"
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> {question}", ts="1700090001.1"))
    [message] = await bot.finished_answers()
    assert "SMX-MW-0001" in message.markdown and "₹12,990" in message.markdown
    assert "Baner" in message.markdown or "PUN-02" in message.markdown
