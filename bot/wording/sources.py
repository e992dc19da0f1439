"""The sources under an answer, numbered as cited, in each surface's form. Pure.

A document is named by its title and section, with its link where it has one; a product by
its SKU and name, with the time its price and stock were read ("as of 4 Dec, 14:05 IST").
Slack gets one context block of mrkdwn (escaped here; made inert where it leaves for Slack,
like every other text), the browser the same as data for its footnotes, and the terminal
plain lines under `--- Sources ---`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.model.citations import Reference
from bot.wording import texts
from bot.wording.markdown import escape_mrkdwn

IST = ZoneInfo("Asia/Kolkata")
MAX_MRKDWN = 2_800  # a context element takes 3,000 characters
MAX_LABEL = 160


def label(reference: Reference) -> str:
    """A source in words: "Returns and exchange policy › Refunds", or
    "SMX-TV-0002 Samsung 43 inch (price and stock as of 4 Dec, 14:05 IST)"."""
    if reference.sku:
        name = reference.title.removesuffix(f" ({reference.sku})")
        shown = f"{reference.sku} {name}"
        if reference.as_of is not None:
            shown += f" (price and stock as of {as_of(reference.as_of)})"
        return _short(shown, MAX_LABEL + 40)
    title = _short(reference.title, MAX_LABEL)
    section = reference.section
    return f"{title} › {_short(section, MAX_LABEL)}" if section and section != title else title


def as_of(moment: float) -> str:
    return datetime.fromtimestamp(moment, IST).strftime("%-d %b, %H:%M IST")


def mrkdwn(sources: tuple[Reference, ...]) -> str | None:
    """The sources as one Slack context block's mrkdwn, or None without any."""
    if not sources:
        return None
    lines = [f"*{texts.SOURCES_TITLE}*"]
    for number, reference in enumerate(sources, start=1):
        line = f"[{number}] {escape_mrkdwn(label(reference))}"
        if reference.url:
            line += f" {escape_mrkdwn(reference.url)}"
        if sum(len(x) + 1 for x in lines) + len(line) > MAX_MRKDWN:
            lines.append(f"… {len(sources) - number + 1} more")
            break
        lines.append(line)
    return "\n".join(lines)


def plain(sources: tuple[Reference, ...]) -> list[str]:
    """The sources as lines of plain text (the terminal)."""
    return [
        f"[{n}] {label(r)}" + (f" — {r.url}" if r.url else "")
        for n, r in enumerate(sources, start=1)
    ]


def as_data(sources: tuple[Reference, ...]) -> list[dict[str, Any]]:
    """The sources for the browser's footnotes (it shows them as text, links only http(s))."""
    return [
        {"number": n, "label": label(r), "url": r.url, "sku": r.sku}
        for n, r in enumerate(sources, start=1)
    ]


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
