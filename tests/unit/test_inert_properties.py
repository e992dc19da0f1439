"""The neutraliser reaches a fixed point on any input: generated nestings of `< > [ ] ( ) | !`,
mentions, broadcasts, URLs, `_`, `*`, `&lt;`, word joiners and look-alikes never come out as a
live ping or a link whose text is not its target, and neutralising the result again changes
nothing. Also for a native stream's deltas, each neutralised on its own and concatenated by
Slack.

"Live" is read by `tests/slack_reading.py`, the way Slack's parser reads text, with no
knowledge of how `inert.py` works.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.wording.inert import WORD_JOINER as WJ
from bot.wording.inert import Mentioning, neutralise, neutralise_blocks, stream_safe_end
from tests.slack_reading import live

PIECES = [
    "<",
    ">",
    "[",
    "]",
    "(",
    ")",
    "|",
    "!",
    "@",
    "#",
    " ",
    "\n",
    ":",
    "\\",
    "*",
    "`",
    "here",
    "channel",
    "everyone",
    "U0BOSS",
    "C0ALL",
    "subteam^S1",
    "Reset your password",
    "https://evil.example",
    " https://evil.example ",
    "https://shopmax.in/a_(b)",
    "mailto:x@evil.example",
    "<https://evil.example|",
    "](",
    "](<",
    ">)",
    "<!",
    "<@",
    "<#",
    "@here",
    "[](",
    "[x](https://evil.example)",
    "<!here>",
    '"t"',
    "www.evil.example",
    "_",
    "*",
    "~",
    "&",
    "&lt;",
    "&gt;",
    "lt;",
    "&lt;!",
    "&#60;",
    WJ,
    "\u200b",
    "\uff1c",  # fullwidth <
    "\ufe64",  # small <
    "\uff20",  # fullwidth @
    "\uff01",  # fullwidth !
    "_@here_",
    "@here_",
    "a@channel",
    "<https://evil.example|Reset <your> password>",
    "<https://evil.example|<b>Reset</b>>",
    "<!date^1392734382^{date}|Feb 18>",
]
TEXTS = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)
DEEP = st.recursive(
    st.sampled_from(["", "x", "!here", "@U0BOSS", "https://evil.example", "Reset"]),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda p: f"<{p[0]}|{p[1]}>"),
        st.tuples(inner, inner).map(lambda p: f"[{p[0]}]({p[1]})"),
        inner.map(lambda p: f"<{p}>"),
        inner.map(lambda p: f"<[]({p})>"),
        st.tuples(inner, inner).map(lambda p: f"[{p[0]}\n{p[1]}](<{p[1]} x>)"),
        inner.map(lambda p: f"![{p}]"),
    ),
    max_leaves=12,
)
ANY = st.one_of(TEXTS, DEEP, st.text(alphabet="<>[]()|!@#:_*&;lt \nhx\u2060", max_size=60))

PROPERTY = settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(ANY)
def test_no_input_comes_out_live(text: str) -> None:
    """Thousands of generated nestings: nothing live is left."""
    assert live(neutralise(text)) == []


@PROPERTY
@given(ANY)
def test_neutralising_reaches_a_fixed_point(text: str) -> None:
    """Once neutralised, neutralising again changes nothing (the reply and the Slack edge both
    apply it)."""
    once = neutralise(text)
    assert neutralise(once) == once


@PROPERTY
@given(ANY, st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=30))
def test_a_native_stream_of_neutralised_deltas_is_never_live(text: str, sizes: list[int]) -> None:
    """The text arrives in pieces of any size; each delta up to `stream_safe_end` is
    neutralised on its own and appended (Slack shows the concatenation), the rest at the end."""
    sent, shown, arrived = 0, "", 0
    for size in sizes:
        arrived = min(len(text), arrived + size)
        end = stream_safe_end(text[:arrived], sent)
        if end > sent:
            shown += neutralise(text[sent:end])
            sent = end
    shown += neutralise(text[sent:])
    assert live(shown) == []


@PROPERTY
@given(ANY)
def test_every_block_and_status_line_is_inert(text: str) -> None:
    """The same in blocks (markdown, mrkdwn in sections and context) and an italic status."""
    blocks = [
        {"type": "markdown", "text": text},
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"_Looking up {text}…_"}]},
    ]
    shown = neutralise_blocks(blocks)
    texts = [shown[0]["text"], shown[1]["text"]["text"], shown[2]["elements"][0]["text"]]
    assert [live(t) for t in texts] == [[], [], []]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<[](!here)>", f"@{WJ}here"),
        (
            "<[]( https://evil.example )|Reset your password>",
            "Reset your password (https://evil.example)",
        ),
        ("_Looking up <[](!channel)>…_", f"_Looking up @{WJ}channel…_"),
        ("<[[](!here)](!channel)>", f"@{WJ}here (!channel)"),  # two levels of nesting
        (
            "[Reset [your] password](https://evil.example)",
            f"[Reset [your] password]{WJ}(https://evil.example)",
        ),
        (
            "[Reset\nyour password](https://evil.example)",
            f"[Reset\nyour password]{WJ}(https://evil.example)",
        ),
        (
            "[Reset](<https://evil.example/a b>)",
            f"[Reset]{WJ}(<{WJ}https://evil.example/a b>)",
        ),
        ("[click](https://evil.example)", "click (https://evil.example)"),
    ],
)
def test_the_issues_examples(text: str, expected: str) -> None:
    """The inputs that built a live ping or a hidden link before: inert now, and readable."""
    assert neutralise(text) == expected
    assert live(neutralise(text)) == []


AUDITED = [
    "<https://evil.example|Reset <your> password>",
    "<https://evil.example|<b>Reset</b>>",
    "<https://evil.example|Reset your password<>",
    "&lt;!here&gt;",
    "&LT;!channel&gt;",
    "&lt;https://evil.example|Reset your password&gt;",
    "&lt;@U0BOSS>",
    "_@here_",
    "@here_",
    "*@channel*",
    "x_@everyone_x",
    "<\u200b!here>",
    "< !here>",
    "<!date^1392734382^{date}^https://evil.example|Reset>",
    "<slack://channel?team=T1&id=C1|#general>",
]


@pytest.mark.parametrize("text", AUDITED)
def test_what_an_audit_found_live_comes_out_inert(text: str) -> None:
    """Each of these is live as written (the oracle says so) and inert once neutralised: a
    label holding a `<`, an escaped `&lt;` token, a broadcast next to `_`, a token opened by
    an invisible character."""
    assert live(text) != []
    once = neutralise(text)
    assert (live(once), neutralise(once)) == ([], once)


def test_our_own_mentions_survive_the_last_step() -> None:
    """A template's allowed mention stays live through the fixed point; nothing else does."""
    notice = Mentioning("Stopped by <@U0PRIYA> <@U0BOSS|x> <!here|@here>", ["U0PRIYA"])
    assert neutralise(notice) == f"Stopped by <@U0PRIYA> @{WJ}x @{WJ}here"


def test_thousands_of_nested_brackets_still_end_inert() -> None:
    """Past the passes' bound the last step alone makes it safe, and it stays a fixed point."""
    text = "<[](" * 3000 + "!here" + ")>" * 3000
    once = neutralise(text)
    assert live(once) == [] and neutralise(once) == once
