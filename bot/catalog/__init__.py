"""ShopMax's product catalog: loading and checking a file, and searching it.

`load_catalog(path)` reads CSV or JSON and raises `CatalogError` listing every bad row and
field; `Catalog` indexes the products in SQLite full-text search for the Claude tools.
"""

from bot.catalog.index import Catalog, SearchFilters
from bot.catalog.load import SAMPLE_CATALOG, load_catalog
from bot.catalog.product import CATEGORIES, CITIES, Product

__all__ = [
    "CATEGORIES",
    "CITIES",
    "SAMPLE_CATALOG",
    "Catalog",
    "Product",
    "SearchFilters",
    "load_catalog",
]
