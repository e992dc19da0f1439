"""The catalog in the store, live, through the real Bolt app against the fake Messages API:
feeds change what the next answer reads and never half of one answer, a bad feed changes
nothing, replicas see a feed without restarting, a chain's own categories, cities and stores
are accepted; feeds pushed over HTTP and imported from the command line."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import http_app
from bot.catalog.base import PriceRow
from bot.model.citations import fields_of
from tests.conftest import Bot, BotFactory, payload, run_bot
from tests.contracts.test_catalog_contract import PRODUCTS, STOCK, STORES
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.serve import serve
from tests.fakes.slack_server import BOT_USER

SONY = "SMX-TV-0005"  # ₹1,08,790 in the sample catalog
TOKEN = "catalog-token-for-tests-0123456789"


def tool_round(name: str, args: dict[str, Any], **script: Any) -> Script:
    return Script(chunks=[], tool_calls=[(name, args)], stop_reason="tool_use", **script)


def results(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The last tool result of a request: its products' fields, or {"error": text}."""
    [block] = [b for b in body["messages"][-1]["content"] if b["type"] == "tool_result"]
    if block.get("is_error"):
        return [{"error": block["content"]}]
    return [fields_of(b) for b in block["content"] if b.get("type") == "search_result"]


async def price_seen(bot: Bot, model: FakeAnthropic, ts: str) -> int:
    before = len(model.calls)
    model.script(tool_round("get_product", {"sku": SONY}), Script(chunks=["Done."]))
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> price?", ts=ts))
    await bot.slack.wait_for(lambda: len(model.calls) >= before + 2)
    await bot.slack.wait_for(lambda: not bot.services.answerer.running)
    [product] = results(model.calls[before + 1].body)
    return int(product["price_inr"])


async def test_a_feed_applied_during_an_answer_is_seen_by_the_next_one_only(
    bot: Bot, model: FakeAnthropic
) -> None:
    """Deterministic: the answer looks the product up, a price feed is applied before its
    second look, and both looks see the catalog the answer started with; the next answer
    sees the new price."""
    catalog = bot.services.catalog
    assert catalog is not None

    async def feed() -> None:
        await catalog.update_prices([PriceRow(SONY, 99_990, 114_490)], at=time.time())

    model.script(
        tool_round("get_product", {"sku": SONY}),
        Script(
            chunks=["Checking again."],
            tool_calls=[("get_product", {"sku": SONY})],
            stop_reason="tool_use",
            before_chunk={0: feed},
        ),
        Script(chunks=["Done."]),
    )
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> sony?", ts="1700200000.1"))
    await bot.finished_answers()
    assert [p["price_inr"] for p in results(model.calls[1].body)] == [108_790]
    assert [p["price_inr"] for p in results(model.calls[2].body)] == [108_790]
    assert await price_seen(bot, model, "1700200000.2") == 99_990


async def test_a_bad_feed_changes_nothing_and_the_bot_keeps_answering(
    bot: Bot, model: FakeAnthropic, tmp_path: Path
) -> None:
    bad = tmp_path / "prices.csv"
    bad.write_text(f"sku,price,mrp\n{SONY},99990,114490\nSMX-NOPE-1,10,10\nSMX-TV-0001,9,1\n")
    env = {"DATABASE_URL": bot.services.settings.database_url}
    code, out, err = await run_bot("catalog", "update", str(bad), env=env)
    assert code == 2 and out == ""
    assert "row 3 (SMX-TV-0001): mrp ₹1 is below the price ₹9" in err
    assert "nothing was changed" in err
    assert await price_seen(bot, model, "1700200100.1") == 108_790
    code, out, err = await run_bot("catalog", "update", str(bad.with_name("none.csv")), env=env)
    assert code == 2 and "cannot read" in err
    good = tmp_path / "good.csv"
    good.write_text(f"sku,price,mrp\n{SONY},99990,114490\n")
    code, out, err = await run_bot("catalog", "update", str(good), env=env)
    assert code == 0, err
    assert "products: 0 added, 1 changed, 0 removed" in out
    assert await price_seen(bot, model, "1700200100.2") == 99_990


async def test_a_chain_feed_brings_its_own_categories_cities_and_stores(
    bot: Bot, model: FakeAnthropic, tmp_path: Path
) -> None:
    """Imported with `catalog import DIR`: headphones, Pune and its Koregaon Park store exist
    only in the feed, and the tools accept them (the schema lists the new values)."""
    folder = tmp_path / "feed"
    folder.mkdir()
    for name, text in (("products", PRODUCTS), ("stores", STORES), ("stock", STOCK)):
        (folder / f"{name}.csv").write_text(text)
    env = {"DATABASE_URL": bot.services.settings.database_url}
    code, out, err = await run_bot("catalog", "import", str(folder), env=env)
    assert code == 0, err
    assert "products: 5 added, 0 changed, 200 removed" in out
    assert "stores: 3 added, 0 changed, 6 removed" in out
    model.script(
        tool_round("search_products", {"category": "headphones", "city": "Pune"}),
        tool_round("check_stock", {"sku": "WH1000XM5", "store": "pun-kor"}),
        Script(chunks=["The Sony WH1000XM5 is in Koregaon Park."]),
    )
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> headphones pune?", ts="1.1"))
    await bot.finished_answers()
    tools = model.calls[0].body["tools"]
    assert tools[0]["input_schema"]["properties"]["category"]["enum"] == [
        "headphones",
        "microwave",
        "tv",
    ]
    assert [p["sku"] for p in results(model.calls[1].body)] == ["WH1000XM5"]
    [stock] = results(model.calls[2].body)
    assert stock["stock"] == {"Koregaon Park": 7}
    model.script(tool_round("search_products", {"city": "Mumbay"}), Script(chunks=["No."]))
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> mumbay?", ts="1.2"))
    await bot.slack.wait_for(lambda: len(model.calls) == 5)
    [error] = results(model.calls[4].body)
    assert "Nearest known cities: Mumbai." in error["error"]


async def test_two_replicas_on_postgres_see_a_price_change_at_their_next_answer(
    make_bot: BotFactory, model: FakeAnthropic, postgres_url: str
) -> None:
    one = await make_bot(database_url=postgres_url, replica_id="one")
    two = await make_bot(database_url=postgres_url, replica_id="two")
    assert await price_seen(two, model, "1700200300.1") == 108_790
    assert one.services.catalog is not None
    await one.services.catalog.update_prices([PriceRow(SONY, 104_990, 114_490)], at=time.time())
    assert await price_seen(two, model, "1700200300.2") == 104_990
    assert await price_seen(one, model, "1700200300.3") == 104_990


async def post(url: str, kind: str, body: str, token: str | None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/api/catalog/{kind}", data=body, headers=headers) as r:
            text = await r.text()
            try:
                return r.status, json.loads(text)
            except ValueError:
                return r.status, text


async def test_the_catalog_endpoint_is_off_without_its_token(bot: Bot) -> None:
    runner, url = await serve(http_app(bot.services))
    try:
        status, _ = await post(url, "prices", f"sku,price,mrp\n{SONY},1,1\n", TOKEN)
        assert status == 404
    finally:
        await runner.cleanup()


@pytest.fixture
async def feeds_url(make_bot: BotFactory) -> Any:
    bot = await make_bot(catalog_token=TOKEN)
    runner, url = await serve(http_app(bot.services))
    yield url, bot
    await runner.cleanup()


async def test_a_pos_pushes_prices_and_stock_with_the_catalog_token(
    feeds_url: tuple[str, Bot], model: FakeAnthropic
) -> None:
    url, bot = feeds_url
    status, body = await post(url, "prices", f"sku,price,mrp\n{SONY},99990,114490\n", TOKEN)
    assert status == 200
    assert body["products"] == {"added": 0, "changed": 1, "removed": 0}
    status, body = await post(url, "stock", f"sku,store,units\n{SONY},MUMBAI,9\n", TOKEN)
    assert status == 200 and body["stock"]["changed"] == 1
    assert await price_seen(bot, model, "1700200400.1") == 99_990


async def test_a_bad_push_is_422_naming_its_rows_and_changes_nothing(
    feeds_url: tuple[str, Bot], model: FakeAnthropic
) -> None:
    url, bot = feeds_url
    feed = f"sku,store,units\n{SONY},MUMBAI,9\nSMX-NOPE-1,MUMBAI,1\n{SONY},PUNE,2\n"
    status, body = await post(url, "stock", feed, TOKEN)
    assert status == 422
    assert body["problems"] == [
        "row 2 (SMX-NOPE-1): sku SMX-NOPE-1 is not in the catalog",
        "row 3: store PUNE is not in the catalog",
    ]
    status, body = await post(url, "stores", "code,name,city,area\n", TOKEN)
    assert status == 422 and "cannot be empty" in body["problems"][0]
    status, body = await post(url, "prices", "sku,price\nX,1\n", TOKEN)
    assert status == 422 and "the header lacks mrp" in body["problems"][0]
    assert await price_seen(bot, model, "1700200500.1") == 108_790


async def test_wrong_catalog_tokens_are_refused_then_limited(
    feeds_url: tuple[str, Bot],
) -> None:
    url, _ = feeds_url
    status, _ = await post(url, "prices", "sku,price,mrp\n", None)
    assert status == 401
    statuses = [
        (await post(url, "prices", "sku,price,mrp\n", "wrong-token-" + "x" * 20))[0]
        for _ in range(11)
    ]
    assert statuses == [401] * 10 + [429]
    # Behind a proxy every client has one address: others' wrong guesses never hold the POS up.
    status, _ = await post(url, "prices", f"sku,price,mrp\n{SONY},1,1\n", TOKEN)
    assert status == 200


async def test_a_pos_may_call_the_bot_by_any_name_it_is_reachable_by(
    feeds_url: tuple[str, Bot],
) -> None:
    """The pages answer to one host (DNS rebinding); a catalog push carries its bearer alone,
    so a POS calling `http://shopmax:3000` is served, and still needs the token."""
    url, _ = feeds_url
    async with aiohttp.ClientSession() as http:
        for token, expected in ((TOKEN, 200), ("wrong-token-" + "x" * 20, 401)):
            async with http.post(
                f"{url}/api/catalog/prices",
                data=f"sku,price,mrp\n{SONY},1,1\n",
                headers={"Authorization": f"Bearer {token}", "Host": "shopmax:3000"},
            ) as response:
                assert response.status == expected
        async with http.get(f"{url}/chat", headers={"Host": "shopmax:3000"}) as response:
            assert response.status == 421  # the browser's pages still answer to their host


@pytest.mark.parametrize(
    "body",
    [
        '[{"sku": "SMX-TV-0001", "price": 1' + "0" * 5000 + ', "mrp": 1}]',
        "[" * 100_000 + "]" * 100_000,
    ],
    ids=["a number of 5,000 digits", "nested 100,000 deep"],
)
async def test_json_no_parser_could_hold_is_a_422_not_a_500(
    feeds_url: tuple[str, Bot], body: str
) -> None:
    url, _ = feeds_url
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{url}/api/catalog/prices",
            data=body,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        ) as response:
            assert response.status == 422
            assert "JSON" in (await response.json())["problems"][0]


async def test_shopmax_catalog_is_applied_at_start_and_the_sample_only_while_empty(
    make_bot: BotFactory, tmp_path: Path
) -> None:
    """The sample fills an empty catalog; a file SHOPMAX_CATALOG names replaces it at start
    (each city a store), and starting again with it unchanged changes nothing."""
    first = await make_bot()
    assert first.services.catalog is not None
    assert len(await (await first.services.catalog.view()).skus()) == 200
    single = tmp_path / "catalog.csv"
    single.write_text(
        "sku,name,brand,category,price,mrp,warranty,specs,stock_Pune,stock_Nashik\n"
        "SMX-HP-0001,Sony WH-1000XM5,Sony,headphones,29990,34990,1 year,type=over-ear,4,0\n"
    )
    second = await make_bot(catalog=single)
    assert second.services.catalog is not None
    view = await second.services.catalog.view()
    assert await view.skus() == {"SMX-HP-0001"}
    assert sorted((await view.vocabulary()).stores) == ["NASHIK", "PUNE"]
    third = await make_bot(catalog=single)
    assert third.services.catalog is not None
    assert (await third.services.catalog.view()).generation == view.generation
