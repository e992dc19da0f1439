"""A product as the single-file catalog of earlier versions holds it (stock by city), for the
in-memory index kept as the benchmark's baseline. Prices are whole rupees."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    brand: str
    category: str
    price: int
    mrp: int
    warranty: str
    specs: dict[str, str] = field(default_factory=dict)
    stock: dict[str, int] = field(default_factory=dict)

    def in_stock(self) -> list[str]:
        return [city for city, count in self.stock.items() if count > 0]

    def summary(self) -> dict[str, Any]:
        """What a search result tells Claude about the product."""
        return {
            "sku": self.sku,
            "name": self.name,
            "brand": self.brand,
            "category": self.category,
            "price_inr": self.price,
            "mrp_inr": self.mrp,
            "in_stock_in": self.in_stock(),
        }

    def details(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "specs": self.specs,
            "warranty": self.warranty,
            "stock": self.stock,
        }
