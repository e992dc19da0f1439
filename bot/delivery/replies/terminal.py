"""The terminal's reply: `shopmax-bot ask` prints the answer as it streams, then the stream stats
(the format of the original ShopMax example) and the sources it cited under `--- Sources ---`
("not from the catalog" when no tool returned anything), or what went wrong. Printed text
cannot be edited: lines whose figures could not be checked are printed again, marked, above
the stats."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from bot.question import Refusal
from bot.wording import markdown, sources, texts
from bot.wording.ending import Ending


class TerminalReply:
    def __init__(self, out: TextIO, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.out = out
        self.clock = clock
        self.text = ""
        self.gone = False
        self.slack_failure = None  # no Slack here
        self.calls = 0
        self.first_shown_at: float | None = None
        self.thread_ts: str | None = None  # one question, no follow-ups
        self.failed = False
        self.printed = ""

    async def refuse(self, refusal: Refusal) -> None:
        self.failed = True
        self._write(refusal.reason + "\n")

    async def open(self) -> None:
        self._write(texts.TERMINAL_PREFIX)

    def add(self, delta: str) -> None:
        self.text += delta
        if self.first_shown_at is None:
            self.first_shown_at = self.clock()
        self._write(delta)

    def status(self, line: str) -> None:
        """Lookups are not printed: the output stays the answer and its stats."""

    def revise(self, text: str) -> None:
        self.printed, self.text = self.text, text

    async def finish(self, ending: Ending) -> None:
        notices = [markdown.plain(notice) for notice in ending.notices]
        if ending.retry or ending.stats is None:
            self.failed = True
            self._write("\n\n" + "\n".join(notices) + "\n")
            return
        stats = ending.stats
        lines = texts.terminal_stats(
            input_tokens=stats.usage.input_tokens,
            output_tokens=stats.usage.output_tokens,
            duration_s=stats.duration_s,
            ttft_s=stats.ttft_s,
            stop_reason=stats.stop_reason,
            cost=ending.cost or "",
        )
        printed = set(self.printed.splitlines())
        marked = [line for line in self.text.splitlines() if self.printed and line not in printed]
        cited = sources.plain(ending.sources)
        if not cited and not ending.grounded:
            cited = [texts.NOT_FROM_CATALOG]
        self._write(
            "\n\n"
            + "".join(f"{line}\n" for line in marked)
            + "".join(f"{notice}\n" for notice in notices)
            + lines
            + "\n"
            + "".join(f"{line}\n" for line in ([texts.TERMINAL_SOURCES, *cited] if cited else []))
        )

    def abandon(self) -> None:
        """Nothing to stop: what was printed stays."""

    def _write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()
