"""What the catalog says now, for the figure check before an answer's final edit
(`bot.wording.figures.CatalogNow`): current prices and stock of the SKUs an answer names, and
every SKU and place the catalog knows.

Stock is keyed by the places an answer's text would name: each store's name, code and area
(that store's units) and each city (the units of all its stores), as `figures` matches them
(case and a trailing "store" aside). A store named as its city (the single-file catalog's
stores are) stands for the city's total.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.catalog.base import Catalog, CatalogView
from bot.catalog.per_generation import PerGeneration
from bot.wording.figures import Names, ProductNow


class CatalogFigures:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._names: PerGeneration[Names] = PerGeneration(keep=1)

    async def prices_now(self, skus: Sequence[str]) -> dict[str, ProductNow]:
        view = await self.catalog.view()
        products = await view.products(skus)
        if not products:
            return {}
        places: dict[str, dict[str, int]] = {sku: {} for sku in products}
        stock = await view.stock(list(products))
        for row in stock:
            held = places[row.sku]
            city = row.store.city.lower()
            held[city] = held.get(city, 0) + row.units
        for row in stock:
            held = places[row.sku]
            for place in (row.store.name, row.store.code, row.store.area):
                if place and place.lower() != row.store.city.lower():
                    held[place.lower()] = row.units
        return {
            sku: ProductNow(product.price, product.mrp, places[sku])
            for sku, product in products.items()
        }

    async def names_now(self) -> Names:
        view = await self.catalog.view()
        return await self._names.get(view.generation, lambda: _names(view))


async def _names(view: CatalogView) -> Names:
    vocabulary = await view.vocabulary()
    places: set[str] = set()
    for store in vocabulary.stores.values():
        places.update(p.lower() for p in (store.city, store.name, store.code, store.area) if p)
    return Names(await view.skus(), frozenset(places))
