"""Every word a store-staff user reads from the bot, in one module, easy to review and translate.

Functions here format numbers and names into sentences; they decide nothing else.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CURSOR = "▍"
THINKING = "_Thinking…_"
ANSWER_FALLBACK = "ShopMax Assistant answer"
TERMINAL_PREFIX = "ShopMax India Assistant: "

HELP = (
    "*ShopMax Assistant* answers product, price and support questions for ShopMax India staff.\n"
    "• `/shopmax which TV under Rs 50,000 for a Mumbai living room?` asks in this channel\n"
    "• Mention me (`@ShopMax …`) in a channel I am in, or message me directly\n"
    "• Reply in my thread to ask a follow-up; I remember the thread\n"
    "• `/shopmax help` shows this message"
)

EMPTY_QUESTION = (
    "Ask me something after the command, for example `/shopmax best 1.5 ton AC for Chennai`."
)

NOTICE_MAX_TOKENS = "_The answer reached its length limit and was cut short. Ask for the rest._"
NOTICE_REFUSAL = "_Claude declined to answer this question._"
NOTICE_CONTEXT_FULL = "_This conversation is too long to continue. Start a new thread._"
NOTICE_MODEL_BUSY = (
    ":warning: The assistant is busy right now and could not answer. Please try again in a minute."
)
NOTICE_MODEL_FAILED = ":warning: The assistant could not answer this time. Please try again."
NOTICE_INTERRUPTED = ":warning: The answer was interrupted before it finished. Please ask again."
NOTICE_SLACK_FAILED = ":warning: I could not show the whole answer in Slack. Please ask again."

STOP_REASON_NOTICES = {
    "max_tokens": NOTICE_MAX_TOKENS,
    "refusal": NOTICE_REFUSAL,
    "model_context_window_exceeded": NOTICE_CONTEXT_FULL,
}


def command_header(user: str, question: str) -> str:
    """The first line of a `/shopmax` answer: who asked what (as a quote, never a ping)."""
    quoted = "\n".join(f"> {line}" for line in question.splitlines() or [""])
    return f"**<@{user}> asked:**\n{quoted}\n\n"


CANNOT_POST = (
    "_I'm not a member of this conversation, so only you can see this answer. "
    "To share answers here, invite me with `/invite @ShopMax`._"
)
NOTICE_PRIVATE_TRUNCATED = (
    "_This answer was too long to show here in full. Ask in a channel I'm in._"
)


def cost_text(usd: Decimal | None, usd_inr: float) -> str:
    """`$0.00015 (₹0.013)`: small amounts keep two significant digits instead of reading 0."""
    if usd is None:
        return "cost unknown"
    return f"${money(usd)} (₹{money(usd * Decimal(str(usd_inr)))})"


def money(amount: Decimal) -> str:
    decimals = 2
    if 0 < amount < 1:
        decimals = max(2, 1 - amount.adjusted())
    return f"{amount.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP):,}"


def footer(
    *,
    input_tokens: int,
    output_tokens: int,
    cache_read_tokens: int,
    cache_write_tokens: int,
    duration_s: float,
    ttft_s: float | None,
    stop_reason: str | None,
    cost: str,
) -> str:
    """The usage footer under a finished answer (Slack mrkdwn, a context block)."""
    parts = [f"{input_tokens:,} in", f"{output_tokens:,} out"]
    if cache_read_tokens or cache_write_tokens:
        parts.append(f"cache {cache_read_tokens:,} read / {cache_write_tokens:,} written")
    parts.append(f"{duration_s:.1f}s")
    parts.append("first token " + ("—" if ttft_s is None else f"{ttft_s:.2f}s"))
    parts.append(stop_reason or "no stop reason")
    parts.append(cost)
    return " · ".join(parts)


def terminal_stats(
    *,
    input_tokens: int,
    output_tokens: int,
    duration_s: float,
    ttft_s: float | None,
    stop_reason: str | None,
    cost: str,
) -> str:
    ttft = "n/a" if ttft_s is None else f"{ttft_s * 1000:.0f} ms"
    return "\n".join(
        [
            "--- Stream stats ---",
            f"Input tokens: {input_tokens}",
            f"Output tokens: {output_tokens}",
            f"Time to complete: {duration_s:.2f} s",
            f"Time to first token: {ttft}",
            f"Stop reason: {stop_reason}",
            f"Estimated cost: {cost}",
        ]
    )
