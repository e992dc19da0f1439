"""A sign of life within a second for every Slack question, whatever the `chat.update` budget:
Slack's loading state in the question's thread (`assistant.threads.setStatus`, with rotating
`loading_messages`), which costs nothing from the edits' window.

One `SignOfLife` per answer, driven by its reply:

* `start()` when the answer is admitted (before the model's first token): the loading state;
* `status(line)` while a tool runs: the tool's status line ("Looking up TVs under ₹50,000…");
* `done()` when the answer's text first appears in Slack (or the answer ends): cleared.

None of it ever holds the answer up: the calls run in a task of their own, newest state wins
(a tool's line not yet shown is dropped once the answer is done), and they keep to their own
pace (`call_limits`) and Slack's `Retry-After`.

Where the status cannot be set (Slack refuses it: `not_allowed`, `missing_scope`, an old
workspace; or its pace would make the first status late), a reaction on the asker's message
(:eyes:) stands in, removed when the answer appears. Nothing here mentions anyone, and Slack
being away is never waited out: a sign of life that cannot be shown now is not shown.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.delivery.call_limits import REACTIONS_PER_MINUTE, RollingWindow, StatusLimits
from bot.delivery.slack_api import SlackApi
from bot.errors import RateLimited, SlackError, SlackUnavailable
from bot.question import Question
from bot.wording import texts

log = logging.getLogger(__name__)

# The first status must show within a second of the question; one that would wait longer for
# its turn (many questions at once in one channel) is a reaction instead.
FIRST_WITHIN = 0.5
THROTTLED_TRIES = 5  # 429s one answer's status takes before it gives up
CLEAR = ""


@dataclass(frozen=True)
class _Shown:
    status: str
    loading: tuple[str, ...] = ()


@dataclass
class Lights:
    """The signs of life in one workspace: their pace, shared by its answers."""

    slack: SlackApi
    clock: Callable[[], float] = time.monotonic
    limits: StatusLimits = field(default_factory=StatusLimits)
    reactions: dict[str, RollingWindow] = field(default_factory=dict)  # method -> window

    def for_question(self, question: Question) -> SignOfLife | None:
        """A question's sign of life, where it has a thread to show it in (a slash command's
        answer is a new message, which is its own sign)."""
        if not question.thread_ts or not question.channel:
            return None
        return SignOfLife(self, question.channel, question.thread_ts, question.ts)

    def reaction_wait(self, method: str) -> float:
        window = self.reactions.setdefault(method, RollingWindow(REACTIONS_PER_MINUTE))
        return window.wait(self.clock())

    def reaction_taken(self, method: str) -> None:
        self.reactions.setdefault(method, RollingWindow(REACTIONS_PER_MINUTE)).take(self.clock())


class SignOfLife:
    """One answer's loading state (or reaction), kept up to date in a task of its own."""

    def __init__(self, lights: Lights, channel: str, thread_ts: str, asked_ts: str) -> None:
        self.lights = lights
        self.channel = channel
        self.thread_ts = thread_ts
        self.asked_ts = asked_ts
        self.wanted: _Shown | None = None
        self.shown: _Shown | None = None
        self.reacted = False
        self.ended = False
        self.started_at: float | None = None
        self.throttled = 0
        self.changed = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """The answer is admitted: show the loading state (once; later calls do nothing)."""
        if self.task is not None or self.ended:
            return
        self.started_at = self.lights.clock()
        self.wanted = _Shown(texts.LOADING_STATUS, texts.LOADING_MESSAGES)
        self.task = asyncio.get_running_loop().create_task(self._run())

    def status(self, line: str) -> None:
        """A tool runs: its status line in the loading state, until the answer shows."""
        plain = texts.plain_status(line)
        if self.task is None or self.ended or not plain:
            return
        self.wanted = _Shown(texts.LOADING_STATUS, (plain,))
        self.changed.set()

    def replied(self) -> None:
        """A message of the answer was posted in the thread: Slack has cleared the status by
        itself ("automatically cleared when the app sends a reply"), so no call clears it; a
        status still wanted (a placeholder without words) is set again."""
        self.shown = None

    def done(self) -> None:
        """The answer's text is in Slack (or the answer ended): clear the sign."""
        if self.ended:
            return
        self.ended = True
        self.wanted = _Shown(CLEAR)
        self.changed.set()

    async def settled(self) -> None:
        """Wait until the task has nothing more to do (tests and shutdown)."""
        if self.task is not None:
            await asyncio.shield(self.task)

    # ---- the task ------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            await self._keep_up()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a sign of life never breaks an answer
            log.warning("the loading status in %s failed: %r", self.channel, exc)

    async def _keep_up(self) -> None:
        while True:
            wanted = self.wanted
            nothing_to_clear = wanted is not None and wanted.status == CLEAR and not self.shown
            if wanted is None or wanted == self.shown or nothing_to_clear:
                if self.ended:
                    break
                self.changed.clear()
                await self.changed.wait()
                continue
            wait = self.lights.limits.wait(self.channel, self.lights.clock())
            if self.shown is None and not self.ended and wait > FIRST_WITHIN:
                await self._react()  # its turn would come too late to be a sign of life
                break
            if wait > 0:
                await self._pause(wait)
                continue
            if not await self._set(wanted):
                break
        if self.reacted:
            await self._unreact()

    async def _pause(self, seconds: float) -> None:
        """Wait for the pace to allow a call; `done()` wakes it (the newest state wins)."""
        self.changed.clear()
        try:
            await asyncio.wait_for(self.changed.wait(), seconds)
        except TimeoutError:
            pass

    async def _set(self, wanted: _Shown) -> bool:
        """Send `wanted`; False when the status is given up (a reaction may stand in)."""
        limits, now = self.lights.limits, self.lights.clock()
        limits.take(self.channel, now)
        try:
            await self.lights.slack.set_thread_status(
                self.channel, self.thread_ts, wanted.status, wanted.loading
            )
        except RateLimited as exc:
            limits.block(self.channel, self.lights.clock() + exc.retry_after)
            self.throttled += 1
            if self.shown is None and not self.ended:
                await self._react()
                return False
            return self.throttled < THROTTLED_TRIES  # the newest state goes after Retry-After
        except SlackUnavailable:
            return False  # Slack is away: no sign now (its status times out by itself)
        except SlackError as exc:
            if self.shown is None and not self.ended:
                log.info("no loading status in %s (%s): a reaction instead", self.channel, exc)
                await self._react()
            return False
        self.shown = wanted
        return True

    async def _react(self) -> None:
        """The reaction that stands in for the status, if the reactions' pace allows it."""
        if self.reacted or self.lights.reaction_wait("reactions.add") > 0:
            return
        self.lights.reaction_taken("reactions.add")
        try:
            await self.lights.slack.add_reaction(
                self.channel, self.asked_ts, texts.LOADING_REACTION
            )
        except SlackError as exc:
            if getattr(exc, "code", "") != "already_reacted":
                log.info("no reaction in %s either: %s", self.channel, exc)
                return
        self.reacted = True

    async def _unreact(self) -> None:
        """Remove the reaction once the answer shows (waiting for the pace, not for Slack)."""
        while not self.ended:
            self.changed.clear()
            await self.changed.wait()
        wait = self.lights.reaction_wait("reactions.remove")
        if wait > 0:  # the window frees up by itself: nothing else to wait for
            await asyncio.sleep(wait)
        self.lights.reaction_taken("reactions.remove")
        try:
            await self.lights.slack.remove_reaction(
                self.channel, self.asked_ts, texts.LOADING_REACTION
            )
        except SlackError as exc:
            log.info("could not remove the reaction in %s: %s", self.channel, exc)
        self.reacted = False
