"""The figure verifier (`bot.wording.figures`): every amount, SKU and stock count in an answer
checked against what its tools returned and the catalog now; right figures never marked."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.wording.figures import Facts, ProductNow, check, find, rupees

TV = {
    "sku": "SMX-TV-0002",
    "name": "Samsung 43 inch Crystal 4K",
    "price_inr": 11190,
    "mrp_inr": 14890,
    "stock": {"Mumbai": 3, "Andheri West": 2, "Delhi": 0},
}
FRIDGE = {"sku": "SMX-RF-0101", "name": "LG 260 L", "price_inr": 119990, "mrp_inr": 131990}
OFFER = (
    "No-cost EMI on tenures of 3, 6, 9 and 12 months. 10% instant discount, up to ₹5,000, "
    "on HDFC Bank cards. Split AC installation: ₹1,500."
)


def facts(*, now: dict[str, ProductNow] | None = None, asked: str = "") -> Facts:
    found = Facts(asked=asked)
    for product in (TV, FRIDGE):
        found.add_product(product)
    found.add_text(OFFER)
    found.add_now(
        now
        if now is not None
        else {
            "SMX-TV-0002": ProductNow(11190, 14890, {"Mumbai": 3, "Andheri West": 2}),
            "SMX-RF-0101": ProductNow(119990, 131990, {}),
        }
    )
    return found


@pytest.mark.parametrize(
    "text",
    [
        "₹11,190",
        "Rs 11,190",
        "Rs. 11190",
        "Rs.11190/-",
        "INR 11,190",
        "₹ 11,190",
        "₹11,190.00",
        "11,190 rupees",
        "₹1,19,990",
        "₹119,990",
        "₹1.2 lakh",
        "Rs 1.2 lakhs",
        "₹12k",
        "**₹11,190**",
        "| Samsung | `SMX-TV-0002` | **₹11,190** (MRP ₹14,890) |",
        "₹3,700 below its MRP",  # a difference of two returned figures
        "₹12,690 with installation",  # 11,190 + 1,500
        "₹1,865 a month over 6 months",  # 11,190 / 6
        "₹1,244 a month over 9 months",  # 11,190 / 9 = 1,243.33, rounded up
        "₹932.50 a month for 12 months",  # 11,190 / 12
        "₹1,119 off with the HDFC card",  # 10% of 11,190
        "up to ₹5,000 instant discount",
        "SMX-TV-0002",
        "smx-tv-0002",
        "3 in stock at Mumbai",
        "2 units left in Andheri West",
        "2 in stock at the Andheri West store",
        "Mumbai has SMX-TV-0002: 3 in stock in Mumbai",
        "No figures here at all, 7 days to return.",
        "Call 1800-266-7629 or see https://shop.example/₹9,999/SMX-ZZ-9999",
        "Citations [1] and [2] are not figures.",
    ],
)
def test_right_figures_are_never_marked(text: str) -> None:
    checked = check(text, facts())
    assert (checked.text, checked.unchecked) == (text, 0)


@pytest.mark.parametrize(
    ("text", "marked"),
    [
        ("₹11,990", "₹11,990 ⚠"),
        ("Rs 10,190 only", "Rs 10,190 ⚠ only"),
        ("**₹12,345**", "**₹12,345** ⚠"),
        ("₹2 lakh", "₹2 lakh ⚠"),
        ("SMX-TV-9999", "SMX-TV-9999 ⚠"),
        ("`SMX-TV-9999` is in stock", "`SMX-TV-9999` ⚠ is in stock"),
        ("4 in stock at Mumbai", "4 in stock at Mumbai ⚠"),
        ("3 units in Pune", "3 units in Pune ⚠"),
        ("SMX-RF-0101: 3 in stock at Mumbai", "SMX-RF-0101: 3 in stock at Mumbai ⚠"),
        ("₹１１,９９０", "₹１１,９９０ ⚠"),  # fullwidth digits read as digits
        ("₹४९,९९०", "₹४९,९९० ⚠"),  # Devanagari digits too
        ("₹99999999999999999999", "₹99999999999999999999 ⚠"),  # too long to be a price
    ],
)
def test_a_figure_that_matches_nothing_is_marked_where_it_stands(text: str, marked: str) -> None:
    checked = check(text, facts())
    assert (checked.text, checked.unchecked) == (marked, 1)


def test_a_price_changed_since_the_tool_returned_it_is_marked_with_the_new_one() -> None:
    now = {
        "SMX-TV-0002": ProductNow(10990, 14890, {"Mumbai": 1}),
        "SMX-RF-0101": ProductNow(119990, 131990, {}),
    }
    checked = check("SMX-TV-0002 is ₹11,190, 3 in stock at Mumbai.", facts(now=now))
    assert checked.text == "SMX-TV-0002 is ₹11,190 (⚠ now ₹10,990), 3 in stock at Mumbai (⚠ now 1)."
    assert checked.unchecked == 2


def test_a_sku_the_catalog_no_longer_has_is_marked_though_a_tool_returned_it() -> None:
    now = {"SMX-RF-0101": ProductNow(119990, 131990, {})}
    assert check("SMX-TV-0002", facts(now=now)).text == "SMX-TV-0002 ⚠"


def test_the_askers_own_figures_are_theirs_not_the_bots() -> None:
    """A budget or a SKU from the question is repeated, not quoted from the catalog."""
    text = "Nothing under ₹8,000 matches, and SMX-XX-0404 is not a ShopMax SKU."
    checked = check(text, facts(asked="any TV under Rs 8000? SMX-XX-0404?"))
    assert (checked.text, checked.unchecked) == (text, 0)


def test_without_the_catalog_now_returned_figures_are_checked_and_others_marked() -> None:
    found = Facts()
    found.add_product(TV)
    checked = check("SMX-TV-0002 at ₹11,190; SMX-TV-0003 at ₹9,990.", found)
    assert checked.text == "SMX-TV-0002 at ₹11,190; SMX-TV-0003 ⚠ at ₹9,990 ⚠."


def test_an_amount_the_catalog_has_now_for_a_named_sku_is_checked_without_a_tool() -> None:
    """A follow-up that repeats an earlier answer's price: the catalog now has it."""
    found = Facts()
    found.add_now({"SMX-TV-0002": ProductNow(11190, 14890, {})})
    assert check("SMX-TV-0002 is ₹11,190.", found).unchecked == 0


def test_a_mark_the_model_wrote_itself_is_still_counted_but_not_doubled() -> None:
    checked = check("₹11,990 ⚠", facts())
    assert (checked.text, checked.unchecked) == ("₹11,990 ⚠", 1)


def test_the_last_line_says_how_many_figures_could_not_be_checked() -> None:
    checked = check("₹11,990 and SMX-TV-9999", facts())
    assert checked.line is not None and checked.line.startswith(":warning: 2 figures")
    assert check("₹11,190", facts()).line is None


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("₹11,190 for SMX-TV-0002, 3 in stock at Andheri", ["amount", "sku", "stock"]),
        ("Hrs 500 and Mrs. 20", []),
        ("₹", []),
        ("₹₹₹ 12", ["amount"]),
        ("1.5 ton AC in 5 star", []),
        ("₹" + "9" * 5000, ["amount"]),
    ],
)
def test_what_counts_as_a_figure(text: str, kinds: list[str]) -> None:
    assert [f.kind for f in find(text)] == kinds


def test_a_huge_hostile_answer_is_checked_in_linear_time() -> None:
    """Tens of thousands of figures: every one looked at, none slowing the answer's end much."""
    text = "₹11,190 SMX-TV-0002 3 in stock at Mumbai. " * 3000
    checked = check(text, facts())
    assert (checked.figures, checked.unchecked) == (9000, 0)


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (0, "₹0"),
        (999, "₹999"),
        (11190, "₹11,190"),
        (119990, "₹1,19,990"),
        (Decimal("932.5"), "₹932.50"),
        (12345678, "₹1,23,45,678"),
    ],
)
def test_rupees_are_written_with_indian_grouping(amount: Decimal | int, shown: str) -> None:
    assert rupees(amount) == shown


def test_many_wrong_amounts_cost_one_working_out_of_the_derived_figures() -> None:
    """Thousands of figures matching nothing, against a search's worth of returned amounts:
    the derived amounts are worked out once, so this stays quick (and is never cut short)."""
    found = facts()
    for n in range(150):
        found.add_product({"sku": f"SMX-TV-{n + 100:04d}", "price_inr": 20_000 + n * 7})
    text = " ".join(f"₹{n:,}7" for n in range(3000))
    checked = check(text, found)
    assert checked.figures == 3000 and 0 < checked.unchecked <= 3000
