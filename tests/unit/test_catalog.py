"""The product catalog: loading and checking files, and searching with filters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.catalog.index import Catalog, SearchFilters
from bot.catalog.load import SAMPLE_CATALOG, load_catalog
from bot.errors import CatalogError
from tests.conftest import run_bot


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog(load_catalog(SAMPLE_CATALOG))


def test_the_sample_catalog_covers_every_category_and_city(catalog: Catalog) -> None:
    products = list(catalog.products.values())
    assert 180 <= len(products) <= 220
    assert len({p.category for p in products}) == 7
    assert {city for p in products for city in p.stock} == {
        "Mumbai",
        "Delhi",
        "Bengaluru",
        "Hyderabad",
        "Chennai",
        "Kolkata",
    }
    assert all(p.mrp >= p.price > 0 for p in products)


@pytest.mark.parametrize(
    ("query", "filters", "check"),
    [
        (
            "",
            SearchFilters(category="tv", max_price=50_000),
            lambda p: p.category == "tv" and p.price <= 50_000,
        ),
        ("", SearchFilters(category="ac", brand="voltas"), lambda p: p.brand == "Voltas"),
        ("", SearchFilters(min_price=100_000), lambda p: p.price >= 100_000),
        (
            "",
            SearchFilters(category="refrigerator", city="Hyderabad"),
            lambda p: p.stock["Hyderabad"] > 0,
        ),
        ("oled", SearchFilters(), lambda p: "OLED" in p.name + str(p.specs)),
        ("ifb 6.5", SearchFilters(), lambda p: p.brand == "IFB" and "6.5 kg" in p.name),
        ("1.5 ton inverter", SearchFilters(category="ac"), lambda p: "1.5 Ton" in p.name),
    ],
)
def test_search_filters_hold_for_every_result(
    catalog: Catalog, query: str, filters: SearchFilters, check: object
) -> None:
    found = catalog.search(query, filters, limit=50)
    assert found, "something matches"
    assert all(check(p) for p in found)  # type: ignore[operator]


def test_search_without_a_query_lists_cheapest_first(catalog: Catalog) -> None:
    prices = [p.price for p in catalog.search("", SearchFilters(category="phone"), limit=20)]
    assert prices == sorted(prices)


def test_nothing_matches_an_unknown_product(catalog: Catalog) -> None:
    assert catalog.search("hovercraft") == []


def test_get_is_by_sku_ignoring_case(catalog: Catalog) -> None:
    product = catalog.get("smx-tv-0001")
    assert product is not None and product.sku == "SMX-TV-0001"
    assert catalog.get("SMX-XX-9999") is None


def test_a_csv_catalog_loads(tmp_path: Path) -> None:
    path = tmp_path / "catalog.csv"
    path.write_text(
        "sku,name,brand,category,price,mrp,warranty,specs,stock_Mumbai,stock_Delhi\n"
        'SMX-TV-9001,Demo 43" TV,Demo,tv,"19,990",24990,1 year,screen=43 inch; panel=LED,3,0\n'
    )
    [product] = load_catalog(path)
    assert (product.sku, product.price, product.mrp) == ("SMX-TV-9001", 19990, 24990)
    assert product.specs == {"screen": "43 inch", "panel": "LED"}
    assert product.stock == {"Mumbai": 3, "Delhi": 0}


def test_a_broken_catalog_names_every_bad_row_and_field(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    good = json.loads(SAMPLE_CATALOG.read_text())[0]
    path.write_text(
        json.dumps(
            [
                good,
                {**good, "sku": "SMX-TV-0002", "price": "cheap"},
                {**good, "sku": "SMX-TV-0003", "category": "hovercraft", "mrp": 10},
                {**good, "sku": "SMX-TV-0004", "stock": {"Mumbai": -2}},
                {**good, "name": ""},
                good,
            ]
        )
    )
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    problems = caught.value.problems
    assert (
        "row 2 (SMX-TV-0002): price must be a whole number of rupees above 0, got 'cheap'"
        in problems
    )
    assert "row 3 (SMX-TV-0003): mrp ₹10 is below the price ₹67,990" in problems
    assert (
        "row 4 (SMX-TV-0004): stock in Mumbai must be a whole number of 0 or more, got -2"
        in problems
    )
    assert "row 5 (SMX-TV-0001): name is missing" in problems
    assert "row 6 (SMX-TV-0001): sku SMX-TV-0001 appears more than once" in problems


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.json", "{not json", "is not valid JSON"),
        ("bad.json", '{"sku": 1}', "must hold a JSON list of products"),
        ("bad.txt", "x", "a catalog is a .json or .csv file"),
        ("empty.json", "[]", "the catalog has no products"),
    ],
)
def test_unusable_files_say_why(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(CatalogError, match=message):
        load_catalog(path)


async def run_cli(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'shopmax.db'}"}
    return await run_bot("catalog", *args, env=env)


async def test_catalog_check_command(tmp_path: Path) -> None:
    code, out, _ = await run_cli(tmp_path, "check", str(SAMPLE_CATALOG))
    assert code == 0 and "200 products, 6 stores, 1200 stock figures, OK" in out
    broken = tmp_path / "broken.json"
    broken.write_text('[{"sku": "x"}]')
    code, _, err = await run_cli(tmp_path, "check", str(broken))
    assert code == 2
    assert "row 1 (x): name is missing" in err


async def test_catalog_search_command(tmp_path: Path) -> None:
    """Searches the catalog in the store (the sample, imported while it is empty)."""
    code, out, _ = await run_cli(
        tmp_path, "search", "tv", "--max-price", "20000", "--city", "Chennai"
    )
    lines = out.splitlines()
    assert code == 0 and lines
    assert all(line.startswith("SMX-TV-") and "Chennai" in line for line in lines)
