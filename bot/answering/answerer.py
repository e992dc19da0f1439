"""Answer one `Question`: the conversation so far, Claude's stream, the Slack reply, the store.

This is where the pieces meet; each piece stays ignorant of the others. The model request is
opened at once; the Slack message is posted with the first text (or a "Thinking…" placeholder
if none arrives within `thinking_after` seconds), so a typical answer's first words cost one
`chat.postMessage` and nothing from the shared `chat.update` budget.

Every answer ends in a message a store-staff user understands, whatever happens: the model
failing before or during the answer, the asker pressing Stop, the message being deleted, the
bot shutting down (`shutdown`) or a replica having crashed (`bot/recovery.py`).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field

import anthropic

from bot.accounting.metrics import Metrics
from bot.answering.bookkeeping import Bookkeeper
from bot.answering.conversation import build_messages, with_thread_context
from bot.answering.gate import Gate
from bot.answering.recovery import Leases
from bot.catalog.tools import status_line
from bot.delivery.pacing.scheduler import Schedulers
from bot.delivery.private import answer_privately
from bot.delivery.replies.slack_message import Recipient, StreamingReply
from bot.delivery.slack_api import SlackApi
from bot.errors import CannotPost, MessageGone, ModelError, ModelInterrupted, SlackError
from bot.logs import correlation_id
from bot.model.pricing import PRICES, ModelPrice
from bot.model.stream import (
    Clock,
    Finished,
    ModelRequest,
    Progress,
    TextDelta,
    ToolCall,
    stream_answer,
)
from bot.model.tools import Tools
from bot.model.usage import AnswerStats
from bot.question import Question, Surface, Turn
from bot.store import Store
from bot.wording import markdown, texts
from bot.wording.ending import ending_for

log = logging.getLogger(__name__)

THREAD_CONTEXT_CHARS = 12_000
ASSISTANT_WAIT = 60.0


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
    admins: frozenset[str] = frozenset()
    ttft_warn_ms: int = 800
    tools: Tools | None = None
    tool_rounds: int = 4
    prices: dict[str, ModelPrice] = field(default_factory=lambda: dict(PRICES))


@dataclass(frozen=True)
class Outcome:
    """How one answer ended, for the caller and for tests."""

    text: str
    stats: AnswerStats | None
    error: Exception | None = None


@dataclass
class Running:
    """An answer streaming right now, and how it may be cut short."""

    question: Question
    consumer: asyncio.Task[tuple[AnswerStats | None, Exception | None]] | None = None
    stopped_by: str | None = None
    shutting_down: bool = False
    progress: Progress = field(default_factory=Progress)

    def cut(self) -> None:
        if self.consumer is not None:
            self.consumer.cancel()


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
        gate: Gate,
        leases: Leases,
        bookkeeper: Bookkeeper,
        clock: Clock = time.monotonic,
    ) -> None:
        self.config = config
        self.slack = slack
        self.model = model
        self.store = store
        self.schedulers = schedulers
        self.metrics = metrics
        self.gate = gate
        self.leases = leases
        self.bookkeeper = bookkeeper
        self.clock = clock
        self.running: dict[str, Running] = {}
        self.closing = False
        self._idle = asyncio.Event()
        self._idle.set()

    # ---- lifecycle -----------------------------------------------------------------------

    async def wait_idle(self, grace: float) -> bool:
        """Wait up to `grace` seconds for answers in flight to finish; True when none is left."""
        try:
            await asyncio.wait_for(self._idle.wait(), grace)
        except TimeoutError:
            return False
        return True

    async def shutdown(self, grace: float) -> None:
        """Take no new questions, let answers finish for `grace` seconds, then end the rest
        with a notice that the assistant restarted."""
        self.closing = True
        if await self.wait_idle(grace):
            return
        for running in self.running.values():
            running.shutting_down = True
            running.cut()
        await self.wait_idle(10)

    # ---- buttons -------------------------------------------------------------------------

    def stop(self, answer_id: str, user: str) -> bool | None:
        """Stop a streaming answer: True if stopped, False if `user` may not, None if it is
        not running here. The asker and admins may stop an answer."""
        running = self.running.get(answer_id)
        if running is None:
            return None
        if user != running.question.user and user not in self.config.admins:
            return False
        running.stopped_by = user
        running.cut()
        return True

    async def press_stop(self, answer_id: str, user: str) -> None:
        """Someone pressed Stop. The press may land on any replica; one that is not streaming
        the answer relays it to the others through the store."""
        if answer_id in self.running:
            await self.stop_here(answer_id, user)
        else:
            await self.store.relay_stop(answer_id, user)

    async def stop_here(self, answer_id: str, user: str) -> None:
        """Apply a Stop press to an answer if it streams here (relayed presses arrive here
        on every replica); tell someone who may not stop it why nothing happened."""
        running = self.running.get(answer_id)
        if running is None or self.stop(answer_id, user) is not False:
            return
        question = running.question
        try:
            await self.slack.post_ephemeral(
                question.channel,
                user,
                texts.NOT_YOURS_TO_STOP,
                thread_ts=question.thread_ts or None,
            )
        except SlackError as exc:
            log.warning("could not tell %s they may not stop the answer: %s", user, exc)

    async def retry(self, question_id: str, user: str, pressed_ts: str) -> Outcome | None:
        """Ask a failed question again, in the same thread, for whoever pressed Retry."""
        question = await self.store.question(question_id)
        if question is None or not await self.store.claim(f"retry:{question_id}:{pressed_ts}"):
            return None
        again = Question(
            team=question.team,
            channel=question.channel,
            user=user,
            text=question.text,
            surface=question.surface,
            ts=f"retry:{pressed_ts}",
            thread_ts=question.thread_ts,
            response_url=question.response_url,
        )
        return await self.answer(again)

    # ---- answering -----------------------------------------------------------------------

    async def claim(self, question: Question) -> bool:
        """True once per user message: Slack retries and the mention's `message` twin lose."""
        return await self.store.claim(f"{question.team}:{question.channel}:{question.ts}")

    async def answer(self, question: Question) -> Outcome | None:
        """Answer in Slack, or tell the asker why not (None). Never raises for model or Slack
        failures: those end the answer with a notice."""
        if self.closing:
            return None
        refusal = await self.gate.refusal(question)
        if refusal is not None:
            if refusal:
                await self.tell(question, refusal)
            return None
        answer_id = uuid.uuid4().hex
        correlation_id.set(answer_id)
        log.info(
            "answering a %s question from %s in %s",
            question.surface,
            question.user,
            question.channel,
        )
        running = self.running[answer_id] = Running(question)
        self._idle.clear()
        self.metrics.in_flight.inc()
        label = "error"
        try:
            outcome = await self._answer(answer_id, running)
            label = outcome_label(outcome, running)
            return outcome
        finally:
            self.metrics.in_flight.dec()
            self.metrics.answers.labels(question.surface.value, label).inc()
            del self.running[answer_id]
            if not self.running:
                self._idle.set()

    async def tell(self, question: Question, text: str) -> None:
        """A message for the asker alone."""
        try:
            if question.response_url:
                await self.slack.respond(question.response_url, markdown.Rendered(text, []))
            else:
                await self.slack.post_ephemeral(
                    question.channel, question.user, text, thread_ts=question.thread_ts or None
                )
        except SlackError as exc:
            log.warning("could not tell the asker: %s", exc)

    async def _answer(self, answer_id: str, running: Running) -> Outcome:
        question = running.question
        received = self.clock()
        await self.store.save_question(answer_id, question)
        # Recorded before anything is posted, ended after the answer is finished: a crash in
        # between leaves the row for another replica (or the next start) to finish.
        await self.leases.begin(answer_id, question.team, question.channel)
        reply = self._reply(answer_id, question)
        # In an assistant thread Slack shows its own "thinking…" status, so post nothing
        # until there is something to say.
        wait = (
            ASSISTANT_WAIT if question.surface is Surface.ASSISTANT else self.config.thinking_after
        )
        posting = asyncio.create_task(reply.start(wait))
        history = await self.store.turns(question.thread_key) if question.thread_ts else []
        asked = question.text
        if (
            question.surface is Surface.MENTION
            and not history
            and question.thread_ts != question.ts
        ):
            asked = await self._with_thread(question)
        consumer = asyncio.create_task(
            self._consume(self._request(history, asked), reply, running.progress)
        )
        running.consumer = consumer
        stats, error = await self._wait(consumer, running, reply)
        try:
            await posting
        except CannotPost:
            reply.abandon()
            if not question.response_url:
                log.warning("cannot post the answer in %s", question.channel)
                return Outcome(reply.text, stats, CannotPost("not a member", code="cannot_post"))
            ending = ending_for(
                stats, error, usd_inr=self.config.usd_inr, prices=self.config.prices
            )
            outcome = Outcome(reply.text, stats, error)
            await answer_privately(self.slack, question, reply.text, ending)
            await self._record(question, stats, error, running, reply, received)
            return outcome
        except SlackError as exc:
            reply.abandon()
            log.warning("could not post the answer: %s", exc)
            return Outcome(reply.text, stats, exc)
        ending = ending_for(
            stats,
            error,
            usd_inr=self.config.usd_inr,
            stopped_by=running.stopped_by,
            shutting_down=running.shutting_down,
            prices=self.config.prices,
        )
        if isinstance(reply.error, MessageGone):
            reply.abandon()  # deleted while streaming: nothing is re-posted
        else:
            try:
                await reply.finish(ending)
            except SlackError as exc:
                log.warning("could not finish the answer in Slack: %s", exc)
                error = error or exc
        await self.store.end_answer(answer_id)
        await self._remember(question, reply)
        await self._record(question, stats, error, running, reply, received)
        return Outcome(reply.text, stats, error or reply.error)

    def _reply(self, answer_id: str, question: Question) -> StreamingReply:
        header = None
        if question.surface is Surface.COMMAND:
            header = markdown.header_block(question.user, question.text)
        # Slack streams replies in threads; a /shopmax answer is a top-level message.
        native = self.config.native_streaming and question.surface is not Surface.COMMAND

        async def shown(ts: str, text: str) -> None:
            await self.store.answer_progress(answer_id, ts, text)

        return StreamingReply(
            self.slack,
            self.schedulers.for_answer(question.team),
            question.channel,
            question.thread_ts or None,
            header=header,
            native=Recipient(question.user, question.team) if native else None,
            answer_id=answer_id,
            question_id=answer_id,
            on_shown=shown,
        )

    async def _with_thread(self, question: Question) -> str:
        """A mention in a thread the bot was not part of: the thread so far is the context."""
        try:
            messages = await self.slack.thread(question.channel, question.thread_ts)
        except SlackError as exc:
            log.warning("could not read the thread for context: %s", exc)
            return question.text
        earlier = [
            (m.get("user") or m.get("bot_id") or "someone", m.get("text", ""))
            for m in messages
            if m.get("ts") != question.ts and m.get("text")
        ]
        return with_thread_context(question.text, earlier, THREAD_CONTEXT_CHARS)

    def _request(self, history: list[Turn], text: str) -> ModelRequest:
        return ModelRequest(
            model=self.config.model,
            max_tokens=self.config.max_tokens,
            system=self.config.system_prompt,
            messages=build_messages(history, text, self.config.history_tokens),
        )

    async def _consume(
        self, request: ModelRequest, reply: StreamingReply, progress: Progress
    ) -> tuple[AnswerStats | None, Exception | None]:
        """Feed the model's text into the reply; the Slack side never holds this loop up."""
        try:
            stream = stream_answer(
                self.model,
                request,
                self.clock,
                progress,
                self.config.tools,
                self.config.tool_rounds,
            )
            async for event in stream:
                if isinstance(event, TextDelta):
                    reply.add(event.text)
                    if isinstance(reply.error, MessageGone):
                        # Someone deleted the answer: leaving the loop closes the model stream.
                        return None, reply.error
                elif isinstance(event, ToolCall):
                    reply.status(status_line(event.name, event.args))
                elif isinstance(event, Finished):
                    return event.stats, None
        except ModelError as exc:
            log.warning("model failed: %s (request %s)", exc, exc.request_id)
            self.metrics.errors.labels(f"model_{exc.kind}").inc()
            return None, exc
        return None, None

    async def _wait(
        self,
        consumer: asyncio.Task[tuple[AnswerStats | None, Exception | None]],
        running: Running,
        reply: StreamingReply,
    ) -> tuple[AnswerStats | None, Exception | None]:
        """The model's outcome; a Stop or a shutdown cancels the consumer, which closes the
        HTTP stream (so billing stops) and leaves the partial text."""
        try:
            return await consumer
        except asyncio.CancelledError:
            if not (running.stopped_by or running.shutting_down):
                raise
            reason = "stopped" if running.stopped_by else "restarting"
            return running.progress.partial_stats(reply.text, self.clock, reason), None

    async def _remember(self, question: Question, reply: StreamingReply) -> None:
        if reply.thread_ts is None:
            return
        turns = [Turn("user", question.text)]
        if reply.text:
            turns.append(Turn("assistant", reply.text))
        await self.store.add_turns(f"{question.team}:{question.channel}:{reply.thread_ts}", turns)

    async def _record(
        self,
        question: Question,
        stats: AnswerStats | None,
        error: Exception | None,
        running: Running,
        reply: StreamingReply,
        received: float,
    ) -> None:
        stats = stats or running.progress.partial_stats(reply.text, self.clock, "error")
        first_visible = reply.first_text_at - received if reply.first_text_at else None
        outcome = outcome_label(Outcome(reply.text, stats, error), running)
        await self.bookkeeper.record(question, stats, outcome, first_visible, reply.calls)


def outcome_label(outcome: Outcome, running: Running) -> str:
    """ok, stopped, interrupted or error: how the ledger and metrics name an answer's end."""
    if running.stopped_by or running.shutting_down:
        return "stopped"
    if isinstance(outcome.error, ModelInterrupted):
        return "interrupted"
    return "ok" if outcome.error is None else "error"
