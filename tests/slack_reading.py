"""Text read the way Slack's parser reads it, written with no knowledge of how the bot's
neutraliser (`bot/wording/inert.py`) works: the oracle of the tests that hold it inert.

A `<` (or `&lt;`, which Slack shows as one) followed by anything up to the next `>` (or
`&gt;`) is a token, unless a word joiner right after the `<` breaks it; a token with a `|` is a
link whose label may hide its target; a token that is `!here`, `!channel`, `!everyone`,
`!subteam^…`, `@U…`/`@W…` or `#C…`/`#G…` pings. A Markdown inline link needs `](` and a
reference definition `]:`, each pair adjacent; a broadcast is `@here`, `@channel` or
`@everyone` with no letter or digit on either side (`_` and `*` are no shield: Slack reads
`_@here_` as italics around a broadcast).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

WJ = "\u2060"
OPENER = re.compile(r"<|&lt;", re.IGNORECASE)
CLOSER = re.compile(r">|&gt;", re.IGNORECASE)
PINGS = re.compile(r"(?:!here|!channel|!everyone|!subteam\^|@[UW]|#[CG])", re.IGNORECASE)
INVISIBLE = " \t\n\u200b\u200c\u200d\ufeff"
MARKDOWN_LINK = re.compile(r"\][(:]")
BROADCAST = re.compile(r"(?<![A-Za-z0-9])@(here|channel|everyone)(?![A-Za-z0-9])", re.IGNORECASE)


def tokens(text: str) -> list[str]:
    """What Slack could read as a token: from each `<` (or `&lt;`) to the next `>` (or `&gt;`),
    unbroken (no word joiner right after the `<`)."""
    found = []
    for opener in OPENER.finditer(text):
        closer = CLOSER.search(text, opener.end())
        content = text[opener.end() : closer.start()] if closer else ""
        if closer and not content.startswith(WJ):
            found.append(content)
    return found


def live(text: str, allowed: Iterable[str] = ()) -> list[str]:
    """What in `text` Slack could still read as a ping or a disguised link."""
    found, ours = [], frozenset(allowed)
    for content in tokens(text):
        target, bar, _label = content.partition("|")
        if target[:1] in ("@", "#") and target[1:] in ours:
            continue  # one of our own template's mentions
        if bar or PINGS.match(content.lstrip(INVISIBLE)):
            found.append(content)
    found += [m.group(0) for m in MARKDOWN_LINK.finditer(text)]
    found += [m.group(0) for m in BROADCAST.finditer(text)]
    return found
