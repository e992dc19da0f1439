"""Reading a catalog file (JSON list or CSV) into products, checking every row.

CSV columns: sku, name, brand, category, price, mrp, warranty, specs (`key=value; key=value`)
and one `stock_<City>` column per store city. JSON: a list of objects with the same fields,
`specs` and `stock` as objects.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

from bot.catalog.product import Product
from bot.errors import CatalogError

SAMPLE_CATALOG = Path(__file__).with_name("sample_catalog.json")
SKU = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,39}$")
MAX_PROBLEMS = 20


def load_catalog(path: Path) -> list[Product]:
    """All products in `path`; `CatalogError` naming each bad row and field otherwise."""
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"cannot read the catalog {path}: {exc.strerror}", problems=[]) from None
    records = _records(path, raw)
    products: list[Product] = []
    problems: list[str] = []
    seen: set[str] = set()
    for number, record in enumerate(records, start=1):
        product, errors = _product(record)
        label = f"row {number}" + (f" ({record.get('sku')})" if record.get("sku") else "")
        problems.extend(f"{label}: {error}" for error in errors)
        if product is not None:
            if product.sku in seen:
                problems.append(f"{label}: sku {product.sku} appears more than once")
            seen.add(product.sku)
            products.append(product)
    if not records:
        problems.append("the catalog has no products")
    if problems:
        shown = problems[:MAX_PROBLEMS]
        more = len(problems) - len(shown)
        if more:
            shown.append(f"... and {more} more")
        raise CatalogError(f"{path} has {len(problems)} problem(s)", problems=shown)
    return products


def _records(path: Path, raw: str) -> list[dict[str, Any]]:
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise CatalogError(
                f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}", problems=[]
            ) from None
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise CatalogError(f"{path} must hold a JSON list of products", problems=[])
        return data
    if path.suffix.lower() == ".csv":
        return [_from_csv(row) for row in csv.DictReader(raw.splitlines())]
    raise CatalogError(f"{path}: a catalog is a .json or .csv file", problems=[])


def _from_csv(row: dict[str, str]) -> dict[str, Any]:
    record: dict[str, Any] = {k: v for k, v in row.items() if k and not k.startswith("stock_")}
    specs = {}
    for part in (row.get("specs") or "").split(";"):
        if "=" in part:
            key, value = part.split("=", 1)
            specs[key.strip()] = value.strip()
    record["specs"] = specs
    record["stock"] = {
        k.removeprefix("stock_"): v for k, v in row.items() if k and k.startswith("stock_")
    }
    return record


def _product(record: dict[str, Any]) -> tuple[Product | None, list[str]]:
    errors: list[str] = []
    text = {}
    for name in ("sku", "name", "brand", "category", "warranty"):
        value = record.get(name)
        if not isinstance(value, str) or not value.strip():
            errors.append(f"{name} is missing")
        else:
            text[name] = value.strip()
    if "sku" in text and not SKU.match(text["sku"]):
        errors.append(f"sku {text['sku']!r} must be 3 to 40 capital letters, digits and dashes")
    price, mrp = _rupees(record, "price", errors), _rupees(record, "mrp", errors)
    if price is not None and mrp is not None and mrp < price:
        errors.append(f"mrp ₹{mrp:,} is below the price ₹{price:,}")
    stock = _stock(record.get("stock"), errors)
    specs = record.get("specs") or {}
    if not isinstance(specs, dict):
        errors.append("specs must be key/value pairs")
        specs = {}
    if errors or price is None or mrp is None:
        return None, errors
    return Product(
        sku=text["sku"],
        name=text["name"],
        brand=text["brand"],
        category=text["category"],
        price=price,
        mrp=mrp,
        warranty=text["warranty"],
        specs={str(k): str(v) for k, v in specs.items()},
        stock=stock,
    ), []


def _rupees(record: dict[str, Any], name: str, errors: list[str]) -> int | None:
    value = record.get(name)
    try:
        amount = int(str(value).replace(",", "")) if value not in (None, "") else None
    except ValueError:
        amount = None
    if amount is None or amount <= 0:
        errors.append(f"{name} must be a whole number of rupees above 0, got {value!r}")
        return None
    return amount


def _stock(value: Any, errors: list[str]) -> dict[str, int]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        errors.append("stock must map store cities to counts")
        return {}
    stock = {}
    for city, count in value.items():
        try:
            number = int(count)
        except (TypeError, ValueError):
            number = -1
        if number < 0:
            errors.append(f"stock in {city} must be a whole number of 0 or more, got {count!r}")
        else:
            stock[str(city)] = number
    return stock
