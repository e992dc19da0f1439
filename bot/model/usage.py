"""Token usage and timings of one answer, as read off the model's final message."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# Claude's tokenizers average a little under four characters per token for English; counting
# four is a slight over-estimate of the length, which keeps budgets on the safe side.
CHARS_PER_TOKEN = 4


# A request's input tokens at most, estimated from characters for holding them in advance
# (`bot.answering.gate`): its UTF-8 bytes, two to a token (Claude's tokenizers take three to
# four bytes a token for English, more for JSON and numbers; a token is never less than a byte
# and Indian scripts take three bytes a character), plus what the API adds around the request
# (the tool-use system prompt, a few hundred tokens, and the messages' framing).
BYTES_PER_TOKEN = 2
REQUEST_OVERHEAD = 1_000


def estimate_tokens(text: str) -> int:
    """Tokens of `text`, estimated from its length (where no real count is known)."""
    return -(-len(text) // CHARS_PER_TOKEN) + 4


def request_tokens(
    system: object, tools: Sequence[dict[str, Any]] | None, messages: Sequence[Any]
) -> int:
    """A request's input tokens at most (see `BYTES_PER_TOKEN`): the system prompt, tools and
    messages as they are sent, serialised."""
    sent = json.dumps([system, tools or [], list(messages)], ensure_ascii=False)
    return -(-len(sent.encode("utf-8")) // BYTES_PER_TOKEN) + REQUEST_OVERHEAD


@dataclass(frozen=True)
class Usage:
    """Token counts from the final message. Cache fields are 0 when caching was not used."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
        )

    @property
    def total(self) -> int:
        """Every token the request was billed for, as the ledger and the limits count them."""
        return self.prompt_tokens + self.output_tokens

    @property
    def prompt_tokens(self) -> int:
        """Every input token of the request, cached or not (decides the long-prompt price tier)."""
        return self.input_tokens + self.cache_write_tokens + self.cache_read_tokens


@dataclass(frozen=True)
class AnswerStats:
    """What the usage footer and the terminal's stream stats show."""

    model: str
    usage: Usage
    stop_reason: str | None
    duration_s: float
    ttft_s: float | None
    request_id: str | None = None
    output_estimated: bool = False  # the answer was cut short before the final usage arrived


def usage_from(sdk_usage: Any) -> Usage:
    """Our `Usage` from the SDK's usage object (a final message's, or a batch result's)."""
    return Usage(
        input_tokens=sdk_usage.input_tokens or 0,
        output_tokens=sdk_usage.output_tokens or 0,
        cache_write_tokens=getattr(sdk_usage, "cache_creation_input_tokens", 0) or 0,
        cache_read_tokens=getattr(sdk_usage, "cache_read_input_tokens", 0) or 0,
    )
