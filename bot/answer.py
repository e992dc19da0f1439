"""Answer one `Question`: the conversation so far, Claude's stream, the Slack reply, the store.

This is where the pieces meet; each piece stays ignorant of the others. The model request is
opened at once; the Slack message is posted with the first text (or a "Thinking…" placeholder
if none arrives within `thinking_after` seconds), so a typical answer's first words cost one
`chat.postMessage` and nothing from the shared `chat.update` budget.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import anthropic

from bot import claude, render, texts
from bot.claude import Clock, Finished, ModelRequest, TextDelta
from bot.conversation import Turn, build_messages
from bot.errors import CannotPost, MessageGone, ModelError, ModelInterrupted, SlackError
from bot.metrics import Metrics
from bot.pricing import cost_usd
from bot.question import Question, Surface
from bot.reply import Ending, Recipient, StreamingReply
from bot.scheduler import Schedulers
from bot.slack_api import SlackApi
from bot.store import Store
from bot.usage import AnswerStats

log = logging.getLogger(__name__)

BUSY_KINDS = frozenset({"overloaded_error", "rate_limit_error", "http_429", "http_529"})
MAX_PRIVATE_PIECES = 4


@dataclass(frozen=True)
class AnswerConfig:
    """The settings answering needs, lifted out of `Settings` by the composition root."""

    model: str
    max_tokens: int
    system_prompt: str
    history_tokens: int
    usd_inr: float
    thinking_after: float = 0.7
    native_streaming: bool = False


@dataclass(frozen=True)
class Outcome:
    """How one answer ended, for the caller and for tests."""

    text: str
    stats: AnswerStats | None
    error: Exception | None = None


class Answerer:
    """Answers questions from any surface; one instance serves the whole app."""

    def __init__(
        self,
        *,
        config: AnswerConfig,
        slack: SlackApi,
        model: anthropic.AsyncAnthropic,
        store: Store,
        schedulers: Schedulers,
        metrics: Metrics,
        clock: Clock = time.monotonic,
    ) -> None:
        self.config = config
        self.slack = slack
        self.model = model
        self.store = store
        self.schedulers = schedulers
        self.metrics = metrics
        self.clock = clock
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def wait_idle(self, grace: float) -> bool:
        """Wait up to `grace` seconds for answers in flight to finish; True when none is left."""
        try:
            await asyncio.wait_for(self._idle.wait(), grace)
        except TimeoutError:
            return False
        return True

    async def claim(self, question: Question) -> bool:
        """True once per user message: Slack retries and the mention's `message` twin lose."""
        return await self.store.claim(f"{question.team}:{question.channel}:{question.ts}")

    async def answer(self, question: Question) -> Outcome:
        """Stream the answer into Slack. Never raises for model or Slack failures."""
        self.in_flight += 1
        self._idle.clear()
        self.metrics.in_flight.inc()
        outcome_label = "error"
        try:
            outcome = await self._answer(question)
            outcome_label = "ok" if outcome.error is None else type(outcome.error).__name__
            return outcome
        finally:
            self.metrics.in_flight.dec()
            self.metrics.answers.labels(question.surface.value, outcome_label).inc()
            self.in_flight -= 1
            if not self.in_flight:
                self._idle.set()

    async def _answer(self, question: Question) -> Outcome:
        header = None
        if question.surface is Surface.COMMAND:
            header = render.header_block(question.user, question.text)
        # Slack streams replies in threads; a /shopmax answer is a top-level message.
        native = self.config.native_streaming and question.surface is not Surface.COMMAND
        reply = StreamingReply(
            self.slack,
            self.schedulers.budget(question.team),
            question.channel,
            question.thread_ts or None,
            header=header,
            native=Recipient(question.user, question.team) if native else None,
        )
        posting = asyncio.create_task(reply.start(self.config.thinking_after))
        history = await self.store.turns(question.thread_key) if question.thread_ts else []
        stats, error = await self._stream(self._request(history, question.text), reply)
        try:
            await posting
        except CannotPost:
            reply.abandon()
            if not question.response_url:
                raise
            return await self._answer_privately(question, reply.text, stats, error)
        if isinstance(reply.error, MessageGone):
            reply.abandon()  # deleted while streaming: nothing is re-posted
        else:
            try:
                await reply.finish(self._ending(stats, error))
            except SlackError as exc:
                log.warning("could not finish the answer in Slack: %s", exc)
                error = error or exc
        assert reply.thread_ts is not None
        turns = [Turn("user", question.text)]
        if reply.text:
            turns.append(Turn("assistant", reply.text))
        await self.store.add_turns(f"{question.team}:{question.channel}:{reply.thread_ts}", turns)
        return Outcome(reply.text, stats, error or reply.error)

    def _request(self, history: list[Turn], text: str) -> ModelRequest:
        return ModelRequest(
            model=self.config.model,
            max_tokens=self.config.max_tokens,
            system=self.config.system_prompt,
            messages=build_messages(history, text, self.config.history_tokens),
        )

    async def _stream(
        self, request: ModelRequest, reply: StreamingReply
    ) -> tuple[AnswerStats | None, Exception | None]:
        """Feed the model's text into the reply; the Slack side never holds this loop up."""
        try:
            async for event in claude.stream_answer(self.model, request, self.clock):
                if isinstance(event, TextDelta):
                    reply.add(event.text)
                    if isinstance(reply.error, MessageGone):
                        # Someone deleted the answer: leaving the loop closes the model stream.
                        return None, reply.error
                elif isinstance(event, Finished):
                    return event.stats, None
        except ModelError as exc:
            log.warning("model failed: %s (request %s)", exc, exc.request_id)
            return None, exc
        return None, None

    def _ending(self, stats: AnswerStats | None, error: Exception | None) -> Ending:
        notices: list[str] = []
        if isinstance(error, ModelInterrupted):
            notices.append(texts.NOTICE_INTERRUPTED)
        elif isinstance(error, ModelError):
            busy = error.kind in BUSY_KINDS
            notices.append(texts.NOTICE_MODEL_BUSY if busy else texts.NOTICE_MODEL_FAILED)
        elif error is not None:
            notices.append(texts.NOTICE_SLACK_FAILED)
        if stats is not None and stats.stop_reason in texts.STOP_REASON_NOTICES:
            notices.append(texts.STOP_REASON_NOTICES[stats.stop_reason])
        return Ending(tuple(notices), self._footer(stats) if stats else None)

    def _footer(self, stats: AnswerStats) -> str:
        usage = stats.usage
        return texts.footer(
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            cache_write_tokens=usage.cache_write_tokens,
            duration_s=stats.duration_s,
            ttft_s=stats.ttft_s,
            stop_reason=stats.stop_reason,
            cost=texts.cost_text(cost_usd(stats.model, usage), self.config.usd_inr),
        )

    async def _answer_privately(
        self,
        question: Question,
        text: str,
        stats: AnswerStats | None,
        error: Exception | None,
    ) -> Outcome:
        """The bot cannot post here: answer once, whole, through the command's `response_url`.

        A `response_url` takes five messages; an answer longer than four pieces is cut there
        with a notice rather than lost silently.
        """
        ending = self._ending(stats, error)
        pieces = render.split_pieces(text) if text else [""]
        notices = [texts.CANNOT_POST, *ending.notices]
        if len(pieces) > MAX_PRIVATE_PIECES:
            pieces = pieces[:MAX_PRIVATE_PIECES]
            notices.append(texts.NOTICE_PRIVATE_TRUNCATED)
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            await self.slack.respond(
                question.response_url,
                render.render_piece(
                    piece,
                    in_progress=False,
                    header=render.header_block(question.user, question.text)
                    if index == 0
                    else None,
                    notices=tuple(notices) if last else (),
                    footer=ending.footer if last else None,
                ),
            )
        return Outcome(text, stats, error)
