"""Rendering the model's Markdown for Slack: inert mentions, readable partials, clean splits."""

from __future__ import annotations

import html

import pytest

from bot.wording import markdown
from bot.wording.markdown import WORD_JOINER as WJ


@pytest.mark.parametrize(
    ("model_text", "expected"),
    [
        ("<!channel> sale today", f"@{WJ}channel sale today"),
        ("ping <!here|here> now", f"ping @{WJ}here now"),
        ("<!everyone>", f"@{WJ}everyone"),
        ("ask <!subteam^S0SALES|@sales-team>", f"ask @{WJ}sales-team"),
        ("ask <!subteam^S0SALES>", f"ask @{WJ}group"),
        ("thanks <@U0BOSS>", f"thanks @{WJ}U0BOSS"),
        ("thanks <@U0BOSS|ravi>", f"thanks @{WJ}ravi"),
        ("see <#C0PRICES|prices>", f"see #{WJ}prices"),
        ("tell @channel and @Here", f"tell @{WJ}channel and @{WJ}Here"),
        ("mail sales@everyone.in", f"mail sales@{WJ}everyone.in"),
        ("_@here_ and @channel_", f"_@{WJ}here_ and @{WJ}channel_"),
        ("plain **Markdown** stays", "plain **Markdown** stays"),
        ("a <https://shopmax.in|link>", "a link (https://shopmax.in)"),
    ],
)
def test_neutralise_makes_pings_inert(model_text: str, expected: str) -> None:
    """Nothing the model writes can notify a person, a group or a channel."""
    assert markdown.neutralise(model_text) == expected


@pytest.mark.parametrize(
    ("partial", "expected"),
    [
        ("Intro\n```python\nprint(1)", "Intro\n```python\nprint(1)\n```"),
        ("Intro\n```\ncode\n```\nafter", "Intro\n```\ncode\n```\nafter"),
        ("use `pip inst", "use `pip inst`"),
        ("this is **bold", "this is **bold**"),
        ("done **bold** here", "done **bold** here"),
        ("~~~\nx", "~~~\nx\n~~~"),
    ],
)
def test_in_progress_render_closes_open_markdown(partial: str, expected: str) -> None:
    """Half-written code blocks, inline code and bold are closed so the partial reads well."""
    assert markdown.close_open_markdown(partial) == expected


def test_short_answers_are_one_piece() -> None:
    assert markdown.split_pieces("hello", limit=100) == ["hello"]


def test_long_answers_split_at_paragraphs_and_lose_nothing() -> None:
    """Pieces end at paragraph breaks and rejoin to the whole answer."""
    paragraphs = [f"Paragraph {n}: " + "word " * 30 for n in range(40)]
    text = "\n\n".join(paragraphs)
    pieces = markdown.split_pieces(text, limit=1000)
    assert all(len(p) <= 1000 for p in pieces)
    assert all(p.startswith("Paragraph ") for p in pieces)
    assert "\n\n".join(p.rstrip("\n") for p in pieces).replace(" \n", "\n") == text.replace(
        " \n", "\n"
    )


def test_split_inside_a_code_block_closes_and_reopens_the_fence() -> None:
    """A piece never ends inside a code block: the fence closes and reopens with its language."""
    code = "\n".join(f"print({n})" for n in range(300))
    text = f"Here is the script:\n\n```python\n{code}\n```\nDone."
    pieces = markdown.split_pieces(text, limit=1000)
    assert len(pieces) > 2
    for piece in pieces:
        assert markdown.fence_state(piece).open_fence is None, "every piece is balanced"
        assert len(piece) <= 1000
    for piece in pieces[1:-1]:
        assert piece.startswith("```python\n")
    lines = [line for piece in pieces for line in piece.splitlines()]
    assert [line for line in lines if line.startswith("print(")] == code.splitlines()
    assert pieces[-1].endswith("```\nDone.")


def test_earlier_pieces_never_change_as_the_answer_grows() -> None:
    """Messages already finished in Slack keep their text while later text streams in."""
    text = "\n".join(f"Line {n} " + "x" * (n % 17) for n in range(2000))
    previous: list[str] = []
    for end in range(0, len(text), 997):
        pieces = markdown.split_pieces(text[:end], limit=1500)
        finished = previous[:-1]
        assert pieces[: len(finished)] == finished
        previous = pieces


def test_render_piece_in_progress_and_final() -> None:
    """A partial shows a cursor; the final piece shows notices and the footer as context."""
    partial = markdown.render_piece("Hello", in_progress=True)
    assert partial.blocks == [{"type": "markdown", "text": "Hello ▍"}]
    final = markdown.render_piece(
        "Hello", in_progress=False, notices=("_cut short_",), footer="1 in"
    )
    assert final.blocks == [
        {"type": "markdown", "text": "Hello"},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "_cut short_"}]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "1 in"}]},
    ]
    assert final.text == "Hello"


def test_placeholder_before_any_text() -> None:
    assert markdown.render_piece("", in_progress=True).blocks == [
        {"type": "markdown", "text": "_Thinking…_"}
    ]


def test_fallback_text_is_short_escaped_and_inert() -> None:
    rendered = markdown.render_piece("<!here> " + "a < b & c " * 100, in_progress=False)
    assert len(html.unescape(rendered.text)) <= markdown.FALLBACK_LIMIT
    assert rendered.text.startswith(f"@{WJ}here a &lt;{WJ} b &amp; c")


def test_command_header_quotes_the_question_inert() -> None:
    block = markdown.header_block("U1", "tell <!channel>\nabout <b>")
    assert block["text"]["text"] == f"*<@U1> asked:*\n>tell @{WJ}channel\n>about &lt;{WJ}b&gt;"
