"""The figures in an answer, checked before it is final: rupee amounts, SKUs and stock counts.
Pure: what the tools returned and what the catalog says now are passed in (`Facts`).

Staff repeat the bot's figures to customers, so each one is checked against this answer's
tool results and against the catalog now:

* an amount (₹11,190 · Rs 11,190 · Rs. 11190 · INR 11,190 · ₹1,19,990 · ₹1.2 lakh · ₹50k) is
  checked when a tool returned it (a rounded form matches the amounts it rounds from), when
  it is the catalog's price or MRP of a SKU now, or when it is a simple derivation of returned
  figures: the difference or sum of two, one split over a returned number of months (the
  monthly instalment, to the rupee or the paisa), or a returned percentage of one;
* a SKU is checked when a tool returned it and the catalog still has it, or the catalog has it;
* a stock count ("3 in stock at Andheri", "2 units left in Mumbai") is checked when a tool
  returned that count for that place (for the SKU named earlier on its line, if any).

Figures the asker wrote (in the question or in what the model asked the tools) are theirs,
not the bot's claim, and are never marked. A returned price or count the catalog has changed
since is marked with the new one ("₹11,190 (⚠ now ₹10,990)"); any other figure not checked is
marked where it stands ("₹11,190 ⚠"). Right figures are never marked.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Protocol

from bot.wording import texts

MARK = "⚠"
MAX_DIGITS = 15  # longer numbers are not prices
SCALES = {"k": 1_000, "lakh": 100_000, "lakhs": 100_000, "lac": 100_000, "lacs": 100_000}
SCALES |= {"crore": 10_000_000, "crores": 10_000_000, "cr": 10_000_000}

_NUMBER = r"(\d{1,3}(?:,\d{2,3})+|\d{1,15})(?:\.(\d{1,2}))?"
_UNIT = r"(?:\s?(k|lakhs?|lacs?|crores?|cr)\b)?"
_PREFIXED = re.compile(r"(?:₹|(?<![A-Za-z])(?:Rs\.?|INR|rs\.?))\s?" + _NUMBER + _UNIT + r"(?:/-)?")
_SUFFIXED = re.compile(
    r"(?<![\d.,₹])" + _NUMBER + _UNIT + r"\s?(?:rupees|Rupees|INR)\b", re.UNICODE
)
_SKU = re.compile(r"(?<![\w-])([A-Za-z]{2,5}-[A-Za-z]{1,4}-\d{2,6})(?![\w-])")
_PLACE = r"([A-Z][\w'’-]*(?:\s[A-Z][\w'’-]*){0,3})"
_STOCK = re.compile(
    r"(?<![\w.,₹])(\d{1,5})\s+(?:(units?|pieces?|pcs\.?)\s+)?(?:(left|available)\s+)?"
    r"(?:(in\s+stock)\s+)?(?:at|in)\s+(?:the\s+)?(?:ShopMax\s+)?" + _PLACE
)
_URL = re.compile(r"https?://\S+")
_PERCENT = re.compile(r"(\d{1,3}(?:\.\d{1,2})?)\s?%")
_MONTHS = re.compile(r"((?:\d{1,2}\s*(?:,|and|or|to|-)\s*)*\d{1,2})\s*[- ]?months?\b", re.I)


@dataclass(frozen=True)
class ProductNow:
    """What the catalog says of a SKU right now: price and MRP in rupees, stock by place."""

    price: int | None = None
    mrp: int | None = None
    stock: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Names:
    """What the catalog calls things now, so figures are found by the data rather than by a
    pattern written for one chain's SKUs: every SKU (upper-case) and every place a stock figure
    can be for (cities, store codes, store names and areas; lower-case)."""

    skus: frozenset[str] = frozenset()
    places: frozenset[str] = frozenset()


class CatalogNow(Protocol):
    """The catalog now, for checking figures: SKUs it does not know are left out."""

    async def prices_now(self, skus: Sequence[str]) -> Mapping[str, ProductNow]: ...

    async def names_now(self) -> Names: ...


@dataclass
class Facts:
    """What this answer's figures are checked against (see the module docstring)."""

    amounts: set[Decimal] = field(default_factory=set)  # every ₹ amount the tools returned
    priced: dict[Decimal, set[tuple[str, str]]] = field(default_factory=dict)  # -> (sku, field)
    months: set[int] = field(default_factory=set)
    percents: set[Decimal] = field(default_factory=set)
    skus: set[str] = field(default_factory=set)
    stock: dict[tuple[str, str], int] = field(default_factory=dict)  # (sku, place) -> count
    asked: str = ""  # the question and the tools' arguments: the asker's own figures
    now: dict[str, ProductNow] | None = None  # None: the catalog could not be asked

    def add_product(self, product: Mapping[str, Any]) -> None:
        """A product as a tool returned it: its SKU, price fields (`*_inr`, `price`, `mrp`),
        stock by place, and amounts in its text."""
        sku = str(product.get("sku", "")).upper()
        if sku:
            self.skus.add(sku)
        for name, value in product.items():
            if _is_amount_field(name) and _whole(value) is not None:
                amount = Decimal(_whole(value) or 0)
                self.amounts.add(amount)
                self.priced.setdefault(amount, set()).add((sku, _field_kind(name)))
            elif isinstance(value, str):
                self.add_text(value)
            elif "month" in name and _whole(value) is not None:
                self.months.add(_whole(value) or 0)
        stock = product.get("stock")
        if isinstance(stock, Mapping):
            for place, count in stock.items():
                if _whole(count) is not None:
                    self.stock[(sku, _place(str(place)))] = _whole(count) or 0

    def add_text(self, text: str) -> None:
        """A document's text (or any text a tool returned): its amounts, months, percentages
        and SKUs count as returned."""
        for found in find(text):
            if found.kind == "amount":
                self.amounts.add(found.value)
            elif found.kind == "sku":
                self.skus.add(found.text.upper())
        self.months.update(_months(text))
        self.percents.update(Decimal(m.group(1)) for m in _PERCENT.finditer(text))

    def add_now(self, now: Mapping[str, ProductNow]) -> None:
        self.now = {sku.upper(): product for sku, product in now.items()}


@dataclass(frozen=True)
class Figure:
    """A figure found in text: its kind (amount, sku, stock), where it is, and its value."""

    kind: str
    start: int
    end: int
    text: str
    value: Decimal = Decimal(0)
    precision: Decimal | None = None  # a rounded amount's unit: "1.2 lakh" is to 10,000
    place: str = ""  # a stock count's place


@dataclass(frozen=True)
class Checked:
    """The answer with its figures checked: the text with marks, and how many were not."""

    text: str
    figures: int
    unchecked: int
    marks: tuple[tuple[Figure, str], ...] = ()  # each marked figure and what was put after it

    @property
    def line(self) -> str | None:
        """The answer's last line when figures could not be checked."""
        return texts.unchecked_figures(self.unchecked) if self.unchecked else None


def find(text: str) -> list[Figure]:
    """Every amount, SKU and stock count in `text`, in order (none inside a link)."""
    links = [m.span() for m in _URL.finditer(text)]
    found: list[Figure] = []
    for pattern in (_PREFIXED, _SUFFIXED):
        for match in pattern.finditer(text):
            amount = _amount(match)
            if amount is not None:
                found.append(amount)
    for match in _SKU.finditer(text):
        found.append(Figure("sku", *match.span(1), match.group(1)))
    for match in _STOCK.finditer(text):
        if match.group(2) or match.group(3) or match.group(4):
            count, place = Decimal(int(match.group(1))), _place(match.group(5))
            found.append(Figure("stock", *match.span(), match.group(0), count, place=place))
    inside = [f for f in found if not any(a <= f.start < b for a, b in links)]
    return sorted(_without_overlaps(inside), key=lambda f: f.start)


def check(text: str, facts: Facts) -> Checked:
    """`text` with every figure not checked against `facts` marked (see the module docstring)."""
    asked = find(facts.asked)
    marks: list[tuple[Figure, str]] = []
    figures = find(text)
    known = _Known(facts)
    breaks = [at for at, char in enumerate(text) if char == "\n"]
    last_sku: Figure | None = None
    for figure in figures:
        sku = _on_its_line(breaks, last_sku, figure)
        if figure.kind == "sku":
            last_sku = figure
        if any(_same(figure, a) for a in asked):
            continue
        verdict = _verdict(figure, facts, sku, known)
        if verdict is not None:  # counted even where the model wrote a ⚠ of its own
            marks.append((figure, "" if _marked_already(text, figure) else verdict))
    marked = text
    for figure, after in sorted(marks, key=lambda m: m[0].end, reverse=True):
        at = _after_figure(marked, figure.end)
        marked = marked[:at] + after + marked[at:]
    return Checked(marked, len(figures), len(marks), tuple(marks))


def rupees(amount: Decimal | int) -> str:
    """₹ with Indian digit grouping: ₹49,990, ₹1,04,990 (paise kept when there are any)."""
    value = Decimal(amount)
    whole = int(value)
    digits = str(abs(whole))
    head, tail = digits[:-3], digits[-3:]
    groups: list[str] = []
    while len(head) > 2:
        head, groups = head[:-2], [head[-2:], *groups]
    grouped = ",".join([g for g in [head, *groups] if g] + [tail])
    paise = value - whole
    return ("-" if value < 0 else "") + "₹" + grouped + (f"{abs(paise):.2f}"[1:] if paise else "")


# ---- the verdict on one figure ----------------------------------------------------------------


class _Known:
    """The catalog's current amounts and the derived ones, worked out once per answer (and
    only if a figure needs them), not once per figure."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self._now: set[Decimal] | None = None
        self._derived: set[Decimal] | None = None

    @property
    def now(self) -> set[Decimal]:
        if self._now is None:
            self._now = _now_amounts(self.facts)
        return self._now

    @property
    def derived(self) -> set[Decimal]:
        if self._derived is None:
            self._derived = _derived(self.facts)
        return self._derived


def _verdict(figure: Figure, facts: Facts, sku: str | None, known: _Known) -> str | None:
    """None for a checked figure; else what to put after it."""
    if figure.kind == "sku":
        return _sku_verdict(figure.text.upper(), facts)
    if figure.kind == "stock":
        return _stock_verdict(figure, facts, sku)
    return _amount_verdict(figure, facts, known)


def _sku_verdict(sku: str, facts: Facts) -> str | None:
    """The catalog now decides (a SKU it no longer has is marked, returned or not); without
    it, what the tools returned."""
    known = sku in facts.now if facts.now is not None else sku in facts.skus
    return None if known else f" {MARK}"


def _amount_verdict(figure: Figure, facts: Facts, known: _Known) -> str | None:
    if figure.precision is None:
        matching = [figure.value] if figure.value in facts.amounts else []
    else:
        matching = [a for a in facts.amounts if _rounds_to(a, figure)]
    if matching:
        changed = _changed(matching, facts)
        return None if changed is None else f" ({texts.now_figure(rupees(changed))})"
    if figure.precision is None:  # an exact amount: a set lookup
        checked = figure.value in known.now or figure.value in known.derived
    else:
        checked = any(_rounds_to(a, figure) for a in (*known.now, *known.derived))
    return None if checked else f" {MARK}"


def _changed(matching: list[Decimal], facts: Facts) -> Decimal | None:
    """The catalog's new value when every returned figure the amount matches is a product's
    price or MRP that has changed since; None when one still holds (or none is a product's)."""
    if facts.now is None:
        return None
    new: Decimal | None = None
    for amount in matching:
        holders = facts.priced.get(amount)
        if not holders:
            return None  # a document's figure: nothing to compare with the catalog
        for sku, kind in holders:
            product = facts.now.get(sku)
            current = None if product is None else getattr(product, kind)
            if current is None or Decimal(current) == amount:
                return None
            new = new if new is not None else Decimal(current)
    return new


def _stock_verdict(figure: Figure, facts: Facts, sku: str | None) -> str | None:
    count = int(figure.value)
    returned = [
        s
        for (s, place), n in facts.stock.items()
        if place == figure.place and n == count and (sku is None or s == sku)
    ]
    if returned:
        now = facts.now
        for holder in returned:
            current = None if now is None or holder not in now else now[holder].stock
            value = None if current is None else _place_count(current, figure.place)
            if value is None or value == count:
                return None
        new = _place_count(now[returned[0]].stock, figure.place) if now else None
        return f" ({texts.now_figure(str(new))})"
    for holder, product in (facts.now or {}).items():
        if (sku is None or holder == sku) and _place_count(product.stock, figure.place) == count:
            return None
    return f" {MARK}"


def _now_amounts(facts: Facts) -> set[Decimal]:
    amounts: set[Decimal] = set()
    for product in (facts.now or {}).values():
        amounts.update(Decimal(v) for v in (product.price, product.mrp) if v is not None)
    return amounts


def _derived(facts: Facts) -> set[Decimal]:
    """Differences and sums of two returned amounts, instalments over returned months, and
    returned percentages of returned amounts."""
    amounts = sorted(facts.amounts)[:200]
    derived: set[Decimal] = set()
    for i, a in enumerate(amounts):
        for b in amounts[i + 1 :]:
            derived.update((b - a, a + b))
        for months in facts.months:
            if months > 0:
                share = a / months
                derived.update(_roundings(share))
        for percent in facts.percents:
            derived.update(_roundings(a * percent / 100))
    return derived


def _roundings(value: Decimal) -> set[Decimal]:
    """A share as people write it: to the rupee (rounded, down or up) or to the paisa."""
    return {
        value.quantize(Decimal(1), rounding=ROUND_HALF_UP),
        value.quantize(Decimal(1), rounding=ROUND_FLOOR),
        value.quantize(Decimal(1), rounding=ROUND_CEILING),
        value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
    }


def _rounds_to(amount: Decimal, figure: Figure) -> bool:
    """Whether `amount` is what `figure` says: exactly, or rounded to its written precision."""
    if figure.precision is None:
        return amount == figure.value
    return (amount / figure.precision).quantize(Decimal(1), rounding=ROUND_HALF_UP) * (
        figure.precision
    ) == figure.value


# ---- reading figures ---------------------------------------------------------------------------


def _amount(match: re.Match[str]) -> Figure | None:
    whole, decimals, unit = match.group(1), match.group(2), match.group(3)
    digits = whole.replace(",", "")
    if len(digits) > MAX_DIGITS:
        return None
    try:
        number = Decimal(int(digits))
        if decimals:
            number += Decimal(int(decimals)) / 10 ** len(decimals)
    except (ValueError, InvalidOperation):
        return None
    scale = SCALES.get(unit.lower()) if unit else None
    if scale is None:
        return Figure("amount", *match.span(), match.group(0), number)
    precision = Decimal(scale) / (10 ** len(decimals or ""))
    return Figure("amount", *match.span(), match.group(0), number * scale, precision)


def _without_overlaps(found: Iterable[Figure]) -> list[Figure]:
    """The longest figure where two overlap (a SKU's digits are not a stock count)."""
    kept: list[Figure] = []
    for figure in sorted(found, key=lambda f: (f.start, -(f.end - f.start))):
        if kept and figure.start < kept[-1].end:
            continue
        kept.append(figure)
    return kept


def _same(figure: Figure, asked: Figure) -> bool:
    if figure.kind != asked.kind:
        return False
    if figure.kind == "sku":
        return figure.text.upper() == asked.text.upper()
    return figure.value == asked.value


def _on_its_line(breaks: list[int], sku: Figure | None, figure: Figure) -> str | None:
    """`sku` (the SKU named last before `figure`), if it is on `figure`'s line (`breaks`: where
    the text's line breaks are)."""
    if sku is None or bisect.bisect(breaks, sku.end) != bisect.bisect(breaks, figure.start):
        return None
    return sku.text.upper()


def _after_figure(text: str, end: int) -> int:
    """Where a mark goes: after the figure, and after a code span or bold it ends."""
    for closing in ("`", "**", "__"):
        if text.startswith(closing, end) and text[:end].count(closing) % 2 == 1:
            return end + len(closing)
    return end


def _marked_already(text: str, figure: Figure) -> bool:
    return text[figure.end : figure.end + 3].lstrip().startswith(MARK)


def _months(text: str) -> set[int]:
    found: set[int] = set()
    for match in _MONTHS.finditer(text):
        found.update(int(n) for n in re.findall(r"\d{1,2}", match.group(1)))
    return found


def _place(name: str) -> str:
    words = name.lower().replace("’", "'").split()
    while words and words[-1] in ("store", "branch", "shop"):
        words.pop()
    return " ".join(words)


def _place_count(stock: Mapping[str, int], place: str) -> int | None:
    for name, count in stock.items():
        if _place(name) == place:
            return count
    return None


def _is_amount_field(name: str) -> bool:
    return name.endswith("_inr") or name in ("price", "mrp")


def _field_kind(name: str) -> str:
    return "mrp" if "mrp" in name else "price"


def _whole(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value)
