"""`bench answers`: 40 store-staff questions through the bot's whole answering path, each with
the facts a right answer must contain.

Product, price, stock in a store, policy, offer and troubleshooting questions, a few in
Hinglish. Product facts are read from the catalog when the bench runs (its SKUs, prices and
stock), policy facts from the sample knowledge base's own words. Each question is answered by
the same `Answerer` every surface uses (tools, citations, the figure check, the ledger), on
the offline demo model by default or on Claude with `--model` when `ANTHROPIC_API_KEY` is
set, and is reported with: the facts found, the figures in the answer verified and not, the
sources cited, time to first token, cost, and the share of input tokens read from the prompt
cache (on the demo model, the cache as `bot.model.demo.cache` counts it: whether the tools and
system prompt stay byte-identical between questions).

Baseline, in the same run: the same questions with `search_knowledge` off (the catalog tools
only), which says how many facts the knowledge base is what finds. Each configuration runs
twice, cold then warm (the prompt cache filled by the first pass).

Stock questions name cities today: the catalog knows stock by city. Those marked `store` move
to a store (Andheri West, Koramangala, ...) once the store-aware catalog lands.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.accounting.metrics import Metrics
from bot.app import answerer_for, catalog_for, knowledge_for, model_client, toolbox
from bot.catalog.index import Catalog
from bot.catalog.load import SAMPLE_CATALOG, load_catalog
from bot.catalog.product import Product
from bot.model.demo import DEMO_API_KEY, DEMO_MODEL, INSTANT, DemoModel
from bot.question import Question, Refusal, Surface
from bot.settings import Settings
from bot.store import open_store
from bot.wording.ending import Ending
from bot.wording.figures import find, rupees
from bot.wording.written import Vocabulary

Facts = Callable[[Catalog], list[str]]  # regular expressions a right answer matches


@dataclass(frozen=True)
class Case:
    kind: str  # product, price, stock, policy, offer, troubleshooting
    question: str
    facts: Facts
    absent: tuple[str, ...] = ()  # what a right answer must not say (an expired offer)
    store: bool = False  # names a city now; move to a store with the store-aware catalog


def said(*patterns: str) -> Facts:
    return lambda _catalog: list(patterns)


def price(sku: str) -> Facts:
    return lambda c: [re.escape(sku), _amount(_product(c, sku).price)]


def mrp(sku: str) -> Facts:
    return lambda c: [_amount(_product(c, sku).mrp)]


def saving(sku: str) -> Facts:
    return lambda c: [_amount(_product(c, sku).mrp - _product(c, sku).price)]


def stock(sku: str, city: str) -> Facts:
    def facts(catalog: Catalog) -> list[str]:
        count = _product(catalog, sku).stock.get(city, 0)
        if count == 0:
            return [rf"out of stock[^.\n]{{0,20}}{city}|{city}[^.\n]{{0,30}}(out of stock|\b0\b)"]
        return [rf"\b{count}\b[^.\n]{{0,30}}{city}|{city}[^.\n]{{0,30}}\b{count}\b"]

    return facts


def cities_with_stock(sku: str) -> Facts:
    return lambda c: [city for city, n in _product(c, sku).stock.items() if n > 0]


def instalment(sku: str, months: int) -> Facts:
    return lambda c: [_amount(-(-_product(c, sku).price // months))]


def any_of(category: str, *, under: int, city: str | None = None, name: str = "") -> Facts:
    """Any product that fits: its SKU in the answer."""

    def facts(catalog: Catalog) -> list[str]:
        fits = [
            p.sku
            for p in catalog.products.values()
            if p.category == category
            and p.price <= under
            and (city is None or p.stock.get(city, 0) > 0)
            and name.lower() in p.name.lower()
        ]
        return ["|".join(map(re.escape, fits)) or "no product fits"]

    return facts


def cheapest(category: str, city: str) -> Facts:
    def facts(catalog: Catalog) -> list[str]:
        fits = [p for p in catalog.products.values() if p.category == category]
        fits = [p for p in fits if p.stock.get(city, 0) > 0]
        return [re.escape(min(fits, key=lambda p: p.price).sku)]

    return facts


CASES: tuple[Case, ...] = (
    Case("price", "What is the price of SMX-TV-0002?", price("SMX-TV-0002")),
    Case("price", "SMX-AC-0002 ka price kya hai?", price("SMX-AC-0002")),
    Case("price", "What is the MRP of SMX-PH-0002?", mrp("SMX-PH-0002")),
    Case("price", "How much below MRP is SMX-RF-0001?", saving("SMX-RF-0001")),
    Case("price", "Price of the mixer grinder SMX-SA-0001 in rupees?", price("SMX-SA-0001")),
    Case(
        "product",
        "Which TVs under ₹50,000 are in stock in Mumbai?",
        any_of("tv", under=50_000, city="Mumbai"),
    ),
    Case("product", "Best 1.5 ton AC under 40k?", any_of("ac", under=40_000, name="1.5 Ton")),
    Case(
        "product",
        "Show me washing machines under Rs 20,000 in stock in Delhi",
        any_of("washing_machine", under=20_000, city="Delhi"),
    ),
    Case("product", "Cheapest laptop in stock in Bengaluru?", cheapest("laptop", "Bengaluru")),
    Case("product", "Samsung phones under 60000?", any_of("phone", under=60_000, name="Samsung")),
    Case(
        "stock",
        "Is SMX-TV-0002 in stock in Hyderabad?",
        stock("SMX-TV-0002", "Hyderabad"),
        store=True,
    ),
    Case(
        "stock", "SMX-AC-0002 Chennai mein stock hai?", stock("SMX-AC-0002", "Chennai"), store=True
    ),
    Case(
        "stock",
        "How many SMX-RF-0002 are there in Mumbai?",
        stock("SMX-RF-0002", "Mumbai"),
        store=True,
    ),
    Case(
        "stock", "Is SMX-WM-0003 available in Mumbai?", stock("SMX-WM-0003", "Mumbai"), store=True
    ),
    Case(
        "stock", "Stock of SMX-PH-0003 in Hyderabad?", stock("SMX-PH-0003", "Hyderabad"), store=True
    ),
    Case("stock", "Which cities have SMX-LT-0001 in stock?", cities_with_stock("SMX-LT-0001")),
    Case(
        "stock", "Is SMX-SA-0003 in stock in Kolkata?", stock("SMX-SA-0003", "Kolkata"), store=True
    ),
    Case(
        "stock",
        "Delhi mein SMX-TV-0001 kitne piece hain?",
        stock("SMX-TV-0001", "Delhi"),
        store=True,
    ),
    Case("policy", "What is the return window for a TV?", said("10 days", "exchange only")),
    Case("policy", "Can a customer return a phone, and within how many days?", said("7 days")),
    Case("policy", "How is a cash purchase over ₹10,000 refunded?", said("bank transfer|NEFT")),
    Case("policy", "Can an opened trimmer be returned?", said("Personal care appliances")),
    Case(
        "policy",
        "ShopMax Care extended warranty price for a ₹45,000 TV for 2 years?",
        said("₹3,299"),
    ),
    Case(
        "policy",
        "What is not covered by the ShopMax Care extended warranty?",
        said("Accidental and liquid damage"),
    ),
    Case("policy", "How does a customer claim ShopMax Care warranty?", said("1800-266-7629")),
    Case("policy", "TV wapas karne ka kya rule hai?", said("10 days")),
    Case("offer", "Which banks give no-cost EMI?", said("HDFC", "ICICI", "SBI", "Bajaj")),
    Case("offer", "What tenures does no-cost EMI have?", said(r"3, 6, 9 and 12 months")),
    Case("offer", "What is the HDFC Bank instant discount offer?", said("10%", "₹5,000")),
    Case(
        "offer",
        "Is the SBI Diwali cashback offer still on?",
        said(),
        absent=("12% cashback", "₹7,500"),
    ),
    Case("offer", "Is there a processing fee on no-cost EMI?", said("₹199")),
    Case("offer", "What is the minimum price for no-cost EMI?", said("₹10,000")),
    Case(
        "offer", "SMX-TV-0002 no-cost EMI 6 mahine mein kitna padega?", instalment("SMX-TV-0002", 6)
    ),
    Case("policy", "What is the installation charge for a split AC?", said("₹1,500")),
    Case("policy", "How much is wall mounting for a 65 inch TV?", said("₹1,200")),
    Case("policy", "AC lagane ka charge kitna hai?", said("₹1,500")),
    Case("policy", "What does extra copper pipe cost for AC installation?", said("₹750")),
    Case(
        "troubleshooting",
        "Customer's TV shows no signal, what should they try?",
        said("Input or Source", "HDMI"),
    ),
    Case(
        "troubleshooting",
        "The AC is not cooling, what should I tell the customer?",
        said("Cool", "filters"),
    ),
    Case(
        "troubleshooting", "What does an AC gas top-up cost after the first year?", said("₹2,500")
    ),
)


@dataclass
class Outcome:
    case: Case
    facts: int
    found: int
    figures: int
    unverified: int
    sources: int
    ttft_s: float | None
    cost_usd: float
    input_tokens: int
    cache_read: int
    cache_write: int
    text: str
    missing: list[str] = field(default_factory=list)


class _Captured:
    """A reply that keeps the answer and its ending (the bench reads, nobody watches)."""

    def __init__(self) -> None:
        self.text = ""
        self.gone = False
        self.slack_failure = None
        self.calls = 0
        self.first_shown_at: float | None = None
        self.thread_ts: str | None = None
        self.ending: Ending | None = None

    async def refuse(self, refusal: Refusal) -> None:
        self.text = refusal.reason

    async def open(self) -> None:
        return None

    def add(self, delta: str) -> None:
        self.text += delta

    def status(self, line: str) -> None:
        return None

    def revise(self, text: str) -> None:
        self.text = text

    async def finish(self, ending: Ending) -> None:
        self.ending = ending

    def abandon(self) -> None:
        return None


async def run_cases(
    settings: Settings, cases: Sequence[Case], catalog: Catalog, passes: int = 2
) -> list[list[Outcome]]:
    """Every case answered `passes` times (cold, then warm) on `settings`."""
    store = await open_store(settings.database_url)
    knowledge = await knowledge_for(settings, None)
    found = await catalog_for(settings, None)
    model = model_client(settings)
    answerer = answerer_for(
        settings, store, model, Metrics(), tools=toolbox(settings, found), knowledge=knowledge
    )
    results: list[list[Outcome]] = []
    try:
        for _ in range(passes):
            results.append([await _one(answerer, case, catalog) for case in cases])
    finally:
        await model.close()
        if knowledge is not None:
            await knowledge.close()
        if found is not None:
            await found.close()
        await store.close()
    return results


async def _one(answerer: Any, case: Case, catalog: Catalog) -> Outcome:
    reply = _Captured()
    question = Question(
        "TBENCH", "CBENCH", "UBENCH", case.question, Surface.TERMINAL, uuid.uuid4().hex
    )
    answered = await answerer.answer(question, lambda _q, _id: reply)
    wanted = case.facts(catalog)
    text = reply.text
    missing = [f for f in wanted if not re.search(f, text, re.IGNORECASE)]
    missing += [f"not: {a}" for a in case.absent if a.lower() in text.lower()]
    ending = reply.ending
    stats = getattr(answered, "stats", None)
    usage = stats.usage if stats is not None else None
    return Outcome(
        case=case,
        facts=len(wanted) + len(case.absent),
        found=len(wanted) + len(case.absent) - len(missing),
        figures=len(find(text, _names(catalog))),
        unverified=ending.unchecked if ending else 0,
        sources=len(ending.sources) if ending else 0,
        ttft_s=None if stats is None else stats.ttft_s,
        cost_usd=_cost(ending),
        input_tokens=0 if usage is None else usage.input_tokens,
        cache_read=0 if usage is None else usage.cache_read_tokens,
        cache_write=0 if usage is None else usage.cache_write_tokens,
        text=text,
        missing=missing,
    )


def _names(catalog: Catalog) -> Vocabulary:
    """The catalog's SKUs and places, so figures are counted as the check finds them."""
    places = {place.lower() for product in catalog.products.values() for place in product.stock}
    return Vocabulary(frozenset(catalog.products), frozenset(places))


def _cost(ending: Ending | None) -> float:
    found = re.match(r"\$([\d.,]+)", ending.cost or "") if ending else None
    return float(found.group(1).replace(",", "")) if found else 0.0


def _product(catalog: Catalog, sku: str) -> Product:
    product = catalog.get(sku)
    assert product is not None, f"{sku} is not in the catalog: update bench/answers.py"
    return product


def _amount(value: int) -> str:
    """An amount in any of the ways it is written: ₹41,990, Rs 41990, ₹41,990.00."""
    digits = str(value)
    grouped = rupees(value).removeprefix("₹")
    western = f"{value:,}"
    forms = {re.escape(grouped), re.escape(western), digits}
    return rf"(₹|Rs\.?|INR)\s?({'|'.join(sorted(forms))})\b"


async def bench(
    model: str | None, key: str | None, folder: Path
) -> list[tuple[str, list[list[Outcome]]]]:
    """The cases on the demo model (or Claude with a key), with and without the knowledge base."""
    catalog = Catalog(load_catalog(SAMPLE_CATALOG))
    runs = []
    async with DemoModel.start(pace=INSTANT, caching=True) as demo:
        for name, knowledge in (("with search_knowledge", True), ("baseline: catalog only", False)):
            base = Settings(
                database_url=f"sqlite:///{folder / f'{name[:4]}-{uuid.uuid4().hex[:6]}.db'}",
                spool_path=folder / "spool.jsonl",
                user_questions=100_000,
                user_tokens_per_day=10**12,
                knowledge_enabled=knowledge,
            )
            if key:
                settings = replace(base, anthropic_api_key=key, model=model or base.model)
            else:
                settings = replace(
                    base,
                    anthropic_api_key=DEMO_API_KEY,
                    anthropic_base_url=demo.url,
                    model=DEMO_MODEL,
                )
            runs.append((name, await run_cases(settings, CASES, catalog)))
    return runs


def report(runs: list[tuple[str, list[list[Outcome]]]], model: str) -> str:
    lines = [f"Answers benchmark: {len(CASES)} store-staff questions on {model}."]
    (name, (cold, warm)), *baselines = runs
    lines.append(f"\n{name}, cold (per question):")
    lines.append(
        f"{'#':>2} {'kind':<15} {'facts':>5} {'figs':>4} {'⚠':>2} {'src':>3} "
        f"{'ttft':>6} {'cost $':>8} {'cache':>5}  question"
    )
    for n, o in enumerate(cold, start=1):
        ttft = "—" if o.ttft_s is None else f"{o.ttft_s * 1000:.0f}ms"
        mark = " (store)" if o.case.store else ""
        lines.append(
            f"{n:>2} {o.case.kind:<15} {o.found:>2}/{o.facts:<2} {o.figures:>4} {o.unverified:>2} "
            f"{o.sources:>3} {ttft:>6} {o.cost_usd:>8.5f} {_share(o):>5}  "
            f"{o.case.question[:60]}{mark}"
        )
        for missing in o.missing:
            lines.append(f"{'':>8}missing: {missing}")
    lines.append("")
    for label, outcomes in [(f"{name}, cold", cold), (f"{name}, warm", warm)] + [
        (f"{b}, {p}", o) for b, (c, w) in baselines for p, o in (("cold", c), ("warm", w))
    ]:
        lines.append(_total(label, outcomes))
    with_kb = sum(o.found for o in cold) / max(sum(o.facts for o in cold), 1)
    base_cold = baselines[0][1][0] if baselines else cold
    without = sum(o.found for o in base_cold) / max(sum(o.facts for o in base_cold), 1)
    lines.append(
        f"\nfacts found with search_knowledge / without: {with_kb:.0%} / {without:.0%} "
        f"({with_kb / without if without else float('inf'):.2f}x)"
    )
    return "\n".join(lines)


def _share(o: Outcome) -> str:
    total = o.input_tokens + o.cache_read + o.cache_write
    return f"{o.cache_read / total:.0%}" if total else "—"


def _total(label: str, outcomes: list[Outcome]) -> str:
    facts, found = sum(o.facts for o in outcomes), sum(o.found for o in outcomes)
    figures, unverified = sum(o.figures for o in outcomes), sum(o.unverified for o in outcomes)
    ttfts = sorted(o.ttft_s for o in outcomes if o.ttft_s is not None)
    p50 = statistics.median(ttfts) * 1000 if ttfts else float("nan")
    p95 = ttfts[int(0.95 * (len(ttfts) - 1))] * 1000 if ttfts else float("nan")
    tokens = sum(o.input_tokens + o.cache_read + o.cache_write for o in outcomes)
    read = sum(o.cache_read for o in outcomes)
    cost = sum(o.cost_usd for o in outcomes)
    return (
        f"{label:<42} facts {found}/{facts} · figures {figures - unverified} verified, "
        f"{unverified} unverified · sources {sum(o.sources for o in outcomes)} · ttft p50 "
        f"{p50:.0f} ms p95 {p95:.0f} ms · cost ${cost:.4f} · cache read {read / max(tokens, 1):.0%}"
    )


def run(model: str | None = None, key: str | None = None) -> str:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        runs = asyncio.run(bench(model, key, Path(folder)))
    shown = (model or Settings().model) if key else f"{DEMO_MODEL} (instant pace)"
    return report(runs, shown) + f"\n(ran in {time.perf_counter() - started:.1f} s)"
