"""The catalog's contract (`bot.catalog.base`), run against every backend: SQLite (FTS5 and
trigrams) always, PostgreSQL (tsvector and pg_trgm) where one is reachable."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.catalog import Catalog, Filters, open_catalog
from bot.catalog.base import KEEP_SECONDS, PriceRow, StockRow
from bot.catalog.feed import feed_from, read_any
from bot.catalog.load import SAMPLE_CATALOG
from bot.catalog.now import CatalogFigures
from bot.errors import CatalogError
from tests.services import POSTGRES_URL, drop_schema, postgres_schema

Opener = Callable[[], Awaitable[Catalog]]
AT = 1_800_000_000.0

PRODUCTS = """sku,name,brand,category,price,mrp,warranty,specs
UA55CU7700KLXL,Samsung Crystal 4K 55 inch TV,Samsung,tv,41990,52900,1 year,screen=55 inch; panel=LED
OLED55C4,LG OLED evo C4 55 inch TV,LG,tv,139990,179990,1 year,screen=55 inch; panel=OLED
WH1000XM5,Sony WH-1000XM5 wireless headphones,Sony,headphones,29990,34990,1 year,type=over-ear
TUNE510BT,JBL Tune 510BT headphones,JBL,headphones,2999,3999,1 year,type=on-ear
MS23K3513,Samsung 23 L solo microwave,Samsung,microwave,6990,8990,1 year,capacity=23 L
"""
STORES = """code,name,city,area
MUM-ANW,Andheri West,Mumbai,Andheri West
MUM-BKC,BKC,Mumbai,Bandra Kurla Complex
PUN-KOR,Koregaon Park,Pune,Koregaon Park
"""
STOCK = """sku,store,units
UA55CU7700KLXL,MUM-ANW,3
UA55CU7700KLXL,MUM-BKC,0
UA55CU7700KLXL,PUN-KOR,5
OLED55C4,MUM-BKC,1
WH1000XM5,PUN-KOR,7
TUNE510BT,MUM-ANW,12
MS23K3513,MUM-ANW,0
"""


def chain_feed(products: str = PRODUCTS, stores: str = STORES, stock: str = STOCK):  # type: ignore[no-untyped-def]
    return feed_from(products=products, stores=stores, stock=stock)


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/catalog.db"
        return
    schema = await postgres_schema()
    yield f"{POSTGRES_URL}?search_path={schema}"
    await drop_schema(schema)


@pytest.fixture
async def opener(database: str) -> AsyncIterator[Opener]:
    """Opens catalogs on one fresh database of the backend under test (two are replicas)."""
    opened: list[Catalog] = []

    async def open_one() -> Catalog:
        opened.append(await open_catalog(database))
        return opened[-1]

    yield open_one
    for catalog in opened:
        await catalog.close()


async def fed(opener: Opener) -> Catalog:
    catalog = await opener()
    await catalog.replace(chain_feed(), at=AT)
    return catalog


async def skus(catalog: Catalog, query: str, **filters: object) -> list[str]:
    view = await catalog.view()
    return [p.sku for p in await view.search(query, Filters(**filters), 10)]  # type: ignore[arg-type]


async def test_a_full_feed_reports_what_it_changed_and_again_changes_nothing(
    opener: Opener,
) -> None:
    catalog = await opener()
    assert await catalog.generation() == 0
    first = await catalog.replace(chain_feed(), at=AT)
    assert first.as_dict() == {
        "products": {"added": 5, "changed": 0, "removed": 0},
        "stores": {"added": 3, "changed": 0, "removed": 0},
        "stock": {"added": 7, "changed": 0, "removed": 0},
    }
    again = await catalog.replace(chain_feed(), at=AT + 1)
    assert again.generation is None and await catalog.generation() == first.generation
    changed = chain_feed(
        products=PRODUCTS.replace("2999,3999", "2799,3999").replace(
            "MS23K3513,Samsung 23 L solo microwave,Samsung,microwave,6990,8990,1 year,"
            "capacity=23 L\n",
            "",
        ),
        stock=STOCK.replace("MS23K3513,MUM-ANW,0\n", "").replace("PUN-KOR,7", "PUN-KOR,6"),
    )
    report = await catalog.replace(changed, at=AT + 2)
    assert report.as_dict() == {
        "products": {"added": 0, "changed": 1, "removed": 1},
        "stores": {"added": 0, "changed": 0, "removed": 0},
        "stock": {"added": 0, "changed": 1, "removed": 1},
    }


@pytest.mark.parametrize(
    ("query", "filters", "expected"),
    [
        ("55CU7700", {}, ["UA55CU7700KLXL"]),  # part of a model number
        ("samsung 55cu", {}, ["UA55CU7700KLXL"]),
        ("headphones", {}, ["TUNE510BT", "WH1000XM5"]),  # cheapest first among equals
        ("", {"category": "tv", "max_price": 50_000}, ["UA55CU7700KLXL"]),
        ("", {"brand": "samsung"}, ["MS23K3513", "UA55CU7700KLXL"]),
        ("", {"min_price": 30_000}, ["UA55CU7700KLXL", "OLED55C4"]),
        ("", {"store": "mum-bkc"}, ["OLED55C4"]),  # in stock there: the TV with 0 is not
        ("", {"city": "pune"}, ["WH1000XM5", "UA55CU7700KLXL"]),
        ("tv", {"city": "Mumbai", "store": "MUM-ANW"}, ["UA55CU7700KLXL"]),
        ("microwave", {"city": "Mumbai"}, []),  # none in stock
        ("hovercraft", {}, []),
    ],
)
async def test_search_matches_every_word_and_every_filter(
    opener: Opener, query: str, filters: dict[str, object], expected: list[str]
) -> None:
    catalog = await fed(opener)
    assert await skus(catalog, query, **filters) == expected


async def test_a_hostile_query_is_cut_to_a_dozen_words(opener: Opener) -> None:
    catalog = await fed(opener)
    assert await skus(catalog, "tv " * 2000) == await skus(catalog, "tv")
    assert await skus(catalog, '" OR 1=1; -- * % _ \\') == []


async def test_an_answer_keeps_the_catalog_it_started_with(opener: Opener) -> None:
    """Pin, apply a price and a stock feed, read: the pinned view sees neither, a new view
    both (the same for a whole feed)."""
    catalog = await fed(opener)
    pinned = await catalog.view()
    await catalog.update_prices([PriceRow("OLED55C4", 119_990, 179_990)], at=AT + 10)
    await catalog.update_stock([StockRow("OLED55C4", "MUM-BKC", 0)], at=AT + 10)
    await catalog.replace_stores(
        [s for s in chain_feed().stores if s.code != "PUN-KOR"], at=AT + 11
    )
    old = (await pinned.products(["OLED55C4"]))["OLED55C4"]
    assert old.price == 139_990 and old.changed_at == AT
    assert [(s.store.code, s.units) for s in await pinned.stock(["OLED55C4"])] == [("MUM-BKC", 1)]
    assert await skus_at(pinned, "", store="MUM-BKC") == ["OLED55C4"]
    assert "PUN-KOR" in (await pinned.vocabulary()).stores
    assert await skus_at(pinned, "", city="Pune") == ["WH1000XM5", "UA55CU7700KLXL"]
    now = await catalog.view()
    new = (await now.products(["OLED55C4"]))["OLED55C4"]
    assert new.price == 119_990 and new.changed_at == AT + 10
    assert [s.units for s in await now.stock(["OLED55C4"])] == [0]
    assert await skus_at(now, "", store="MUM-BKC") == []
    assert "PUN-KOR" not in (await now.vocabulary()).stores
    assert await skus_at(now, "", city="Pune") == []


async def skus_at(view: object, query: str, **filters: object) -> list[str]:
    found = await view.search(query, Filters(**filters), 10)  # type: ignore[attr-defined,arg-type]
    return [p.sku for p in found]


async def test_a_partial_feed_naming_what_the_catalog_lacks_changes_nothing(
    opener: Opener,
) -> None:
    catalog = await fed(opener)
    before = await catalog.generation()
    with pytest.raises(CatalogError) as caught:
        await catalog.update_stock(
            [StockRow("OLED55C4", "MUM-ANW", 4), StockRow("NOPE-1", "MUM-XXX", 1)], at=AT + 5
        )
    assert caught.value.problems == [
        "row 2 (NOPE-1): sku NOPE-1 is not in the catalog",
        "row 2: store MUM-XXX is not in the catalog",
    ]
    with pytest.raises(CatalogError, match="not in the catalog"):
        await catalog.update_prices([PriceRow("GONE-1", 10, 10)], at=AT + 5)
    assert await catalog.generation() == before
    view = await catalog.view()
    assert [s.store.code for s in await view.stock(["OLED55C4"])] == ["MUM-BKC"]


async def test_a_product_or_store_pushed_away_takes_its_stock_along(opener: Opener) -> None:
    catalog = await fed(opener)
    products = [p for p in chain_feed().products if p.sku != "TUNE510BT"]
    report = await catalog.replace_products(products, at=AT + 1)
    assert (report.products.removed, report.stock.removed) == (1, 1)
    stores = [s for s in chain_feed().stores if s.code != "MUM-ANW"]
    report = await catalog.replace_stores(stores, at=AT + 2)
    assert (report.stores.removed, report.stock.removed) == (1, 2)
    view = await catalog.view()
    assert await view.stock(["UA55CU7700KLXL", "TUNE510BT"]) != []
    assert {s.store.code for s in await view.stock(["UA55CU7700KLXL"])} == {"MUM-BKC", "PUN-KOR"}


async def test_categories_brands_cities_and_stores_come_from_the_data(opener: Opener) -> None:
    catalog = await fed(opener)
    vocabulary = await (await catalog.view()).vocabulary()
    assert vocabulary.categories == ("headphones", "microwave", "tv")
    assert vocabulary.cities == ("Mumbai", "Pune")
    assert vocabulary.brands == ("JBL", "LG", "Samsung", "Sony")
    assert vocabulary.stores["PUN-KOR"].area == "Koregaon Park"


async def test_a_replica_sees_a_feed_at_its_next_view_without_restarting(
    opener: Opener,
) -> None:
    one, two = await fed(opener), await opener()
    assert (await (await two.view()).products(["OLED55C4"]))["OLED55C4"].price == 139_990
    await one.update_prices([PriceRow("OLED55C4", 99_990, 179_990)], at=AT + 1)
    assert (await (await two.view()).products(["OLED55C4"]))["OLED55C4"].price == 99_990


async def test_old_row_versions_go_once_no_answer_can_need_them(opener: Opener) -> None:
    catalog = await fed(opener)
    pinned = await catalog.view()
    await catalog.update_stock([StockRow("OLED55C4", "MUM-BKC", 2)], at=AT + 10)
    assert await catalog.prune(at=AT + 10 + KEEP_SECONDS - 1) == 0
    assert [s.units for s in await pinned.stock(["OLED55C4"])] == [1]
    assert await catalog.prune(at=AT + 10 + KEEP_SECONDS) == 1
    assert [s.units for s in await (await catalog.view()).stock(["OLED55C4"])] == [2]


async def test_the_sample_catalog_imports_a_store_per_city(opener: Opener) -> None:
    catalog = await opener()
    report = await catalog.replace(read_any(SAMPLE_CATALOG), at=AT)
    assert (report.products.added, report.stores.added, report.stock.added) == (200, 6, 1200)
    view = await catalog.view()
    assert (await view.vocabulary()).stores["MUMBAI"].city == "Mumbai"
    assert len(await view.skus()) == 200
    assert await skus_at(view, "oled", category="tv", city="Mumbai")


async def test_feeds_applied_together_apply_one_after_the_other(opener: Opener) -> None:
    one, two = await fed(opener), await opener()
    await asyncio.gather(
        one.update_stock([StockRow("OLED55C4", "MUM-BKC", 5)], at=AT + 1),
        two.update_stock([StockRow("WH1000XM5", "PUN-KOR", 9)], at=AT + 1),
    )
    view = await one.view()
    assert view.generation == 3
    units = {s.sku: s.units for s in await view.stock(["OLED55C4", "WH1000XM5"])}
    assert units == {"OLED55C4": 5, "WH1000XM5": 9}


async def test_answers_starting_together_share_one_read_of_what_changes_per_feed(
    opener: Opener,
) -> None:
    """A burst of answers reads the vocabulary and the names once, not once each; a feed
    makes a new generation, read afresh."""
    catalog = await fed(opener)
    views = [await catalog.view() for _ in range(50)]
    vocabularies = await asyncio.gather(*(view.vocabulary() for view in views))
    assert all(vocabulary is vocabularies[0] for vocabulary in vocabularies)
    figures = CatalogFigures(catalog)
    names = await asyncio.gather(*(figures.names_now() for _ in range(50)))
    assert all(found is names[0] for found in names)
    assert "UA55CU7700KLXL" in names[0].skus and "koregaon park" in names[0].places
    await catalog.update_prices([PriceRow("OLED55C4", 99_990, 179_990)], at=AT + 1)
    assert await (await catalog.view()).vocabulary() is not vocabularies[0]
    assert await figures.names_now() is not names[0]
