"""An answer in Slack streamed with `chat.startStream` / `chat.appendStream` /
`chat.stopStream`: only the new text is sent (Tier 4, twice the budget of `chat.update`), and
the footer arrives in blocks at stop.

Where Slack will not stream, the answer carries on as an `UpdatedMessage`, whole:

* refused at start (`channel_type_not_supported`, …): a normal post and edits;
* refused later (`message_not_in_streaming_state`, `streaming_state_conflict`): edits of the
  stream's own message, with the whole text;
* an answer that outgrows one message: the stream stops at a line boundary (closing an open code
  fence) and the rest continues in new messages below it;
* an outage during which a start or an append may have landed unseen (appending it again could
  double text): the answer carries on by update, whole, which cannot double anything — in the
  stream's own message once it is known, else as a new post (which carries the answer's id).

A tool's progress is not text: each lookup is a `task_update` chunk in the stream's timeline,
titled with the tool's status line, `in_progress` while it runs and `complete` once it has
returned (tools run one after another, so the next lookup or the model's next words mean the
last one returned). Task updates ride on the next append (or the stop) with the new text, so
they cost no call of their own beyond the one a status asks for. The footer, notices, sources
and buttons are `chat.stopStream`'s blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.delivery.replies.slack_reply import APPEND, Destination, SlackReply
from bot.delivery.replies.updated_message import UpdatedMessage
from bot.delivery.slack_api import Task
from bot.errors import RateLimited, SlackError, SlackUnavailable
from bot.wording import markdown, texts
from bot.wording.ending import Ending
from bot.wording.markdown import Block

STREAM_LIMIT = markdown.PIECE_LIMIT - 16  # room for a closing code fence
SOFT_ZONE = 2_000  # characters before the limit where a stream sends whole lines only
REFUSED_AT_START = frozenset(
    {"channel_type_not_supported", "not_allowed", "unknown_method", "feature_not_enabled"}
)
REFUSED_MID_STREAM = frozenset({"message_not_in_streaming_state", "streaming_state_conflict"})


@dataclass(frozen=True)
class Recipient:
    """Who a native stream is for; Slack requires it outside DMs."""

    user: str
    team: str


class NativeStream(SlackReply):
    method = APPEND

    def __init__(self, to: Destination, *, recipient: Recipient) -> None:
        super().__init__(to)
        self.recipient = recipient
        self.stream_ts: str | None = None
        self.streamed = 0  # characters of `text` Slack has
        self.sending = 0  # characters of `text` Slack has once the append in flight lands
        self.then: UpdatedMessage | None = None  # where the answer continues by update
        self.unsure = False  # a start or an append may have landed without our knowing
        self.replaced = False  # text already streamed changed (a figure marked): edit it whole
        self.tasks: dict[str, Task] = {}  # the lookups in the stream's timeline, in order
        self.tasks_sent: dict[str, str] = {}  # task id -> the status Slack shows

    # ---- what the answerer sees, summed with the continuation --------------------------

    @property
    def gone(self) -> bool:
        return super().gone or (self.then is not None and self.then.gone)

    @property
    def slack_failure(self) -> SlackError | None:
        return super().slack_failure or (self.then.slack_failure if self.then is not None else None)

    def add(self, delta: str) -> None:
        if self.then is not None:
            self.text += delta
            self.then.add(delta)
        else:
            self._tasks_returned()
            super().add(delta)

    def request(self, *, chars: int = 0) -> None:
        if self.then is None:
            super().request(chars=chars)

    def revise(self, text: str) -> None:
        """Streamed text cannot be taken back: when the change reaches into it, the stream
        stops at the end and its message is edited whole (`_stop_unsure`'s way)."""
        if self.then is not None:
            self.then.revise(text)
        else:
            # An append in flight counts as streamed: it lands with the old text.
            upto = max(self.streamed, self.sending)
            if text[:upto] != self.text[:upto]:
                self.replaced = True
        self.text = text

    def status(self, line: str) -> None:
        if self.then is not None:
            self.then.status(line)
            return
        self._tasks_returned()
        title = texts.plain_status(line)
        if title:
            task_id = f"lookup-{len(self.tasks) + 1}"
            self.tasks[task_id] = Task(task_id, title[: texts.TASK_TITLE_LIMIT], "in_progress")
        super().status(line)

    def _tasks_returned(self) -> None:
        """The lookups running so far have returned (the model writes or looks up again)."""
        for task_id, task in self.tasks.items():
            if task.status == "in_progress":
                self.tasks[task_id] = Task(task.id, task.title, "complete")

    def _unsent_tasks(self) -> list[Task]:
        return [t for t in self.tasks.values() if self.tasks_sent.get(t.id) != t.status]

    def _tasks_shown(self, tasks: list[Task]) -> None:
        self.tasks_sent.update({t.id: t.status for t in tasks})

    async def finish(self, ending: Ending) -> None:
        self._tasks_returned()
        if self.then is None:
            await super().finish(ending)
        if self.then is not None:  # also when Slack stopped streaming during the final sync
            await self.then.finish(ending)
        self._merge()

    def abandon(self) -> None:
        super().abandon()
        if self.then is not None:
            self.then.abandon()
            self._merge()

    # ---- the stream ---------------------------------------------------------------------

    @property
    def holdable(self) -> bool:
        """A stream in a thread may wait to start, like a post: an answer that ends first goes
        out whole in one `chat.postMessage` and needs no start nor stop (Tier 2 calls)."""
        return self.thread_ts is not None and self.then is None

    def whole_in_one_post(self) -> bool:
        then = self.then
        return then is not None and then.started.is_set() and then.whole_in_one_post()

    async def _open(self, text: str) -> None:
        # Posted (and edited) instead of streamed: an answer that ended before its first post
        # (one post, whole: no stream to start and stop), one that gets more from
        # `chat.update`'s window than from the appends' (`pacing/choice.py`), or Slack's minute
        # of stream starts (Tier 2, 20 a minute) is spent.
        thread_ts, may_start = self.thread_ts, self.to.stream_start
        if (
            thread_ts is None
            or self.unsure
            or self.ending is not None
            or (may_start is not None and not await may_start())
        ):
            await self._continue(adopt=None, base=0, reopen=None)
            return
        end = self._appendable_end(0)
        in_dm = self.channel.startswith("D")
        tasks = self._unsent_tasks()
        try:
            ts = await self.slack.start_stream(
                self.channel,
                thread_ts,
                markdown_text=self.text[:end],  # the text now: the start may have waited
                recipient=None if in_dm else (self.recipient.user, self.recipient.team),
                tasks=tasks,
            )
        except SlackUnavailable as exc:
            self.unsure = exc.may_have_landed
            raise
        except (RateLimited, SlackError) as exc:
            # Refused, or the starts spent (another replica, Slack's own count): no stream.
            if isinstance(exc, SlackError) and exc.code not in REFUSED_AT_START:
                raise
            await self._continue(adopt=None, base=0, reopen=None)
            return
        self.sent(with_text=end > 0, posted=True)
        self.stream_ts, self.streamed = ts, end
        self._tasks_shown(tasks)

    def shown(self) -> tuple[str, str] | None:
        if self.stream_ts is None:
            return None
        return self.stream_ts, self.text[: self.streamed]

    async def _sync(self) -> int:
        if self.then is not None:
            return 0  # the continuation has its own scheduler
        assert self.stream_ts is not None
        final = self.ending is not None
        end = len(self.text) if final else self._appendable_end(self.streamed)
        self.text_shown = self.text_shown or end > 0
        try:
            if self.unsure or self.replaced:
                return await self._stop_unsure()
            if len(self.text) > STREAM_LIMIT:
                await self._stop_at_limit()
                return 1
            delta = self.text[self.streamed : end]
            tasks = self._unsent_tasks()
            if final:
                await self._stop_stream(
                    markdown_text=delta,
                    blocks=self._ending_blocks(),
                    tasks=tasks,
                )
                self.sent(with_text=end > 0)
                self.streamed = end
                self._tasks_shown(tasks)
                return 1
            if not delta and not tasks:
                return 0
            self.sending = end
            try:
                await self.slack.append_stream(self.channel, self.stream_ts, delta, tasks=tasks)
            except SlackUnavailable as exc:
                self.unsure = exc.may_have_landed
                raise
            finally:
                self.sending = 0
            self.sent(with_text=bool(delta))
            self.streamed = end
            self._tasks_shown(tasks)
            await self.report_shown()
            return 1
        except SlackError as exc:
            if exc.code not in REFUSED_MID_STREAM:
                raise
            # Slack no longer streams this message: show the whole answer in it by update.
            await self._continue(adopt=self.stream_ts, base=0, reopen=None)
            return 1

    async def _stop_unsure(self) -> int:
        """An append may have landed unseen: stop the stream and show the whole answer in its
        message by update instead (an edit replaces, so nothing is doubled)."""
        assert self.stream_ts is not None
        try:
            await self._stop_stream()
        except SlackUnavailable:
            raise
        except SlackError as exc:
            if exc.code not in REFUSED_MID_STREAM:
                raise
        self.sent(with_text=False)
        await self._continue(adopt=self.stream_ts, base=0, reopen=None)
        return 1

    async def _stop_stream(
        self,
        markdown_text: str = "",
        blocks: list[Block] | None = None,
        tasks: list[Task] | None = None,
    ) -> None:
        """This stream's `chat.stopStream`, once the workspace's minute of stops has room."""
        assert self.stream_ts is not None
        if self.to.stream_stop is not None:
            await self.to.stream_stop()
        await self.slack.stop_stream(
            self.channel, self.stream_ts, markdown_text=markdown_text, blocks=blocks, tasks=tasks
        )

    def _appendable_end(self, sent: int) -> int:
        """How much of the text a stream may have now: never half a ping (see
        `markdown.stream_safe_end`), and near the size limit only whole lines, so the stream
        can stop at a line boundary."""
        end = markdown.stream_safe_end(self.text, sent)
        if end > STREAM_LIMIT - SOFT_ZONE:
            last_newline = self.text.rfind("\n", sent, min(end, STREAM_LIMIT))
            end = last_newline + 1 if last_newline >= 0 else min(end, STREAM_LIMIT)
        return max(end, sent)

    async def _stop_at_limit(self) -> None:
        """The answer outgrew one message: stop the stream at a boundary at or after what
        Slack already has, closing an open code fence; the rest continues below."""
        assert self.stream_ts is not None
        cut = max(markdown.cut_point(self.text, STREAM_LIMIT), self.streamed)
        state = markdown.fence_state(self.text[:cut])
        closing = "\n" + markdown.closing_fence(state.open_fence) if state.open_fence else ""
        delta = self.text[self.streamed : cut] + closing
        await self._stop_stream(markdown_text=delta)
        self.sent(with_text=True)
        self.streamed = cut
        await self._continue(adopt=None, base=cut, reopen=state.open_fence)

    async def _continue(self, *, adopt: str | None, base: int, reopen: str | None) -> None:
        """Carry on by `chat.update`: in the stream's own message (`adopt`), or in new
        messages from `base` on (posted now)."""
        # The append scheduler is done with this answer. Unless it has ended, its time there
        # is no life: an answer handed to `chat.update` at its first words (the minute's
        # starts spent) would teach the rule that answers here end within a second.
        self._leave(ended=self.ending is not None)
        then = UpdatedMessage(self.to, base=base, reopen=reopen, adopt=adopt)
        then.text, then.ending, then.status_line = self.text, self.ending, self.status_line
        then.continuing = True  # posted now: the stream's own first post has waited already
        self.then = then
        if adopt is None:
            then.wait = 0.0
            # Counted by `chat.update`'s window at once: the next answer's choice of method,
            # maybe a moment from now, reads how many answers each window serves.
            then.arrive()
            await then.open()
        else:
            then.request()

    def _merge(self) -> None:
        """After the end, count the continuation's calls and first text as the answer's."""
        if self.then is not None:
            self.calls += self.then.calls
            self.then.calls = 0
            if self.first_shown_at is None:
                self.first_shown_at = self.then.first_shown_at

    def _ending_blocks(self) -> list[Block]:
        ending = self.ending or Ending()
        return markdown.tail_blocks(
            notices=ending.notices,
            sources=ending.sources_text,
            footer=ending.footer,
            actions=self.buttons.row(self.ending),
        )
