"""Catalog feeds checked whole (every bad row and field named, hostile text refused), and the
catalog tools over a pinned view: nearest known values, freshness, the asker's store."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.catalog import Catalog, open_catalog
from bot.catalog.base import StockRow
from bot.catalog.feed import MAX_PROBLEMS, feed_from, partial_from, read_full, table_from
from bot.catalog.tools import Toolbox, status_line
from bot.errors import CatalogError
from tests.contracts.test_catalog_contract import PRODUCTS, STOCK, STORES, chain_feed

NOW = 1_800_000_000.0


def problems(**texts: str) -> list[str]:
    with pytest.raises(CatalogError) as caught:
        feed_from(
            products=texts.get("products", PRODUCTS),
            stores=texts.get("stores", STORES),
            stock=texts.get("stock", STOCK),
        )
    assert "nothing was changed" in str(caught.value)
    return caught.value.problems


def test_a_good_feed_reads_whole() -> None:
    feed = chain_feed()
    assert (len(feed.products), len(feed.stores), len(feed.stock)) == (5, 3, 7)
    tv = feed.products[0]
    assert (tv.sku, tv.price, tv.mrp, dict(tv.specs)) == (
        "UA55CU7700KLXL",
        41990,
        52900,
        {"screen": "55 inch", "panel": "LED"},
    )


def test_every_bad_row_and_field_is_named() -> None:
    bad_products = PRODUCTS + (
        "TUNE510BT,Duplicate,JBL,headphones,1,1,1 year,\n"
        "bad sku!,Name,Brand,tv,100,50,1 year,\n"
        "OK-1,,Brand,tv,cheap,100,1 year,screen\n"
        "OK-2,Bell\x07 TV,Brand,tv,100,100,1 year,\n"
    )
    bad_stock = STOCK + "GHOST-1,MUM-ANW,1\nOLED55C4,NOWHERE,1\nOLED55C4,MUM-ANW,-3\n"
    found = problems(products=bad_products, stock=bad_stock)
    assert found == [
        "products 6 (TUNE510BT): sku TUNE510BT appears more than once",
        "products 7 (bad sku!): sku 'bad sku!' must be 3 to 40 letters, digits and dashes",
        "products 7 (bad sku!): mrp ₹50 is below the price ₹100",
        "products 8 (OK-1): name is missing",
        "products 8 (OK-1): specs part 'screen' is not key=value",
        "products 8 (OK-1): price must be a whole number from 1 to 10,000,000, got 'cheap'",
        "products 9 (OK-2): name holds control characters",
        "stock 10 (OLED55C4): units must be a whole number from 0 to 1,000,000, got '-3'",
        "stock row 8: sku GHOST-1 is not in products",
        "stock row 9: store NOWHERE is not in stores",
    ]


def test_headers_sizes_and_json_are_checked() -> None:
    assert problems(stores="code,name\nX,Y\n") == ["stores: the header lacks city"]
    assert problems(stock="sku,store,units,price\n") == [
        "stock: the header has unknown columns price"
    ]
    huge = PRODUCTS + f"BIG-1,{'x' * 500},Brand,tv,100,100,1 year,\n"
    assert problems(products=huge) == ["products 6 (BIG-1): name is longer than 200 characters"]
    many = "sku,store,units\n" + "".join(f"NOPE-{n},MUM-ANW,1\n" for n in range(50))
    shown = problems(stock=many)
    assert len(shown) == MAX_PROBLEMS + 1 and shown[-1] == "... and 30 more"
    stores = json.dumps([{"code": "MUM-ANW", "name": "Andheri", "city": "Mumbai"}])
    feed = feed_from(
        products=PRODUCTS,
        stores=stores,
        stock="sku,store,units\nOLED55C4,MUM-ANW,2\n",
        formats={"stores": "json"},
    )
    assert [s.code for s in feed.stores] == ["MUM-ANW"]


def test_a_partial_feed_says_what_it_changes_in_its_header() -> None:
    prices = partial_from("sku,price,mrp\nOLED55C4,129990,179990\n")
    assert prices.kind == "prices" and prices.prices[0].price == 129_990
    stock = partial_from("SKU,Store,Units\noled55c4,mum-bkc,4\n")
    assert stock.kind == "stock" and stock.stock[0] == StockRow("OLED55C4", "MUM-BKC", 4)
    with pytest.raises(CatalogError, match="header is sku,price,mrp"):
        partial_from("sku,name\nX,Y\n")
    with pytest.raises(CatalogError) as caught:
        partial_from("sku,price,mrp\nOLED55C4,200,100\nOLED55C4,100,100\n")
    assert caught.value.problems == [
        "row 1 (OLED55C4): mrp ₹100 is below the price ₹200",
        "row 2 (OLED55C4): sku OLED55C4 appears more than once",
    ] or caught.value.problems[0].endswith("below the price ₹200")


def test_a_pushed_table_cannot_be_empty() -> None:
    with pytest.raises(CatalogError, match="cannot be empty"):
        table_from("code,name,city,area\n", "stores")


def test_a_feed_folder_needs_its_three_files(tmp_path: Path) -> None:
    (tmp_path / "products.csv").write_text(PRODUCTS)
    (tmp_path / "stores.csv").write_text(STORES)
    with pytest.raises(CatalogError, match=r"stock\.csv or stock\.json"):
        read_full(tmp_path)
    (tmp_path / "stock.csv").write_text(STOCK)
    assert len(read_full(tmp_path).stock) == 7


# ---- the tools ---------------------------------------------------------------------------


@pytest.fixture
async def catalog(tmp_path: Path) -> AsyncIterator[Catalog]:
    opened = await open_catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    await opened.replace(chain_feed(), at=NOW - 30 * 3600)  # a day and a quarter ago
    await opened.update_stock([StockRow("UA55CU7700KLXL", "MUM-ANW", 4)], at=NOW - 3600)
    yield opened
    await opened.close()


async def call(catalog: Catalog, name: str, args: dict[str, Any], store: str | None = None):  # type: ignore[no-untyped-def]
    tools = await Toolbox(catalog, clock=lambda: NOW).for_asker(store)
    return await tools.run(name, args)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        ({"city": "Mumbay"}, "The catalog has no city 'Mumbay'. Nearest known cities: Mumbai."),
        ({"city": "Atlantis"}, "Known cities: Mumbai, Pune."),
        ({"category": "headphone"}, None),  # a plural or singular is the same category
        ({"category": "micro wave"}, "Nearest known categories: microwave."),
        ({"brand": "Samsnug"}, "Nearest known brands: Samsung."),
        ({"store": "MUM-ANX"}, "Nearest known stores: MUM-ANW (Andheri West, Mumbai)"),
        ({"store": "andheri west"}, None),  # a store's name is as good as its code
    ],
)
async def test_a_value_the_catalog_does_not_know_names_the_nearest_known_ones(
    catalog: Catalog, args: dict[str, Any], said: str | None
) -> None:
    result = await call(catalog, "search_products", args)
    if said is None:
        assert not result.is_error and result.data["count"] > 0
    else:
        assert result.is_error and said in result.text


async def test_schemas_list_the_categories_and_cities_of_the_data(catalog: Catalog) -> None:
    tools = await Toolbox(catalog).for_asker(None)
    search = tools.schemas[0]["input_schema"]["properties"]
    assert search["category"]["enum"] == ["headphones", "microwave", "tv"]
    assert search["city"]["enum"] == ["Mumbai", "Pune"]
    assert "enum" not in search["store"]
    again = await Toolbox(catalog).for_asker(None)
    assert again.schemas[0]["input_schema"] == tools.schemas[0]["input_schema"]


async def test_check_stock_answers_for_the_askers_store_and_the_rest_of_its_city(
    catalog: Catalog,
) -> None:
    result = await call(catalog, "check_stock", {"sku": "ua55cu7700klxl"}, store="MUM-BKC")
    data = result.data
    assert data["your_store"] == "MUM-BKC"
    assert [(s["store"], s["units"]) for s in data["stores"]] == [("MUM-BKC", 0), ("MUM-ANW", 4)]
    assert data["stock"] == {"BKC": 0, "Andheri West": 4}
    assert data["other_stores_in_city_with_stock"] == 1
    fresh, old = data["stores"][1], data["stores"][0]
    assert "stale" not in fresh and old["stale"] is True  # 30 hours old, 24 allowed
    assert fresh["changed_at"].endswith("+05:30")


async def test_check_stock_without_a_store_lists_the_stores_with_stock(catalog: Catalog) -> None:
    data = (await call(catalog, "check_stock", {"sku": "UA55CU7700KLXL"})).data
    assert {s["store"]: s["units"] for s in data["stores"]} == {
        "MUM-ANW": 4,
        "MUM-BKC": 0,
        "PUN-KOR": 5,
    }
    pune = (await call(catalog, "check_stock", {"sku": "UA55CU7700KLXL", "city": "pune"})).data
    assert pune["city"] == "Pune" and pune["stock"] == {"Koregaon Park": 5}
    one = (await call(catalog, "check_stock", {"sku": "UA55CU7700KLXL", "store": "PUN-KOR"})).data
    assert one["store"] == "PUN-KOR" and one["stores"][0]["units"] == 5


async def test_results_say_when_each_price_changed(catalog: Catalog) -> None:
    data = (await call(catalog, "search_products", {"query": "55CU7700"})).data
    [product] = data["products"]
    assert product["price_changed_at"].startswith("2027-01-14T")
    assert product["in_stock_in"] == ["Mumbai", "Pune"]
    details = (await call(catalog, "get_product", {"sku": "UA55CU7700KLXL"})).data
    assert details["specs"] == {"screen": "55 inch", "panel": "LED"}
    assert details["stock"]["Andheri West"] == 4


def test_status_lines_read_as_staff_would_say_them() -> None:
    assert status_line("search_products", {"category": "washing_machine", "max_price": 30000}) == (
        status_line("search_products", {"query": "washing machines", "max_price": 30000})
    )
    assert "TVs" in status_line("search_products", {"category": "tv", "store": "MUM-ANW"})
    assert "MUM-ANW" in status_line("check_stock", {"sku": "X", "store": "MUM-ANW"})
    assert time.time() > 0
