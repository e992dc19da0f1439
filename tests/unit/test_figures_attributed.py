"""The figure verifier with the catalog's names (`Names`), as the answering path runs it: each
figure checked against the product its sentence names, the asker's figures only as theirs,
SKUs and places recognised from the data (a chain's own SKU format), every written form of a
rupee amount and a stock count. Right figures are never marked."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.wording.figures import Facts, Names, ProductNow, check, rupees
from bot.wording.written import find

TV = {
    "sku": "UA55CU7700KLXL",
    "name": "Samsung 55CU7700 Crystal 4K Smart TV",
    "brand": "Samsung",
    "price_inr": 41990,
    "mrp_inr": 52900,
    "specs": {"resolution": "3840x2160", "hdr": "HDR10+", "wifi": "Wi-Fi 5"},
    "stock": {"Mumbai": 3, "Andheri West": 2, "Delhi": 0},
}
FRIDGE = {
    "sku": "GL-S292RPZY",
    "name": "LG 260 L Frost Free Refrigerator",
    "brand": "LG",
    "price_inr": 119990,
    "mrp_inr": 131990,
    "stock": {"Pune": 2},
}
OFFER = "No-cost EMI on 6 and 12 months. 10% instant discount, up to ₹5,000. Installation: ₹1,500."
NAMES = Names(
    frozenset({"UA55CU7700KLXL", "GL-S292RPZY", "SMX-TV-0002", "MX-19043"}),
    frozenset({"mumbai", "andheri west", "delhi", "pune", "blr-krm-01"}),
)


def facts(asked: str = "", *, names: Names | None = NAMES) -> Facts:
    found = Facts(asked=asked, catalog=names)
    for product in (TV, FRIDGE):
        found.add_product(product)
    found.add_text(OFFER)
    found.add_now(
        {
            "UA55CU7700KLXL": ProductNow(41990, 52900, {"Mumbai": 3, "Andheri West": 2}),
            "GL-S292RPZY": ProductNow(119990, 131990, {"Pune": 2}),
            "MX-19043": ProductNow(2499, 2999, {}),
        }
    )
    return found


RIGHT = [
    # attribution: each product's own figures, and figures about no product
    "UA55CU7700KLXL is ₹41,990; GL-S292RPZY is ₹1,19,990.",
    "| Samsung 55CU7700 | `UA55CU7700KLXL` | **₹41,990** (MRP ₹52,900) |",
    "| LG 260 L | `GL-S292RPZY` | ₹1,19,990 | ₹1,31,990 |",
    "The Samsung 55CU7700 is ₹41,990.\nThe LG 260 L Frost Free Refrigerator is ₹1,19,990.",
    "Prices start at ₹41,990 and go up to ₹1,19,990.",
    "UA55CU7700KLXL is ₹41,990 plus ₹1,500 for installation.",  # a document's figure
    "UA55CU7700KLXL is ₹10,910 below its MRP.",  # its own difference
    "GL-S292RPZY costs ₹78,000 more than UA55CU7700KLXL.",  # 1,19,990 − 41,990
    "UA55CU7700KLXL: ₹6,998 a month over 6 months.",  # 41,990 / 6, rounded down
    "UA55CU7700KLXL: ₹4,199 off with the HDFC card.",  # 10% of 41,990
    "UA55CU7700KLXL: ₹37,791 after the 10% HDFC discount.",  # 41,990 less 10%
    "UA55CU7700KLXL costs less than GL-S292RPZY: ₹41,990 against ₹1,19,990.",
    "Compared with the LG 260 L (₹1,19,990), the Samsung 55CU7700 is ₹41,990.",
    # SKUs and model numbers from the data
    "uA55cu7700klxl",
    "The Samsung 55CU7700 has HDR10+ and 3840x2160, 55-INCH, 1.5-TON, 5-STAR, 3X.",
    "It runs HDR10 at 120HZ with WIFI6 and 4K; call 1800-266-7629.",
    "Pick it up at BLR-KRM-01, or order MX-19043.",
    "Offer for FY2025-26 and Q3FY26; ISO9001 and IS-1293 plugs; COVID-19 rules; R410A gas.",
    # every written form of a right amount
    "UA55CU7700KLXL: ₹41,990 · ₹ 41,990.00 · Rs 41,990 · Rs. 41990 · Rs.41,990/- · INR 41,990",
    "UA55CU7700KLXL: 41,990 rupees · 41,990/- · 41990 Rs · ₹41990",
    "GL-S292RPZY: ₹1,19,990 · ₹119,990 · ₹1.2 lakh · ₹1.20 lakh · Rs 1.2 lakhs · ₹1.2L",
    "GL-S292RPZY: 1.2 lakh rupees · ₹120k · ₹1 lakh 19 thousand",
    "From ₹41,990 to ₹1,19,990.",
    "From Rs 41,990 – 1,19,990.",
    "₹41,990-₹1,500",  # not a range: two amounts, both returned
    # stock counts in more phrasings
    "UA55CU7700KLXL: 3 in stock at Mumbai, 2 units at Andheri West, out of stock in Delhi.",
    "Andheri West has 2 and Mumbai has 3 (UA55CU7700KLXL).",
    "GL-S292RPZY: only 2 left in Pune.",
    "UA55CU7700KLXL — Mumbai: 3 units; Andheri West: 2 in stock.",
    "Mumbai has 3 stores and 12 days of returns.",  # not stock counts
    "UA55CU7700KLXL: only 2 left; 5 units in stock across stores. Delhi mein 0 piece.",
    "UA55CU7700KLXL stock: Mumbai (3), Andheri West (2 units); Mumbai: 3, Delhi: 0.",
    "- Mumbai: 3\n- Andheri West: 2\n\n(UA55CU7700KLXL) Mumbai: 3 stores, open 10 to 9.",
    # a list item naming no product takes its parent's
    "**Samsung 55CU7700 (UA55CU7700KLXL)**\n- Price: ₹41,990\n- MRP: ₹52,900\n"
    "- 3 units at Mumbai\n\n**LG 260 L**\n\n- Price: ₹1,19,990\n  - EMI: ₹9,999 a month",
    "Here are the prices:\n- ₹41,990\n- ₹1,19,990",
    "**Samsung 55CU7700 (UA55CU7700KLXL)**\n- Price: ₹41,990\n- Compare: the LG is ₹1,19,990",
    # more written forms: bold inside, Hindi, a bare number where a price is said
    "UA55CU7700KLXL: ₹**41,990** · रु 41,990 · रु. 41,990 · 41,990 रुपये · Price: 41990",
    "UA55CU7700KLXL costs 41,990 (MRP 52,900), 12 months warranty, price 2 units lower.",
]


@pytest.mark.parametrize("text", RIGHT)
def test_right_figures_are_never_marked(text: str) -> None:
    checked = check(text, facts())
    assert (checked.text, checked.unchecked) == (text, 0)


WRONG = [
    # a right price of one product on the line about another
    ("GL-S292RPZY is ₹41,990.", "GL-S292RPZY is ₹41,990 ⚠."),
    ("The LG 260 L Frost Free Refrigerator is ₹41,990.", "… is ₹41,990 ⚠."),
    ("The LG 260 L is just Rs 52,900!", "… Rs 52,900 ⚠!"),
    ("| LG 260 L | `GL-S292RPZY` | ₹41,990 |", "… ₹41,990 ⚠ |"),
    ("UA55CU7700KLXL is ₹1.2 lakh.", "… ₹1.2 lakh ⚠."),
    ("The Samsung 55CU7700 is ₹1,19,990.", "… ₹1,19,990 ⚠."),
    # an unknown SKU in the chain's format, or the demo's, or in capitals
    ("UA55CU7799KLXL is in stock.", "UA55CU7799KLXL ⚠ is in stock."),
    ("Try GL-S292RPZZ.", "Try GL-S292RPZZ ⚠."),
    ("smx-tv-9999", "smx-tv-9999 ⚠"),
    ("Order QA65QN90DAKXXL.", "Order QA65QN90DAKXXL ⚠."),
    # written forms
    ("₹40,000–45,000", "₹40,000 ⚠–45,000 ⚠"),  # a range no one gave
    ("Rs 3-4 crore", "Rs 3 ⚠-4 crore ⚠"),
    ("₹2 crore", "₹2 crore ⚠"),
    ("₹41,900/-", "₹41,900/- ⚠"),
    ("41,900 rupees", "41,900 rupees ⚠"),
    ("UA55CU7700KLXL is ₹41,99", "UA55CU7700KLXL is ₹41,99 ⚠"),  # cut where the stream ended
    ("UA55CU7700KLXL is ₹4", "UA55CU7700KLXL is ₹4 ⚠"),
    ("UA55CU7700KLXL: ₹41,990–52,9", "UA55CU7700KLXL: ₹41,990–52,9 ⚠"),  # a range cut
    # stock counts
    ("Andheri West has 5.", "Andheri West has 5 ⚠."),
    ("GL-S292RPZY: only 3 left in Pune.", "GL-S292RPZY: only 3 left in Pune ⚠."),
    ("GL-S292RPZY: 3 units at Mumbai.", "GL-S292RPZY: 3 units at Mumbai ⚠."),  # the TV's count
    ("UA55CU7700KLXL is out of stock in Mumbai.", "… out of stock in Mumbai ⚠."),
    ("UA55CU7700KLXL: only 4 left.", "UA55CU7700KLXL: only 4 left ⚠."),
    ("UA55CU7700KLXL: Mumbai (4), Delhi: 1", "UA55CU7700KLXL: Mumbai (4) ⚠, Delhi: 1 ⚠"),
    ("GL-S292RPZY: Andheri West mein 2 piece hain.", "… Andheri West mein 2 piece ⚠ hain."),
    # a list item under another product, bold, bare numbers said as prices
    ("**LG 260 L (GL-S292RPZY)**\n- Price: ₹41,990", "…\n- Price: ₹41,990 ⚠"),
    ("- GL-S292RPZY\n  - Price: ₹41,990", "…\n  - Price: ₹41,990 ⚠"),
    ("The LG is ₹41,990.", "The LG is ₹41,990 ⚠."),
    ("GL-S292RPZY costs 41,990.", "GL-S292RPZY costs 41,990 ⚠."),
    ("Price: 12345", "Price: 12345 ⚠"),
    ("UA55CU7700KLXL is ₹**41,999**", "UA55CU7700KLXL is ₹**41,999** ⚠"),
    ("UA55CU7700KLXL is रु 41,999", "UA55CU7700KLXL is रु 41,999 ⚠"),
]


@pytest.mark.parametrize(("text", "marked"), WRONG)
def test_wrong_figures_are_marked_where_they_stand(text: str, marked: str) -> None:
    checked = check(text, facts())
    assert checked.unchecked >= 1
    if marked.startswith("…"):
        assert checked.text.endswith(marked[1:])
    else:
        assert checked.text == marked


def test_a_price_changed_is_marked_with_the_new_one_for_its_own_product() -> None:
    found = facts()
    found.add_now({**(found.now or {}), "UA55CU7700KLXL": ProductNow(39990, 52900, {})})
    checked = check("UA55CU7700KLXL is ₹41,990; GL-S292RPZY is ₹1,19,990.", found)
    assert checked.text == "UA55CU7700KLXL is ₹41,990 (⚠ now ₹39,990); GL-S292RPZY is ₹1,19,990."


@pytest.mark.parametrize(
    ("question", "answer", "unchecked"),
    [
        ("Is the UA55CU7700KLXL ₹7,777?", "Yes, the UA55CU7700KLXL costs ₹7,777.", 1),
        ("Samsung 55CU7700 for Rs 7777?", "The Samsung 55CU7700 is ₹7,777.", 1),
        ("is it 7777 rupees?", "Yes, it costs ₹7,777.", 1),
        ("any TV under Rs 40000?", "Nothing under ₹40,000 matches.", 0),
        ("budget 45k, which TV?", "Within your ₹45k budget: UA55CU7700KLXL at ₹41,990.", 0),
        ("TV between 40 and 45k?", "In the ₹40,000–45,000 range: UA55CU7700KLXL.", 0),
        ("TV for 45000?", "You mentioned ₹45,000; the closest is ₹41,990.", 0),
        ("is SMX-XX-0404 a sku?", "SMX-XX-0404 is not a ShopMax SKU.", 0),
        ("Andheri West has 5?", "Yes, Andheri West has 5.", 1),  # a count is never the asker's
    ],
)
def test_the_askers_figures_are_theirs_only_as_bounds_or_about_no_product(
    question: str, answer: str, unchecked: int
) -> None:
    assert check(answer, facts(question)).unchecked == unchecked


def test_a_model_number_in_a_returned_name_is_not_an_unknown_sku() -> None:
    """ "55CU7700" is part of "Samsung 55CU7700": the model number, not a SKU to check."""
    text = "The 55CU7700 (UA55CU7700KLXL) and the SAMSUNG55CU7700 are one TV."
    assert check(text, facts()).unchecked == 0
    assert [f.kind for f in find(text)] == []  # the demo's pattern sees no SKU here at all


def test_without_the_catalogs_names_the_demos_sku_pattern_stands_in() -> None:
    checked = check("SMX-TV-9999 is gone. UA55CU7799KLXL: ₹41,990.", facts(names=None))
    assert checked.text == "SMX-TV-9999 ⚠ is gone. UA55CU7799KLXL: ₹41,990."


def test_a_huge_hostile_answer_with_names_is_checked_in_linear_time() -> None:
    text = "The Samsung 55CU7700 (UA55CU7700KLXL) is ₹41,990, 3 units at Mumbai. " * 3000
    checked = check(text, facts())
    assert (checked.figures, checked.unchecked) == (9000, 0)


# ---- a right price in any written form is never marked ----------------------------------------


def _western(n: int) -> str:
    return f"{n:,}"


def _forms(price: int) -> list[str]:
    indian = rupees(price)
    forms = [
        indian,
        indian.replace("₹", "₹ ") + ".00",
        "Rs " + indian[1:],
        "Rs. " + str(price),
        "Rs." + indian[1:] + "/-",
        "INR " + _western(price),
        indian[1:] + " rupees",
        indian[1:] + "/-",
        "₹" + _western(price),
    ]
    for scale, word in ((100_000, "lakh"), (10_000_000, "crore")):
        if price >= scale:
            forms.append(f"₹{Decimal(price) / scale:.2f} {word}")
            forms.append(f"{Decimal(price) / scale:.1f} {word} rupees")
    if price >= 1000:
        forms.append(f"₹{round(price / 1000)}k")
    return forms


@settings(max_examples=150, deadline=None)
@given(
    price=st.integers(min_value=1, max_value=99_999_999),
    mrp_extra=st.integers(min_value=0, max_value=50_000),
    form=st.integers(min_value=0, max_value=20),
    where=st.sampled_from(["{sku} is {amount}.", "| {sku} | **{amount}** |", "Only {amount}!"]),
)
def test_a_right_price_in_any_written_form_is_never_marked(
    price: int, mrp_extra: int, form: int, where: str
) -> None:
    sku = "UA55CU7700KLXL"
    found = Facts(asked="price?", catalog=NAMES)
    found.add_product(
        {"sku": sku, "name": "Samsung TV", "price_inr": price, "mrp_inr": price + mrp_extra}
    )
    found.add_now({sku: ProductNow(price, price + mrp_extra, {})})
    forms = _forms(price)
    text = where.format(sku=sku, amount=forms[form % len(forms)])
    checked = check(text, found)
    assert (checked.text, checked.unchecked) == (text, 0)


@settings(max_examples=100, deadline=None)
@given(price=st.integers(min_value=1000, max_value=9_999_999), off=st.integers(1, 999))
def test_another_products_price_is_marked_on_its_line(price: int, off: int) -> None:
    found = Facts(catalog=NAMES)
    found.add_product({"sku": "UA55CU7700KLXL", "name": "Samsung TV", "price_inr": price})
    found.add_product({"sku": "GL-S292RPZY", "name": "LG Fridge", "price_inr": price + off})
    text = f"GL-S292RPZY is {rupees(price)}."
    assert check(text, found).text == f"GL-S292RPZY is {rupees(price)} ⚠."


def test_a_chains_thousand_places_and_hundreds_of_products_keep_the_check_linear() -> None:
    """Places are looked up in a set next to each count and names walked as a trie: a long
    answer against a real chain's names does a set lookup per word, not a pattern per place."""
    places = frozenset({f"store area {n}" for n in range(800)} | {f"city{n}" for n in range(200)})
    skus = frozenset({f"UA{n:02d}CU77{n:04d}KLXL" for n in range(5000)})
    found = Facts(asked="q", catalog=Names(skus, places))
    for n in range(200):
        found.add_product(
            {
                "sku": f"UA{n:02d}CU77{n:04d}KLXL",
                "name": f"Samsung {n} Crystal 4K Smart TV",
                "price_inr": 40_000 + n,
                "stock": {"Store Area 7": 3},
            }
        )
    text = "Samsung 12 Crystal 4K is ₹40,012 and 3 units at Store Area 7. " * 1500
    checked = check(text, found)
    assert (checked.figures, checked.unchecked) == (3000, 0)
    assert check("Samsung 12 Crystal 4K: 4 units at Store Area 7.", found).unchecked == 1


def test_the_catalogs_part_of_the_vocabulary_is_worked_out_once_and_joined_right() -> None:
    """A chain's 16,000 SKU shapes are worked out once per catalog generation; each answer's
    vocabulary joins its own SKUs, places and codes to them, exactly as if built whole."""
    from bot.wording.figures import vocabulary
    from bot.wording.written import Vocabulary

    names = Names(frozenset({"UA55CU7700KLXL", "SMX-TV-0002"}), frozenset({"Andheri West Store"}))
    facts = Facts(asked="is the 55CU7700 in Pune?")
    facts.catalog = names
    facts.add_product({"sku": "NEW-AB-123", "price": 1, "stock": {"Pune": 2}})
    joined = vocabulary(facts)
    whole = (
        Vocabulary(
            names.skus | facts.skus, names.places | {p for _, p in facts.stock}, joined.written
        )
        if joined
        else None
    )
    assert joined is not None and whole is not None
    assert (joined.skus, joined.shapes, joined.places) == (whole.skus, whole.shapes, whole.places)
    assert "AAA-AA-999" in joined.shapes
    assert {"pune", "andheri west"} <= joined.places
    assert vocabulary(facts) == joined  # built again from the cached part, the same
