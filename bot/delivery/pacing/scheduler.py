"""One scheduler per workspace and method decides when each answer message is edited.

Slack limits `chat.update` per app, per workspace (Tier 3, about 50 a minute), and every answer
in flight shares that budget; a per-message timer alone runs twenty answers into a wall of 429s.
So no reply edits Slack on its own: it marks its message *dirty* and the scheduler calls the
reply's `sync` when the message's turn comes. `sync` renders the newest text at that moment,
so edits coalesce (latest wins) and no intermediate version is ever queued.

Which message goes next, and when, is decided purely by `SchedulerCore` (`core.py`: the pacing
rule, in two sentences), tested with a fake clock. Whether a call may go *now* is the
`CallWindow`'s decision (`window.py`): Slack's per-minute and per-second windows and any 429
pause, kept in this process or shared through Redis.

`UpdateScheduler` is the async driver: one worker task per workspace and method that sleeps until
the core has a message due (or a held first post to release) and the budget has a call, and runs
each `sync` (and each released post) as its own task so a slow Slack call for one message never
holds up the others (or the model stream). It tells the window what streams here, so replicas
sharing a window plan over the whole workspace.

When Slack is away (`SlackUnavailable`: 5xx, timeouts, connections refused, after the SDK's own
short retries) an edit is not an error of the answer. The message stays dirty and *in flight*
while its task waits (Slack's `retry_after`, doubled per try with jitter, capped: `Patience`),
so nothing else is sent for it meanwhile; then it is due again and its `sync` sends the newest
text (latest wins: no older version is re-sent over a newer one). Only an outage longer than
the patience's limit fails the message, and `flush` raises it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field

from bot.delivery.pacing.choice import Load, stream_gives_more
from bot.delivery.pacing.core import DEFAULT_MAX_MARKS, SchedulerCore
from bot.delivery.pacing.posts import PostPacer
from bot.delivery.pacing.window import CallWindow, Clock, Grant, Heard, LocalWindow, Share
from bot.delivery.slack_retry import Patience, Waiting
from bot.errors import RateLimited, SlackUnavailable

log = logging.getLogger(__name__)

Sync = Callable[[], Awaitable[int]]
"""Sends a message's newest state to Slack; returns how many budgeted calls it made."""

Post = Callable[[], Awaitable[None]]
"""Makes a held first post (the reply's own; it handles its errors)."""

WindowFactory = Callable[[str, str, int, int], CallWindow]
"""Makes the budget of (workspace, method, per_minute, burst)."""

STREAM_START = "chat.startStream"
STREAM_STOP = "chat.stopStream"
STOP_LOOK_AGAIN = 1.0  # seconds between asks while a stop waits for Slack's minute
APPEND_METHOD = "chat.appendStream"  # whose finals go by chat.stopStream
UPDATE_METHOD = "chat.update"
REPORT_EVERY = 1.0  # seconds between telling a shared window what streams here
CHARS_PER_TOKEN = 4  # about, for Claude's tokenizers on English text

__all__ = ["SchedulerCore", "Schedulers", "UpdateScheduler", "local_windows"]


@dataclass
class _Track:
    """Driver-side state of one message: its sync, and who waits for which generation."""

    sync: Sync
    requested: int = 0
    delivered: int = 0
    error: BaseException | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    waiting: Waiting = field(default_factory=Waiting)  # for Slack, while it is away


class UpdateScheduler:
    """Runs a `SchedulerCore` for one workspace and method against its `CallWindow`.

    Create with `start()`, end with `close()`.
    """

    def __init__(
        self,
        core: SchedulerCore,
        window: CallWindow,
        clock: Clock = time.monotonic,
        patience: Patience | None = None,
        posts: PostPacer | None = None,
    ) -> None:
        self._core = core
        self.posts = posts or PostPacer(clock=clock)  # the workspace's per-channel post limit
        self._window = window
        self._clock = clock
        self._patience = patience or Patience()
        self._tracks: dict[Hashable, _Track] = {}
        self._held: dict[Hashable, Post] = {}
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._reported_at = float("-inf")
        self._reported = 0
        self._closed = False

    def start(self) -> None:
        if self._worker is None:
            self._worker = asyncio.create_task(self._run(), name="update-scheduler")

    async def close(self) -> None:
        # Python 3.11's wait_for drops a cancel that comes as its wait ends (the worker woken
        # just then would wait on for ever): the flag ends the worker's loop all the same.
        self._closed = True
        self._wake.set()
        tasks = [t for t in (self._worker, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ---- what the workspace's choice of method reads ------------------------------------

    def in_flight(self) -> int:
        """Answers this window serves in this process now (posted or waiting to be): the
        choice of method counts these alone (`choice.py` says why not the other replicas')."""
        return len(self._core.slots)

    def expected_life(self) -> float:
        """Seconds a new answer is expected to stream here (the rule's recent lives)."""
        return self._core.life(self._clock())

    # ---- what replies call ---------------------------------------------------------------

    def arrive(self, key: Hashable) -> None:
        """A new answer whose message is not posted yet (the rule counts it from now)."""
        self._core.arrive(key, self._clock())
        self._wake.set()

    def hold_first_post(self, key: Hashable, post: Post) -> bool:
        """Whether the answer's first post should wait. If so (True) the scheduler calls
        `post` when the rule releases it, unless the reply posts first (`posted`)."""
        if not self._core.hold_first_post(key, self._clock()):
            return False
        self._held[key] = post
        self._wake.set()
        return True

    def posted(self, key: Hashable) -> None:
        """The message's first post went out (now, or held and released, or whole)."""
        self._held.pop(key, None)
        self._core.posted(key, self._clock())
        self._wake.set()

    def request(
        self,
        key: Hashable,
        sync: Sync,
        *,
        urgent: bool = False,
        chars: int = 0,
        final: bool = False,
    ) -> None:
        """Ask for `key` to be brought up to date by calling `sync` when its turn comes.

        `chars` is the size of the text added (0 when the change is not new text: a status
        line, or the final flush, which do not extend the answer's life).
        """
        track = self._tracks.get(key)
        if track is None:
            track = self._tracks[key] = _Track(sync, waiting=Waiting(self._patience, self._clock))
        track.sync = sync
        track.requested += 1
        weight = chars / CHARS_PER_TOKEN
        if self._core.mark(key, self._clock(), urgent=urgent, weight=weight, final=final):
            self._wake.set()

    async def flush(self, key: Hashable, sync: Sync) -> None:
        """Send `key` now (with priority) and wait until Slack has its newest state.

        Raises what `sync` raised, other than a 429 or an outage within the patience's limit,
        which are waited out (for as long as the answer is alive: `forget` ends the wait).
        """
        self.request(key, sync, urgent=True, final=True)
        track = self._tracks[key]
        target = track.requested
        while track.delivered < target:
            if track.error is not None:
                raise track.error
            track.changed.clear()
            await track.changed.wait()
            if self._tracks.get(key) is not track:
                return  # forgotten meanwhile: the reply carries on elsewhere (or is gone)
        if track.error is not None:
            raise track.error

    def failure(self, key: Hashable) -> BaseException | None:
        """Why `key` could not be brought up to date (an outage past the patience, or what
        its `sync` raised), or None."""
        track = self._tracks.get(key)
        return None if track is None else track.error

    def forget(self, key: Hashable, *, ended: bool = True) -> None:
        """The message is finished (`ended`), or goes on by another method: drop its state (a
        `flush` waiting for it returns)."""
        track = self._tracks.pop(key, None)
        if track is not None:
            track.changed.set()
        self._held.pop(key, None)
        self._core.forget(key, ended=ended)
        self._wake.set()

    # ---- the worker ----------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._closed:
            await self._report_if_due()
            now = self._clock()
            released, release_at = self._core.releases(now)
            for key in released:
                self._spawn(self._post(key))
            for key in self._core.free_finals():
                self._core.sending(key, now, counted=False)
                self._spawn(self._send(key, None))
            key, wake_at = self._core.due(now)
            if key is not None:
                share = self._core.share(now)
                grant = await self._window.acquire(share)
                self._heard(grant.heard, share)
                if not grant.granted:
                    # Nothing sooner can help: the budget is what binds, so new marks need
                    # not wake us (and a shared budget is not asked again per text delta).
                    await asyncio.sleep(grant.wait)
                    continue
                if not self._core.still_due(key, self._clock()):
                    # Forgotten while we asked, or a routine edit that the calls other
                    # replicas made meanwhile (the grant says) leave no room for: the call
                    # goes back unused, and the finals' reserve stays whole.
                    await self._window.settle(grant, 0)
                    continue
                self._core.sending(key, self._clock())
                self._spawn(self._send(key, grant))
                continue
            self._wake.clear()
            wakes = [t for t in (wake_at, release_at) if t is not None]
            timeout = max(min(wakes) - self._clock(), 0.0) if wakes else None
            if self._core.slots:  # keep the other replicas' view of our answers fresh
                timeout = min(timeout if timeout is not None else REPORT_EVERY, REPORT_EVERY)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _heard(self, heard: Heard, told: Share) -> None:
        """The workspace as the window described it just now."""
        self._core.heard(self._clock(), heard, told)
        self._reported, self._reported_at = told.answers, self._clock()

    async def _report_if_due(self) -> None:
        mine = len(self._core.slots)
        stale = self._clock() - self._reported_at >= REPORT_EVERY
        if (mine and (stale or mine != self._reported)) or (mine == 0 and self._reported):
            share = self._core.share(self._clock())
            self._heard(await self._window.report(share), share)

    async def _post(self, key: Hashable) -> None:
        post = self._held.pop(key, None)
        if post is not None:
            await post()

    async def _send(self, key: Hashable, grant: Grant | None) -> None:
        """Run `key`'s sync under `grant` (None: a final that takes no call of this window)."""
        track = self._tracks.get(key)
        if track is None:
            self._core.done(key)
            if grant is not None:
                await self._window.settle(grant, 0)
            return
        generation = track.requested
        try:
            calls = await track.sync()
        except RateLimited as exc:
            if grant is None:  # another method's limit: this final alone waits it out
                log.warning("Slack rate limit on a final: retrying in %.1fs", exc.retry_after)
                await asyncio.sleep(exc.retry_after)
                self._core.rate_limited(key)
            else:
                log.warning("Slack rate limit: pausing edits for %.1fs", exc.retry_after)
                self._core.rate_limited(key)
                await self._window.pause(exc.retry_after)
        except SlackUnavailable as exc:
            if grant is not None:  # Slack did not count a call it could not take
                await self._window.settle(grant, 0)
            await self._wait_out(key, track, exc)
        except Exception as exc:  # the reply decides what a failed edit means
            track.error = exc
            self._core.done(key)
            track.changed.set()
        else:
            track.delivered = max(track.delivered, generation)
            track.waiting.reset()
            self._core.done(key)
            if grant is not None:
                await self._window.settle(grant, calls)
            track.changed.set()
        self._wake.set()

    async def _wait_out(self, key: Hashable, track: _Track, error: SlackUnavailable) -> None:
        """Slack is away: keep the message in flight (nothing else is sent for it) for the
        pause, then due again with its changes, to send its newest text. Past the patience's
        limit the message fails with `error`."""
        try:
            pause = track.waiting.pause(error)
        except SlackUnavailable:
            track.error = error
            self._core.done(key)
            track.changed.set()
            return
        await asyncio.sleep(pause)
        self._core.rate_limited(key)  # dirty again, as urgent as it was, for its newest text


def local_windows(clock: Clock) -> WindowFactory:
    """Budgets kept by this process alone (one replica, or Redis not configured)."""

    def make(team: str, method: str, per_minute: int, burst: int) -> CallWindow:
        return LocalWindow(per_minute, burst, clock)

    return make


class Schedulers:
    """One `UpdateScheduler` per workspace and Slack method, created on first use.

    `per_minute` maps each method to its budget; Slack counts each method separately.
    `windows` makes each one's `CallWindow` (by default kept in this process). `max_tokens`
    is the longest answer (kept for callers; the rule does not use it).
    `patience` is how long answers wait for Slack through an outage (replies use it too).
    """

    def __init__(
        self,
        *,
        per_minute: Mapping[str, int],
        burst: int,
        min_interval: float,
        clock: Clock = time.monotonic,
        windows: WindowFactory | None = None,
        max_tokens: int = DEFAULT_MAX_MARKS,
        patience: Patience | None = None,
    ) -> None:
        self._per_minute = dict(per_minute)
        self._burst = burst
        self._min_interval = min_interval
        self._clock = clock
        self._windows = windows or local_windows(clock)
        self._max_tokens = max_tokens
        self.patience = patience or Patience()
        self._schedulers: dict[tuple[str, str], UpdateScheduler] = {}
        self._posts: dict[str, PostPacer] = {}
        self._tier2: dict[tuple[str, str], CallWindow] = {}  # stream starts and stops

    def for_team(self, team: str, method: str = UPDATE_METHOD) -> UpdateScheduler:
        scheduler = self._schedulers.get((team, method))
        if scheduler is None:
            per_minute = self._per_minute[method]
            core = SchedulerCore(
                per_minute=per_minute,
                min_interval=self._min_interval,
                burst=self._burst,
                max_marks=self._max_tokens,
                # A native stream's final is `chat.stopStream` (Tier 2), not an append.
                finals_free=method == APPEND_METHOD,
            )
            window = self._windows(team, method, per_minute, self._burst)
            posts = self._posts.setdefault(team, PostPacer(clock=self._clock))
            scheduler = UpdateScheduler(core, window, self._clock, self.patience, posts)
            self._schedulers[team, method] = scheduler
            scheduler.start()
        return scheduler

    async def take_stream_start(self, team: str, channel: str | None = None) -> bool:
        """Take one of the workspace's `chat.startStream` calls if the answer should stream
        and Slack's minute has room (Tier 2: about 20 a minute, counted like the others, across
        replicas through Redis); False: the answer is posted and edited instead. It should not
        stream when posting gives it more versions (`choice.py`) and `channel` can take a post
        now. Without a budget for the method, True unless posting gives more."""
        if channel is not None and self._posting_gives_more(team, channel):
            return False
        window = self._stream_window(team, STREAM_START)
        return window is None or (await window.acquire(Share())).granted

    def _posting_gives_more(self, team: str, channel: str) -> bool:
        """Whether a new answer in `channel` gets more from `chat.update`'s window than from the
        appends' (both budgets known, and the channel's post limit has room now)."""
        if APPEND_METHOD not in self._per_minute or UPDATE_METHOD not in self._per_minute:
            return False
        posts = self._posts.get(team)
        if posts is not None and not posts.free(channel):
            return False  # posting would wait for the channel: streaming shows words now
        streams = self.for_team(team, APPEND_METHOD)
        posted = self.for_team(team, UPDATE_METHOD)
        load = Load(
            streams=streams.in_flight(),
            posted=posted.in_flight(),
            appends=self._per_minute[APPEND_METHOD],
            updates=self._per_minute[UPDATE_METHOD],
            life=streams.expected_life(),
        )
        return not stream_gives_more(load)

    async def take_stream_stop(self, team: str) -> None:
        """Wait for one of the workspace's `chat.stopStream` calls (Tier 2, like the starts:
        about 20 a minute, across replicas through Redis). A stream cannot end otherwise, so
        its stop waits its turn instead of meeting a 429 (whose `Retry-After` it would wait
        anyway): answers of different lengths started over a minute and more can end within
        one. Without a budget for the method, at once."""
        window = self._stream_window(team, STREAM_STOP)
        while (
            window is not None
        ):  # the window is Slack's minute (maybe in Redis): nothing to wait on but time
            grant = await window.acquire(Share())
            if grant.granted:
                return
            await asyncio.sleep(min(grant.wait, STOP_LOOK_AGAIN))

    def _stream_window(self, team: str, method: str) -> CallWindow | None:
        """The workspace's window of `method` (a Tier 2 stream start or stop; None: no budget
        for it), made on first use."""
        per_minute = self._per_minute.get(method)
        if per_minute is None:
            return None
        window = self._tier2.get((team, method))
        if window is None:
            window = self._tier2[team, method] = self._windows(team, method, per_minute, per_minute)
        return window

    def for_answer(self, team: str) -> Callable[[str], UpdateScheduler]:
        """The workspace's schedulers by method, for one answer."""
        return functools.partial(self.for_team, team)

    async def close(self) -> None:
        await asyncio.gather(*(s.close() for s in self._schedulers.values()))
        self._schedulers.clear()
