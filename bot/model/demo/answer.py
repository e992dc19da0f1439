"""The demo model's answers, written in Markdown from what the tools returned. Pure.

Like the answers the system prompt asks Claude for: a short lead, then a table of products
with SKU, price (and the saving on MRP) and where they are in stock, stock by city when that
was the question, and details for a SKU; for a policy, offer or fault, the facts of the
sections `search_knowledge` found, each cited to its search result (as Claude cites them), and
a product's price cited to its own. Every price, SKU and stock figure is copied from a tool
result; nothing is made up. When nothing is found it says so and points to the person to ask.
Each answer ends with a line saying it came from the offline demo model and how to have
Claude answer instead.

An answer is a `Draft`: its Markdown, with the cited spans marked, which the server streams as
text blocks with `citations_delta` events.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.model.demo.plan import KNOWLEDGE, Exchange, Write
from bot.model.demo.question import Wants

ROWS = 5  # products in an answer's table: enough to choose from on a phone
SECTIONS = 2  # sections of ShopMax's documents quoted in an answer
SWITCH_HINT = (
    "_Answered by the offline demo model from the ShopMax catalog and documents. For answers "
    "written by Claude, set `ANTHROPIC_API_KEY` and restart the bot._"
)
EXAMPLES = (
    "- Which TV under 50,000 is in stock in Mumbai?\n"
    "- Best 1.5 ton AC for Chennai?\n"
    "- Is SMX-TV-0002 in stock in Bengaluru?\n"
    "- What is the return window for a TV?"
)
_CITED = re.compile("\x01(\\d+)\x02(.*?)\x03", re.DOTALL)


@dataclass
class Draft:
    """An answer being written: Markdown with cited spans marked, and their citations."""

    citations: list[dict[str, Any]] = field(default_factory=list)

    def cite(self, text: str, exchange: Exchange, result: int, start: int, end: int) -> str:
        """`text`, cited to blocks start..end (exclusive) of the exchange's `result`-th search
        result; the text as it is when there is no such result."""
        if result >= len(exchange.results):
            return text
        index, block = exchange.results[result]
        content = block.get("content") or []
        cited = "".join(str(b.get("text", "")) for b in content[start:end] if isinstance(b, dict))
        self.citations.append(
            {
                "type": "search_result_location",
                "source": block.get("source", ""),
                "title": block.get("title"),
                "cited_text": cited,
                "search_result_index": index,
                "start_block_index": start,
                "end_block_index": end,
            }
        )
        return f"\x01{len(self.citations) - 1}\x02{text}\x03"

    def pieces(self, text: str) -> list[tuple[str, dict[str, Any] | None]]:
        """The answer as (text, its citation or None), in order, none empty."""
        found: list[tuple[str, dict[str, Any] | None]] = []
        at = 0
        for match in _CITED.finditer(text):
            found.append((text[at : match.start()], None))
            found.append((match.group(2), self.citations[int(match.group(1))]))
            at = match.end()
        found.append((text[at:], None))
        return [(piece, cite) for piece, cite in found if piece]


def write_answer(step: Write, draft: Draft | None = None, escalate_to: str = "") -> str:
    """The whole answer for this question and these tool results (cited spans marked in
    `draft`, when given)."""
    draft = draft if draft is not None else Draft()
    if not step.exchanges:
        return _ungrounded(step, escalate_to)
    parts = [_details(e, draft) for e in step.exchanges if e.name == "get_product"]
    searches = [e for e in step.exchanges if e.name == "search_products" and not e.is_error]
    if searches and not parts:
        parts.append(_search(step.wants, searches[-1], draft, escalate_to))
    found = [e for e in step.exchanges if e.name == KNOWLEDGE and not e.is_error]
    if found:
        parts.append(_instalment(step, found[-1]))
        parts.append(_knowledge(found[-1], draft, escalate_to))
    stock = [_stock(e) for e in step.exchanges if e.name == "check_stock" and not e.is_error]
    if stock:
        parts.append("**Stock by store**\n\n" + "\n".join(stock))
    failed = [e for e in step.exchanges if e.is_error]
    if failed:
        parts.append("\n".join(f"- {_failure(e)}" for e in failed))
        if not any(e for e in step.exchanges if not e.is_error):  # nothing found at all
            parts.append(_ask(escalate_to, "Rather than guess, please ask {who}."))
    return "\n\n".join([*(p for p in parts if p), SWITCH_HINT])


def rupees(amount: Any) -> str:
    """₹ with Indian digit grouping: ₹49,990, ₹1,04,990."""
    try:
        value = int(amount)
    except (TypeError, ValueError):
        return "—"
    digits = str(abs(value))
    head, tail = digits[:-3], digits[-3:]
    groups: list[str] = []
    while len(head) > 2:
        head, groups = head[:-2], [head[-2:], *groups]
    grouped = ",".join([g for g in [head, *groups] if g] + [tail])
    return ("-" if value < 0 else "") + "₹" + grouped


def _ungrounded(step: Write, escalate_to: str) -> str:
    ask = f" For anything else, please ask {escalate_to}." if escalate_to else ""
    if not step.tools_offered:
        reason = (
            "The catalog tools are switched off here, and without them the offline demo model "
            "has nothing to answer from."
        )
    elif step.wants.about_products:
        reason = "I couldn't look that up in the catalog."
    else:
        reason = (
            "I'm the offline demo model: I can only answer from the ShopMax catalog (products, "
            "prices and stock by city) and ShopMax's documents (policies, offers and guides), "
            "so I can't answer that one."
        )
    return f"{reason}{ask} Questions I can answer look like:\n\n{EXAMPLES}\n\n{SWITCH_HINT}"


def _instalment(step: Write, knowledge: Exchange) -> str:
    """A product's monthly instalment over the months asked, when the EMI terms found offer
    that tenure: its price split in equal parts, to the rupee."""
    months = step.wants.months
    products = [e.data() for e in step.exchanges if e.name == "get_product" and not e.is_error]
    terms = " ".join(str(b.get("text", "")) for _, r in knowledge.results for b in r["content"])
    offered = re.search(r"((?:\d{1,2}, )*\d{1,2}(?: and \d{1,2})?) months", terms)
    tenures = set(re.findall(r"\d{1,2}", offered.group(1))) if offered else set()
    if not months or str(months) not in tenures or not products:
        return ""
    lines = []
    for product in products:
        if isinstance(product, Mapping) and isinstance(product.get("price_inr"), int):
            share = (product["price_inr"] + months - 1) // months
            name = _cell(str(product.get("name", "?")))
            lines.append(
                f"On no-cost EMI over {months} months, the {name} is {rupees(share)} a month."
            )
    return "\n".join(lines)


def _knowledge(exchange: Exchange, draft: Draft, escalate_to: str) -> str:
    """The facts of the sections found, each cited; or that nothing was, and whom to ask."""
    if not exchange.results:
        ask = f" Please ask {escalate_to}." if escalate_to else ""
        return f"I couldn't find that in ShopMax's policies, offers or guides.{ask}"
    parts = []
    for number, (_, block) in enumerate(exchange.results[:SECTIONS]):
        content = [b for b in block.get("content") or [] if isinstance(b, dict)]
        lines = [f"**{_line(str(block.get('title', '')))}**"]
        for at, fact in enumerate(content):
            lines.append(
                "- " + draft.cite(_line(str(fact.get("text", ""))), exchange, number, at, at + 1)
            )
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _search(wants: Wants, exchange: Exchange, draft: Draft, escalate_to: str = "") -> str:
    data = exchange.data()
    products = [p for p in (data or {}).get("products", []) if isinstance(p, Mapping)]
    what = _what(wants, exchange.input)
    if not products:
        return (
            f"The ShopMax catalog has no {what}. Try a higher budget, another city, or fewer words."
            + _ask(escalate_to, " If the customer needs one anyway, please ask {who}.")
        )
    shown = products[:ROWS]
    count = f"{len(shown)} of {len(products)}" if len(products) > len(shown) else len(shown)
    lead = f"Here {'is' if len(shown) == 1 else 'are'} {count} {what} from the ShopMax catalog:"
    rows = ["| Product | SKU | Price | In stock in |", "|---|---|---:|---|"]
    rows += [_row(p, _price_cited(draft, exchange, n, p)) for n, p in enumerate(shown)]
    return "\n\n".join([lead, "\n".join(rows), _pick(shown)])


def _what(wants: Wants, args: Mapping[str, Any]) -> str:
    category = args.get("category")
    noun = _plural(str(category)) if category else "products"
    if args.get("query"):
        noun = f"{noun} matching “{_cell(str(args['query']))}”"
    if args.get("min_price") is not None and args.get("max_price") is not None:
        noun += f" between {rupees(args['min_price'])} and {rupees(args['max_price'])}"
    elif args.get("max_price") is not None:
        noun += f" under {rupees(args['max_price'])}"
    elif args.get("min_price") is not None:
        noun += f" over {rupees(args['min_price'])}"
    if args.get("city"):
        noun += f" in stock in {_cell(str(args['city']))}"
    return noun


def _plural(category: str) -> str:
    """A category value as people write it: "tv" -> "TVs", "washing_machine" -> "washing
    machines". (The catalog's own labels are a layer above the model, out of its reach.)"""
    words = category.replace("_", " ").strip()
    return f"{words.upper() if len(words) <= 3 else words}s"


def _price_cited(draft: Draft, exchange: Exchange, number: int, product: Mapping[str, Any]) -> str:
    """The product's price in bold, cited to its price fact where it came as a search result."""
    price = f"**{rupees(product.get('price_inr'))}**"
    if "price_inr" not in product or number >= len(exchange.results):
        return price
    at = list(product).index("price_inr")
    return draft.cite(price, exchange, number, at, at + 1)


def _row(product: Mapping[str, Any], price: str) -> str:
    saving = _saving(product)
    if saving:
        price += f" (MRP {rupees(product.get('mrp_inr'))})"
    cities = product.get("in_stock_in")
    where = ", ".join(map(str, cities)) if isinstance(cities, list) and cities else "out of stock"
    name, sku = _cell(str(product.get("name", "?"))), _cell(str(product.get("sku", "?")))
    return f"| {name} | `{sku}` | {price} | {_cell(where)} |"


def _pick(products: list[Mapping[str, Any]]) -> str:
    """One line of advice: the biggest saving among products in stock somewhere."""
    in_stock = [p for p in products if p.get("in_stock_in")]
    best = max(in_stock, key=_saving, default=None)
    if best is None:
        return "None of these is in stock right now; check again before promising a date."
    if not _saving(best):
        return f"**{_cell(str(best.get('name')))}** is the first in stock."
    return (
        f"Best value: **{_cell(str(best.get('name')))}** at {rupees(best.get('price_inr'))}, "
        f"{rupees(_saving(best))} below its MRP."
    )


def _saving(product: Mapping[str, Any]) -> int:
    try:
        return max(0, int(product.get("mrp_inr", 0)) - int(product.get("price_inr", 0)))
    except (TypeError, ValueError):
        return 0


def _details(exchange: Exchange, draft: Draft) -> str:
    product = exchange.data()
    if not isinstance(product, Mapping):
        return ""
    saving = _saving(product)
    lines = [
        f"**{_cell(str(product.get('name', '?')))}** (`{_cell(str(product.get('sku', '?')))}`): "
        + _price_cited(draft, exchange, 0, product)
        + (
            f", MRP {rupees(product.get('mrp_inr'))} ({rupees(saving)} below MRP)" if saving else ""
        ),
    ]
    specs = product.get("specs")
    if isinstance(specs, Mapping):
        lines += [f"- {_cell(str(k)).replace('_', ' ')}: {_cell(str(v))}" for k, v in specs.items()]
    if product.get("warranty"):
        lines.append(f"- warranty: {_cell(str(product['warranty']))}")
    stock = product.get("stock")
    if isinstance(stock, Mapping):
        lines.append(f"- stock: {_cities(stock.items())}")
    return "\n".join(lines)


def _stock(exchange: Exchange) -> str:
    data = exchange.data()
    if not isinstance(data, Mapping) or not isinstance(data.get("stock"), Mapping):
        return ""
    name, sku = _cell(str(data.get("name", "?"))), _cell(str(data.get("sku", "?")))
    return f"- {name} (`{sku}`): {_cities(data['stock'].items())}"


def _cities(stock: Iterable[tuple[Any, Any]]) -> str:
    """Stock as "3 in stock in Mumbai, out of stock in Delhi" (the form the bot checks)."""
    shown = [
        f"{count} in stock in {_cell(str(city))}"
        if count
        else f"out of stock in {_cell(str(city))}"
        for city, count in stock
    ]
    return ", ".join(shown) or "no stores listed"


def _failure(exchange: Exchange) -> str:
    what = exchange.input.get("sku") or exchange.input.get("query") or exchange.name
    return f"I couldn't look up {_cell(str(what))}: {_cell(exchange.result[:200])}"


def _ask(escalate_to: str, sentence: str) -> str:
    """Whom to ask when nothing is found (SHOPMAX_ESCALATE_TO), as the system prompt tells
    Claude; nothing when no one is named."""
    return sentence.format(who=_line(escalate_to)) if escalate_to else ""


def _cell(text: str) -> str:
    """Text that stays inside its table cell and line: no pipes, no line breaks, no backticks,
    no control characters."""
    return _line(text.replace("|", "/").replace("`", "'"))


def _line(text: str) -> str:
    """Text on one line, without control characters (they mark cited spans here)."""
    return " ".join("".join(c for c in text if c >= " " or c in "\t\n").split())
