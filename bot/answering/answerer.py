"""Answer one `Question`, from any surface, through the same stages:

    gate → conversation → model stream (with tools) → reply → ending → ledger and metrics

Surfaces differ only in how a question arrives and which reply it streams into (a Slack
message, Server-Sent Events, the terminal: see `bot.delivery.replies`). Every answer ends in
something the asker understands, whatever happens: a refusal with its reason, the model failing
before or during the answer, the asker pressing Stop, the message being deleted or the browser
leaving, the bot shutting down (`shutdown`) or a replica crashing (`bot.answering.recovery`).
Every answer given, and every failure, is one row in the ledger under its asker.

The model request is opened at once and the reply opened beside it; the reply's first post
usually carries the first words, so they cost one post and nothing from Slack's shared
`chat.update` budget.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import anthropic

from bot.accounting.ledger import row_for
from bot.accounting.metrics import Metrics
from bot.answering.allowance import afford, round_cost
from bot.answering.conversation import build_messages, with_thread_context
from bot.answering.gate import Gate
from bot.answering.grounding import Grounding
from bot.answering.history import ThreadReader, thread_history
from bot.answering.running import Answered, Running, Stop, Streamed
from bot.catalog.tools import status_line
from bot.delivery.replies.base import Reply, ReplyFor
from bot.errors import ModelError, ModelInterrupted, SlackError
from bot.knowledge import tool as knowledge_tool
from bot.logs import correlation_id
from bot.model.pricing import PRICES, ModelPrice
from bot.model.stream import Cited, Clock, Finished, ModelRequest, TextDelta, ToolCall, ToolRan
from bot.model.stream import stream_answer as model_stream
from bot.model.tools import Tools
from bot.model.usage import Usage
from bot.question import Question, Refusal, RefusalKind, Surface, Turn
from bot.store import Store
from bot.wording import texts
from bot.wording.ending import Ending, ending_for, note_for
from bot.wording.figures import CatalogNow

log = logging.getLogger(__name__)

THREAD_CONTEXT_CHARS = 12_000


@dataclass(frozen=True)
class AnswerConfig:
    """The settings answering needs, lifted out of `Settings` by the composition root."""

    model: str
    max_tokens: int
    system_prompt: str
    history_tokens: int
    usd_inr: float
    admins: frozenset[str] = frozenset()
    ttft_warn_ms: int = 800
    tools: Tools | None = None
    tool_rounds: int = 4
    prices: dict[str, ModelPrice] = field(default_factory=lambda: dict(PRICES))
    replica: str = "local"  # whose answer it is, for crash recovery
    lease: float = 15.0
    catalog_now: CatalogNow | None = None  # current prices and stock, for checking figures
    # One answer's tools, made when it starts (the catalog's are pinned to the catalog as it is
    # then: an answer never sees half of a feed); `tools` when not given.
    tools_for: Callable[[Question], Awaitable[Tools | None]] | None = None


class Answerer:
    """Answers questions from every surface; one instance serves the whole process."""

    def __init__(
        self,
        *,
        config: AnswerConfig,
        model: anthropic.AsyncAnthropic,
        store: Store,
        metrics: Metrics,
        gate: Gate,
        replies: ReplyFor | None = None,
        threads: ThreadReader | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.config = config
        self.model = model
        self.store = store
        self.metrics = metrics
        self.gate = gate
        self.replies = replies
        self.threads = threads
        self.clock = clock
        self.running: dict[str, Running] = {}
        self.closing = False
        self._idle = asyncio.Event()
        self._idle.set()

    # ---- the stages ----------------------------------------------------------------------

    async def answer(
        self, question: Question, reply_for: ReplyFor | None = None
    ) -> Answered | Refusal:
        """Answer `question` in the reply `reply_for` makes (Slack's by default), or refuse it
        with a reason the asker is told. Never raises for model or Slack failures: those end
        the answer with a notice."""
        make = reply_for or self.replies
        assert make is not None, "no reply for this surface"
        answer_id = uuid.uuid4().hex
        reply = make(question, answer_id)
        refusal = self._closing() or await self.gate.screen(question)
        if refusal is None:
            # The request is built before admission: its reservation is what it may cost.
            request = await self._conversation(question)
            config = self.config
            tools = await self._tools(question)
            reserve = round_cost(request.system, request.messages, tools, config.max_tokens)
            refusal = await self.gate.admit(question, answer_id, reserve)
        if refusal is not None:
            await self._refuse(reply, refusal)
            return refusal
        correlation_id.set(answer_id)
        log.info(
            "answering a %s question from %s in %s",
            question.surface,
            question.user,
            question.channel,
        )
        running = Running(answer_id, question, reply, received=self.clock(), reserved=reserve)
        running.tools = tools
        running.grounding = Grounding(question.text)
        self._track(running)
        outcome = "error"
        try:
            answered = await self._answer(running, request)
            outcome = answered.outcome
            return answered
        finally:
            self._untrack(running, outcome)

    async def _answer(self, running: Running, request: ModelRequest) -> Answered:
        # The model request goes out at once, while the answer's record is written: under load
        # each trip to the store waits its turn on the event loop, and the model takes longer
        # than that to its first token anyway. The reply opens once the record is kept, and no
        # text reaches it before (`_until_opened`).
        running.begun = asyncio.create_task(self._begin(running))
        opening = asyncio.create_task(self._open(running))
        try:
            streamed = await self._check(await self._stream(request, running), running)
        except BaseException as exc:  # the record could not be written, or a bug
            opening.cancel()
            await asyncio.gather(opening, running.begun, return_exceptions=True)
            if isinstance(exc, Exception):
                await self._broken(running, exc)
            raise
        ending = self._ending(streamed, running)
        shown = await self._show(opening, running, ending)
        await self._remember(running, ending)
        return await self._record(running, streamed, shown)

    async def _begin(self, running: Running) -> None:
        """Record the answer as streaming here before anything is shown: a crash in between
        leaves the row for another replica, or the next start, to finish. (The question itself
        was kept when the gate admitted it, so Retry can ask it again on any replica.)"""
        question = running.question
        await self.store.begin_answer(
            running.answer_id,
            question.team,
            question.channel,
            "",
            owner=self.config.replica,
            lease=self.config.lease,
        )

    async def _open(self, running: Running) -> None:
        """Open the reply once the answer's record is kept: a crash before anything is shown
        leaves the row for another replica, or the next start, to finish."""
        assert running.begun is not None
        await asyncio.shield(running.begun)  # cancelling the opening leaves the record be
        running.open_started.set()
        await running.reply.open()  # its first step runs before any waiter on the event

    async def _until_opened(self, running: Running) -> None:
        """Wait, before the first text or status line, until the reply's opening has begun
        (raises what writing the record raised)."""
        assert running.begun is not None
        await asyncio.shield(running.begun)
        await running.open_started.wait()

    async def _broken(self, running: Running, error: Exception) -> None:
        """An answer that broke before it was shown (its record not written, or a bug): the
        model may have been asked already, so it still gets its ledger row, and its trace for
        crash recovery ends. Each step on its own: the store may be what broke."""
        log.error("answer %s failed before it was shown: %r", running.answer_id, error)
        try:
            await self.store.end_answer(running.answer_id)
        except Exception as exc:
            log.warning("could not end the failed answer's trace: %r", exc)
        try:
            await self._record(running, Streamed(None), error)
        except Exception as exc:
            log.warning("could not record the failed answer: %r", exc)

    async def _tools(self, question: Question) -> Tools | None:
        """This answer's tools (`AnswerConfig.tools_for`); if they cannot be made (the
        database out of reach), the fixed ones, so the answer still goes ahead."""
        config = self.config
        if config.tools_for is None:
            return config.tools
        try:
            return await config.tools_for(question)
        except Exception as exc:  # one line: the database away is told by the store's health
            log.warning("could not make this answer's tools (%r); answering without", exc)
            return config.tools

    async def _conversation(self, question: Question) -> ModelRequest:
        """The thread's earlier turns and the question, trimmed to the history budget. A
        mention in a thread the bot was not part of gets that thread as context."""
        history = await thread_history(self.store, self.threads, question)
        asked = question.text
        first_in_thread = not history and question.thread_ts not in ("", question.ts)
        if question.surface is Surface.MENTION and first_in_thread:
            asked = await self._with_thread(question)
        config = self.config
        messages = build_messages(history, asked, config.history_tokens)
        return ModelRequest(config.model, config.max_tokens, config.system_prompt, messages)

    async def _stream(self, request: ModelRequest, running: Running) -> Streamed:
        """Feed the model's text into the reply. A Stop or a shutdown cancels the consumer,
        which closes the HTTP stream (so billing stops) and keeps the partial text."""
        running.consumer = asyncio.create_task(self._consume(request, running))
        try:
            return await running.consumer
        except asyncio.CancelledError:
            if not running.cut_short:
                raise
            reason = "stopped" if running.stopped_by else "restarting"
            return Streamed(running.partial.stats(running.reply.text, self.clock, reason))

    async def _consume(self, request: ModelRequest, running: Running) -> Streamed:
        reply, config = running.reply, self.config

        async def enough(used: Usage, params: dict[str, Any]) -> bool:
            return await afford(self.gate, running, used, params, running.tools, config.max_tokens)

        stream = model_stream(
            self.model,
            request,
            self.clock,
            running.partial,
            running.tools,
            config.tool_rounds,
            before_round=enough,
        )
        try:
            async for event in stream:
                if not running.open_started.is_set() and not isinstance(event, Finished):
                    await self._until_opened(running)  # before the first only: not per token
                if isinstance(event, TextDelta):
                    reply.add(event.text)
                    if reply.gone:  # deleted, or the browser left: leaving closes the stream
                        return Streamed(running.partial.stats(reply.text, self.clock, "stopped"))
                elif isinstance(event, ToolCall):
                    reply.status(_status_line(event.name, event.args))
                elif isinstance(event, ToolRan):
                    running.grounding.ran(event)
                elif isinstance(event, Cited):
                    reply.add(running.grounding.cite(event))
                elif isinstance(event, Finished):
                    return Streamed(event.stats, out_of_tokens=event.out_of_tokens)
        except ModelError as exc:
            log.warning("model failed: %s (request %s)", exc, exc.request_id)
            self.metrics.errors.labels(f"model_{exc.kind}").inc()
            return Streamed(None, exc)
        finally:
            await stream.aclose()
        return Streamed(None)

    async def _check(self, streamed: Streamed, running: Running) -> Streamed:
        """Every figure in the answer checked before its final edit: those that cannot be are
        marked in the text (`Grounding.check`), and counted."""
        reply = running.reply
        if not reply.text or reply.gone:
            return streamed
        checked = await running.grounding.check(reply.text, self.config.catalog_now)
        if checked.text != reply.text:
            reply.revise(checked.text)
        return replace(streamed, unchecked=checked.unchecked)

    def _ending(self, streamed: Streamed, running: Running) -> Ending:
        config, grounding = self.config, running.grounding
        ending = ending_for(
            streamed.stats,
            streamed.error,
            usd_inr=config.usd_inr,
            stopped_by=running.stopped_by,
            shutting_down=running.shutting_down,
            prices=config.prices,
            grounded=grounding.tools_used > 0,
        )
        line = texts.unchecked_figures(streamed.unchecked) if streamed.unchecked else None
        lines = [texts.NOTICE_OUT_OF_TOKENS] if streamed.out_of_tokens else []
        lines += [line] if line else []
        return replace(
            ending,
            notices=(*ending.notices, *lines),
            sources=tuple(grounding.sources),
            unchecked=streamed.unchecked,
        )

    async def _show(
        self, opening: asyncio.Task[None], running: Running, ending: Ending
    ) -> SlackError | None:
        """Finish the reply with its ending; the reply's own failure, if it had one. The
        answer's trace for crash recovery ends here, shown or not."""
        try:
            return await self._finish(opening, running.reply, ending)
        finally:
            await self.store.end_answer(running.answer_id)

    async def _finish(
        self, opening: asyncio.Task[None], reply: Reply, ending: Ending
    ) -> SlackError | None:
        try:
            await opening
        except SlackError as exc:
            reply.abandon()
            log.warning("could not post the answer: %s", exc)
            return exc
        if reply.gone:
            # Deleted while streaming or the browser left (show nothing), or Slack refused it.
            reply.abandon()
            return reply.slack_failure
        try:
            await reply.finish(ending)
        except SlackError as exc:
            log.warning("could not finish the answer in Slack: %s", exc)
            return exc
        return None

    async def _remember(self, running: Running, ending: Ending) -> None:
        """The question and its answer as turns of the conversation a follow-up continues
        (with what was shown under the answer, for a page reloaded later)."""
        thread_ts = running.reply.thread_ts
        if not thread_ts:
            return
        question, reply = running.question, running.reply
        turns = [Turn("user", question.text)]
        if reply.text:
            note = note_for(ending, stopped=running.cut_short or reply.gone)
            turns.append(Turn("assistant", reply.text, note))
        await self.store.add_turns(replace(question, thread_ts=thread_ts).thread_key, turns)

    async def _record(
        self, running: Running, streamed: Streamed, shown: Exception | None
    ) -> Answered:
        """One ledger row and the metrics for every answer, whatever happened to it."""
        question, reply, config = running.question, running.reply, self.config
        stats = streamed.stats or running.partial.stats(reply.text, self.clock, "error")
        error: Exception | None = streamed.error or shown
        outcome = _outcome(error, stopped=running.cut_short or (reply.gone and shown is None))
        first = reply.first_shown_at
        row = row_for(
            team=question.team,
            channel=question.channel,
            user=question.user,
            surface=question.surface.value,
            stats=stats,
            outcome=outcome,
            usd_inr=config.usd_inr,
            prices=config.prices,
            first_visible_s=None if first is None else first - running.received,
            slack_calls=reply.calls,
            unverified_figures=streamed.unchecked,
        )
        await self.store.record(row)
        await self.store.settle(running.answer_id)  # its tokens are in the ledger now
        self.metrics.observe(row)
        if row.ttft_ms is not None and row.ttft_ms > config.ttft_warn_ms:
            log.warning(
                "slow first token: %.0f ms, over %d ms (usually network latency to the API, "
                "not the model); question %s, model request %s",
                row.ttft_ms,
                config.ttft_warn_ms,
                running.answer_id,
                stats.request_id,
            )
        return Answered(running.answer_id, reply.text, streamed.stats, error, outcome)

    # ---- helpers of the stages ------------------------------------------------------------

    def _closing(self) -> Refusal | None:
        if self.closing:
            return Refusal(RefusalKind.CLOSING, texts.RESTARTING_ASK_AGAIN)
        return None

    async def _refuse(self, reply: Reply, refusal: Refusal) -> None:
        try:
            await reply.refuse(refusal)
        except SlackError as exc:
            log.warning("could not tell the asker why the question was refused: %s", exc)

    async def _with_thread(self, question: Question) -> str:
        """A mention in a thread the bot was not part of: the thread so far is the context."""
        if self.threads is None:
            return question.text
        try:
            messages = await self.threads(question.channel, question.thread_ts)
        except SlackError as exc:
            log.warning("could not read the thread for context: %s", exc)
            return question.text
        earlier = [
            (m.get("user") or m.get("bot_id") or "someone", m.get("text", ""))
            for m in messages
            if m.get("ts") != question.ts and m.get("text")
        ]
        return with_thread_context(question.text, earlier, THREAD_CONTEXT_CHARS)

    def _track(self, running: Running) -> Running:
        self.running[running.answer_id] = running
        self._idle.clear()
        self.metrics.in_flight.inc()
        return running

    def _untrack(self, running: Running, outcome: str) -> None:
        self.metrics.in_flight.dec()
        self.metrics.answers.labels(running.question.surface.value, outcome).inc()
        del self.running[running.answer_id]
        if not self.running:
            self._idle.set()

    # ---- Stop, and the end of the process --------------------------------------------------

    def stop(self, answer_id: str, user: str) -> Stop:
        """Stop a streaming answer: the asker and admins may."""
        running = self.running.get(answer_id)
        if running is None:
            return Stop.NOT_HERE
        if user != running.question.user and user not in self.config.admins:
            return Stop.NOT_ALLOWED
        running.stopped_by = user
        running.cut()
        return Stop.STOPPED

    def question_of(self, answer_id: str) -> Question | None:
        """The question of an answer streaming here."""
        running = self.running.get(answer_id)
        return None if running is None else running.question

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


def _status_line(name: str, args: dict[str, object]) -> str:
    if name == knowledge_tool.NAME:
        return knowledge_tool.status_line(args)
    return status_line(name, args)


def _outcome(error: Exception | None, *, stopped: bool) -> str:
    """ok, stopped, interrupted or error: how the ledger and metrics name an answer's end."""
    if stopped:
        return "stopped"
    if isinstance(error, ModelInterrupted):
        return "interrupted"
    return "ok" if error is None else "error"
