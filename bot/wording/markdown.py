"""Turn the model's Markdown into what Slack is sent. Pure: no Slack, no I/O.

The answer goes into a `markdown` block, Slack's own renderer for standard Markdown, so bold,
lists, headings, links and code blocks look as Claude meant them. Three things are ours to do:

* nothing the model writes may ping anyone or hide a link's target (`bot.wording.inert`, which
  `bot.delivery.slack_api` also applies to everything it sends);
* a half-written answer must still render: an open code fence, inline code or bold is closed
  in the in-progress render (never in the stored text);
* an answer longer than one message allows is cut into pieces at paragraph or line boundaries,
  never inside a code block without closing it and reopening it in the next piece.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.wording import texts

# Re-exported: the reply renders model text with these (their home is `bot.wording.inert`).
from bot.wording.inert import WORD_JOINER as WORD_JOINER
from bot.wording.inert import Mentioning
from bot.wording.inert import neutralise as neutralise
from bot.wording.inert import stream_safe_end as stream_safe_end

# Slack's own limits (DESIGN.md): 12,000 characters across the markdown blocks of one message,
# and `msg_blocks_too_long` seen near 13,000 in all. A piece of 10,000 leaves room for the
# fence we may add, the cursor, the footer and a command header.
PIECE_LIMIT = 10_000
SECTION_LIMIT = 3_000
FALLBACK_LIMIT = 300

_FENCE = re.compile(r"^(\s{0,3})(`{3,}|~{3,})(.*)$")

Block = dict[str, Any]


def escape_mrkdwn(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class FenceState:
    """Where a piece of Markdown ends: inside a code fence (with its opening line) or not."""

    open_fence: str | None = None


def fence_state(text: str, start: FenceState = FenceState()) -> FenceState:
    """Follow code fences line by line; a fence closes only with the same character, as long."""
    current = start.open_fence
    for line in text.split("\n"):
        match = _FENCE.match(line)
        if not match:
            continue
        marker = match.group(2)
        if current is None:
            current = line.strip()
        else:
            opener = _FENCE.match(current)
            assert opener is not None
            opening_marker = opener.group(2)
            if (
                marker[0] == opening_marker[0]
                and len(marker) >= len(opening_marker)
                and not match.group(3).strip()
            ):
                current = None
    return FenceState(current)


def closing_fence(opening_line: str) -> str:
    match = _FENCE.match(opening_line)
    assert match is not None
    return match.group(2)


def close_open_markdown(text: str) -> str:
    """Close what a half-written answer left open so that the in-progress render reads well."""
    state = fence_state(text)
    if state.open_fence is not None:
        return text + "\n" + closing_fence(state.open_fence)
    last_line = text.rsplit("\n", 1)[-1]
    if last_line.count("`") % 2 == 1:
        text += "`"
    elif _outside_code(last_line).count("**") % 2 == 1:
        text += "**"
    return text


def _outside_code(line: str) -> str:
    return "".join(part for i, part in enumerate(line.split("`")) if i % 2 == 0)


def split_pieces(text: str, limit: int = PIECE_LIMIT) -> list[str]:
    """Cut an answer into message-sized pieces, each complete Markdown on its own.

    A piece ends at the last paragraph break before the limit, else the last line break, else
    the last space, else at the limit. A piece that ends inside a code block gets a closing
    fence, and the next piece reopens it with the same opening line. Earlier pieces never change
    as the text grows: the cut depends only on the first `limit` characters after the last cut.
    """
    pieces: list[str] = []
    state = FenceState()
    rest = text
    while True:
        reopen = state.open_fence + "\n" if state.open_fence else ""
        budget = limit - len(reopen) - 8  # room for a closing fence
        if len(rest) <= budget:
            pieces.append(reopen + rest)
            return pieces
        cut = cut_point(rest, budget)
        head, rest = rest[:cut], rest[cut:].lstrip("\n")
        state = fence_state(head, state)
        close = "\n" + closing_fence(state.open_fence) if state.open_fence else ""
        pieces.append(reopen + head.rstrip("\n") + close)


def cut_point(text: str, budget: int) -> int:
    """Where to end a piece of at most `budget` characters: after a paragraph, line or word."""
    window = text[: budget + 1]
    for separator in ("\n\n", "\n", " "):
        at = window.rfind(separator)
        if at > budget // 2:
            return at + len(separator)
    return budget


def markdown_block(text: str) -> Block:
    return {"type": "markdown", "text": text}


def context_block(mrkdwn: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": mrkdwn}]}


def header_block(user: str, question: str) -> Block:
    """Who asked what, for `/shopmax` answers; the question is quoted inert and escaped."""
    shown = escape_mrkdwn(neutralise(question))
    if len(shown) > SECTION_LIMIT - 200:
        shown = shown[: SECTION_LIMIT - 201] + "…"
    quoted = "\n".join(f">{line}" for line in shown.splitlines() or [""])
    asked = texts.asked(user)
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": Mentioning.around(f"{asked}\n{quoted}", asked)},
    }


@dataclass(frozen=True)
class Rendered:
    """One Slack message's `text` (notification fallback) and `blocks`."""

    text: str
    blocks: list[Block]


STOP_ACTION = "stop_answer"
RETRY_ACTION = "retry_answer"
FEEDBACK_GOOD = "feedback_good"
FEEDBACK_BAD = "feedback_bad"


def button(action_id: str, label: str, value: str, style: str | None = None) -> Block:
    element: Block = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label},
        "value": value,
    }
    if style:
        element["style"] = style
    return {"type": "actions", "block_id": action_id, "elements": [element]}


def stop_button(answer_id: str) -> Block:
    return button(STOP_ACTION, texts.STOP_LABEL, answer_id, "danger")


def retry_button(question_id: str) -> Block:
    return button(RETRY_ACTION, texts.RETRY_LABEL, question_id, "primary")


def feedback_buttons(answer_id: str) -> Block:
    """👍 / 👎 under a finished answer; the value says which answer is rated."""
    row = []
    for action_id, label in ((FEEDBACK_GOOD, texts.GOOD_LABEL), (FEEDBACK_BAD, texts.BAD_LABEL)):
        row.append(button(action_id, label, answer_id)["elements"][0])
    return {"type": "actions", "block_id": "feedback", "elements": row}


def tail_blocks(
    *,
    notices: tuple[str, ...] = (),
    sources: str | None = None,
    footer: str | None = None,
    actions: Block | None = None,
) -> list[Block]:
    """What goes under an answer's text, in order: its sources, the notices (the last says how
    many figures could not be checked), the footer and the buttons. Both Slack transports
    build their last blocks with this (the update's last edit, the native stream's stop)."""
    blocks = [context_block(sources)] if sources else []
    blocks.extend(context_block(notice) for notice in notices)
    if footer:
        blocks.append(context_block(footer))
    if actions:
        blocks.append(actions)
    return blocks


def render_piece(
    piece: str,
    *,
    in_progress: bool,
    header: Block | None = None,
    notices: tuple[str, ...] = (),
    footer: str | None = None,
    actions: Block | None = None,
    sources: str | None = None,
) -> Rendered:
    """Render one piece of the answer as one Slack message (`actions`: a Stop or Retry button
    row, shown last)."""
    safe = neutralise(piece)
    if in_progress:
        shown = close_open_markdown(safe) + " " + texts.CURSOR if safe else texts.THINKING
    else:
        shown = safe
    blocks: list[Block] = [header] if header else []
    if shown.strip():
        blocks.append(markdown_block(shown))
    blocks += tail_blocks(notices=notices, sources=sources, footer=footer, actions=actions)
    return Rendered(text=fallback_text(safe), blocks=blocks)


def fallback_text(markdown: str) -> str:
    """The short plain text Slack shows in notifications and where blocks cannot be shown."""
    plain = markdown.strip() or texts.ANSWER_FALLBACK
    if len(plain) > FALLBACK_LIMIT:
        plain = plain[: FALLBACK_LIMIT - 1].rstrip() + "…"
    return escape_mrkdwn(plain)


_EMOJI_CODE = re.compile(r":[a-z0-9_+-]+: ?")


def plain(mrkdwn: str) -> str:
    """A Slack notice or footer as plain text, for the browser and the terminal (no emoji codes,
    no italics underscores, no `&lt;` escapes)."""
    text = _EMOJI_CODE.sub("", mrkdwn).strip()
    if len(text) > 1 and text.startswith("_") and text.endswith("_"):
        text = text[1:-1]
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
