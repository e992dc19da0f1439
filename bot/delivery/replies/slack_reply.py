"""What the two Slack transports share: the text so far, the status line, the buttons, and the
scheduler that decides when Slack hears of a change.

The token loop does no rendering and no Slack I/O: adding a delta is an append and a request
to the workspace's scheduler, which later calls the transport's `_sync` with the newest text
(latest wins). The first post waits up to `wait` seconds for the first words, so they usually
go out with the post itself and cost nothing from the workspace's shared `chat.update` budget;
a model that thinks longer gets a "Thinking…" placeholder first.

Slack going away for a while (`SlackUnavailable`) is waited out, never the answer's failure:
the first post waits for Slack (`Patience`), edits wait in the scheduler, the model keeps
streaming meanwhile, and the newest text goes out when Slack answers again. Every post carries
the answer's id and its piece in metadata, and a post that may have landed although its answer
was lost is looked for (`find_reply`) before it is posted again, so nothing is ever doubled.
Only Slack refusing for good (`SlackRefused`, `CannotPost`), a deleted message (`MessageGone`)
or an outage longer than the patience ends the answer early (`gone`: the model stream stops);
a refusal is told to the asker where they can see it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from bot.delivery.pacing.scheduler import UpdateScheduler
from bot.delivery.sign_of_life import SignOfLife
from bot.delivery.slack_api import SlackApi
from bot.delivery.slack_retry import Patience, Waiting
from bot.errors import (
    CannotPost,
    MessageGone,
    RateLimited,
    SlackError,
    SlackRefused,
    SlackUnavailable,
)
from bot.question import Question, Refusal
from bot.wording import markdown, texts
from bot.wording.ending import Ending
from bot.wording.markdown import Block, Rendered

log = logging.getLogger(__name__)

T = TypeVar("T")

UPDATE = "chat.update"
APPEND = "chat.appendStream"
POST_ATTEMPTS = 3  # a post answered 429 is tried again after Retry-After
ASKED_MARGIN = 600.0  # seconds before the reply began that a top-level answer is looked for
# Errors after which the answer cannot be shown: the model stream stops.
ENDS_ANSWER = (MessageGone, SlackRefused, CannotPost, SlackUnavailable)

OnShown = Callable[[str, str], Awaitable[None]]
"""Told (last message ts, its text) whenever Slack shows more, for crash recovery."""

SchedulersFor = Callable[[str], UpdateScheduler]
"""The workspace's scheduler for a Slack method."""


@dataclass(frozen=True)
class Buttons:
    """The buttons under an answer: Stop while it streams (its value is the answer id), Retry
    under one that failed (the question id), 👍 / 👎 under one that is complete."""

    answer_id: str | None = None
    question_id: str | None = None

    def row(self, ending: Ending | None) -> Block | None:
        if ending is None:
            return markdown.stop_button(self.answer_id) if self.answer_id else None
        if ending.retry and self.question_id:
            return markdown.retry_button(self.question_id)
        if ending.feedback and self.answer_id:
            return markdown.feedback_buttons(self.answer_id)
        return None


@dataclass(frozen=True)
class Destination:
    """Where one answer goes in Slack, and what its reply is given to get it there."""

    slack: SlackApi
    schedulers: SchedulersFor
    question: Question
    buttons: Buttons = Buttons()
    on_shown: OnShown | None = None
    wait: float = 0.0  # seconds the first post waits for words before "Thinking…"
    clock: Callable[[], float] = time.monotonic
    patience: Patience = field(default_factory=Patience)  # waiting Slack out in an outage
    wall: Callable[[], float] = time.time  # Unix time, for finding a top-level answer
    sign: SignOfLife | None = None  # the loading state in the thread until text shows
    # Takes one of the workspace's `chat.startStream` calls if its minute has room (Tier 2);
    # None: not counted here.
    stream_start: Callable[[], Awaitable[bool]] | None = None
    # Waits for one of the workspace's `chat.stopStream` calls (Tier 2); None: not counted.
    stream_stop: Callable[[], Awaitable[None]] | None = None


class SlackReply:
    """The part of an answer in Slack both transports share. Subclasses post the first message
    (`_open`) and bring Slack up to date (`_sync`) in their own way."""

    method = UPDATE

    def __init__(self, to: Destination) -> None:
        self.to = to
        self.slack = to.slack
        self.schedulers = to.schedulers
        self.channel = to.question.channel
        self.thread_ts: str | None = to.question.thread_ts or None
        self.asker = to.question.user
        self.response_url = to.question.response_url
        self.buttons = to.buttons
        self.on_shown = to.on_shown
        self.wait = to.wait
        self.clock = to.clock
        self.answer_id = to.buttons.question_id or to.buttons.answer_id
        # A top-level answer lost in an outage is looked for among the messages since then.
        self.oldest = f"{to.wall() - ASKED_MARGIN:.6f}"
        self.uncertain: set[int] = set()  # pieces whose post may have landed unseen
        self.told = False  # the asker was told Slack refused the answer
        self.text = ""
        self.calls = 0
        self.first_shown_at: float | None = None
        self.error: Exception | None = None
        self.ending: Ending | None = None
        self.status_line: str | None = None
        self.text_shown = False  # Slack shows some of the text (or a status) already
        self.started = asyncio.Event()  # the first post was tried
        self.opened = False  # ... and it went through
        self.counted = False  # the scheduler counts this answer's text before its post
        self.posting = asyncio.Lock()  # the first post is made once: `open`, release or `finish`
        self.has_text = asyncio.Event()

    @property
    def key(self) -> tuple[str, int]:
        return (self.channel, id(self))

    @property
    def gone(self) -> bool:
        return self._ended() is not None

    @property
    def slack_failure(self) -> SlackError | None:
        """Slack refused the answer, or stayed away longer than the patience: it ends as an
        error (a deleted message is not a failure)."""
        return None if self.deleted else self._ended()

    def _ended(self) -> SlackError | None:
        """What ended the answer early: the reply's own error, or its edits waiting for Slack
        past the patience (the scheduler's)."""
        if isinstance(self.error, ENDS_ANSWER):
            return self.error
        failure = self.scheduler.failure(self.key) if self.opened else None
        return failure if isinstance(failure, SlackUnavailable) else None

    @property
    def deleted(self) -> bool:
        return isinstance(self.error, MessageGone)

    @property
    def scheduler(self) -> UpdateScheduler:
        return self.schedulers(self.method)

    async def refuse(self, refusal: Refusal) -> None:
        if refusal.tell:
            await self.tell(refusal.reason)

    async def tell(self, text: str) -> None:
        """A message for the asker alone: through the slash command's `response_url` where
        there is one (it works where the bot is not a member), else ephemeral. An outage is
        waited out; an ephemeral message cannot be looked up, so one that may have landed is
        sent again (a rare second private notice beats none)."""

        async def send() -> None:
            if self.response_url:
                await self.slack.respond(self.response_url, Rendered(text, []))
            else:
                await self.slack.post_ephemeral(
                    self.channel, self.asker, text, thread_ts=self.thread_ts
                )

        await self._through_outage(send)

    async def _through_outage(self, call: Callable[[], Awaitable[T]]) -> T:
        """`call()` until Slack answers it: an outage is waited out (`Patience`), and its
        `SlackUnavailable` raised once Slack has been away longer than the patience allows."""
        waiting = Waiting(self.to.patience, self.clock)
        while True:
            try:
                return await call()
            except SlackUnavailable as exc:
                await asyncio.sleep(waiting.pause(exc))

    async def tell_refused(self, error: SlackError) -> None:
        """Tell the asker, once, that Slack refused the answer: through `response_url`, or in
        a direct message (the conversation itself refuses us), or nowhere when Slack refuses
        the bot's token (then only the log and /readyz can say it)."""
        if self.told:
            return
        self.told = True
        log.warning("Slack refused the answer in %s (%s): ending it early", self.channel, error)
        text = texts.slack_refused(error.code)
        try:
            if self.response_url:
                await self.slack.respond(self.response_url, Rendered(text, []))
            else:
                await self.slack.direct_message(self.asker, text)
        except SlackError as exc:
            log.warning("could not tell %s that Slack refused the answer: %s", self.asker, exc)

    @property
    def holdable(self) -> bool:
        """Whether the scheduler may hold the first post back (see `open`)."""
        return False

    async def open(self) -> None:
        """Post the answer's first message, with whatever text has arrived within `wait`.

        Under contention the workspace's scheduler may hold the post back: an early post
        commits the answer to edits the `chat.update` budget cannot afford, while a post a
        little later carries more text (and a short answer can go out once, whole, from
        `finish`). The scheduler then makes the post when its plan releases it.

        The thread's loading state goes up first (`sign_of_life`), in a task of its own: a
        sign of life within a second, whatever the post waits for."""
        if self.to.sign is not None:
            self.to.sign.start()
        if self.holdable:
            self.arrive()
        if self.wait > 0 and not self.text:
            try:
                await asyncio.wait_for(self.has_text.wait(), self.wait)
            except TimeoutError:
                pass
        if self.holdable and self.scheduler.hold_first_post(self.key, self._open_held):
            return
        # The first post is made once, by whichever of this, the scheduler's release and
        # `finish` comes first: a native stream's continuation is opened here while its answer
        # may end (and `finish` would post it whole) before this post has landed.
        async with self.posting:
            if not self.started.is_set():
                await self._open_now()

    def arrive(self) -> None:
        """Count the answer in its window's rule from now, before its post."""
        self.scheduler.arrive(self.key)
        self.counted = True

    async def _open_now(self) -> None:
        """Post now; through an outage, wait for Slack and post the newest text then."""

        async def post_newest() -> str:
            posted = self.text
            await self._open(posted)
            return posted

        try:
            posted = await self._through_outage(post_newest)
            self.opened = True
        except Exception as exc:
            self.error = exc
            if self.counted:  # no message: the rule stops counting it (it waited unposted)
                self.scheduler.forget(self.key, ended=False)
                self.counted = False
            if isinstance(exc, SlackRefused | CannotPost) and not self.answers_privately(exc):
                await self.tell_refused(exc)
            raise
        finally:
            self.started.set()
        self.scheduler.posted(self.key)
        self.text_shown = bool(posted)
        await self.report_shown()
        if self.text != posted:
            self.request()

    async def _open_held(self) -> None:
        """The held post, released by the scheduler (unless `finish` made it already); a
        failure is kept in `error`, for `finish` to raise."""
        async with self.posting:
            if not self.started.is_set():
                with contextlib.suppress(Exception):
                    await self._open_now()

    def add(self, delta: str) -> None:
        self.text += delta
        self.status_line = None
        self.has_text.set()
        self.request(chars=len(delta))

    def revise(self, text: str) -> None:
        """The final text differs from what was streamed (a figure marked): the last edit
        shows this whole."""
        self.text = text

    def status(self, line: str) -> None:
        self.status_line = line
        if self.to.sign is not None:
            self.to.sign.status(line)
        self.has_text.set()  # worth posting now rather than "Thinking…"
        self.request()

    def request(self, *, chars: int = 0) -> None:
        """Ask the scheduler for a sync once the message exists (the post itself carries
        whatever arrived before), or, while a held post waits, let it count the new text.
        The first text Slack shows is urgent."""
        if (self.opened or self.counted) and not self.gone:
            urgent = not self.text_shown
            self.scheduler.request(self.key, self.sync, urgent=urgent, chars=chars)

    async def finish(self, ending: Ending) -> None:
        """Show the complete answer without the cursor, with notices and footer; wait for
        Slack. A post still held goes out now, whole."""
        self.ending = ending
        try:
            if not self.started.is_set() and await self._post_whole():
                return
            if not self.opened and self.error is not None:
                raise self.error  # the post failed: there is no message to bring up to date
            await self.scheduler.flush(self.key, self.sync)
        finally:
            self.abandon()

    async def _post_whole(self) -> bool:
        """Post a held answer now with its ending; True when that one post showed it all."""
        async with self.posting:
            if self.started.is_set():
                return False
            await self._open_now()
        return self.whole_in_one_post()

    def whole_in_one_post(self) -> bool:
        return False

    def answers_privately(self, error: SlackError) -> bool:
        """A `/shopmax` answer the channel refuses goes to the asker through `response_url`
        (`PrivatelyIfRefused`), which says why itself."""
        return isinstance(error, CannotPost) and bool(self.response_url)

    def abandon(self) -> None:
        self._leave(ended=True)

    def _leave(self, *, ended: bool) -> None:
        """Done with this scheduler: the answer ended (`ended`: its life teaches the pacing
        rule how long answers run here), or it carries on by another method."""
        if self.to.sign is not None:
            self.to.sign.done()
        if self.error is None:  # keep why the scheduler gave up, once it forgets the message
            self.error = self._ended()
        self.scheduler.forget(self.key, ended=ended)

    async def sync(self) -> int:
        """Bring Slack up to date with the newest text; returns the budgeted calls made.

        A 429 or an outage is the scheduler's to wait out, not the answer's failure."""
        await self.started.wait()
        try:
            return await self._sync()
        except (RateLimited, SlackUnavailable):
            raise
        except Exception as exc:
            self.error = exc
            if isinstance(exc, SlackRefused | CannotPost):
                await self.tell_refused(exc)
            raise

    async def post_piece(self, rendered: Rendered, piece: int) -> tuple[str, bool]:
        """Post message `piece` of the answer, carrying the answer's id; (its ts, whether it
        was posted now). A post that may have landed during an outage is looked for first and,
        found, is returned as it is (not posted now: the caller brings it up to date). A 429
        waits its turn: Slack counts posts per channel. An outage raises `SlackUnavailable`
        for the caller to wait out."""
        for attempt in range(POST_ATTEMPTS):
            try:
                if piece in self.uncertain:
                    found = await self.slack.find_reply(
                        self.channel,
                        self.answer_id or "",
                        thread_ts=self.thread_ts,
                        piece=piece,
                        oldest=self.oldest,
                    )
                    self.uncertain.discard(piece)
                    if found is not None:
                        return found, False
                await self.schedulers(UPDATE).posts.turn(self.channel)  # Slack's per-channel limit
                ts = await self.slack.post(
                    self.channel,
                    rendered,
                    thread_ts=self.thread_ts,
                    question_id=self.answer_id,
                    piece=piece,
                )
            except RateLimited as exc:
                if attempt == POST_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(exc.retry_after)
            except SlackUnavailable as exc:
                if exc.may_have_landed and self.answer_id is not None:
                    self.uncertain.add(piece)
                raise
            else:
                return ts, True
        raise AssertionError("unreachable")

    def sent(self, *, with_text: bool, posted: bool = False) -> None:
        """Count a Slack call that succeeded (`posted`: a new message in the thread, which
        clears its loading status by itself), and note when text first became visible."""
        self.calls += 1
        if posted and self.to.sign is not None:
            self.to.sign.replied()
        if with_text and self.first_shown_at is None:
            self.first_shown_at = self.clock()
            if self.to.sign is not None:
                self.to.sign.done()  # the answer's own words are the sign of life now

    async def report_shown(self) -> None:
        """Tell `on_shown` what Slack shows now (while streaming; the end removes the trace)."""
        if self.on_shown is not None and self.ending is None:
            shown = self.shown()
            if shown is not None:
                await self.on_shown(*shown)

    def shown(self) -> tuple[str, str] | None:
        raise NotImplementedError

    async def _open(self, text: str) -> None:
        raise NotImplementedError

    async def _sync(self) -> int:
        raise NotImplementedError
