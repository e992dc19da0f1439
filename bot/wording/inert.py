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
# `<https://evil.example|Reset your password>`, `<mailto:a@evil.example|support>`
_SLACK_LINK = re.compile(r"<([^!@#<>|\s][^<>|\s]*)\|([^<>]*)>")
# `[label](target)`, `[label](<target> "title")`, `![alt](target)`; one level of parentheses
# inside the target, as in Wikipedia addresses.
_MARKDOWN_LINK = re.compile(
    r"!?\[([^\[\]\n]*)\]\(\s*<?((?:[^()\s<>]|\([^()\s<>]*\))+)>?"
    r"(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^()\n]*\)))?\s*\)"
)
# `[1]: https://evil.example` makes `[click][1]` a link with a hidden target elsewhere.
_REFERENCE = re.compile(r"^( {0,3})\[([^\]\n]+)\]:", re.MULTILINE)
_BROADCAST = re.compile(r"(?<![\w@])@(channel|here|everyone)\b", re.IGNORECASE)

# What `neutralise` would still change once more text arrives: a `<…` token waiting for its
# `>`, an `@word` that may become `@channel`, a Markdown link not yet closed.
_OPEN_TOKEN = re.compile(r"<[^>]*$")
_TRAILING_WORD = re.compile(r"@\w*$")
_OPEN_LINK = re.compile(r"!?\[[^\[\]\n]*(?:\](?:\([^)\n]*)?)?$")


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
    text = _SLACK_LINK.sub(lambda m: _shown(m.group(2), m.group(1)), text)
    text = _SPECIAL.sub(lambda m: _inert(m, allowed), text)
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
    that may yet become `@channel`, or a Markdown link still being written. Those wait for the
    next delta (a line break ends the wait for a link that never closes).
    """
    end = len(text)
    tail = text[start:end]
    for pattern in (_OPEN_TOKEN, _TRAILING_WORD, _OPEN_LINK):
        match = pattern.search(tail)
        if match:
            end = min(end, start + match.start())
    return end


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
