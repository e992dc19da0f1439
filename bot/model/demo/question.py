"""What a staff question asks for, read the way a person skims it. Pure.

The demo model has no language model behind it, so it reads a question with a few patterns:
a product category and a store city (matched against the `enum`s of the tool schemas in the
request, so a catalog with other categories or cities works unchanged), a budget ("under
50k", "below Rs 1.5 lakh", "between ₹20,000 and ₹30,000"), SKUs, whether stock is the point,
and the words left over as a search query. Only the start of a very long question is read, and
every pattern is linear, so hostile text costs no more than ordinary text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

READ_CHARS = 2000  # a question longer than this is read from its start only

# Words people use for a category, keyed by the catalog's category values. Only values the
# request's tool schema offers are used; an unknown value still matches its own name.
CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "tv": ("tv", "television", "telly", "टीवी"),
    "ac": ("ac", "air conditioner", "aircon"),
    "refrigerator": ("refrigerator", "fridge"),
    "washing_machine": ("washing machine", "washer"),
    "phone": ("phone", "mobile", "smartphone"),
    "laptop": ("laptop", "notebook"),
    "small_appliance": ("small appliance", "appliance"),
}
CITY_ALIASES = {
    "bangalore": "Bengaluru",
    "bombay": "Mumbai",
    "madras": "Chennai",
    "calcutta": "Kolkata",
    "new delhi": "Delhi",
}

# "in stock in Pune" filters a search; "available", "units left", "stock of X" ask about stock.
STOCK_WORDS = frozenset("available availability units left stocks".split())
_STOCK = re.compile(r"(?<!\bin )\bstock\b")
# Words that make a question one the catalog can answer, though it names no category.
SHOPPING_WORDS = frozenset(
    "price prices cost costs buy best cheapest cheap recommend suggest compare model models "
    "budget deal offer offers emi mrp discount options sku inch ton kg litre gb oled qled 4k "
    "5g mixer grinder kettle iron toaster fryer purifier".split()
)
# Words that make a question one for ShopMax's documents (policies, offers, charges, faults),
# English and Hinglish; a stem ends in "*".
KNOWLEDGE_WORDS = frozenset(
    """return* exchang* refund* replace* warrant* guarantee care emi no-cost cost-emi
    instalment* installment* tenure* offer* cashback* bank hdfc sbi icici bajaj discount*
    install* uninstall* mount* delivery deliver* charge* fee* policy policies troubleshoot*
    signal picture cooling cool* filter* repair* technician* fault* problem* issue* working
    kharab wapas wapis lagana lagwana lagwane lagane thanda chalu band khula seal* invoice
    damage* claim* service* visit* gas leak* noise* ice""".split()
)
# Hinglish words staff use, as the English of ShopMax's documents says them: the demo writes
# its search like Claude would, in the documents' words.
GLOSSARY = {
    "wapas": "return",
    "wapis": "return",
    "lagana": "installation",
    "lagane": "installation",
    "lagwana": "installation",
    "lagwane": "installation",
    "kharab": "fault repair",
    "thanda": "cooling",
    "din": "days",
    "mahine": "months",
    "mahina": "months",
    "paisa": "refund",
}
_MONTHS = re.compile(r"\b(\d{1,2})\s*(?:months?|mahine|mahina)\b", re.IGNORECASE)
# Words that say nothing about which product: left out of the search query.
FILLER = frozenset(
    """a an the which what whats is are was be best good better great top for in at of to me my
    our we us you i do does did have has any there with and or show tell give list find need
    want looking look customer customers buy price prices cost costs budget under below
    within upto up less than more over above around about rs inr rupees k lakh lakhs store
    stores city cheap cheapest please can could would should recommend suggest options option
    some one this that it on from new latest model models compare vs versus between deal offer
    offers emi mrp discount how much many stock stocks available availability units left
    room living bedroom hall kitchen office home family house flat apartment small big large sku
    which's currently now today right here""".split()
)

_WORDS = re.compile(r"(?<!\S)[^\s.,\-\"₹]\S{0,39}(?!\S)")  # longer "words" are noise
_SKU = re.compile(r"\b[A-Za-z]{2,5}-[A-Za-z]{1,4}-\d{2,6}\b")
_UNIT = r" ?(k|thousand|lakhs?|lacs?)?\b"
_AMOUNT = r"(?:rs|inr|₹)? ?(\d[\d,]{0,9}(?:\.\d{1,2})?)" + _UNIT
_NOT_MONEY = re.compile(
    r" ?(?:(?:tons?|kg|inch|inches|l|litres?|liters?|gb|tb|w|watts?|star)\b|\")"
)
_BELOW = re.compile(
    r"\b(?:under|below|within|upto|up to|less than|max|budget of|budget) ?" + _AMOUNT
)
_ABOVE = re.compile(r"\b(?:above|over|more than|at least|min) ?" + _AMOUNT)
_BETWEEN = re.compile(r"\bbetween ?" + _AMOUNT + r" ?(?:and|-|to) ?" + _AMOUNT)
_BARE = re.compile(r"(?:rs|inr|₹) ?(\d[\d,]{0,9}(?:\.\d{1,2})?)" + _UNIT)


@dataclass(frozen=True)
class Wants:
    """What the question asks about; empty fields were not asked."""

    query: str = ""
    category: str | None = None
    city: str | None = None
    store: str | None = None  # a store code the question names ("in stock at MUM-01?")
    min_price: int | None = None
    max_price: int | None = None
    skus: tuple[str, ...] = ()
    about_stock: bool = False
    shopping: bool = False
    words: tuple[str, ...] = field(default=(), repr=False)
    about_knowledge: bool = False
    text: str = field(default="", repr=False)

    def knowledge_args(self) -> dict[str, object]:
        """`search_knowledge` input: the question's own words, Hinglish ones in the documents'
        English (the search leaves out the words that say nothing), and its category when it
        names one."""
        words = [GLOSSARY.get(w.lower(), w) for w in self.text.split()]
        query = " ".join(words)[:200]
        return {"query": query, **({"category": self.category} if self.category else {})}

    @property
    def months(self) -> int | None:
        """A number of months the question names ("over 6 months", "6 mahine")."""
        found = _MONTHS.search(self.text)
        return int(found.group(1)) if found else None

    @property
    def about_products(self) -> bool:
        """Whether the catalog can answer it at all."""
        return bool(
            self.skus
            or self.category
            or self.city
            or self.store
            or self.max_price
            or self.min_price
            or self.about_stock
            or self.shopping
        )

    def search_args(self, *, with_query: bool = True) -> dict[str, object]:
        """`search_products` input for this question, as Claude would fill it in."""
        args: dict[str, object] = {}
        if with_query and self.query:
            args["query"] = self.query
        for name in ("category", "city", "store", "min_price", "max_price"):
            value = getattr(self, name)
            if value is not None:
                args[name] = value
        return args

    def where(self) -> dict[str, object]:
        """`check_stock`'s place: the store named, else the city named, else none (the tool
        then answers for the asker's store, when it has one)."""
        if self.store:
            return {"store": self.store}
        return {"city": self.city} if self.city else {}


def read_question(
    text: str,
    categories: Sequence[str],
    cities: Sequence[str],
    stores: Mapping[str, str] | None = None,
) -> Wants:
    """Read `text` against the categories and cities the tools accept, and the catalog's
    store codes (code → city) where the tools take a store."""
    lowered = " " + _spaced(text[:READ_CHARS].lower()) + " "
    low, high, spans = _budget(lowered)
    for start, end in spans:  # the budget's numbers are not search words
        lowered = lowered[:start] + " " * (end - start) + lowered[end:]
    category, category_words = _category(lowered, categories)
    store, store_words = _store(lowered, stores or {})
    city, city_words = _city(lowered, cities)
    words = tuple(_WORDS.findall(lowered))
    skipped = FILLER | category_words | city_words | store_words
    query = [w for w in words if w not in skipped][:4]
    return Wants(
        query=" ".join(query),
        category=category,
        city=city,
        store=store,
        min_price=low,
        max_price=high,
        skus=tuple(dict.fromkeys(s.upper() for s in _SKU.findall(text[:READ_CHARS])))[:3],
        about_stock=any(w in STOCK_WORDS for w in words) or bool(_STOCK.search(lowered)),
        shopping=any(w in SHOPPING_WORDS for w in words),
        words=words,
        about_knowledge=any(_knowledge_word(w) for w in words),
        text=_spaced(text[:READ_CHARS]).strip(),
    )


def _knowledge_word(word: str) -> bool:
    word = word.strip(".,")
    return word in KNOWLEDGE_WORDS or any(
        stem.endswith("*") and word.startswith(stem[:-1]) for stem in KNOWLEDGE_WORDS
    )


def _category(text: str, categories: Sequence[str]) -> tuple[str | None, frozenset[str]]:
    for value in categories:
        names = (value, value.replace("_", " "), *CATEGORY_WORDS.get(value, ()))
        for name in names:
            if f" {name} " in text or f" {name}s " in text:
                words = {w for n in names for w in n.split()}
                return value, frozenset(words | {w + "s" for w in words})
    return None, frozenset()


def _city(text: str, cities: Sequence[str]) -> tuple[str | None, frozenset[str]]:
    for city in cities:
        if f" {city.lower()} " in text:
            return city, frozenset(city.lower().split())
    for alias, city in CITY_ALIASES.items():
        if city in cities and f" {alias} " in text:
            return city, frozenset(alias.split())
    return None, frozenset()


def _store(text: str, stores: Mapping[str, str]) -> tuple[str | None, frozenset[str]]:
    """A store code written as a word of the question ("at mum-01"), any case."""
    if not stores:
        return None, frozenset()
    for word in text.split():
        code = word.upper()
        if code in stores and not code.isdigit():
            return code, frozenset({word})
    return None, frozenset()


def _spaced(text: str) -> str:
    """`text` with single spaces for whitespace and for punctuation other than that of numbers,
    SKUs and inches, so " tv " also finds "TV?" and "(tv)"; letters of any script stay."""
    text = re.sub(r"[\s!?()\[\]{}<>:;'/\\|*&^%$#@~`=+_]|[.,](?!\d)", " ", text)
    return re.sub(r" {2,}", " ", text)


def _budget(text: str) -> tuple[int | None, int | None, list[tuple[int, int]]]:
    """(min, max) rupees and where they were written. A bare amount ("a fridge for ₹30,000")
    counts as the most to pay."""
    if (between := _BETWEEN.search(text)) is not None:
        first = _rupees(between.group(1), between.group(2))
        second = _rupees(between.group(3), between.group(4))
        if first is not None and second is not None:
            return min(first, second), max(first, second), [between.span()]
    high, high_span = _amount(_BELOW, text)
    low, low_span = _amount(_ABOVE, text)
    if high is None and low is None:
        high, high_span = _amount(_BARE, text)
    return low, high, [s for s in (low_span, high_span) if s is not None]


def _amount(pattern: re.Pattern[str], text: str) -> tuple[int | None, tuple[int, int] | None]:
    for match in pattern.finditer(text):
        if _NOT_MONEY.match(text, match.end()):
            continue  # "under 1.5 ton" is a size, not a price
        value = _rupees(match.group(1), match.group(2))
        if value is not None:
            return value, match.span()
    return None, None


def _rupees(number: str, unit: str | None) -> int | None:
    try:
        value = float(number.replace(",", ""))
    except ValueError:
        return None
    scale = {"k": 1_000, "thousand": 1_000}.get(unit or "", 100_000 if unit else 1)
    rupees = int(value * scale)
    return rupees if 0 < rupees < 10_000_000_000 else None
