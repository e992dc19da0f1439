"""Reading and checking catalog feeds (the contract: docs/catalog.md). Pure but for reading the
files named.

A full feed is a folder with `products.csv`, `stores.csv` and `stock.csv` (or the same as
`.json`: a list of objects with the same fields, `specs` an object); a partial feed is one file
whose header says what it changes: `sku,price,mrp` (prices) or `sku,store,units` (stock). The
single-file catalog of earlier versions (`sample_catalog.json`, or its CSV with `stock_<City>`
columns) is read too, each city becoming one store.

A feed is checked whole before anything is applied: types, ranges, duplicate keys, references
between its files, mrp ≥ price, sizes and hostile text (control characters, huge fields). Every
bad row and field is named (up to `MAX_PROBLEMS`) in one `CatalogError`. References to what the
catalog already holds (a partial feed's SKUs and stores) are checked by the catalog as it
applies the feed, in the same transaction.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from bot.catalog.base import Feed, PriceRow, ProductRow, StockRow, StoreRow
from bot.errors import CatalogError

MAX_PROBLEMS = 20
MAX_FILE_BYTES = 200_000_000  # a chain's stock file (1.5 million rows) is about 40 MB
MAX_PRICE = 10_000_000  # rupees: ₹1 crore, far above anything a store sells
MAX_UNITS = 1_000_000
SKU = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,39}$")
STORE_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,39}$")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
LENGTHS = {
    "name": 200,
    "brand": 60,
    "category": 60,
    "warranty": 200,
    "city": 60,
    "area": 100,
    "specs": 2000,
}
PRODUCT_FIELDS = ("sku", "name", "brand", "category", "price", "mrp", "warranty", "specs")
STORE_FIELDS = ("code", "name", "city", "area")
STOCK_FIELDS = ("sku", "store", "units")
PRICE_FIELDS = ("sku", "price", "mrp")

Kind = Literal["prices", "stock"]
T = TypeVar("T")


class Problems:
    """Every problem found, the first `MAX_PROBLEMS` kept word for word."""

    def __init__(self) -> None:
        self.shown: list[str] = []
        self.count = 0

    def add(self, problem: str) -> None:
        self.count += 1
        if len(self.shown) < MAX_PROBLEMS:
            self.shown.append(problem)

    def raise_if_any(self, what: str) -> None:
        if self.count:
            shown = list(self.shown)
            if self.count > len(shown):
                shown.append(f"... and {self.count - len(shown)} more")
            raise CatalogError(
                f"{what} has {self.count} problem(s); nothing was changed", problems=shown
            )


@dataclass(frozen=True)
class Partial:
    """A partial feed: prices or stock figures to change."""

    kind: Kind
    prices: Sequence[PriceRow] = ()
    stock: Sequence[StockRow] = ()

    def __len__(self) -> int:
        return len(self.prices) + len(self.stock)


# ---- whole feeds ---------------------------------------------------------------------------


def read_full(folder: Path) -> Feed:
    """The full feed in `folder` (see the module docstring), checked whole."""
    if not folder.is_dir():
        raise CatalogError(f"{folder} is not a folder with products, stores and stock", problems=[])
    texts = {}
    for name in ("products", "stores", "stock"):
        found = [folder / f"{name}{suffix}" for suffix in (".csv", ".json")]
        present = [path for path in found if path.is_file()]
        if len(present) != 1:
            raise CatalogError(
                f"{folder} needs exactly one of {name}.csv or {name}.json", problems=[]
            )
        texts[name] = (present[0], _read(present[0]))
    return feed_from(
        products=texts["products"][1],
        stores=texts["stores"][1],
        stock=texts["stock"][1],
        formats={name: path.suffix.lower()[1:] for name, (path, _) in texts.items()},
        source=str(folder),
    )


def feed_from(
    *,
    products: str,
    stores: str,
    stock: str,
    formats: Mapping[str, str] | None = None,
    source: str = "the feed",
) -> Feed:
    """A full feed from the texts of its three files (CSV unless `formats` says `json`)."""
    formats = formats or {}
    problems = Problems()
    product_rows = _rows(
        products, formats.get("products", "csv"), PRODUCT_FIELDS, "products", problems
    )
    store_rows = _rows(stores, formats.get("stores", "csv"), STORE_FIELDS, "stores", problems)
    stock_rows = _rows(stock, formats.get("stock", "csv"), STOCK_FIELDS, "stock", problems)
    checked_products = products_of(product_rows, problems, "products")
    checked_stores = stores_of(store_rows, problems, "stores")
    checked_stock = stock_of(stock_rows, problems, "stock")
    if not checked_products and not problems.count:
        problems.add("products: the feed has no products")
    skus = {p.sku for p in checked_products}
    codes = {s.code for s in checked_stores}
    for number, row in enumerate(checked_stock, start=1):
        # (a file whose header could not be read has no rows to refer to: named already)
        if row.sku not in skus and product_rows:
            problems.add(f"stock row {number}: sku {row.sku} is not in products")
        if row.store not in codes and store_rows:
            problems.add(f"stock row {number}: store {row.store} is not in stores")
    problems.raise_if_any(source)
    return Feed(checked_products, checked_stores, checked_stock)


def read_legacy(path: Path) -> Feed:
    """The single-file catalog of earlier versions (JSON list, or CSV with `stock_<City>`
    columns): each city becomes one store, its code the city's name in capitals."""
    raw = _read(path)
    problems = Problems()
    suffix = path.suffix.lower()
    records: list[dict[str, Any]]
    if suffix == ".json":
        records = _json_list(raw, "catalog", problems)
    elif suffix == ".csv":
        records = []
        for row in _csv(raw, "catalog", problems, None):
            record: dict[str, Any] = {
                k: v for k, v in row.items() if k and not k.startswith("stock_")
            }
            record["stock"] = {
                k.removeprefix("stock_"): v for k, v in row.items() if k and k.startswith("stock_")
            }
            records.append(record)
    else:
        raise CatalogError(f"{path}: a catalog is a .json or .csv file", problems=[])
    cities: dict[str, str] = {}
    stock: list[dict[str, Any]] = []
    for number, record in enumerate(records, start=1):
        held = record.pop("stock", None) or {}
        if not isinstance(held, dict):
            problems.add(f"row {number}: stock must map store cities to counts")
            continue
        for city, units in held.items():
            code = city_code(str(city))
            cities.setdefault(code, str(city))
            stock.append({"sku": record.get("sku"), "store": code, "units": units})
    products = products_of(records, problems, "row")
    stores = stores_of(
        [{"code": code, "name": city, "city": city} for code, city in cities.items()],
        problems,
        "store",
    )
    units = stock_of(stock, problems, "stock")
    if not records and not problems.count:
        problems.add("the catalog has no products")
    problems.raise_if_any(str(path))
    return Feed(products, stores, units)


def city_code(city: str) -> str:
    """A store code for a city of the single-file catalog: "New Delhi" → "NEW-DELHI"."""
    return re.sub(r"[^A-Z0-9]+", "-", city.strip().upper()).strip("-")[:40] or "STORE"


def read_any(path: Path) -> Feed:
    """A full feed from a folder, or the single-file catalog from a file."""
    return read_full(path) if path.is_dir() else read_legacy(path)


# ---- partial feeds -------------------------------------------------------------------------


def read_partial(path: Path) -> Partial:
    fmt = path.suffix.lower()[1:]
    return partial_from(_read(path), fmt if fmt in ("csv", "json") else "csv", str(path))


def partial_from(text: str, fmt: str = "csv", source: str = "the feed") -> Partial:
    """Prices or stock, as the header (or the JSON objects' fields) says."""
    problems = Problems()
    fields = _fields(text, fmt)
    if set(fields) == set(PRICE_FIELDS):
        rows = _rows(text, fmt, PRICE_FIELDS, "prices", problems)
        prices = prices_of(rows, problems, "row")
        problems.raise_if_any(source)
        return Partial("prices", prices=prices)
    if set(fields) == set(STOCK_FIELDS):
        rows = _rows(text, fmt, STOCK_FIELDS, "stock", problems)
        stock = stock_of(rows, problems, "row")
        problems.raise_if_any(source)
        return Partial("stock", stock=stock)
    raise CatalogError(
        f"{source}: a partial feed's header is sku,price,mrp (prices) or sku,store,units "
        f"(stock), not {','.join(fields)[:200] or 'empty'}",
        problems=[],
    )


def table_from(text: str, kind: str, fmt: str = "csv", source: str = "the feed") -> Sequence[Any]:
    """One table's rows, checked: `products`, `stores`, `stock` or `prices` (HTTP pushes)."""
    problems = Problems()
    fields = {
        "products": PRODUCT_FIELDS,
        "stores": STORE_FIELDS,
        "stock": STOCK_FIELDS,
        "prices": PRICE_FIELDS,
    }[kind]
    rows = _rows(text, fmt, fields, kind, problems)
    checked: Sequence[Any]
    if kind == "products":
        checked = products_of(rows, problems, "row")
    elif kind == "stores":
        checked = stores_of(rows, problems, "row")
    elif kind == "stock":
        checked = stock_of(rows, problems, "row")
    else:
        checked = prices_of(rows, problems, "row")
    if not rows and not problems.count and kind in ("products", "stores"):
        problems.add(f"no {kind}: a push of {kind} replaces them all, so it cannot be empty")
    problems.raise_if_any(source)
    return checked


# ---- rows ----------------------------------------------------------------------------------


def products_of(
    rows: Sequence[Mapping[str, Any]], problems: Problems, label: str
) -> list[ProductRow]:
    found: list[ProductRow] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        where = _where(label, number, row.get("sku"))
        errors: list[str] = []
        sku = _sku(row.get("sku"), errors)
        text = {
            name: _text(row.get(name), name, errors)
            for name in ("name", "brand", "category", "warranty")
        }
        specs = _specs(row.get("specs"), errors)
        price, mrp = _prices(row, errors)
        for error in errors:
            problems.add(f"{where}: {error}")
        if sku is not None and sku in seen:
            problems.add(f"{where}: sku {sku} appears more than once")
        if errors or sku is None or price is None or mrp is None or sku in seen:
            continue
        seen.add(sku)
        found.append(
            ProductRow(
                sku=sku,
                name=text["name"],
                brand=text["brand"],
                category=text["category"].lower(),
                price=price,
                mrp=mrp,
                warranty=text["warranty"],
                specs=specs,
            )
        )
    return found


def stores_of(rows: Sequence[Mapping[str, Any]], problems: Problems, label: str) -> list[StoreRow]:
    found: list[StoreRow] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        where = _where(label, number, row.get("code"))
        errors: list[str] = []
        code = _code(row.get("code"), "code", errors)
        name = _text(row.get("name"), "name", errors)
        city = _text(row.get("city"), "city", errors)
        area = _text(row.get("area"), "area", errors, required=False)
        for error in errors:
            problems.add(f"{where}: {error}")
        if code is not None and code in seen:
            problems.add(f"{where}: store {code} appears more than once")
        if errors or code is None or code in seen:
            continue
        seen.add(code)
        found.append(StoreRow(code, name, city, area))
    return found


def stock_of(rows: Sequence[Mapping[str, Any]], problems: Problems, label: str) -> list[StockRow]:
    found: list[StockRow] = []
    seen: set[tuple[str, str]] = set()
    for number, row in enumerate(rows, start=1):
        where = _where(label, number, row.get("sku"))
        errors: list[str] = []
        sku = _sku(row.get("sku"), errors)
        store = _code(row.get("store"), "store", errors)
        units = _whole(row.get("units"), "units", 0, MAX_UNITS, errors)
        for error in errors:
            problems.add(f"{where}: {error}")
        if sku is None or store is None or units is None or errors:
            continue
        if (sku, store) in seen:
            problems.add(f"{where}: {sku} in store {store} appears more than once")
            continue
        seen.add((sku, store))
        found.append(StockRow(sku, store, units))
    return found


def prices_of(rows: Sequence[Mapping[str, Any]], problems: Problems, label: str) -> list[PriceRow]:
    found: list[PriceRow] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        where = _where(label, number, row.get("sku"))
        errors: list[str] = []
        sku = _sku(row.get("sku"), errors)
        price, mrp = _prices(row, errors)
        for error in errors:
            problems.add(f"{where}: {error}")
        if sku is not None and sku in seen:
            problems.add(f"{where}: sku {sku} appears more than once")
            continue
        if errors or sku is None or price is None or mrp is None:
            continue
        seen.add(sku)
        found.append(PriceRow(sku, price, mrp))
    return found


def _where(label: str, number: int, key: Any) -> str:
    shown = f" ({_shown(key)})" if isinstance(key, str) and key.strip() else ""
    return f"{label} {number}{shown}"


def _shown(value: Any) -> str:
    text = CONTROL.sub("?", str(value))
    return text if len(text) <= 40 else text[:39] + "…"


def _sku(value: Any, errors: list[str]) -> str | None:
    if not isinstance(value, str) or not value.strip():
        errors.append("sku is missing")
        return None
    sku = value.strip().upper()
    if not SKU.match(sku):
        errors.append(f"sku {_shown(value)!r} must be 3 to 40 letters, digits and dashes")
        return None
    return sku


def _code(value: Any, name: str, errors: list[str]) -> str | None:
    if not isinstance(value, str) or not value.strip():
        errors.append(f"{name} is missing")
        return None
    code = value.strip().upper()
    if not STORE_CODE.match(code):
        errors.append(f"{name} {_shown(value)!r} must be 1 to 40 letters, digits, - and _")
        return None
    return code


def _text(value: Any, name: str, errors: list[str], *, required: bool = True) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.append(f"{name} is missing")
        return ""
    if not isinstance(value, str):
        errors.append(f"{name} must be text")
        return ""
    text = value.strip()
    if CONTROL.search(text):
        errors.append(f"{name} holds control characters")
    if len(text) > LENGTHS.get(name, 200):
        errors.append(f"{name} is longer than {LENGTHS.get(name, 200)} characters")
    return text


def _specs(value: Any, errors: list[str]) -> dict[str, str]:
    """Specs as an object, or as `key=value; key=value` text."""
    if value in (None, ""):
        return {}
    pairs: dict[str, str] = {}
    if isinstance(value, str):
        if len(value) > LENGTHS["specs"]:
            errors.append(f"specs is longer than {LENGTHS['specs']} characters")
            return {}
        for part in value.split(";"):
            if not part.strip():
                continue
            if "=" not in part:
                errors.append(f"specs part {_shown(part.strip())!r} is not key=value")
                continue
            key, text = part.split("=", 1)
            pairs[key.strip()] = text.strip()
    elif isinstance(value, dict):
        pairs = {str(k).strip(): str(v).strip() for k, v in value.items()}
    else:
        errors.append("specs must be key=value pairs")
        return {}
    total = sum(len(k) + len(v) for k, v in pairs.items())
    if total > LENGTHS["specs"]:
        errors.append(f"specs is longer than {LENGTHS['specs']} characters")
    if any(CONTROL.search(k + v) for k, v in pairs.items()):
        errors.append("specs holds control characters")
    if any(not k for k in pairs):
        errors.append("specs has an empty key")
    return pairs


def _prices(row: Mapping[str, Any], errors: list[str]) -> tuple[int | None, int | None]:
    price = _whole(row.get("price"), "price", 1, MAX_PRICE, errors)
    mrp = _whole(row.get("mrp"), "mrp", 1, MAX_PRICE, errors)
    if price is not None and mrp is not None and mrp < price:
        errors.append(f"mrp ₹{mrp:,} is below the price ₹{price:,}")
    return price, mrp


def _whole(value: Any, name: str, low: int, high: int, errors: list[str]) -> int | None:
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*\d{1,3}(,\d{2,3})*\s*|\s*\d{1,12}\s*", value):
        number = int(value.replace(",", ""))
    if number is None or not low <= number <= high:
        errors.append(
            f"{name} must be a whole number from {low:,} to {high:,}, got {_shown(value)!r}"
        )
        return None
    return number


# ---- files ---------------------------------------------------------------------------------


def _read(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CatalogError(f"{path} is larger than {MAX_FILE_BYTES:,} bytes", problems=[])
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CatalogError(f"cannot read {path}: {exc.strerror}", problems=[]) from None
    except UnicodeDecodeError:
        raise CatalogError(f"{path} is not UTF-8 text", problems=[]) from None


def _fields(text: str, fmt: str) -> list[str]:
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return []
        first = data[0] if isinstance(data, list) and data else None
        return [str(k) for k in first] if isinstance(first, dict) else []
    line = text.lstrip("\ufeff").split("\n", 1)[0]
    return [f.strip().lower() for f in next(csv.reader([line]), [])]


def _rows(
    text: str, fmt: str, fields: Sequence[str], name: str, problems: Problems
) -> list[dict[str, Any]]:
    if fmt == "json":
        return _json_list(text, name, problems)
    return list(_csv(text, name, problems, fields))


def _json_list(text: str, name: str, problems: Problems) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        problems.add(f"{name}: not valid JSON ({exc.msg} at line {exc.lineno})")
        return []
    except (ValueError, RecursionError):  # a number of thousands of digits, nesting too deep
        problems.add(f"{name}: JSON too deeply nested or with a number too long to read")
        return []
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        problems.add(f"{name}: must be a JSON list of objects")
        return []
    return data


def _csv(
    text: str, name: str, problems: Problems, fields: Sequence[str] | None
) -> Iterator[dict[str, str]]:
    """Rows as dicts by lower-case header; a header missing a field, naming one not in
    `fields` (when given), or a malformed line is a problem."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = [h.strip().lower() for h in next(reader, [])]
    except csv.Error as exc:
        problems.add(f"{name}: the header cannot be read ({exc})")
        return
    if fields is not None:
        missing = [f for f in fields if f not in header and f != "area"]
        unknown = [h for h in header if h not in fields]
        if missing:
            problems.add(f"{name}: the header lacks {', '.join(missing)}")
        if unknown:
            problems.add(f"{name}: the header has unknown columns {_shown(', '.join(unknown))}")
        if missing or unknown:
            return
    if len(set(header)) != len(header):
        problems.add(f"{name}: the header names a column twice")
        return
    line = 1
    try:
        for values in reader:
            line += 1
            if not values or values == [""]:
                continue
            if len(values) != len(header):
                problems.add(
                    f"{name} line {line}: {len(values)} fields, the header has {len(header)}"
                )
                continue
            yield dict(zip(header, values, strict=True))
    except csv.Error as exc:
        problems.add(f"{name} line {line + 1}: {exc}")
