"""`bench answers` on the offline demo model, as a floor the suite keeps: every fact of every
question found, and no figure in any answer left unverified."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bench.answers import CASES, run_cases
from bot.catalog.index import Catalog
from bot.catalog.load import SAMPLE_CATALOG, load_catalog
from bot.model.demo import DEMO_API_KEY, DEMO_MODEL, INSTANT, DemoModel
from bot.settings import Settings


async def test_the_demo_model_finds_every_fact_and_leaves_no_figure_unverified(
    tmp_path: Path,
) -> None:
    catalog = Catalog(load_catalog(SAMPLE_CATALOG))
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'bench.db'}",
        spool_path=tmp_path / "spool.jsonl",
        user_questions=100_000,
        user_tokens_per_day=10**12,
    )
    async with DemoModel.start(pace=INSTANT) as demo:
        demo_settings = replace(
            settings, anthropic_api_key=DEMO_API_KEY, anthropic_base_url=demo.url, model=DEMO_MODEL
        )
        [outcomes] = await run_cases(demo_settings, CASES, catalog, passes=1)
    assert len(outcomes) == 40
    assert {o.case.question: o.missing for o in outcomes if o.missing} == {}
    assert {o.case.question: o.unverified for o in outcomes if o.unverified} == {}
    kinds = {o.case.kind for o in outcomes}
    assert kinds == {"product", "price", "stock", "policy", "offer", "troubleshooting"}
    policies = [o for o in outcomes if o.case.kind in ("policy", "offer", "troubleshooting")]
    assert all(o.sources > 0 for o in policies)  # a newcomer's first try shows sources
