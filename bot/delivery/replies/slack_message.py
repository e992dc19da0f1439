"""One answer's Slack message(s): posted at once, edited as text arrives, finished with a footer.

A `StreamingReply` never decides *when* to call Slack; it tells its workspace's scheduler that
its text changed, and the scheduler calls `_sync` when the message's turn comes. `_sync` sends
the newest text at that moment, so the token loop does no rendering and no Slack I/O: adding a
delta is an append and a flag.

Two transports:

* **update** (default): `chat.postMessage`, then `chat.update` with the whole text so far and a
  cursor. An answer too long for one message continues in new messages in the same thread (see
  `markdown.split_pieces`); the footer and notices go on the last one.
* **native**: Slack's `chat.startStream` / `chat.appendStream` / `chat.stopStream`, which append
  only the new text (Tier 4, twice the budget of `chat.update`) and put the footer in blocks at
  stop. Where Slack refuses to stream (`channel_type_not_supported` at start,
  `message_not_in_streaming_state` or `streaming_state_conflict` later) the answer carries on
  with `chat.update` in the same message, whole; an answer that outgrows one message is
  stopped there and continues with `chat.update` messages below it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.delivery.pacing.scheduler import UpdateScheduler
from bot.delivery.slack_api import SlackApi
from bot.errors import RateLimited, SlackError
from bot.wording import markdown
from bot.wording.ending import Ending
from bot.wording.markdown import Block, Rendered

STREAM_LIMIT = markdown.PIECE_LIMIT - 16  # room for a closing code fence
POST_ATTEMPTS = 3  # a post answered 429 is tried again after Retry-After
SOFT_ZONE = 2_000  # characters before the limit where a stream sends whole lines only
UPDATE = "chat.update"
APPEND = "chat.appendStream"
REFUSED_AT_START = frozenset(
    {"channel_type_not_supported", "not_allowed", "unknown_method", "feature_not_enabled"}
)
REFUSED_MID_STREAM = frozenset({"message_not_in_streaming_state", "streaming_state_conflict"})


@dataclass(frozen=True)
class Recipient:
    """Who a native stream is for; Slack requires it outside DMs."""

    user: str
    team: str


@dataclass
class _Posted:
    ts: str
    shown: Rendered | None = None


@dataclass
class _Stream:
    """The native streaming message at the head of the answer."""

    ts: str
    sent: int = 0  # characters of `text` Slack has
    open: bool = True


@dataclass
class StreamingReply:
    """The Slack side of one answer. Call `start`, then `add` per delta, then `finish`.

    `schedulers(method)` gives the workspace's scheduler for a Slack method; `native` (a
    `Recipient`) asks for Slack's streaming methods.
    """

    slack: SlackApi
    schedulers: Callable[[str], UpdateScheduler]
    channel: str
    thread_ts: str | None
    header: Block | None = None
    native: Recipient | None = None
    answer_id: str | None = None  # the Stop button's value while streaming
    question_id: str | None = None  # the Retry button's value when the answer failed
    on_shown: Callable[[str, str], Awaitable[None]] | None = None  # (last ts, its text)
    clock: Callable[[], float] = time.monotonic
    text: str = ""
    calls: int = 0  # Slack calls made for this answer
    first_text_at: float | None = None  # when Slack first showed some of the text
    error: Exception | None = None
    _messages: list[_Posted] = field(default_factory=list)
    _stream: _Stream | None = None
    # Where the chat.update part of the answer starts: message index, text offset, and the
    # code fence to reopen when a native stream was stopped inside a code block.
    _update_from: int = 0
    _base: int = 0
    _reopen: str | None = None
    _ending: Ending | None = None
    _started: asyncio.Event = field(default_factory=asyncio.Event)
    _has_text: asyncio.Event = field(default_factory=asyncio.Event)
    _text_shown: bool = False
    _streamed_whole: bool = False  # the native stream was stopped with the complete answer
    _status: str | None = None  # what is being looked up right now
    _last_piece: str = ""  # the raw text of the last message's piece (for crash recovery)
    _counted: bool = False  # the scheduler counts this answer's deltas before its post
    _posting: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def key(self) -> tuple[str, int]:
        return (self.channel, id(self))

    @property
    def first_ts(self) -> str | None:
        return self._messages[0].ts if self._messages else None

    @property
    def streaming(self) -> bool:
        return self._stream is not None and self._stream.open

    @property
    def scheduler(self) -> UpdateScheduler:
        return self.schedulers(APPEND if self.streaming else UPDATE)

    async def start(self, placeholder_after: float = 0.0) -> str | None:
        """Post the answer's first message and return its ts; raises `CannotPost` where the
        bot may not post.

        The post waits up to `placeholder_after` seconds for the first text, so usually the
        first words go out with the post itself and cost nothing from the workspace's shared
        `chat.update` budget; a model that thinks longer gets a "Thinking…" placeholder.
        When that budget cannot afford the edits an early post commits the answer to, the
        workspace's scheduler holds the post (None is returned): it is made when the planner
        releases it, or by `finish` with the whole answer.
        """
        holdable = self.native is None and self.thread_ts is not None
        if holdable:
            self.schedulers(UPDATE).arrive(self.key)
            self._counted = True
        if placeholder_after > 0 and not self.text:
            try:
                await asyncio.wait_for(self._has_text.wait(), placeholder_after)
            except TimeoutError:
                pass
        if holdable and self.schedulers(UPDATE).hold_first_post(self.key, self._post_held):
            return None
        return await self._open()

    async def _post_held(self) -> None:
        """The held post, released by the scheduler (`finish` may have made it already)."""
        async with self._posting:
            if not self._started.is_set():
                with contextlib.suppress(Exception):  # kept in `error`, raised by `finish`
                    await self._open()

    async def _open(self) -> str:
        posted_text = self.text
        try:
            ts = await self._open_stream(posted_text) if self.native else None
            if ts is None:
                ts = await self._post_first(posted_text)
        except Exception as exc:
            self.error = exc
            raise
        finally:
            self._started.set()
        self.schedulers(UPDATE).posted(self.key)
        self._text_shown = bool(posted_text)
        if self.thread_ts is None:
            self.thread_ts = ts  # a top-level answer (slash command) continues in its own thread
        await self._report_shown()
        if self.text != posted_text:
            self.scheduler.request(self.key, self._sync, urgent=not self._text_shown)
        return ts

    async def _post_first(self, text: str) -> str:
        pieces = markdown.split_pieces(text) if text else [""]
        rendered = self._render(0, pieces[0], last=len(pieces) == 1)
        for _ in range(POST_ATTEMPTS - 1):
            try:
                ts = await self.slack.post(self.channel, rendered, thread_ts=self.thread_ts)
                break
            except RateLimited as exc:  # Slack counts posts per channel: wait our turn
                await asyncio.sleep(exc.retry_after)
        else:
            ts = await self.slack.post(self.channel, rendered, thread_ts=self.thread_ts)
        self._sent(bool(text))
        self._messages.append(_Posted(ts, rendered))
        self._last_piece = pieces[0]
        return ts

    def _sent(self, with_text: bool) -> None:
        """Count a Slack call that succeeded, and note when text first became visible."""
        self.calls += 1
        if with_text and self.first_text_at is None:
            self.first_text_at = self.clock()

    async def _open_stream(self, text: str) -> str | None:
        """Start a native stream; None where Slack will not stream here (use chat.update)."""
        if self.thread_ts is None or self.native is None:
            return None
        end = self._appendable_end(0)
        in_dm = self.channel.startswith("D")
        try:
            ts = await self.slack.start_stream(
                self.channel,
                self.thread_ts,
                markdown_text=markdown.neutralise(text[:end]),
                recipient=None if in_dm else (self.native.user, self.native.team),
            )
        except SlackError as exc:
            if exc.code in REFUSED_AT_START:
                return None
            raise
        self._sent(end > 0)
        self._stream = _Stream(ts, sent=end)
        self._messages.append(_Posted(ts))
        self._update_from = 1
        return ts

    def abandon(self) -> None:
        """Stop asking the schedulers for edits (the first post failed, or the answer is gone)."""
        for method in (UPDATE, APPEND):
            self.schedulers(method).forget(self.key)

    def status(self, line: str) -> None:
        """Show a status line (a catalog lookup running) under the text until more arrives."""
        self._status = line
        self._has_text.set()  # worth posting now rather than "Thinking…"
        if self._started.is_set() or self._counted:
            self.scheduler.request(self.key, self._sync, urgent=not self._text_shown)

    def add(self, delta: str) -> None:
        """Append model text; the scheduler is told once the message exists (the post itself
        carries whatever arrived before). The first text Slack shows is urgent."""
        self.text += delta
        self._status = None
        self._has_text.set()
        # Before the post, the scheduler only counts the delta (the post will carry it).
        if self._started.is_set() or self._counted:
            urgent = not self._text_shown
            self.scheduler.request(self.key, self._sync, urgent=urgent, chars=len(delta))

    async def finish(self, ending: Ending) -> None:
        """Show the complete answer without the cursor, with notices and footer; wait for Slack."""
        self._ending = ending
        try:
            if not self._started.is_set() and await self._post_whole():
                return
            await self.scheduler.flush(self.key, self._sync)
        finally:
            self.abandon()

    async def _post_whole(self) -> bool:
        """An answer whose post was held goes out now, whole; True if nothing is left."""
        async with self._posting:
            if self._started.is_set():
                return False
            await self._open()
        return len(markdown.split_pieces(self._update_text())) <= 1

    async def _sync(self) -> int:
        """Bring Slack up to date with the newest text; returns the budgeted calls made."""
        await self._started.wait()
        if not self._messages:
            raise self.error or RuntimeError("the answer message was never posted")
        try:
            calls = 0
            if self.streaming:
                calls += await self._sync_stream()
                if self.streaming or self._streamed_whole:
                    await self._report_shown()
                    return calls
                # The stream ended early (too long, or Slack stopped it): continue by update.
                self.schedulers(APPEND).forget(self.key)
            calls += await self._sync_pieces()
            await self._report_shown()
            return calls
        except Exception as exc:
            self.error = exc
            raise

    async def _report_shown(self) -> None:
        if self.on_shown is None or self._ending is not None:
            return
        if self.streaming and self._stream is not None:
            await self.on_shown(self._stream.ts, self.text[: self._stream.sent])
            return
        await self.on_shown(self._messages[-1].ts, self._last_piece)

    async def _sync_stream(self) -> int:
        assert self._stream is not None
        stream = self._stream
        final = self._ending is not None
        end = len(self.text) if final else self._appendable_end(stream.sent)
        self._text_shown = self._text_shown or end > 0
        try:
            if len(self.text) > STREAM_LIMIT:
                await self._stop_stream_at_limit(stream)
                return 1
            delta = markdown.neutralise(self.text[stream.sent : end])
            if final:
                await self.slack.stop_stream(
                    self.channel, stream.ts, markdown_text=delta, blocks=self._ending_blocks()
                )
                self._sent(end > 0)
                stream.sent, stream.open = end, False
                self._streamed_whole = True
                return 1
            if not delta:
                return 0
            await self.slack.append_stream(self.channel, stream.ts, delta)
            self._sent(True)
            stream.sent = end
            return 1
        except SlackError as exc:
            if exc.code not in REFUSED_MID_STREAM:
                raise
            # Slack no longer streams this message: show the whole answer in it by update.
            stream.open = False
            self._update_from, self._base, self._reopen = 0, 0, None
            return 1

    def _appendable_end(self, sent: int) -> int:
        """How much of the text a stream may have now: never half a ping (see
        `markdown.stream_safe_end`), and near the size limit only whole lines, so the stream
        can stop at a line boundary."""
        end = markdown.stream_safe_end(self.text, sent)
        if end > STREAM_LIMIT - SOFT_ZONE:
            last_newline = self.text.rfind("\n", sent, min(end, STREAM_LIMIT))
            end = last_newline + 1 if last_newline >= 0 else min(end, STREAM_LIMIT)
        return max(end, sent)

    async def _stop_stream_at_limit(self, stream: _Stream) -> None:
        """The answer outgrew one message: stop the stream at a boundary at or after what
        Slack already has, closing an open code fence; the rest continues below."""
        cut = max(markdown.cut_point(self.text, STREAM_LIMIT), stream.sent)
        state = markdown.fence_state(self.text[:cut])
        closing = "\n" + markdown.closing_fence(state.open_fence) if state.open_fence else ""
        delta = markdown.neutralise(self.text[stream.sent : cut]) + closing
        await self.slack.stop_stream(self.channel, stream.ts, markdown_text=delta)
        self._sent(True)
        stream.sent, stream.open = cut, False
        self._base, self._reopen = cut, state.open_fence

    def _update_text(self) -> str:
        rest = self.text[self._base :].lstrip("\n") if self._base else self.text
        return f"{self._reopen}\n{rest}" if self._reopen and rest else rest

    async def _sync_pieces(self) -> int:
        text = self._update_text()
        pieces = markdown.split_pieces(text) if text else [""]
        self._text_shown = self._text_shown or bool(self.text)
        self._last_piece = pieces[-1]
        updates = 0
        for number, piece in enumerate(pieces):
            index = self._update_from + number
            rendered = self._render(index, piece, last=number == len(pieces) - 1)
            if index < len(self._messages):
                posted = self._messages[index]
                if posted.shown != rendered:
                    await self.slack.update(self.channel, posted.ts, rendered)
                    self._sent(bool(piece))
                    posted.shown = rendered
                    updates += 1
            else:
                ts = await self.slack.post(self.channel, rendered, thread_ts=self.thread_ts)
                self._sent(bool(piece))
                self._messages.append(_Posted(ts, rendered))
        return updates

    def _ending_blocks(self) -> list[Block]:
        ending = self._ending or Ending()
        blocks = [markdown.context_block(notice) for notice in ending.notices]
        if ending.footer:
            blocks.append(markdown.context_block(ending.footer))
        actions = self._actions(last=True)
        return [*blocks, actions] if actions else blocks

    def _actions(self, *, last: bool) -> Block | None:
        """Stop while the answer streams; Retry under an answer that failed."""
        if not last:
            return None
        if self._ending is None:
            return markdown.stop_button(self.answer_id) if self.answer_id else None
        if self._ending.retry and self.question_id:
            return markdown.retry_button(self.question_id)
        if self._ending.feedback and self.answer_id:
            return markdown.feedback_buttons(self.answer_id)
        return None

    def _render(self, index: int, piece: str, *, last: bool) -> Rendered:
        ending = self._ending if last else None
        status = (self._status,) if last and self._status and self._ending is None else ()
        return markdown.render_piece(
            piece,
            in_progress=last and self._ending is None,
            header=self.header if index == 0 else None,
            notices=ending.notices if ending else status,
            footer=ending.footer if ending else None,
            actions=self._actions(last=last),
        )
