"""The figures in an answer, checked before it is final: rupee amounts, SKUs and stock counts.
Pure: what the tools returned (their JSON), what the catalog says now and what it calls things
(`Names`) are passed in as plain data (`Facts`); how figures are written is `bot.wording.written`.

Staff repeat the bot's figures to customers, so each one is checked against this answer's
tool results and against the catalog now.

**Attribution.** A figure belongs to the products its sentence (or line) names, by SKU or by the
name a tool returned (its full name, a leading part of it such as "Sony Bravia 7", or a model
number in it such as "55CU7700"). An amount that belongs to products is checked against those
products' figures only: their returned price, MRP and other amounts, their price and MRP in the
catalog now, and simple derivations with at least one of them (the difference or sum with
another returned amount, an instalment over a returned number of months, a returned percentage
of one, or one less or plus a returned percentage), plus the amounts the documents returned (an
installation charge, a bank offer's cap). So a right price of product A written on the line
about product B is marked. A figure in a sentence naming no product may be any returned or
current amount, or a derivation of two. A stock count is checked against the count returned (or
the catalog's now) for its place and, when its sentence names products, for one of them.

* a SKU is checked when the catalog has it now (when the catalog cannot be asked, when a tool
  returned it or the catalog's names have it);
* an amount whose digits cannot be read as written ("₹1,08", cut where an answer stopped) is
  marked: it cannot be checked.

**The asker's figures.** An amount the asker wrote (in the question, or the model in a tool's
arguments) is theirs when the answer uses it as a bound ("under ₹50,000", "your ₹40k budget",
a range's end) or in a sentence naming no product and not as a price ("costs ₹5,000"); never
as a product's price. A SKU the asker wrote is theirs (an answer may say it is not ShopMax's).

A returned price or count the catalog has changed since is marked with the new one
("₹11,190 (⚠ now ₹10,990)"); any other figure not checked is marked where it stands
("₹11,190 ⚠"). Right figures are never marked.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from bot.wording import texts
from bot.wording.written import Figure, Vocabulary, codes_in, find, numbers, place_name

__all__ = [
    "MARK",
    "CatalogNow",
    "Checked",
    "Facts",
    "Figure",
    "Names",
    "ProductNow",
    "check",
    "find",
    "rupees",
    "vocabulary",
]

MARK = "⚠"
MAX_AMOUNTS = 200  # returned amounts derivations are worked out from
MAX_NAMED = 200  # products whose names are looked for in an answer
MAX_NAME_WORDS = 12  # words of a name that can name it

_BREAK = re.compile(r"\n|(?<!Rs)(?<!No)[.!?;](?=\s+[^\s\d₹])|[.!?](?=\s*$)")
_PRICE_WORDS = re.compile(
    r"(?:costs?|costing|priced(?:\s+at)?|price(?:\s+(?:is|of))?|mrp(?:\s+(?:is|of))?|"
    r"sells?\s+(?:for|at)|selling\s+(?:for|at|price))\s*[:\-]?\s*(?:only\s+|just\s+)?$",
    re.I,
)
_NAME_WORD = re.compile(r"\S+")
_ITEM = re.compile(r"([ \t]*)(?:[-*+•]|\d{1,3}[.)])[ \t]+")


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
    by_sku: dict[str, set[Decimal]] = field(default_factory=dict)  # a product's own amounts
    loose: set[Decimal] = field(default_factory=set)  # amounts returned outside any product
    months: set[int] = field(default_factory=set)
    percents: set[Decimal] = field(default_factory=set)
    skus: set[str] = field(default_factory=set)
    names: dict[str, str] = field(default_factory=dict)  # SKU -> the name a tool returned
    brands: dict[str, str] = field(default_factory=dict)  # SKU -> its brand, as returned
    written: set[str] = field(default_factory=set)  # codes the tools wrote (see `written`)
    stock: dict[tuple[str, str], int] = field(default_factory=dict)  # (sku, place) -> count
    asked: str = ""  # the question and the tools' arguments: the asker's own figures
    now: dict[str, ProductNow] | None = None  # None: the catalog could not be asked
    catalog: Names | None = None  # None: the catalog's names could not be had

    def add_product(self, product: Mapping[str, Any]) -> None:
        """A product as a tool returned it (JSON): its SKU and name, price fields (`*_inr`,
        `price`, `mrp`), stock by place, and the amounts and codes in its text."""
        sku = str(product.get("sku", "")).upper()
        if sku:
            self.skus.add(sku)
            self.written.update(codes_in(sku))
        own = self.by_sku.setdefault(sku, set())
        name = product.get("name")
        if sku and isinstance(name, str) and name.strip():
            self.names[sku] = " ".join(name.split())
        brand = product.get("brand")
        if sku and isinstance(brand, str) and brand.strip():
            self.brands[sku] = " ".join(brand.split())
        for key, value in product.items():
            if _is_amount_field(key) and _whole(value) is not None:
                amount = Decimal(_whole(value) or 0)
                self.amounts.add(amount)
                own.add(amount)
                self.priced.setdefault(amount, set()).add((sku, _field_kind(key)))
            elif key != "stock":
                for text in _strings(value):
                    own.update(self._read(text))
                if "month" in key and _whole(value) is not None:
                    self.months.add(_whole(value) or 0)
        stock = product.get("stock")
        if isinstance(stock, Mapping):
            for place, count in stock.items():
                if _whole(count) is not None:
                    self.stock[(sku, place_name(str(place)))] = _whole(count) or 0

    def add_text(self, text: str) -> None:
        """A document's text (or any text a tool returned): its amounts, months, percentages,
        SKUs and codes count as returned, belonging to no product."""
        self.loose.update(self._read(text))

    def add_now(self, now: Mapping[str, ProductNow]) -> None:
        self.now = {sku.upper(): product for sku, product in now.items()}

    def _read(self, text: str) -> set[Decimal]:
        found: set[Decimal] = set()
        for figure in find(text):
            if figure.kind == "amount" and figure.readable:
                found.add(figure.value)
            elif figure.kind == "sku":
                self.skus.add(figure.text.upper())
        self.amounts.update(found)
        self.written.update(codes_in(text[:20_000]))
        self.months.update(_months(text))
        self.percents.update(Decimal(m.group(1)) for m in _PERCENT.finditer(text))
        return found


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


def vocabulary(facts: Facts) -> Vocabulary | None:
    """What figures are recognised by: the catalog's names and what the tools and the asker
    wrote; None (the demo's SKU pattern) when the catalog's names could not be had."""
    if facts.catalog is None:
        return None
    return _catalog_vocabulary(facts.catalog).with_more(
        facts.skus,
        {place for _, place in facts.stock},
        frozenset(facts.written | codes_in(facts.asked[:20_000])),
    )


@functools.lru_cache(maxsize=2)
def _catalog_vocabulary(names: Names) -> Vocabulary:
    """The catalog's own part of the vocabulary, worked out once per `Names` (the catalog
    caches one per generation; the same object hashes and compares at once)."""
    return Vocabulary(names.skus, names.places)


def check(text: str, facts: Facts) -> Checked:
    """`text` with every figure not checked against `facts` marked (see the module docstring)."""
    words = vocabulary(facts)
    figures = find(text, words)
    asked = find(facts.asked, words)
    asked_amounts = {a.value for a in asked if a.kind == "amount" and a.readable}
    asked_amounts |= numbers(facts.asked[:20_000])
    asked_skus = {a.text.upper() for a in asked if a.kind == "sku"}
    about = _Attribution(text, figures, facts)
    known = _Known(facts)
    marks: list[tuple[Figure, str]] = []
    for figure in figures:
        subject = about.subject(figure)
        if figure.kind == "sku" and figure.text.upper() in asked_skus:
            continue
        if figure.kind == "amount" and figure.readable and figure.value in asked_amounts:
            if _the_askers(figure, text, subject):
                continue
        verdict = _verdict(figure, facts, subject, known)
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


# ---- which products a figure is about ---------------------------------------------------------


class _Attribution:
    """The products each sentence (or line) of an answer names: by SKU, or by a name a tool
    returned. A list item naming none takes its parent's: the line above it that is not an
    item at its depth (the "**Sony Bravia 7 (SMX-TV-0005)**" over "- Price: ₹1,08,790").
    Sentences and lines are found once; each one's products are gathered once."""

    def __init__(self, text: str, figures: list[Figure], facts: Facts) -> None:
        self.breaks = [m.end() for m in _BREAK.finditer(text)]
        mentions = [(f.start, f.text.upper()) for f in figures if f.kind == "sku"]
        mentions += _named(text, facts)
        mentions.sort()
        self.at = [start for start, _ in mentions]
        self.skus = [sku for _, sku in mentions]
        self._sentences: dict[int, frozenset[str]] = {}
        self.lines = [0] + [m.end() for m in re.finditer("\n", text)]
        self.inherited = self._items(text)

    def subject(self, figure: Figure) -> frozenset[str]:
        """The products `figure`'s sentence names (none: it is about no product in particular),
        or its list item's parent's."""
        sentence = bisect.bisect_right(self.breaks, figure.start)
        if sentence not in self._sentences:
            start = self.breaks[sentence - 1] if sentence else 0
            end = self.breaks[sentence] if sentence < len(self.breaks) else None
            self._sentences[sentence] = self._between(start, end)
        named = self._sentences[sentence]
        return named or self.inherited[bisect.bisect_right(self.lines, figure.start) - 1]

    def _between(self, start: int, end: int | None) -> frozenset[str]:
        first = bisect.bisect_left(self.at, start)
        last = len(self.at) if end is None else bisect.bisect_left(self.at, end)
        return frozenset(self.skus[first:last])

    def _items(self, text: str) -> list[frozenset[str]]:
        """For each line, the products a list item there takes: its own, else its parent's."""
        taken: list[frozenset[str]] = []
        parents: list[tuple[int, frozenset[str]]] = []  # (depth, products) above this line
        for number, start in enumerate(self.lines):
            end = self.lines[number + 1] if number + 1 < len(self.lines) else len(text)
            line = text[start:end]
            if not line.strip():
                taken.append(frozenset())
                continue
            own = self._between(start, end)
            item = _ITEM.match(line)
            if item is None:
                parents = [(-1, own)]
                taken.append(frozenset())
                continue
            depth = len(item.group(1).expandtabs(4))
            while parents and parents[-1][0] >= depth:
                parents.pop()
            products = own or (parents[-1][1] if parents else frozenset())
            parents.append((depth, products))
            taken.append(products)
        return taken


def _named(text: str, facts: Facts) -> list[tuple[int, str]]:
    """Where `text` names a product a tool returned: its name or a leading part of it (two
    words or more), a model number in it, or its brand alone ("the LG": every LG returned); a
    part shared by several names names them all.
    The names are a trie of words walked from each word of the text: linear in the text."""
    trie: dict[str, Any] = {}
    for sku, name in list(facts.names.items())[:MAX_NAMED]:
        words = [w for w in (_name_word(w) for w in _NAME_WORD.findall(name)) if w]
        branch = trie
        for size, word in enumerate(words[:MAX_NAME_WORDS], start=1):
            branch = branch.setdefault(word, {})
            if size >= 2 and len(" ".join(words[:size])) >= 6:
                branch.setdefault("", set()).add(sku)
        for word in words:
            if len(word) >= 4 and _is_code(word):
                trie.setdefault(word, {}).setdefault("", set()).add(sku)
    for sku, brand in list(facts.brands.items())[:MAX_NAMED]:  # "the LG": every LG returned
        branch = trie
        for word in [w for w in (_name_word(w) for w in _NAME_WORD.findall(brand)) if w][:3]:
            branch = branch.setdefault(word, {})
        if branch is not trie:
            branch.setdefault("", set()).add(sku)
    if not trie:
        return []
    spans = [(m.start(), _name_word(m.group(0))) for m in _NAME_WORD.finditer(text)]
    found: list[tuple[int, str]] = []
    for i, (start, word) in enumerate(spans):
        node: dict[str, Any] | None = trie.get(word)
        owners: set[str] | None = None
        for _, following in spans[i + 1 : i + 1 + MAX_NAME_WORDS]:
            if node is None:
                break
            owners = node.get("", owners)
            node = node.get(following)
        if node is not None:
            owners = node.get("", owners)
        found.extend((start, sku) for sku in sorted(owners or ()))
    return found


def _name_word(word: str) -> str:
    return word.lower().strip(".,;:!?()[]{}*_`'’“”")


def _is_code(word: str) -> bool:
    return any(c.isdigit() for c in word) and any(c.isalpha() for c in word)


def _the_askers(figure: Figure, text: str, subject: frozenset[str]) -> bool:
    """Whether an amount the asker wrote stands in the answer as theirs (a bound, or about no
    product and not as a price) rather than as the bot's claim of a price."""
    if figure.bound:
        return True
    if subject:
        return False
    return not _PRICE_WORDS.search(text[max(0, figure.start - 40) : figure.start])


# ---- the verdict on one figure ----------------------------------------------------------------


class _Known:
    """The amounts figures are checked against, worked out once per answer (and only if a
    figure needs them), not once per figure: the catalog's current amounts, the derivations of
    all returned amounts, and each product's own."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self._now: set[Decimal] | None = None
        self._derived: set[Decimal] | None = None
        self._loose: set[Decimal] | None = None
        self._own: dict[str, set[Decimal]] = {}
        self._own_derived: dict[str, set[Decimal]] = {}

    @property
    def now(self) -> set[Decimal]:
        if self._now is None:
            self._now = _now_amounts(self.facts.now or {})
        return self._now

    @property
    def derived(self) -> set[Decimal]:
        if self._derived is None:
            self._derived = _derived(sorted(self.facts.amounts)[:MAX_AMOUNTS], self.facts)
        return self._derived

    @property
    def loose(self) -> set[Decimal]:
        """The documents' amounts and their derivations among themselves."""
        if self._loose is None:
            loose = sorted(self.facts.loose)[:MAX_AMOUNTS]
            self._loose = set(loose) | _derived(loose, self.facts)
        return self._loose

    def own(self, sku: str) -> set[Decimal]:
        """A product's own amounts: returned, and its price and MRP now."""
        if sku not in self._own:
            now = (self.facts.now or {}).get(sku)
            current = _now_amounts({sku: now}) if now is not None else set()
            self._own[sku] = self.facts.by_sku.get(sku, set()) | current
        return self._own[sku]

    def own_derived(self, sku: str) -> set[Decimal]:
        """Derivations with at least one of the product's own amounts."""
        if sku not in self._own_derived:
            own = sorted(self.own(sku))[:MAX_AMOUNTS]
            others = sorted(self.facts.amounts | self.now)[:MAX_AMOUNTS]
            self._own_derived[sku] = _derived(own, self.facts, others)
        return self._own_derived[sku]

    def accepts(self, figure: Figure, subject: frozenset[str]) -> bool:
        """Whether an amount not returned as it stands is still checked (see the docstring)."""
        if not subject:
            pools = [self.facts.amounts, self.now, self.derived]
        else:
            pools = [self.loose]
            for sku in sorted(subject):
                pools += [self.own(sku), self.own_derived(sku)]
        if figure.precision is None:
            return any(figure.value in pool for pool in pools)
        return any(_rounds_to(a, figure) for pool in pools for a in pool)


def _verdict(figure: Figure, facts: Facts, subject: frozenset[str], known: _Known) -> str | None:
    """None for a checked figure; else what to put after it."""
    if figure.kind == "sku":
        return _sku_verdict(figure.text.upper(), facts)
    if figure.kind == "stock":
        return _stock_verdict(figure, facts, subject)
    if not figure.readable:
        return f" {MARK}"
    return _amount_verdict(figure, facts, subject, known)


def _sku_verdict(sku: str, facts: Facts) -> str | None:
    """The catalog now decides (a SKU it no longer has is marked, returned or not); without
    it, what the tools returned or the catalog's names."""
    if facts.now is not None:
        known = sku in facts.now
    else:
        known = sku in facts.skus or (facts.catalog is not None and sku in facts.catalog.skus)
    return None if known else f" {MARK}"


def _amount_verdict(
    figure: Figure, facts: Facts, subject: frozenset[str], known: _Known
) -> str | None:
    returned = (
        facts.amounts if not subject else set().union(*(facts.by_sku.get(s, ()) for s in subject))
    )
    if figure.precision is None:
        matching = [figure.value] if figure.value in returned else []
    else:
        matching = [a for a in returned if _rounds_to(a, figure)]
    if matching:
        changed = _changed(matching, facts, subject)
        return None if changed is None else f" ({texts.now_figure(rupees(changed))})"
    return None if known.accepts(figure, subject) else f" {MARK}"


def _changed(matching: list[Decimal], facts: Facts, subject: frozenset[str]) -> Decimal | None:
    """The catalog's new value when every returned figure the amount matches is a product's
    price or MRP that has changed since; None when one still holds (or none is a product's)."""
    if facts.now is None:
        return None
    new: Decimal | None = None
    for amount in matching:
        holders = {h for h in facts.priced.get(amount, ()) if not subject or h[0] in subject}
        if not holders:
            return None  # a document's figure: nothing to compare with the catalog
        for sku, kind in sorted(holders):
            product = facts.now.get(sku)
            current = None if product is None else getattr(product, kind)
            if current is None or Decimal(current) == amount:
                return None
            new = new if new is not None else Decimal(current)
    return new


def _stock_verdict(figure: Figure, facts: Facts, subject: frozenset[str]) -> str | None:
    if not figure.place:
        return _count_verdict(figure, facts, subject)
    count = int(figure.value)
    returned = sorted(
        s
        for (s, place), n in facts.stock.items()
        if place == figure.place and n == count and (not subject or s in subject)
    )
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
        if subject and holder not in subject:
            continue
        if _place_count(product.stock, figure.place) == count:
            return None
    return f" {MARK}"


def _count_verdict(figure: Figure, facts: Facts, subject: frozenset[str]) -> str | None:
    """A count with no place: checked when it is the product's count at some place, or its
    total, as returned or now."""
    counts: dict[str, dict[str, int]] = {}
    for (sku, place), n in facts.stock.items():
        counts.setdefault(sku, {})[place] = n
    for sku, product in (facts.now or {}).items():
        counts.setdefault(sku, {}).update({place_name(p): n for p, n in product.stock.items()})
    for sku, by_place in counts.items():
        if subject and sku not in subject:
            continue
        if figure.value in by_place.values() or figure.value == sum(by_place.values()):
            return None
    return f" {MARK}"


def _now_amounts(now: Mapping[str, ProductNow]) -> set[Decimal]:
    amounts: set[Decimal] = set()
    for product in now.values():
        amounts.update(Decimal(v) for v in (product.price, product.mrp) if v is not None)
    return amounts


def _derived(
    amounts: list[Decimal], facts: Facts, others: list[Decimal] | None = None
) -> set[Decimal]:
    """Differences and sums of two amounts (one of `amounts` with another of them, or with one
    of `others`), instalments over returned months, returned percentages of them."""
    derived: set[Decimal] = set()
    for i, a in enumerate(amounts):
        for b in amounts[i + 1 :] if others is None else others:
            derived.update((abs(b - a), a + b))
        for months in facts.months:
            if months > 0:
                derived.update(_roundings(a / months))
        for percent in facts.percents:  # the share, and the amount less or plus it
            for factor in (percent, 100 - percent, 100 + percent):
                derived.update(_roundings(a * factor / 100))
    derived.discard(Decimal(0))
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
    """Whether `amount` is what `figure` says: exactly, or rounded to its written precision
    (either way at the half: "₹2k" for ₹2,500 is as right as "₹3k")."""
    if figure.precision is None:
        return amount == figure.value
    return abs(amount - figure.value) <= figure.precision / 2


# ---- small readings ---------------------------------------------------------------------------

_PERCENT = re.compile(r"(\d{1,3}(?:\.\d{1,2})?)\s?%")
_MONTHS = re.compile(r"((?:\d{1,2}\s*(?:,|and|or|to|-)\s*)*\d{1,2})\s*[- ]?months?\b", re.I)


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


def _place_count(stock: Mapping[str, int], place: str) -> int | None:
    for name, count in stock.items():
        if place_name(name) == place:
            return count
    return None


def _strings(value: Any) -> list[str]:
    """The text in a JSON value (a product's name, warranty, specs), nested values included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for v in list(value.values())[:100] for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value[:100] for s in _strings(v)]
    return []


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
