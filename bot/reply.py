"""One answer's Slack message(s): posted at once, edited as text arrives, finished with a footer.

A `StreamingReply` never decides *when* to call Slack; it tells its workspace's scheduler that
its text changed, and the scheduler calls `_sync` when the message's turn comes. `_sync` renders
the newest text at that moment, so the token loop does no rendering and no Slack I/O: adding a
delta is an append and a flag.

An answer too long for one message continues in new messages in the same thread (see
`render.split_pieces`); the footer and notices go on the last one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bot import render
from bot.render import Block, Rendered
from bot.scheduler import UpdateScheduler
from bot.slack_api import SlackApi


@dataclass(frozen=True)
class Ending:
    """How the answer ends: notices (stop reason, errors) and the usage footer."""

    notices: tuple[str, ...] = ()
    footer: str | None = None


@dataclass
class _Posted:
    ts: str
    shown: Rendered | None = None


@dataclass
class StreamingReply:
    """The Slack side of one answer. Call `start`, then `add` per delta, then `finish`."""

    slack: SlackApi
    scheduler: UpdateScheduler
    channel: str
    thread_ts: str | None
    header: Block | None = None
    text: str = ""
    error: Exception | None = None
    _messages: list[_Posted] = field(default_factory=list)
    _ending: Ending | None = None
    _started: asyncio.Event = field(default_factory=asyncio.Event)
    _has_text: asyncio.Event = field(default_factory=asyncio.Event)
    _text_shown: bool = False

    @property
    def key(self) -> tuple[str, int]:
        return (self.channel, id(self))

    @property
    def first_ts(self) -> str | None:
        return self._messages[0].ts if self._messages else None

    async def start(self, placeholder_after: float = 0.0) -> str:
        """Post the answer's first message and return its ts; raises `CannotPost` where the
        bot may not post.

        The post waits up to `placeholder_after` seconds for the first text, so usually the
        first words go out with the post itself and cost nothing from the workspace's shared
        `chat.update` budget; a model that thinks longer gets a "Thinking…" placeholder.
        """
        if placeholder_after > 0 and not self.text:
            try:
                await asyncio.wait_for(self._has_text.wait(), placeholder_after)
            except TimeoutError:
                pass
        posted_text = self.text
        pieces = render.split_pieces(posted_text) if posted_text else [""]
        rendered = self._render(0, pieces[0], last=len(pieces) == 1)
        try:
            ts = await self.slack.post(self.channel, rendered, thread_ts=self.thread_ts)
        except Exception as exc:
            self.error = exc
            raise
        finally:
            self._started.set()
        self._messages.append(_Posted(ts, rendered))
        self._text_shown = bool(posted_text)
        if self.thread_ts is None:
            self.thread_ts = ts  # a top-level answer (slash command) continues in its own thread
        if self.text != posted_text:
            self.scheduler.request(self.key, self._sync, urgent=not self._text_shown)
        return ts

    def abandon(self) -> None:
        """Stop asking the scheduler for edits (the first post failed)."""
        self.scheduler.forget(self.key)

    def add(self, delta: str) -> None:
        """Append model text; the scheduler is told once the message exists (the post itself
        carries whatever arrived before). The first text Slack shows is urgent."""
        self.text += delta
        self._has_text.set()
        if self._started.is_set():
            self.scheduler.request(self.key, self._sync, urgent=not self._text_shown)

    async def finish(self, ending: Ending) -> None:
        """Show the complete answer without the cursor, with notices and footer; wait for Slack."""
        self._ending = ending
        try:
            await self.scheduler.flush(self.key, self._sync)
        finally:
            self.scheduler.forget(self.key)

    async def _sync(self) -> int:
        """Bring Slack up to date with the newest text; returns the `chat.update` calls made."""
        await self._started.wait()
        if not self._messages:
            raise self.error or RuntimeError("the answer message was never posted")
        try:
            return await self._sync_pieces()
        except Exception as exc:
            self.error = exc
            raise

    async def _sync_pieces(self) -> int:
        pieces = render.split_pieces(self.text) if self.text else [""]
        self._text_shown = self._text_shown or bool(self.text)
        updates = 0
        for index, piece in enumerate(pieces):
            rendered = self._render(index, piece, last=index == len(pieces) - 1)
            if index < len(self._messages):
                posted = self._messages[index]
                if posted.shown != rendered:
                    await self.slack.update(self.channel, posted.ts, rendered)
                    posted.shown = rendered
                    updates += 1
            else:
                ts = await self.slack.post(self.channel, rendered, thread_ts=self.thread_ts)
                self._messages.append(_Posted(ts, rendered))
        return updates

    def _render(self, index: int, piece: str, *, last: bool) -> Rendered:
        ending = self._ending if last else None
        return render.render_piece(
            piece,
            in_progress=last and self._ending is None,
            header=self.header if index == 0 else None,
            notices=ending.notices if ending else (),
            footer=ending.footer if ending else None,
        )
