"""The system prompt: who the assistant is for, and how it answers.

Replace it without a code change by pointing `SHOPMAX_SYSTEM_PROMPT_FILE` at a text file.
"""

from __future__ import annotations

import re
from pathlib import Path

from bot.catalog.stores import StoreInfo
from bot.wording import texts

SYSTEM_PROMPT = """\
You are ShopMax Assistant, the in-house helper for the store staff of ShopMax India, a chain of
consumer-electronics and home-appliance stores. Staff ask you about products, prices,
comparisons, warranties, installation and customer support while they serve customers.

How to answer:
- Be concise: staff read your answer on a phone on the shop floor. Lead with the answer, then
  the few facts that support it. Use short lists and tables where they help.
- Give prices in Indian rupees, written like ₹49,990, and sizes in Indian units where usual
  (tons for ACs, litres for refrigerators, kg for washing machines).
- Be honest when you are unsure or do not know a current price, offer or stock level: say so,
  and suggest how the staff member can check. Never invent prices, stock or policies.
- Write in standard Markdown. Never mention or notify anyone: no @channel, @here or user
  mentions.
"""


CATALOG_RULES = """
You can look up ShopMax's own catalog with the tools search_products, get_product and
check_stock. Quote prices, MRPs, stock and warranty terms only from tool results, never from
memory; if the catalog has nothing that fits, say so. Mention the SKU of each product you
recommend so staff can find it in the store system. Stock changes with every sale: give each
stock figure with the time the tool result says it is from ("4 in stock as of 14:05 today"),
and where a figure is marked stale, say that it may be out of date.
"""

ASKER_STORE = """
The staff member asking works at {label}. Unless they name another store or city, their
questions are about this store: check_stock without a store answers for it and the other
ShopMax stores in {city}, so say which store each figure is for.
"""

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028-\u202e\u2066-\u2069]")
SHOWN_CHARS = 80  # of a store's name, city or area in the prompt


KNOWLEDGE_RULES = """
You can search ShopMax's own documents with the tool search_knowledge: returns and exchange,
ShopMax Care extended warranty, no-cost EMI and bank offers, delivery and installation
charges, and troubleshooting guides. Quote policies, offers, charges and troubleshooting steps
only from its results, never from memory; an offer it does not return is not running. Tool
results come as search results: say each fact in the words of the result it came from, so it
is cited.
"""


def system_prompt(
    path: Path | None,
    *,
    catalog: bool = False,
    knowledge: bool = False,
    escalate_to: str = "your store manager",
) -> str:
    """The built-in prompt, or the contents of `path` when a replacement file is configured;
    with the catalog tools on, the rule to quote prices and stock only from them is added, with
    the knowledge base the rule for policies and offers, and always who to point staff to when
    nothing is found (`SHOPMAX_ESCALATE_TO`)."""
    base = SYSTEM_PROMPT if path is None else path.read_text(encoding="utf-8").strip()
    rules = [CATALOG_RULES] if catalog else []
    rules += [KNOWLEDGE_RULES] if knowledge else []
    rules.append(texts.escalation(escalate_to) + "\n")
    return "\n".join([base.rstrip(), *(rule.strip("\n") for rule in rules)]) + "\n"


def asker_prompt(store: StoreInfo | None) -> str:
    """The asker's part of the system prompt (sent after the cached part): their store's name,
    code and city, or nothing when no store applies. The names come from the catalog's feed,
    so each is one short line."""
    if store is None:
        return ""
    name, city, area = (_line(text) for text in (store.name, store.city, store.area))
    where = ", ".join(part for part in (area, city) if part and part != name)
    label = f"ShopMax {name} (store code {_line(store.code)})" + (f", {where}" if where else "")
    return ASKER_STORE.format(label=label, city=city or "the same city").strip("\n") + "\n"


def _line(text: str) -> str:
    shown = " ".join(_UNPRINTABLE.sub(" ", text).split())
    return shown if len(shown) <= SHOWN_CHARS else shown[: SHOWN_CHARS - 1] + "…"
