"""Cleaning what a user typed before it becomes a question."""

from __future__ import annotations

import re

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_SPACES = re.compile(r"[ \t]{2,}")


def question_text(raw: str, bot_user_id: str | None) -> str:
    """The question without the bot's own mention(s); other mentions stay as written."""
    if bot_user_id:
        raw = _MENTION.sub(lambda m: "" if m.group(1) == bot_user_id else m.group(0), raw)
    return _SPACES.sub(" ", raw).strip()
