"""Text the bot sends to Slack, made inert: it can neither ping anyone nor disguise a link. Pure.

Much of what the bot posts holds words it did not write: the model's answer, the arguments the
model gave a tool (shown in status lines), the question a person typed. Slack acts on some of
those words: `<!here>`, `<!channel>`, `<!everyone>`, `<!subteam^…>` and `<@U…>` notify people,
and a link's label (`<https://evil.example|Reset your password>`, Markdown's
`[click](https://evil.example)`) can hide where the link goes, a phishing lure in a store's
workspace. `neutralise` turns all of it into plain words that still read well:

* a mention or broadcast becomes `@⁠name`, with a word joiner after the `@` that Slack does not
  parse, so nobody is notified;
* a link shows its real target: `Reset your password (https://evil.example)`; a link whose label
  is its own address becomes that address.

One rule makes it hold for any input, however its `<`, `[`, `]`, `(`, `|` and `!` nest: the
rewrite passes run again until nothing changes (each pass that changes anything removes at
least one `<` or `[`, so this ends), and then the last step breaks whatever could still parse.
Slack reads a token from a `<` to the next `>`, whatever is between, so every `<` left (and
every `&lt;`, which Slack shows as one) gets a word joiner right after it, our own allowed
mentions alone excepted; so do `](` and `]:`. A word joiner is invisible, so a `<` in "under
<50,000" reads as before. A broadcast is `@here`, `@channel` or `@everyone` with no letter or
digit after it, whatever comes before (`_@here_` is italics around one). What comes out is a
fixed point: neutralising it again changes nothing, and no block, status line, continuation or
native-stream chunk made from it holds a live mention or a link whose text is not its target
(`tests/unit/test_inert_properties.py` generates thousands of nestings and reads the result
the way Slack's parser would, to hold it to that).

`bot.delivery.slack_api` applies it to every text and block the bot sends, so no caller has to
remember to. Our own templates do mention people on purpose ("Stopped by @Priya", "@Priya
asked:"): such text is built as `Mentioning(text, ids)` and keeps exactly those mentions live.
Anything made from it by string operations is a plain `str` again and loses the permission, so a
mistake shows up as an inert mention, never as a live one; model or user text can never be a
`Mentioning`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

WORD_JOINER = "\u2060"

# `<!here>`, `<@U123|ravi>`, `<#C123|prices>`, `<!subteam^S1|@sales>`: Slack's special tokens.
_SPECIAL = re.compile(r"<([!@#])([^>|]*)(?:\|([^>]*))?>")
# `<https://evil.example|Reset your password>`, `<mailto:a@evil.example|support>`, and with
# spaces around the target (`< https://evil.example |…>`), which Slack may still read as a link.
# The label runs to the next `>`, as Slack reads it, a `<` in it included.
_SLACK_LINK = re.compile(r"<(\s+[^<>|\s\u2060][^<>|]*|[^!@#<>|\s\u2060][^<>|]*)\|([^>]*)>")
# `<https://shopmax.in>`: a link that shows its own address, as that address.
_AUTOLINK = re.compile(r"<((?:https?|mailto|tel):[^<>|\s\u2060]*)>", re.IGNORECASE)
# `[label](target)`, `[label](<target> "title")`, `![alt](target)`; one level of parentheses
# inside the target, as in Wikipedia addresses.
_MARKDOWN_LINK = re.compile(
    r"!?\[([^\[\]\n]*)\]\(\s*<?((?:[^()\s<>]|\([^()\s<>]*\))+)>?"
    r"(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^()\n]*\)))?\s*\)"
)
# `[1]: https://evil.example` makes `[click][1]` a link with a hidden target elsewhere.
_REFERENCE = re.compile(r"^( {0,3})\[([^\]\n]+)\]:", re.MULTILINE)
# No letter or digit may follow; anything may come before (`_@here_`, `x_@channel`).
_BROADCAST = re.compile(r"@(channel|here|everyone)(?![^\W_])", re.IGNORECASE)
# What could still parse after the rewrites: any `<` not already broken (or `&lt;` and its
# numeric forms, shown as `<`), an inline link's `](` or a reference definition's `]:`
# (Markdown needs each pair adjacent, so a joiner breaks it).
_OPENER = re.compile(r"(?:<|&lt;|&#0*60;|&#x0*3c;)(?!\u2060)", re.IGNORECASE)
_OUR_MENTION = re.compile(r"<([@#])([^<>|]*)")
_LINK_JOINT = re.compile(r"\](?=[(:])")
MOST_PASSES = 64  # beyond it (thousands of nested brackets) the last step alone makes it safe

# What `neutralise` would still change once more text arrives: a `<…` token waiting for its
# `>`, an `@word` that may become `@channel`, a Markdown link not yet closed.
_OPEN_TOKEN = re.compile(r"<[^>]*$")
_TRAILING_WORD = re.compile(r"@\w*$")
_TRAILING_ENTITY = re.compile(r"&(?:[a-z]{0,2}|#x?[0-9a-f]*)$", re.IGNORECASE)
_OPEN_LINK = re.compile(r"!?\[[^\[\]\n]*(?:\](?:\([^)\n]*)?)?$")
# A delta never ends at a `]`: the `(` or `:` after it, in the next delta, would make a link that
# neither delta shows on its own.
_TRAILING_BRACKET = re.compile(r"\]$")


class Mentioning(str):
    """Text one of our templates wrote, allowed to mention the users and channels in `ids`."""

    mentions: frozenset[str]

    def __new__(cls, text: str, ids: Iterable[str]) -> Mentioning:
        made = super().__new__(cls, text)
        made.mentions = frozenset(ids)
        return made

    @classmethod
    def around(cls, text: str, *parts: str) -> Mentioning:
        """`text` (made with `parts`) allowed the mentions those parts were allowed."""
        return cls(text, (i for part in parts for i in getattr(part, "mentions", ())))


def neutralise(text: str) -> str:
    """`text` with every mention, broadcast and disguised link made inert (see the module
    docstring); a `Mentioning` keeps its own mentions. Applying it twice changes nothing."""
    allowed: frozenset[str] = getattr(text, "mentions", frozenset())
    text = str(text)
    for _ in range(MOST_PASSES):
        rewritten = _rewrite(text, allowed)
        if rewritten == text:
            break
        text = rewritten
    else:  # thousands of nested brackets: the last step alone breaks every `<` and `](`
        text = _BROADCAST.sub(lambda m: f"@{WORD_JOINER}{m.group(1)}", text)
    text = _OPENER.sub(lambda m: _broken(m, allowed), text)
    return _LINK_JOINT.sub("]" + WORD_JOINER, text)


def _broken(match: re.Match[str], allowed: frozenset[str]) -> str:
    """A `<` the rewrites left (half a token, one inside another, a label holding one, plain
    "<50,000"): a word joiner after it, so Slack cannot read a token there. Our own mentions
    stay."""
    ours = _OUR_MENTION.match(match.string, match.start())
    if ours is not None and ours.group(2) in allowed:
        return match.group(0)
    return match.group(0) + WORD_JOINER


def _rewrite(text: str, allowed: frozenset[str]) -> str:
    """One pass of the readable rewrites: links as text and target, mentions as words."""
    text = _SLACK_LINK.sub(lambda m: _shown(m.group(2), m.group(1).strip()), text)
    text = _SPECIAL.sub(lambda m: _inert(m, allowed), text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _MARKDOWN_LINK.sub(lambda m: _shown(m.group(1), m.group(2)), text)
    text = _REFERENCE.sub(r"\1\\[\2]:", text)
    return _BROADCAST.sub(lambda m: f"@{WORD_JOINER}{m.group(1)}", text)


def neutralise_blocks(value: Any) -> Any:
    """A copy of Block Kit `value` (blocks, a view, any part of one) with the text of every
    `mrkdwn` object and `markdown` block neutralised. Plain text cannot ping or link, and is
    left as it is."""
    if isinstance(value, list):
        return [neutralise_blocks(item) for item in value]
    if not isinstance(value, dict):
        return value
    copy = {key: neutralise_blocks(item) for key, item in value.items()}
    if copy.get("type") in ("mrkdwn", "markdown") and isinstance(value.get("text"), str):
        copy["text"] = neutralise(value["text"])
    return copy


def stream_safe_end(text: str, start: int) -> int:
    """How far an append-only stream may send `text` now (from `start`).

    Appended text cannot be taken back, so a delta must never end inside something that
    `neutralise` would change once complete: a `<…` token still waiting for its `>`, an `@word`
    that may yet become `@channel`, a Markdown link still being written, or a `]` whose `(`
    may come next. Those wait for the next delta (a line break ends the wait for a link that
    never closes). Each delta is neutralised whole, and no link or token can straddle two.
    """
    end = len(text)
    tail = text[start:end]
    for pattern in (_OPEN_TOKEN, _TRAILING_WORD, _OPEN_LINK, _TRAILING_BRACKET, _TRAILING_ENTITY):
        match = pattern.search(tail)
        if match:
            end = min(end, start + match.start())
    # What is appended is the delta neutralised on its own, beside what was sent before: it
    # must not leave anything open for the next delta to complete (a `<` without its `>`,
    # a `]`, an `@word`, half an `&lt;`). If it would, cut before its last `<`, `[`, `]`, `@`
    # or `&` and look again.
    while end > start and not _closed(neutralise(text[start:end])):
        delta = text[start:end]
        end = start + max(delta.rfind(c) for c in "<[]@&")
    return max(end, start)


def _closed(delta: str) -> bool:
    """Whether neutralised text can have more text appended without the two making a token
    or link between them (each has none alone): it ends in no `<`, `]`, `@word` or half an
    entity, and no `<` of it waits for a `>`."""
    return not (
        delta.endswith(("<", "]"))
        or _TRAILING_WORD.search(delta)
        or _OPEN_TOKEN.search(delta)
        or _TRAILING_ENTITY.search(delta)
    )


def _inert(match: re.Match[str], allowed: frozenset[str]) -> str:
    sigil, body, label = match.group(1), match.group(2), match.group(3)
    if sigil != "!" and body in allowed:
        return match.group(0)
    if label:
        shown = label.lstrip("@#")
    elif body.startswith("subteam^"):
        shown = "group"
    else:
        shown = body
    prefix = "#" if sigil == "#" else "@"
    return f"{prefix}{WORD_JOINER}{shown}"


def _shown(label: str, target: str) -> str:
    """A link as words that show where it goes."""
    label = label.strip()
    if not label or _bare(label) == _bare(target):
        return target
    return f"{label} ({target})"


def _bare(address: str) -> str:
    lowered = address.lower()
    for scheme in ("https://", "http://", "mailto:", "tel:"):
        lowered = lowered.removeprefix(scheme)
    return lowered.removeprefix("www.").rstrip("/")
