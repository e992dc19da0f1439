"""How figures are written in an answer: rupee amounts (ranges too), SKUs and stock counts,
found in text. Pure; what is checked against what is `bot.wording.figures`.

* Amounts: ₹11,190 · ₹ 11,190.00 · ₹**11,190** · Rs 11,190 · Rs. 11190 · Rs.11,190/- · INR 11,190 ·
  11,190 rupees · 11,190/- · Indian grouping ₹1,19,990 · ₹1.2 lakh · ₹1.2L · 1.2 lakh rupees ·
  ₹2 crore · ₹50k · ₹12 thousand, and ranges (₹10,000–15,000 · ₹10,000 to ₹15,000 ·
  Rs 10-15k), each end its own figure; a bare number where a price is said ("Price: 41990",
  "costs 41,990", "MRP 55,990") too. A number whose digit groups are neither Indian nor
  international ("₹1,08" where an answer was cut) is read whole and cannot be checked.
* SKUs are recognised from the data (`Vocabulary`, from the catalog's `Names`): a SKU-like
  token (letters and digits, six or more, dashes allowed) the catalog knows is a SKU; one it
  does not know is an unknown SKU when it looks like a product code (shaped like the catalog's
  own SKUs, or written in capitals with two letters and three digits or more, not a year or a
  standard such as FY2025-26 or ISO9001) and is not a model number or code the tools' results
  or the asker wrote (the "55CU7700" of "Samsung 55CU7700"), a place, or a number with a unit
  ("55-INCH"). Without the catalog's names, the demo's SKU pattern (SMX-TV-0002) stands in.
* Stock counts: "3 in stock at Andheri", "3 units at Andheri", "only 2 left in Pune",
  "Andheri has 3", "Mumbai: 3 units", "Mumbai: 3, Delhi: 0", "Mumbai (3)",
  "Delhi mein 3 piece", "out of stock in Delhi" (0), for
  the catalog's places (any capitalised name without the catalog's names); and a count with
  no place next to it ("only 2 left"), which is for any place or all of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

MAX_DIGITS = 15  # longer numbers are not prices
SCALES = {"k": 1_000, "thousand": 1_000, "lakh": 100_000, "lakhs": 100_000, "lac": 100_000}
SCALES |= {"lacs": 100_000, "l": 100_000, "crore": 10_000_000, "crores": 10_000_000}
SCALES |= {"cr": 10_000_000}
MAX_WORDS = 4  # runs of up to this many words of the tools' results count as one code

_NUM = r"(\d[\d,]*\d|\d)(?:\.(\d{1,2}))?(?![\d])"
_RUPEE_WORDS = r"(?:rupees|Rupees|INR|Rs\.?|rs\.?|rupaye|rupaiye)\b|रुपये|रुपए"
_UNIT = r"(?:\s?(k|K|thousand|lakhs?|lacs?|L|crores?|cr|Cr)\b)?"
_RS = r"(?:₹|(?<![A-Za-z])(?:Rs\.?|RS\.?|rs\.?|INR)|रु\.?)"
_PREFIXED = re.compile(
    _RS
    + r"\s?(?:\*\*|__)?"
    + _NUM
    + _UNIT
    + r"(?:\s*(?:-|–|—|to)\s*(?:"
    + _RS
    + r"\s?)?"
    + _NUM
    + _UNIT
    + r")?"
)
_SUFFIXED = re.compile(r"(?<![\d.,₹])" + _NUM + _UNIT + r"(?:\s?(?:" + _RUPEE_WORDS + r")|/-)")
_RUPEE_TAIL = re.compile(r"/-|\s?(?:" + _RUPEE_WORDS + ")")
_PRICED = re.compile(  # a bare number where a price is said: "Price: 41990", "costs 41,990"
    r"(?i:\b(?:price|priced\s+at|costs?|costing|mrp|m\.r\.p\.?)(?:\s+(?:is|of|=))?\s*[:=-]?\s*)"
    r"(\d{1,3}(?:,\d{2,3})+|\d{3,15})(?:\.(\d{1,2}))?(?![\d,]|\.\d)"
    r"(?!\s*(?:%|percent|months?|days?|years?|hours?|inch|units?|pieces?|kg|tons?|litres?|"
    r"gb|tb|watts?|mah|pm|am)\b)"
)
_BARE = re.compile(r"(?<![\w.,-])" + _NUM + _UNIT + r"(?![\w-])")
_BARE_RANGE = re.compile(
    r"(?<![\w.,-])" + _NUM + _UNIT + r"\s*(?:-|–|—|to|and)\s*(?:₹\s?)?" + _NUM + _UNIT
)
_INDIAN = re.compile(r"\d{1,2}(?:,\d{2})*,\d{3}")
_WESTERN = re.compile(r"\d{1,3}(?:,\d{3})+")
_DEMO_SKU = re.compile(r"(?<![\w-])([A-Za-z]{2,5}-[A-Za-z]{1,4}-\d{2,6})(?![\w-])")
_TOKEN = re.compile(r"(?<![\w-])([A-Za-z0-9]+(?:-[A-Za-z0-9]+)*)(?![\w]|-\w)")
_WORD = re.compile(r"[A-Za-z0-9]+")
_MEASURE = re.compile(
    r"^\d+(?:\.\d+)?-?(?:inch(?:es)?|in|hz|khz|mhz|ghz|kg|kgs|g|gm|l|ltr|litres?|liters?|ml|w|"
    r"watts?|kw|kwh|mah|gb|tb|mb|mp|star|stars|ton|tons|tonne|years?|yrs?|months?|days?|hours?|"
    r"hrs?|mins?|p|k|x|mm|cm|m|v|a|db|rpm|nits|fps|bit|bits|cores?|gen|th|st|nd|rd|pcs|units?|"
    r"seater|door|doors|burner|burners|jar|jars|speed|speeds|litre)$",
    re.I,
)
_NOT_A_CODE = re.compile(  # years and standards: FY2025-26, Q3FY2026, ISO9001, IS-1293, IP68
    r"^(?:[A-Z]{1,4}-?(?:19|20)\d{2}(?:-\d{2,4})?|Q[1-4]-?FY-?\d{2,4}|"
    r"(?:ISO|IS|IEC|EN|BIS|IP|UL|IEEE|DIN)-?\d+(?:-\d+)*)$"
)
_CAPITALISED = r"([A-Z][\w'’-]*(?:\s[A-Z][\w'’-]*){0,3})"
_URL = re.compile(r"https?://\S+")
_BOUND_BEFORE = re.compile(
    r"(?:under|below|within|up\s?to|upto|less\s+than|more\s+than|over|above|max(?:imum)?|"
    r"min(?:imum)?|at\s+most|at\s+least|around|about|approx(?:imately|\.)?|between|budget"
    r"(?:\s+(?:of|is))?|range(?:\s+of)?|से\s+कम|tak|ke\s+andar)\s*[:\-]?\s*$",
    re.I,
)
_BOUND_AFTER = re.compile(
    r"^\s*(?:budget|range|or\s+(?:less|below|under|more)|tak\b|ke\s+andar)", re.I
)


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
    bound: bool = False  # written as a limit ("under ₹50,000", a range's end), not a price
    readable: bool = True  # False: the digits cannot be a number as written ("₹1,08")


@dataclass(frozen=True)
class Vocabulary:
    """What the catalog calls things and what the tools' results wrote, for finding figures by
    the data: SKUs (upper-case), places (lower-case), the shapes of the SKUs ("AAA-AA-9999"),
    and codes the tools returned (runs of words with their separators taken out, upper-case)."""

    skus: frozenset[str] = frozenset()
    places: frozenset[str] = frozenset()
    written: frozenset[str] = frozenset()
    shapes: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "shapes", frozenset(shape(s) for s in self.skus))
        object.__setattr__(self, "places", frozenset(place_name(p) for p in self.places))

    def with_more(
        self, skus: Iterable[str], places: Iterable[str], written: frozenset[str]
    ) -> Vocabulary:
        """This vocabulary with a few more SKUs and places and its own codes written, working
        out the shapes and place names of the new ones only: a chain's catalog is 16,000 SKUs,
        whose shapes are worked out once per catalog generation, not once per answer."""
        more_skus = frozenset(skus) - self.skus
        joined = object.__new__(Vocabulary)
        object.__setattr__(joined, "skus", self.skus | more_skus)
        object.__setattr__(joined, "shapes", self.shapes | {shape(s) for s in more_skus})
        object.__setattr__(joined, "places", self.places | {place_name(p) for p in places})
        object.__setattr__(joined, "written", written)
        return joined


def shape(token: str) -> str:
    """A token's shape: letters as A, digits as 9, the rest as it is."""
    return re.sub(r"\d", "9", re.sub(r"[A-Za-z]", "A", token))


def compact(text: str) -> str:
    """A code without its separators, upper-case: "55-cu 7700" is "55CU7700"."""
    return "".join(_WORD.findall(text)).upper()


def codes_in(text: str) -> set[str]:
    """Every run of up to `MAX_WORDS` words of `text` written together (see `Vocabulary`)."""
    words = [w.upper() for w in _WORD.findall(text)]
    found: set[str] = set()
    for i in range(len(words)):
        joined = ""
        for word in words[i : i + MAX_WORDS]:
            joined += word
            found.add(joined)
    return found


def find(text: str, vocabulary: Vocabulary | None = None) -> list[Figure]:
    """Every amount, SKU and stock count in `text`, in order (none inside a link). Without a
    vocabulary, SKUs are the demo's pattern and places capitalised names."""
    links = [m.span() for m in _URL.finditer(text)]
    found: list[Figure] = []
    found.extend(_prefixed(text))
    found.extend(_suffixed(text))
    for match in _PRICED.finditer(text):
        number = _number(match.group(1), match.group(2))
        if number is not None:
            start, end = match.start(1), match.end()
            found.append(Figure("amount", start, end, text[start:end], number))
    found.extend(_skus(text, vocabulary))
    found.extend(_stock(text, vocabulary))
    inside = [f for f in found if not any(a <= f.start < b for a, b in links)]
    return sorted(_without_overlaps(inside), key=lambda f: f.start)


def numbers(text: str) -> set[Decimal]:
    """Every number of 100 or more in `text`, with a scale if it has one ("40k", "1.2 lakh"):
    the amounts an asker may mean without writing ₹ ("TV under 50000?")."""
    found: set[Decimal] = set()
    for match in _BARE_RANGE.finditer(text):  # "40 to 45k": the scale is both ends'
        low = _number(match.group(1), match.group(2))
        if low is not None:
            found.add(low * _scale(match.group(3) or match.group(6)))
    for match in _BARE.finditer(text):
        number = _number(match.group(1), match.group(2))
        if number is not None:
            value = number * _scale(match.group(3))
            if value >= 100:
                found.add(value)
    return found


# ---- amounts ----------------------------------------------------------------------------------


def _prefixed(text: str) -> Iterable[Figure]:
    """Amounts after ₹, Rs or INR; a range's two ends each a figure. A match that is not a
    range ("₹11,190-₹1,500") gives its first amount and the search goes on after it."""
    at = 0
    while (match := _PREFIXED.search(text, at)) is not None:
        figures, at = _amounts(match, text)
        yield from figures


def _suffixed(text: str) -> Iterable[Figure]:
    for match in _SUFFIXED.finditer(text):
        yield from _amounts(match, text)[0]


def _amounts(match: re.Match[str], text: str) -> tuple[list[Figure], int]:
    """The amounts in one match, and where to look for the next."""
    start, unit = match.start(), match.group(3)
    ranged = match.re.groups >= 4 and match.group(4) is not None
    first = _number(match.group(1), match.group(2))
    if ranged and first is not None:
        second = _number(match.group(4), match.group(5))
        second_unit = match.group(6)
        low = first * _scale(unit or second_unit)
        high = None if second is None else second * _scale(second_unit or unit)
        if high is not None and low < high:
            cut = _end_of_first(match)
            lower = _scaled(start, cut, text, first, match.group(2), unit or second_unit)
            upper = _scaled(
                match.start(4),
                match.end(),
                text,
                second or Decimal(0),
                match.group(5),
                second_unit or unit,
            )
            return [_as_bound(lower), _as_bound(upper)], match.end()
        if second is None:  # "₹10,000–15,0": the upper end cut, or grouped wrongly
            cut = _end_of_first(match)
            lower = _scaled(start, cut, text, first, match.group(2), unit)
            at, end = match.start(4), match.end()
            upper = Figure("amount", at, end, text[at:end], readable=False)
            return [_as_bound(lower), upper], end
    end = _past_rupee_tail(text, _end_of_first(match) if ranged else match.end())
    if first is None:
        return [Figure("amount", start, end, text[start:end], readable=False)], end
    return [_bounded(_scaled(start, end, text, first, match.group(2), unit), text)], end


def _end_of_first(match: re.Match[str]) -> int:
    """Where a match's first amount ends: after its number, and its unit if it has one."""
    if match.group(3):
        return match.end(3)
    return match.end(2) if match.group(2) else match.end(1)


def _past_rupee_tail(text: str, end: int) -> int:
    tail = _RUPEE_TAIL.match(text, end)
    return tail.end() if tail else end


def _number(whole: str, decimals: str | None) -> Decimal | None:
    """The number written, or None when its digit groups are not a way to write one."""
    if "," in whole and not (_INDIAN.fullmatch(whole) or _WESTERN.fullmatch(whole)):
        return None
    digits = whole.replace(",", "")
    if len(digits) > MAX_DIGITS:
        return None
    try:
        number = Decimal(int(digits))
        if decimals:
            number += Decimal(int(decimals)) / 10 ** len(decimals)
    except (ValueError, InvalidOperation):
        return None
    return number


def _scale(unit: str | None) -> int:
    return SCALES.get(unit.lower(), 1) if unit else 1


def _scaled(
    start: int, end: int, text: str, number: Decimal, decimals: str | None, unit: str | None
) -> Figure:
    scale = _scale(unit)
    if scale == 1:
        return Figure("amount", start, end, text[start:end], number)
    precision = Decimal(scale) / (10 ** len(decimals or ""))
    return Figure("amount", start, end, text[start:end], number * scale, precision)


def _as_bound(figure: Figure) -> Figure:
    return Figure(**{**figure.__dict__, "bound": True})


def _bounded(figure: Figure, text: str) -> Figure:
    """The figure, marked as a bound when the words around it make it one."""
    before = text[max(0, figure.start - 40) : figure.start]
    after = text[figure.end : figure.end + 20]
    if _BOUND_BEFORE.search(before) or _BOUND_AFTER.match(after):
        return _as_bound(figure)
    return figure


# ---- SKUs -------------------------------------------------------------------------------------


def _skus(text: str, vocabulary: Vocabulary | None) -> Iterable[Figure]:
    if vocabulary is None:
        for match in _DEMO_SKU.finditer(text):
            yield Figure("sku", *match.span(1), match.group(1))
        return
    for match in _TOKEN.finditer(text):
        token = match.group(1)
        if len(token) < 6 or not _has_letters_and_digits(token):
            continue
        if token.upper() in vocabulary.skus or _looks_like_a_code(token, vocabulary):
            yield Figure("sku", *match.span(1), token)


def _has_letters_and_digits(token: str) -> bool:
    return any(c.isdigit() for c in token) and any(c.isalpha() for c in token)


def _looks_like_a_code(token: str, vocabulary: Vocabulary) -> bool:
    """An unknown token a reader would take for a product code (see the module docstring)."""
    code = compact(token)
    if len(code) < 6 or code in vocabulary.written or token.lower() in vocabulary.places:
        return False
    if _MEASURE.match(token) or _MEASURE.match(token.replace("-", "")):
        return False
    if shape(token.upper()) in vocabulary.shapes:
        return True
    if _NOT_A_CODE.match(token):
        return False
    letters = sum(c.isalpha() for c in token)
    digits = sum(c.isdigit() for c in token)
    return token == token.upper() and letters >= 2 and digits >= 3


# ---- stock counts -----------------------------------------------------------------------------

_COUNT = r"(?<![\w.,₹])(?:only\s+|just\s+)?(\d{1,5})\s+"
_COUNT_THEN_PLACE = re.compile(  # "3 units left at Andheri West", "2 in stock in Pune"
    _COUNT + r"(?:(units?|pieces?|pcs\.?|nos\.?)\s+)?(?:(left|available)\s+)?(?:(in\s+stock)\s+)?"
    r"(?:at|in)\s+(?:the\s+)?(?:ShopMax\s+)?"
)
_FALLBACK_STOCK = re.compile(_COUNT_THEN_PLACE.pattern + _CAPITALISED)
_HAS_COUNT = re.compile(  # "[Andheri West] has only 3 left"
    r"(?:\s+(?:store|branch|shop))?\s+(?:has|have|had)\s+(?:only\s+|just\s+)?(\d{1,5})"
    r"(?:\s+(?:units?|pieces?|pcs\.?))?(?:\s+(?:left|available|in\s+stock))?"
    r"(?=\s*(?:[.,;:!?)\]|—–-]|$|and\b|but\b|while\b|whereas\b))"
)
_COLON_COUNT = re.compile(  # "[Mumbai]: 3 units", "[Mumbai]: 3, [Delhi]: 0", "[Mumbai] (3)"
    r"(?:\s+(?:store|branch|shop))?(?:\s*[:–—-]\s*(?:only\s+)?(\d{1,5})(?:\s+"
    r"(?:units?|pieces?|pcs\.?|in\s+stock|left|available)\b|(?=[ \t]*(?:[,;)|]|\.?[ \t]*$)))"
    r"|\s*\((\d{1,5})(?:\s+(?:units?|pieces?|pcs\.?|in\s+stock|left))?\))",
    re.M,
)
_MEIN_COUNT = re.compile(  # Hinglish: "[Delhi] mein 3 piece hain"
    r"(?:\s+(?:store|branch|shop))?\s+(?:mein|me|par)\s+(?:sirf\s+|bas\s+)?(\d{1,5})\s+"
    r"(?:piece|pieces|pcs\.?|units?|nos\.?)\b"
)
_COUNT_NO_PLACE = re.compile(  # "3 units in stock", "only 2 left": for the product, any place
    _COUNT + r"(?:(?:units?|pieces?|pcs\.?)\s+)?(?:left|available|in\s+stock)\b"
)
_OUT_OF_STOCK = re.compile(
    r"(?i:out\s+of\s+stock|sold\s+out|no\s+stock)\s+(?:at|in)\s+(?:the\s+)?(?:ShopMax\s+)?"
)
_PLACE_WORD = re.compile(r"[\w'’&-]+")
_NEXT_WORD = re.compile(r"[ \t]*([\w'’&-]+)")
MAX_PLACE_WORDS = 5


def _stock(text: str, vocabulary: Vocabulary | None) -> Iterable[Figure]:
    """Stock counts; with the catalog's places, the place is found by looking them up in the
    words next to the count (a set lookup, not a pattern of every place: linear in the text)."""
    if vocabulary is None:
        for match in _FALLBACK_STOCK.finditer(text):
            if match.group(2) or match.group(3) or match.group(4):
                count, where = Decimal(int(match.group(1))), place_name(match.group(5))
                yield Figure("stock", *match.span(), match.group(0), count, place=where)
        return
    places = vocabulary.places
    for match in _COUNT_THEN_PLACE.finditer(text):
        if match.group(2) or match.group(3) or match.group(4):
            after = _place_after(text, match.end(), places)
            if after is not None:
                end, where = after
                count = Decimal(int(match.group(1)))
                yield Figure(
                    "stock", match.start(), end, text[match.start() : end], count, place=where
                )
    for match in _COUNT_NO_PLACE.finditer(text):  # overlaps with a count at a place lose
        yield _stocked(text, match.start(), match.end(), Decimal(int(match.group(1))), "")
    for form in (_HAS_COUNT, _COLON_COUNT, _MEIN_COUNT):
        for match in form.finditer(text):
            before = _place_before(text, match.start(), places)
            if before is not None:
                start, where = before
                count = Decimal(int(match.group(1) or match.group(match.re.groups)))
                yield Figure(
                    "stock", start, match.end(), text[start : match.end()], count, place=where
                )
    for match in _OUT_OF_STOCK.finditer(text):
        after = _place_after(text, match.end(), places)
        if after is not None:
            end, where = after
            yield Figure(
                "stock", match.start(), end, text[match.start() : end], Decimal(0), place=where
            )


def _stocked(text: str, start: int, end: int, count: Decimal, place: str) -> Figure:
    return Figure("stock", start, end, text[start:end], count, place=place)


def _place_after(text: str, at: int, places: frozenset[str]) -> tuple[int, str] | None:
    """The longest known place starting at `at` (its end, and its name), if there is one."""
    words: list[tuple[int, str]] = []
    for _ in range(MAX_PLACE_WORDS):
        match = _NEXT_WORD.match(text, words[-1][0] if words else at)
        if match is None:
            break
        words.append((match.end(), match.group(1)))
    for size in range(len(words), 0, -1):
        name = place_name(" ".join(word for _, word in words[:size]))
        if name in places:
            return words[size - 1][0], name
    return None


def _place_before(text: str, end: int, places: frozenset[str]) -> tuple[int, str] | None:
    """The longest known place ending at `end` (its start, and its name), if there is one."""
    window = text[max(0, end - 120) : end]
    found = [m for m in _PLACE_WORD.finditer(window)][-MAX_PLACE_WORDS:]
    if not found or found[-1].end() != len(window):
        return None
    for size in range(len(found), 0, -1):
        start = found[-size].start()
        if "\n" in window[start:]:
            continue
        name = place_name(window[start:])
        if name in places:
            return end - len(window) + start, name
    return None


def place_name(name: str) -> str:
    """A place as figures are compared: lower-case, one space, no "store" after it."""
    words = name.lower().replace("’", "'").split()
    while words and words[-1] in ("store", "branch", "shop"):
        words.pop()
    return " ".join(words)


def _without_overlaps(found: Iterable[Figure]) -> list[Figure]:
    """The longest figure where two overlap (a SKU's digits are not a stock count)."""
    kept: list[Figure] = []
    for figure in sorted(found, key=lambda f: (f.start, -(f.end - f.start))):
        if kept and figure.start < kept[-1].end:
            continue
        kept.append(figure)
    return kept
