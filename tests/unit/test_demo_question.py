"""How the offline demo model reads a question, and writes rupees (pure)."""

from __future__ import annotations

import pytest

from bot.model.demo import tokens
from bot.model.demo.answer import rupees
from bot.model.demo.question import Wants, read_question

# The sample catalog's categories and cities (the schema's enums are built from the data).
CATEGORIES = ["ac", "laptop", "phone", "refrigerator", "small_appliance", "tv", "washing_machine"]
CITIES = ["Bengaluru", "Chennai", "Delhi", "Hyderabad", "Kolkata", "Mumbai"]


def read(text: str) -> Wants:
    return read_question(text, CATEGORIES, CITIES)


@pytest.mark.parametrize(
    ("question", "args"),
    [
        (
            "Which TV under Rs 50,000 for a Mumbai living room?",
            {"category": "tv", "city": "Mumbai", "max_price": 50000},
        ),
        ("best 1.5 ton AC for Chennai?", {"query": "1.5 ton", "category": "ac", "city": "Chennai"}),
        ("55 inch oled under 1.5 lakh", {"query": "55 inch oled", "max_price": 150000}),
        ("mixer grinder under 3k", {"query": "mixer grinder", "max_price": 3000}),
        (
            "fridge between ₹20,000 and 30k",
            {"category": "refrigerator", "min_price": 20000, "max_price": 30000},
        ),
        (
            "Samsung phone above 50k in Delhi",
            {"query": "samsung", "category": "phone", "city": "Delhi", "min_price": 50000},
        ),
        ("8 kg washing machine", {"query": "8 kg", "category": "washing_machine"}),
        ("Rs. 40,000 laptop", {"category": "laptop", "max_price": 40000}),
        ("washer in bangalore", {"category": "washing_machine", "city": "Bengaluru"}),
        # A size after "under" is not a budget.
        ("fridge under 300 l", {"query": "300 l", "category": "refrigerator"}),
    ],
)
def test_search_arguments_are_read_off_the_question(question: str, args: dict[str, object]) -> None:
    assert read(question).search_args() == args


def test_only_values_the_tool_schema_offers_are_used() -> None:
    """A catalog without ACs or Chennai gets neither, even when the question names them."""
    wants = read_question("1.5 ton AC for Chennai", ["tv"], ["Mumbai"])
    assert (wants.category, wants.city) == (None, None)


@pytest.mark.parametrize(
    ("question", "about_products", "about_stock"),
    [
        ("hello", False, False),
        ("what is the return policy?", False, False),
        ("TV in stock in Pune", True, False),
        ("is the LG fridge available in Delhi?", True, True),
        ("stock of SMX-TV-0001", True, True),
    ],
)
def test_what_kind_of_question_it_is(
    question: str, about_products: bool, about_stock: bool
) -> None:
    wants = read(question)
    assert (wants.about_products, wants.about_stock) == (about_products, about_stock)


def test_skus_are_found_in_any_case_once_each_and_at_most_three() -> None:
    wants = read("smx-tv-0001 vs SMX-TV-0001 vs SMX-AC-0002, SMX-PH-0003 and SMX-LP-0004")
    assert wants.skus == ("SMX-TV-0001", "SMX-AC-0002", "SMX-PH-0003")


def test_hostile_text_is_read_without_noise_in_the_query() -> None:
    """Markup is punctuation; words longer than 40 characters are not words; only the start of
    a very long question is read."""
    assert read("<script>alert(1)</script> TV").query == "script alert 1 script"
    assert read("x" * 500 + " tv").search_args() == {"category": "tv"}
    assert read("tv " * 5000).search_args() == {"category": "tv"}


@pytest.mark.parametrize(
    ("amount", "written"),
    [(0, "₹0"), (999, "₹999"), (49990, "₹49,990"), (104990, "₹1,04,990"),
     (12345678, "₹1,23,45,678"), ("n/a", "—")],
)  # fmt: skip
def test_rupees_are_written_with_indian_grouping(amount: object, written: str) -> None:
    assert rupees(amount) == written


@pytest.mark.parametrize(
    "text", ["", "Hello, world!", "₹49,990 | `SMX` **bold**\n\n- a", "टीवी 📺"]
)
def test_tokens_join_back_into_the_text(text: str) -> None:
    assert "".join(tokens(text)) == text
