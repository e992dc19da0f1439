"""An answer in Slack posted with `chat.postMessage`, then edited with `chat.update`: the whole
text so far and a cursor, as the words arrive.

An answer too long for one message continues in new messages in the same thread (see
`markdown.split_pieces`); the footer, notices and buttons go on the last one. Such a reply can
also carry on where a native stream stopped (`NativeStream`): in the stream's own message
(`adopt`), or below it from a given offset of the text (`base`), reopening a code fence the
stream had to close (`reopen`).

Every message is posted with the answer's id and its piece number in metadata
(`SlackReply.post_piece`); one found after an outage (its post landed, its answer was lost) is
brought up to date by an edit instead of being posted twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.delivery.replies.slack_reply import UPDATE, Destination, SlackReply
from bot.wording import markdown
from bot.wording.markdown import Block, Rendered


@dataclass
class _Posted:
    ts: str
    shown: Rendered | None = None


class UpdatedMessage(SlackReply):
    method = UPDATE

    def __init__(
        self,
        to: Destination,
        *,
        header: Block | None = None,
        base: int = 0,
        reopen: str | None = None,
        adopt: str | None = None,
    ) -> None:
        super().__init__(to)
        self.header = header
        self.base = base
        self.reopen = reopen
        self.messages: list[_Posted] = []
        self.last_piece = ""  # the raw text of the last message (for crash recovery)
        self.continuing = bool(base or adopt)  # where a native stream stopped
        if adopt is not None:
            self.messages.append(_Posted(adopt))
            self.started.set()
            self.opened = self.text_shown = True

    @property
    def holdable(self) -> bool:
        """A reply in a thread may wait to post (a `/shopmax` answer shows its question at
        once; a stream's continuation is posted by the stream)."""
        return self.thread_ts is not None and not self.continuing

    def whole_in_one_post(self) -> bool:
        return len(markdown.split_pieces(self._own_text())) <= 1

    @property
    def first_ts(self) -> str | None:
        return self.messages[0].ts if self.messages else None

    async def _open(self, text: str) -> None:
        own = self._own_text()
        pieces = markdown.split_pieces(own) if own else [""]
        rendered = self._render(0, pieces[0], last=len(pieces) == 1)
        self.last_piece = pieces[0]
        if not self.messages:
            ts, fresh = await self.post_piece(rendered, 0)
            self.messages.append(_Posted(ts, rendered if fresh else None))
            if self.thread_ts is None:
                self.thread_ts = ts  # a top-level answer (slash command) continues in its thread
            if fresh:
                self.sent(with_text=bool(own), posted=True)
                return
        await self._bring_up_to_date(self.messages[0], rendered, bool(own))

    async def _bring_up_to_date(self, posted: _Posted, rendered: Rendered, text: bool) -> int:
        """Edit a message whose version Slack shows is not `rendered`; the calls made."""
        if posted.shown == rendered:
            return 0
        await self.slack.update(self.channel, posted.ts, rendered)
        self.sent(with_text=text)
        posted.shown = rendered
        return 1

    def shown(self) -> tuple[str, str] | None:
        return (self.messages[-1].ts, self.last_piece) if self.messages else None

    async def _sync(self) -> int:
        if not self.messages:
            raise self.error or RuntimeError("the answer message was never posted")
        text = self._own_text()
        pieces = markdown.split_pieces(text) if text else [""]
        self.text_shown = self.text_shown or bool(self.text)
        self.last_piece = pieces[-1]
        updates = 0
        for number, piece in enumerate(pieces):
            last = number == len(pieces) - 1
            rendered = self._render(number, piece, last=last)
            if number == len(self.messages):
                ts, fresh = await self.post_piece(rendered, number)
                self.messages.append(_Posted(ts, rendered if fresh else None))
                if fresh:
                    self.sent(with_text=bool(piece), posted=True)
                    continue
            updates += await self._bring_up_to_date(self.messages[number], rendered, bool(piece))
        await self.report_shown()
        return updates

    def _own_text(self) -> str:
        """The part of the answer this reply shows (all of it, unless it continues a stream)."""
        rest = self.text[self.base :].lstrip("\n") if self.base else self.text
        return f"{self.reopen}\n{rest}" if self.reopen and rest else rest

    def _render(self, index: int, piece: str, *, last: bool) -> Rendered:
        ending = self.ending if last else None
        status = (self.status_line,) if last and self.status_line and ending is None else ()
        streaming = last and self.ending is None
        return markdown.render_piece(
            piece,
            in_progress=streaming,
            header=self.header if index == 0 else None,
            notices=ending.notices if ending else status,
            footer=ending.footer if ending else None,
            actions=self.buttons.row(self.ending) if last else None,
            sources=ending.sources_text if ending else None,
        )
