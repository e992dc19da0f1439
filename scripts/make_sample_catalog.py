#!/usr/bin/env python3
"""Write the sample catalog that ships with the bot (bot/catalog/sample_catalog.json), or
with `--chain DIR` a chain-scale full feed (16,500 products, 550 brands, 500 stores in 200
cities: `chain_catalog.py`) for trying and benchmarking the catalog at a chain's size.

Deterministic: the same file every run. About 200 products across the categories ShopMax
sells, with prices in rupees as Indian shops list them and stock in six store cities. The
products are plausible, not real listings: they exist so the bot can be tried and tested.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

CITIES = ["Mumbai", "Delhi", "Bengaluru", "Hyderabad", "Chennai", "Kolkata"]
OUT = Path(__file__).resolve().parent.parent / "bot" / "catalog" / "sample_catalog.json"


def tvs(rng: random.Random) -> list[dict]:
    lines = [
        ("Sony", "Bravia 2", "4K LED", 1.0),
        ("Sony", "Bravia 7", "4K Mini LED", 1.6),
        ("Samsung", "Crystal 4K Vista", "4K LED", 0.85),
        ("Samsung", "Neo QLED QN85", "4K Neo QLED", 1.7),
        ("LG", "UR75", "4K LED", 0.8),
        ("LG", "OLED C4", "4K OLED", 2.4),
        ("TCL", "C655", "4K QLED", 0.6),
        ("Xiaomi", "X Pro", "4K QLED", 0.6),
        ("OnePlus", "Y1S Pro", "4K LED", 0.55),
        ("Hisense", "E7N", "4K QLED", 0.58),
    ]
    sizes = {32: 14000, 43: 24000, 50: 32000, 55: 42000, 65: 68000, 75: 110000}
    products = []
    for brand, line, panel, factor in lines:
        for size in rng.sample(sorted(sizes), 4):
            if size == 32 and factor > 1.2:
                continue
            price = round(sizes[size] * factor, -2) - 10
            shown = panel.replace("4K", "HD") if size == 32 else panel
            products.append(
                {
                    "name": f'{brand} {line} {size}" {shown} TV',
                    "brand": brand,
                    "category": "tv",
                    "price": int(price),
                    "specs": {
                        "screen": f"{size} inch",
                        "panel": shown,
                        "resolution": "3840x2160" if size > 32 else "1366x768",
                        "smart_os": {"Samsung": "Tizen", "LG": "webOS"}.get(brand, "Google TV"),
                    },
                    "warranty": "1 year comprehensive + 1 year on panel",
                }
            )
    return products


def acs(rng: random.Random) -> list[dict]:
    brands = ["Voltas", "Daikin", "LG", "Samsung", "Blue Star", "Lloyd", "Carrier", "Hitachi"]
    products = []
    for brand in brands:
        for tons, stars in rng.sample([(1.0, 3), (1.5, 3), (1.5, 5), (2.0, 3), (2.0, 5)], 4):
            base = {1.0: 29000, 1.5: 34000, 2.0: 43000}[tons] + (6000 if stars == 5 else 0)
            price = round(base * rng.uniform(0.9, 1.3), -2) - 10
            products.append(
                {
                    "name": f"{brand} {tons:g} Ton {stars} Star Inverter Split AC",
                    "brand": brand,
                    "category": "ac",
                    "price": int(price),
                    "specs": {
                        "capacity": f"{tons:g} ton",
                        "energy_rating": f"{stars} star",
                        "type": "inverter split",
                        "refrigerant": "R32",
                        "copper_condenser": "yes",
                    },
                    "warranty": "1 year comprehensive, 5 years PCB, 10 years compressor",
                }
            )
    return products


def fridges(rng: random.Random) -> list[dict]:
    brands = ["LG", "Samsung", "Whirlpool", "Godrej", "Haier", "Bosch"]
    kinds = [
        (190, "single door", 14000),
        (260, "double door", 26000),
        (340, "double door", 36000),
        (420, "frost-free double door", 48000),
        (650, "side-by-side", 82000),
    ]
    products = []
    for brand in brands:
        for litres, kind, base in rng.sample(kinds, 5):
            price = round(base * rng.uniform(0.9, 1.2), -2) - 10
            products.append(
                {
                    "name": f"{brand} {litres} L {kind.title()} Refrigerator",
                    "brand": brand,
                    "category": "refrigerator",
                    "price": int(price),
                    "specs": {
                        "capacity": f"{litres} litres",
                        "type": kind,
                        "energy_rating": rng.choice(["2 star", "3 star", "4 star"]),
                        "inverter_compressor": "yes",
                    },
                    "warranty": "1 year comprehensive, 10 years compressor",
                }
            )
    return products


def washers(rng: random.Random) -> list[dict]:
    brands = ["IFB", "LG", "Samsung", "Whirlpool", "Bosch", "Godrej"]
    kinds = [
        (6.5, "fully automatic top load", 16000),
        (7.0, "fully automatic front load", 28000),
        (8.0, "fully automatic front load", 34000),
        (7.5, "semi automatic top load", 11000),
        (9.0, "fully automatic top load", 24000),
    ]
    products = []
    for brand in brands:
        for kg, kind, base in rng.sample(kinds, 5):
            price = round(base * rng.uniform(0.9, 1.25), -2) - 10
            products.append(
                {
                    "name": f"{brand} {kg:g} kg {kind.title()} Washing Machine",
                    "brand": brand,
                    "category": "washing_machine",
                    "price": int(price),
                    "specs": {
                        "capacity": f"{kg:g} kg",
                        "type": kind,
                        "spin_speed": f"{rng.choice([700, 1000, 1200, 1400])} rpm",
                    },
                    "warranty": "2 years comprehensive, 10 years motor",
                }
            )
    return products


def phones(rng: random.Random) -> list[dict]:
    models = [
        ("Samsung", "Galaxy S25", 80000),
        ("Samsung", "Galaxy A56", 42000),
        ("Samsung", "Galaxy M36", 18000),
        ("Apple", "iPhone 17", 82000),
        ("Apple", "iPhone 17 Pro", 135000),
        ("Apple", "iPhone 16e", 60000),
        ("OnePlus", "13", 70000),
        ("OnePlus", "Nord 5", 32000),
        ("Xiaomi", "Redmi Note 15", 19000),
        ("Xiaomi", "Redmi 15C", 11000),
        ("Vivo", "V60", 38000),
        ("Vivo", "T4x", 14000),
        ("Oppo", "Reno 14", 37000),
        ("Realme", "P4", 17000),
        ("Google", "Pixel 10", 80000),
    ]
    products = []
    for brand, model, base in models:
        for storage in rng.sample(["128 GB", "256 GB"], 2 if base > 30000 else 1):
            price = base + (10000 if storage == "256 GB" else 0) - 1
            products.append(
                {
                    "name": f"{brand} {model} ({storage})",
                    "brand": brand,
                    "category": "phone",
                    "price": int(price),
                    "specs": {
                        "storage": storage,
                        "ram": rng.choice(["6 GB", "8 GB", "12 GB"]),
                        "network": "5G",
                        "battery": f"{rng.choice([4500, 5000, 5500, 6000])} mAh",
                    },
                    "warranty": "1 year manufacturer warranty",
                }
            )
    return products


def laptops(rng: random.Random) -> list[dict]:
    models = [
        ("HP", "Pavilion 15", 62000),
        ("HP", "Victus 15 Gaming", 78000),
        ("Dell", "Inspiron 14", 58000),
        ("Dell", "XPS 13", 145000),
        ("Lenovo", "IdeaPad Slim 3", 45000),
        ("Lenovo", "ThinkPad E14", 72000),
        ("Lenovo", "LOQ Gaming", 82000),
        ("Asus", "Vivobook 15", 42000),
        ("Asus", "Zenbook 14 OLED", 92000),
        ("Acer", "Aspire 7", 55000),
        ("Acer", "Swift Go 14", 70000),
        ("Apple", "MacBook Air 13 M4", 99900),
        ("Apple", "MacBook Pro 14 M4", 169900),
        ("MSI", "Modern 15", 40000),
    ]
    products = []
    for brand, model, price in models:
        products.append(
            {
                "name": f"{brand} {model} Laptop",
                "brand": brand,
                "category": "laptop",
                "price": int(price - 10),
                "specs": {
                    "ram": rng.choice(["8 GB", "16 GB", "16 GB", "32 GB"]),
                    "storage": rng.choice(["512 GB SSD", "1 TB SSD"]),
                    "display": rng.choice(
                        ["14 inch FHD", "15.6 inch FHD", "13.6 inch Retina", "14 inch 2.8K OLED"]
                    ),
                },
                "warranty": "1 year onsite",
            }
        )
    return products


def small(rng: random.Random) -> list[dict]:
    kinds = [
        ("Mixer Grinder 750 W", 3500),
        ("Electric Kettle 1.5 L", 1200),
        ("Steam Iron", 1800),
        ("Air Fryer 4.2 L", 6500),
        ("Induction Cooktop", 2800),
        ("OTG 28 L", 7500),
        ("Water Purifier RO+UV", 14000),
    ]
    brands = ["Philips", "Prestige", "Bajaj", "Havells", "Morphy Richards", "Usha", "Kent"]
    products = []
    for kind, base in kinds:
        for brand in rng.sample(brands, 5):
            if kind.startswith("Water Purifier") and brand not in ("Kent", "Havells", "Philips"):
                continue
            price = round(base * rng.uniform(0.85, 1.4), -1) - 1
            products.append(
                {
                    "name": f"{brand} {kind}",
                    "brand": brand,
                    "category": "small_appliance",
                    "price": int(price),
                    "specs": {"type": kind.split(" ")[0].lower()},
                    "warranty": rng.choice(["1 year", "2 years"]),
                }
            )
    return products


PREFIX = {
    "tv": "TV",
    "ac": "AC",
    "refrigerator": "RF",
    "washing_machine": "WM",
    "phone": "PH",
    "laptop": "LT",
    "small_appliance": "SA",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chain", type=Path, metavar="DIR", help="write the chain-scale feed")
    args = parser.parse_args()
    if args.chain is not None:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from chain_catalog import write_chain

        products, stores, stock = write_chain(args.chain)
        print(f"wrote {products} products, {stores} stores, {stock} stock rows to {args.chain}")
        return
    rng = random.Random(20261123)
    products = []
    for make in (tvs, acs, fridges, washers, phones, laptops, small):
        products.extend(make(rng))
    counters: dict[str, int] = {}
    for product in products:
        prefix = PREFIX[product["category"]]
        counters[prefix] = counters.get(prefix, 0) + 1
        product["sku"] = f"SMX-{prefix}-{counters[prefix]:04d}"
        discount = rng.choice([0, 0.05, 0.1, 0.15, 0.2, 0.25])
        mrp = int(round(product["price"] / (1 - discount), -2) - 10) if discount else 0
        product["mrp"] = max(mrp, product["price"])
        product["stock"] = {city: rng.choice([0, 0, 1, 2, 3, 5, 8, 12]) for city in CITIES}
    ordered = [
        {
            key: p[key]
            for key in (
                "sku",
                "name",
                "brand",
                "category",
                "price",
                "mrp",
                "specs",
                "warranty",
                "stock",
            )
        }
        for p in products
    ]
    OUT.write_text(json.dumps(ordered, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(ordered)} products to {OUT}")


if __name__ == "__main__":
    main()
