"""How an answer ends, in words: the notices and the usage footer under it. Pure.

Every way an answer can end maps to something a store-staff user understands: a normal
ending shows only the footer; a stop reason other than `end_turn` says what it means; a
failure says what happened and what to do; a stop says who stopped it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import ModelError, ModelInterrupted, ShopMaxError
from bot.model.citations import Reference
from bot.model.demo import DEMO_MODEL
from bot.model.pricing import PRICES, ModelPrice, cost_usd
from bot.model.usage import AnswerStats
from bot.wording import markdown, sources, texts

BUSY_KINDS = frozenset({"overloaded_error", "rate_limit_error", "http_429", "http_529"})


@dataclass(frozen=True)
class Ending:
    """How an answer ends, built once and shown by every transport in its own form: notices
    (mrkdwn) and the footer under the answer in Slack, the stats line in the browser, the
    stream stats in the terminal. `retry` asks for a Retry button, `feedback` for 👍 / 👎."""

    notices: tuple[str, ...] = ()
    footer: str | None = None
    retry: bool = False
    feedback: bool = False  # a complete answer: ask for 👍 / 👎
    stats: AnswerStats | None = None
    cost: str | None = None  # the cost as people read it, e.g. "$0.0012 (₹0.10)"
    sources: tuple[Reference, ...] = ()  # what the answer cited, numbered in this order
    unchecked: int = 0  # figures in the answer that could not be checked (marked ⚠)
    grounded: bool = True  # False: no tool returned anything ("not from the catalog")

    @property
    def sources_text(self) -> str | None:
        """The sources as Slack shows them (one context block), or None."""
        return sources.mrkdwn(self.sources)


def ending_for(
    stats: AnswerStats | None,
    error: Exception | None,
    *,
    usd_inr: float,
    stopped_by: str | None = None,
    shutting_down: bool = False,
    prices: dict[str, ModelPrice] = PRICES,
    grounded: bool = True,
) -> Ending:
    """The notices and footer for an answer that ended this way; an answer that used no tool
    says so in its footer (not `grounded`: "not from the catalog")."""
    notices: list[str] = []
    retry = False
    if shutting_down:
        notices.append(texts.NOTICE_RESTARTING)
        retry = True
    elif stopped_by:
        notices.append(texts.stopped_by(stopped_by))
    elif isinstance(error, ModelInterrupted):
        notices.append(
            texts.NOTICE_STALLED if error.kind == "stalled" else texts.NOTICE_INTERRUPTED
        )
        retry = True
    elif isinstance(error, ModelError):
        if error.kind in BUSY_KINDS:
            notices.append(texts.NOTICE_MODEL_BUSY)
        elif error.kind == "stalled":
            notices.append(texts.NOTICE_STALLED)
        else:
            notices.append(texts.NOTICE_MODEL_FAILED)
        retry = True
    elif isinstance(error, ShopMaxError):
        notices.append(texts.NOTICE_SLACK_FAILED)
    if stats is not None and stats.stop_reason in texts.STOP_REASON_NOTICES:
        notices.append(texts.STOP_REASON_NOTICES[stats.stop_reason])
    footer = footer_for(stats, usd_inr, prices, grounded=grounded) if stats is not None else None
    cost = None if stats is None else cost_for(stats, usd_inr, prices)
    complete = error is None and not (stopped_by or shutting_down) and stats is not None
    return Ending(tuple(notices), footer, retry, complete, stats, cost, grounded=grounded)


def cost_for(stats: AnswerStats, usd_inr: float, prices: dict[str, ModelPrice] = PRICES) -> str:
    return texts.cost_text(cost_usd(stats.model, stats.usage, prices), usd_inr)


def footer_for(
    stats: AnswerStats,
    usd_inr: float,
    prices: dict[str, ModelPrice] = PRICES,
    *,
    grounded: bool = True,
) -> str:
    usage = stats.usage
    return texts.footer(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        output_estimated=stats.output_estimated,
        cache_read_tokens=usage.cache_read_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        duration_s=stats.duration_s,
        ttft_s=stats.ttft_s,
        stop_reason=stats.stop_reason,
        cost=cost_for(stats, usd_inr, prices),
        demo=stats.model == DEMO_MODEL,
        ungrounded=not grounded,
    )


def note_for(ending: Ending, *, stopped: bool) -> str:
    """What stays under an answer once it is over, as plain text (the browser shows it again
    after a reload): "Stopped." for an answer cut short, else the stats line, else what went
    wrong."""
    if stopped:
        return texts.STOPPED
    if ending.footer:
        return markdown.plain(ending.footer)
    return markdown.plain(ending.notices[0]) if ending.notices else ""
