"""The sample catalog in a store-backed catalog, for tests that need the catalog tools without
a bot: one in-memory SQLite catalog per test process (its threads are not tied to an event
loop, so every test's loop can use it), and the tools one answer would get."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.catalog import Catalog, open_catalog
from bot.catalog.feed import read_any
from bot.catalog.load import SAMPLE_CATALOG
from bot.catalog.tools import AnswerTools, Toolbox

_OPENED: list[Catalog] = []


async def sample_catalog() -> Catalog:
    """The sample catalog (never changed by a test: make your own to feed it)."""
    if not _OPENED:
        catalog = await open_catalog("sqlite:///:memory:")
        await catalog.replace(read_any(SAMPLE_CATALOG), at=time.time())
        _OPENED.append(catalog)
    return _OPENED[0]


async def sample_tools(store: str | None = None) -> AnswerTools:
    """One answer's catalog tools over the sample catalog."""
    return await Toolbox(await sample_catalog()).for_asker(store)


def sample_schemas() -> list[dict[str, Any]]:
    """The catalog tools' schemas as Claude gets them (call where no event loop runs)."""

    async def schemas() -> list[dict[str, Any]]:
        catalog = await open_catalog("sqlite:///:memory:")
        try:
            await catalog.replace(read_any(SAMPLE_CATALOG), at=time.time())
            return (await Toolbox(catalog).for_asker(None)).schemas
        finally:
            await catalog.close()

    return asyncio.run(schemas())
