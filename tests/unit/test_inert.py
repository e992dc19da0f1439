"""The rules that make text inert before Slack sees it: no pings, no link hiding its target."""

from __future__ import annotations

import pytest

from bot.wording import texts
from bot.wording.inert import WORD_JOINER as WJ
from bot.wording.inert import Mentioning, neutralise, neutralise_blocks, stream_safe_end

LINKS = [
    ("<https://evil.example|Reset your password>", "Reset your password (https://evil.example)"),
    ("<mailto:x@evil.example|support@shopmax.in>", "support@shopmax.in (mailto:x@evil.example)"),
    ("<https://shopmax.in|shopmax.in>", "https://shopmax.in"),
    ("<https://shopmax.in/|https://shopmax.in>", "https://shopmax.in/"),
    ("<https://shopmax.in>", "https://shopmax.in"),
    (
        "<https://evil.example|Reset <your> password>",
        f"Reset <{WJ}your (https://evil.example) password>",
    ),
    ("TVs under <50,000 & over 40", f"TVs under <{WJ}50,000 & over 40"),
    ("[click](https://evil.example)", "click (https://evil.example)"),
    ('[click](https://evil.example "Shopmax")', "click (https://evil.example)"),
    ("[click](<https://evil.example>)", "click (https://evil.example)"),
    ("![logo](https://evil.example/x.png)", "logo (https://evil.example/x.png)"),
    ("[wiki](https://en.wikipedia.org/wiki/A_(b))", "wiki (https://en.wikipedia.org/wiki/A_(b))"),
    ("[https://shopmax.in](https://shopmax.in)", "https://shopmax.in"),
    ("[1]: https://evil.example\n[click][1]", f"\\[1]{WJ}: https://evil.example\n[click][1]"),
    ("a [note] and (aside)", "a [note] and (aside)"),
    ("<!here|@here> <https://evil.example|x>", f"@{WJ}here x (https://evil.example)"),
]


@pytest.mark.parametrize(("text", "expected"), LINKS)
def test_links_show_where_they_go(text: str, expected: str) -> None:
    """A label never hides a link's target: the target is shown beside it (or instead)."""
    assert neutralise(text) == expected


@pytest.mark.parametrize(
    "text",
    [text for text, _ in LINKS]
    + ["<!channel> <@U1|ravi> @here", "sales@everyone.in", "<#C1|prices>", "**bold** `code`"]
    + ["&lt;!here&gt;", "_@here_", "<a <!here>", "&#60;@U1>"],
)
def test_neutralising_twice_changes_nothing(text: str) -> None:
    """The reply neutralises model text and the Slack edge does it again: no drift."""
    once = neutralise(text)
    assert neutralise(once) == once


def test_our_own_mentions_stay_live_and_only_those() -> None:
    """A `Mentioning` keeps the mentions it was made with; every other one is inert."""
    notice = texts.stopped_by("U0PRIYA")
    assert neutralise(notice) == ":black_square_for_stop: Stopped by <@U0PRIYA>."
    sneaky = Mentioning("<@U0PRIYA> and <@U0BOSS> and <!here>", ["U0PRIYA"])
    assert neutralise(sneaky) == f"<@U0PRIYA> and @{WJ}U0BOSS and @{WJ}here"
    assert neutralise("model says <@U0PRIYA>") == f"model says @{WJ}U0PRIYA"


def test_text_made_from_a_mentioning_loses_the_permission_unless_asked() -> None:
    """String operations give a plain str again: a mistake is an inert mention, not a live one."""
    asked = texts.asked("U1")
    assert neutralise(asked + " <@U1>") == f"*@{WJ}U1 asked:* @{WJ}U1"
    assert neutralise(Mentioning.around(f"{asked} more", asked)) == "*<@U1> asked:* more"


def test_blocks_and_views_are_neutralised_in_every_mrkdwn_and_markdown_text() -> None:
    """Plain text cannot ping or link and is left alone; nothing else is missed."""
    view = {
        "type": "home",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "<!here>"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "<!here>"}},
            {"type": "markdown", "text": "[x](https://evil.example)"},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "<@U1>"}]},
        ],
    }
    assert neutralise_blocks(view) == {
        "type": "home",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "<!here>"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": f"@{WJ}here"}},
            {"type": "markdown", "text": "x (https://evil.example)"},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"@{WJ}U1"}]},
        ],
    }
    assert view["blocks"][1]["text"]["text"] == "<!here>", "the caller's blocks are not changed"


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("see [the form", "see "),
        ("see [the form]", "see "),
        ("see [the form](https://evil", "see "),
        ("see [the form](https://evil.example) now", "see [the form](https://evil.example) now"),
        ("a [note] then more", "a [note] then more"),
        ("a [note\nthen more", "a [note\nthen more"),
        ("ask <https://evil.example|cl", "ask "),
    ],
)
def test_a_stream_never_sends_half_a_link(text: str, safe: str) -> None:
    """Appended text cannot be taken back, so a link still being written waits."""
    assert text[: stream_safe_end(text, 0)] == safe
