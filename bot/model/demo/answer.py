"""The demo model's answers, written in Markdown from what the catalog tools returned. Pure.

Like the answers the system prompt asks Claude for: a short lead, then a table of products
with SKU, price (and the saving on MRP) and where they are in stock, stock by city when that
was the question, and details for a SKU. Every price, SKU and stock figure is copied from a
tool result; nothing is made up. Each answer ends with a line saying it came from the offline
demo model and how to have Claude answer instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bot.model.demo.plan import Exchange, Write
from bot.model.demo.question import Wants

ROWS = 5  # products in an answer's table: enough to choose from on a phone
SWITCH_HINT = (
    "_Answered by the offline demo model from the ShopMax catalog. For answers written by "
    "Claude, set `ANTHROPIC_API_KEY` and restart the bot._"
)
EXAMPLES = (
    "- Which TV under ₹50,000 is in stock in Mumbai?\n"
    "- Best 1.5 ton AC for Chennai?\n"
    "- Is SMX-TV-0002 in stock in Bengaluru?"
)


def write_answer(step: Write) -> str:
    """The whole answer for this question and these tool results."""
    if not step.exchanges:
        return _ungrounded(step)
    parts = [_details(e) for e in step.exchanges if e.name == "get_product"]
    searches = [e for e in step.exchanges if e.name == "search_products" and not e.is_error]
    if searches and not parts:
        parts.append(_search(step.wants, searches[-1]))
    stock = [_stock(e) for e in step.exchanges if e.name == "check_stock" and not e.is_error]
    if stock:
        parts.append("**Stock by store**\n\n" + "\n".join(stock))
    failed = [e for e in step.exchanges if e.is_error]
    if failed:
        parts.append("\n".join(f"- {_failure(e)}" for e in failed))
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


def _ungrounded(step: Write) -> str:
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
            "prices and stock by city), so I can't answer that one."
        )
    return f"{reason} Questions I can answer look like:\n\n{EXAMPLES}\n\n{SWITCH_HINT}"


def _search(wants: Wants, exchange: Exchange) -> str:
    data = exchange.data()
    products = [p for p in (data or {}).get("products", []) if isinstance(p, Mapping)]
    what = _what(wants, exchange.input)
    if not products:
        return (
            f"The ShopMax catalog has no {what}. Try a higher budget, another city, or fewer words."
        )
    shown = products[:ROWS]
    count = f"{len(shown)} of {len(products)}" if len(products) > len(shown) else len(shown)
    lead = f"Here {'is' if len(shown) == 1 else 'are'} {count} {what} from the ShopMax catalog:"
    rows = ["| Product | SKU | Price | In stock in |", "|---|---|---:|---|"]
    rows += [_row(p) for p in shown]
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


def _row(product: Mapping[str, Any]) -> str:
    price = f"**{rupees(product.get('price_inr'))}**"
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


def _details(exchange: Exchange) -> str:
    product = exchange.data()
    if not isinstance(product, Mapping):
        return ""
    lines = [
        f"**{_cell(str(product.get('name', '?')))}** (`{_cell(str(product.get('sku', '?')))}`): "
        f"**{rupees(product.get('price_inr'))}**"
        + (f", MRP {rupees(product.get('mrp_inr'))}" if _saving(product) else ""),
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
    return ", ".join(f"{_cell(str(city))} {count}" for city, count in stock) or "no stores listed"


def _failure(exchange: Exchange) -> str:
    what = exchange.input.get("sku") or exchange.input.get("query") or exchange.name
    return f"I couldn't look up {_cell(str(what))}: {_cell(exchange.result[:200])}"


def _cell(text: str) -> str:
    """Text that stays inside its table cell and line: no pipes, no line breaks, no backticks."""
    return " ".join(text.replace("|", "/").replace("`", "'").split())
