"""Prompt caching as the demo model counts it, the way the Messages API does (opt-in:
`DemoModel(caching=True)`, which `bench answers` uses).

A request's prompt is its tools, then its system blocks, then its messages' blocks, in that
order. Each block carrying `cache_control` ends a prefix; a prefix of at least `MIN_TOKENS`
tokens is written to the cache the first time (cache write tokens) and read by every later
request that starts with exactly the same prefix within `TTL` seconds (cache read tokens).
What is neither is ordinary input. So the figures say what the real API would say of the bot's
requests: whether the tools and system prompt really stay byte-identical from one question to
the next.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from bot.model.usage import estimate_tokens

MIN_TOKENS = 1024  # the smallest cacheable prompt of most models: below it nothing is cached
TTL = 300.0  # seconds a cached prefix lives without being read


class PromptCache:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.entries: dict[str, float] = {}  # prefix digest -> when it expires

    def usage(self, body: dict[str, Any], total: int) -> tuple[int, int, int]:
        """(input, cache write, cache read) tokens of a request of `total` tokens."""
        now = self.clock()
        self.entries = {k: until for k, until in self.entries.items() if until > now}
        parts = _parts(body)
        read, fresh = 0, []
        for end, part in enumerate(parts, start=1):
            if not isinstance(part, dict) or "cache_control" not in part:
                continue
            prefix = json.dumps(parts[:end], ensure_ascii=False, sort_keys=True)
            size = estimate_tokens(prefix)
            if size < MIN_TOKENS:
                continue
            key = hashlib.sha256(prefix.encode()).hexdigest()
            if key in self.entries:
                read = max(read, size)
            else:
                fresh.append((key, size))
            self.entries[key] = now + TTL
        written = max((size for _, size in fresh if size > read), default=read) - read
        read, written = min(read, total), min(written, max(total - read, 0))
        return total - read - written, written, read


def _parts(body: dict[str, Any]) -> list[Any]:
    listed = body.get("tools")
    tools: list[Any] = listed if isinstance(listed, list) else []
    system = body.get("system")
    blocks = system if isinstance(system, list) else ([system] if system else [])
    parts: list[Any] = [*tools, *blocks]
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        parts.extend(content if isinstance(content, list) else [content])
    return parts
