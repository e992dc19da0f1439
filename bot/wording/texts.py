"""Every word a store-staff user reads from the bot, in one module, easy to review and translate.

Functions here format numbers and names into sentences; they decide nothing else.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from bot.wording.inert import Mentioning

CURSOR = "▍"
THINKING = "_Thinking…_"
ANSWER_FALLBACK = "ShopMax Assistant answer"
TERMINAL_PREFIX = "ShopMax India Assistant: "

HELP = (
    "*ShopMax Assistant* answers product, price and support questions for ShopMax India staff.\n"
    "• `/shopmax which TV under Rs 50,000 for a Mumbai living room?` asks in this channel\n"
    "• Mention me (`@ShopMax …`) in a channel I am in, or message me directly\n"
    "• Reply in my thread to ask a follow-up; I remember the thread\n"
    "• `/shopmax usage` shows what your answers used today and this month\n"
    "• `/shopmax store` shows which store my answers are for; `/shopmax store CODE` sets it\n"
    "• `/shopmax help` shows this message"
)

NOT_ENABLED_HERE = (
    "ShopMax Assistant is not enabled in this channel. Ask in one of the store channels, "
    "or ask your Slack admin to enable it here."
)
FILES_ONLY = (
    "I can only read text for now. Type your question as a message (you can paste the "
    "product name or model number)."
)
TOKENS_USED_UP = (
    "You have used today's share of the assistant. It resets within 24 hours; "
    "ask a ShopMax admin if you need more."
)


SHARED_TOKEN_USED_UP = (
    "Everyone signed in with the shared ShopMax web token has together used the share it allows "
    "for now. It frees up within the hour (questions) or 24 hours (tokens); Sign in with Slack, "
    "or ask a ShopMax admin, if you need more."
)
NOTICE_OUT_OF_TOKENS = (
    ":hourglass: I stopped before looking anything more up: what is left of your share of the "
    "assistant today would not cover another look-up. It resets within 24 hours."
)


def too_long(length: int, limit: int) -> str:
    return (
        f"That question is {length:,} characters long; I can take up to {limit:,}. "
        "Please shorten it to the part you need answered."
    )


def too_many_questions(count: int, window_s: float) -> str:
    minutes = round(window_s / 60)
    span = "hour" if minutes == 60 else f"{minutes} minutes"
    return (
        f"You have asked {count} question{'' if count == 1 else 's'} in the last {span}, "
        "the most allowed. "
        "Please wait a little before asking again."
    )


EMPTY_QUESTION = (
    "What would you like to know? Ask a product, price or support question, for example "
    "`best 1.5 ton AC for Chennai under ₹40,000`."
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
NOTICE_STALLED = (
    ":warning: The assistant stopped responding, so I ended the answer here. Please try again."
)
NOTICE_RESTARTING = (
    ":arrows_counterclockwise: The assistant restarted before finishing this answer. "
    "Press Retry to ask again."
)
RESTARTING_ASK_AGAIN = (
    "ShopMax Assistant is restarting and could not take your question. Please ask again in a "
    "minute."
)
RETRY_LABEL = "Retry"
GOOD_LABEL = "👍"
BAD_LABEL = "👎"
THANKS_GOOD = "Thanks! Glad that helped."
THANKS_BAD = "Thanks for telling us. We use this to make the assistant better."
ASSISTANT_STATUS = "is thinking…"
# Slack's loading state in the thread while an answer starts (`assistant.threads.setStatus`):
# the status beside the bot's name, and the lines Slack rotates through under it (at most 10).
LOADING_STATUS = "is looking into it…"
LOADING_MESSAGES = (
    "Reading your question…",
    "Checking the ShopMax catalog…",
    "Looking at prices and stock…",
)
LOADING_REACTION = "eyes"  # where the status cannot be set: a reaction on the question instead
# The Messages tab (Slack's agent view): prompts for store staff at the top of the bot's DM.
MESSAGES_TAB_TITLE = "Ask ShopMax about"
TASK_TITLE_LIMIT = 200  # characters of a lookup's title in a native stream's timeline
ASSISTANT_GREETING = (
    "Namaste! I'm ShopMax Assistant. Ask me about products, prices, stock in our stores, "
    "warranties or customer support, and I'll check the ShopMax catalog for you."
)
SUGGESTIONS_TITLE = "Try asking"
SUGGESTED_PROMPTS = (
    ("TVs under ₹50,000", "Which TVs under ₹50,000 are in stock in Mumbai?"),
    ("Best 1.5 ton AC", "Best 1.5 ton 5 star inverter AC for a Chennai flat?"),
    ("Washing machine stock", "Is the IFB 6.5 kg top load in stock in Hyderabad?"),
    ("Warranty", "What warranty comes with our Samsung refrigerators?"),
)
STOP_LABEL = "Stop"
STOPPED = "Stopped."  # under an answer stopped in the browser (the page says it the same way)
RETRYING = "_Asking again…_"
NOT_YOURS_TO_STOP = "Only the person who asked (or a ShopMax admin) can stop this answer."

STOP_REASON_NOTICES = {
    "max_tokens": NOTICE_MAX_TOKENS,
    "refusal": NOTICE_REFUSAL,
    "model_context_window_exceeded": NOTICE_CONTEXT_FULL,
}


def stopped_by(user: str) -> str:
    return Mentioning(f":black_square_for_stop: Stopped by <@{user}>.", [user])


def plain_status(line: str) -> str:
    """A status line as plain text (Slack's loading state and a stream's task titles show no
    formatting): "_:mag: Looking up TVs…_" -> "Looking up TVs…"."""
    plain = line.strip()
    if len(plain) >= 2 and plain[0] == plain[-1] == "_":
        plain = plain[1:-1]
    if plain.startswith(":") and ": " in plain[1:]:
        plain = plain[plain.index(": ", 1) + 2 :]
    return plain.strip()


def looking_up(what: str) -> str:
    return f"_:mag: Looking up {what}…_"


def checking_stock(sku: str, city: str | None) -> str:
    where = f" in {city}" if city else ""
    return f"_:package: Checking stock of {sku}{where}…_"


NOTICE_TOOL_ROUNDS = (
    "_I stopped looking things up after several tries; this answer may be incomplete._"
)


# ---- `/shopmax store`: which store answers are for (docs/catalog.md) -------------------------

STORE_HOW = (
    "In a direct message with me, `/shopmax store CODE` sets your own store and "
    "`/shopmax store clear` removes it. In a channel, an admin can map the channel to a store "
    "the same way; a channel's store comes before each person's own."
)
STORE_UNAVAILABLE = (
    "I can't read or save store settings right now (the database is away). "
    "Try again in a minute; answers still work meanwhile, without a store."
)
STORE_NOT_ADMIN = (
    "Only an admin can map this channel to a store (a Slack workspace admin or owner, or "
    "someone listed in `SHOPMAX_ADMIN_USERS`). To set your own store, send "
    "`/shopmax store CODE` in a direct message with me."
)
STORE_NO_CATALOG = "The catalog is off here, so there are no stores to choose from."


def store_shown(label: str) -> str:
    """A store as a reply names it (its name, code and city, made inert by the caller)."""
    return f"*{label}*"


def store_status(channel: str | None, own: str | None, *, in_dm: bool) -> str:
    """`/shopmax store` alone: what is set here, and how to change it."""
    lines = []
    if channel:
        lines.append(f"This channel is mapped to {store_shown(channel)}: answers here are for it.")
    elif not in_dm:
        lines.append("This channel is not mapped to a store.")
    lines.append(
        f"Your own store is {store_shown(own)}." if own else "You have not set your own store."
    )
    return "\n".join([*lines, STORE_HOW])


def store_set(label: str, *, channel: bool) -> str:
    if channel:
        return f"This channel is now mapped to {store_shown(label)}: answers here are for it."
    return (
        f"Your store is now {store_shown(label)}. Answers to you are for it, except in a "
        "channel mapped to another store."
    )


def store_cleared(*, channel: bool) -> str:
    if channel:
        return "This channel is no longer mapped to a store."
    return "Your own store is cleared: answers to you are for no store in particular."


def store_unknown(shown: str, nearest: list[str]) -> str:
    """A code the catalog does not know (`shown` already cut short and made inert)."""
    hint = f" The nearest known: {', '.join(nearest)}." if nearest else ""
    return f"There is no store with the code `{shown}`.{hint} Nothing was changed."


def store_gone(code: str) -> str:
    return f"{code} (no longer in the catalog: choose another)"


STORE_BAD_CODE = (
    "A store code is letters, digits, `-` and `_` (up to 40), such as `MUM-01`. "
    "Nothing was changed."
)


def unknown_option(option: str) -> str:
    return f"`/shopmax` has no option `{option}`.\n\n{HELP}"


def asked(user: str) -> str:
    """The first line of a `/shopmax` answer: who asked (the question follows, quoted)."""
    return Mentioning(f"*<@{user}> asked:*", [user])


CANNOT_POST = (
    "_I'm not a member of this conversation, so only you can see this answer. "
    "To share answers here, invite me with `/invite @ShopMax`._"
)


def slack_refused(code: str) -> str:
    """Told privately (a DM, or the command's `response_url`) when Slack will not let the bot
    show an answer in the conversation it was asked in."""
    return (
        ":warning: I could not post my answer where you asked: Slack refused it "
        f"(`{code}`). If I'm not a member there, invite me with `/invite @ShopMax`, "
        "or ask me here in a direct message."
    )


NOTICE_PRIVATE_TRUNCATED = (
    "_This answer was too long to show here in full. Ask in a channel I'm in._"
)


def cost_text(usd: Decimal | None, usd_inr: float) -> str:
    """`$0.00015 (₹0.013)`: small amounts keep two significant digits instead of reading 0."""
    if usd is None:
        return "cost unknown"
    return costs(usd, usd * Decimal(str(usd_inr)))


def costs(usd: Decimal | float, inr: Decimal | float, unpriced: int = 0) -> str:
    """A cost in dollars and rupees, the one way people read money from the bot; answers on a
    model without a price are counted beside it, so a total is never silently low."""
    shown = f"${money(Decimal(str(usd)))} (₹{money(Decimal(str(inr)))})"
    return shown + (f" + {unpriced} unpriced" if unpriced else "")


def money(amount: Decimal) -> str:
    decimals = 2
    if 0 < amount < 1:
        decimals = max(2, 1 - amount.adjusted())
    return f"{amount.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP):,}"


def footer(
    *,
    input_tokens: int,
    output_tokens: int,
    output_estimated: bool = False,
    cache_read_tokens: int,
    cache_write_tokens: int,
    duration_s: float,
    ttft_s: float | None,
    stop_reason: str | None,
    cost: str,
    demo: bool = False,
    ungrounded: bool = False,
) -> str:
    """The usage footer under a finished answer (Slack mrkdwn, a context block); an answer
    that used no tool says it is not from the catalog."""
    out = f"~{output_tokens:,}" if output_estimated else f"{output_tokens:,}"
    parts = [f"{input_tokens:,} in", f"{out} out"]
    if cache_read_tokens or cache_write_tokens:
        parts.append(f"cache {cache_read_tokens:,} read / {cache_write_tokens:,} written")
    parts.append(f"{duration_s:.1f}s")
    parts.append("first token " + ("—" if ttft_s is None else f"{ttft_s:.2f}s"))
    parts.append(stop_reason or "no stop reason")
    parts.append(cost)
    if demo:
        parts.append(DEMO_LABEL)
    if ungrounded:
        parts.append(NOT_FROM_CATALOG)
    return " · ".join(parts)


DEMO_LABEL = "offline demo model"
DEMO_NOTE = (
    "Answers come from the offline demo model (the ShopMax catalog only, no AI). "
    "Set ANTHROPIC_API_KEY for Claude."
)
DEMO_OPEN_WITH_KEY = (
    "the browser chat and dashboard are open without any credential on this machine's loopback "
    "address, and answers spend ANTHROPIC_API_KEY: fine for trying it alone, but set "
    "SHOPMAX_WEB_TOKEN (or Sign in with Slack) before anything but this machine can reach the "
    "port, and never put a proxy in front of it (docs/security.md)"
)
DEMO_STARTED = (
    "no ANTHROPIC_API_KEY: answers come from the offline demo model (the catalog only); "
    "set ANTHROPIC_API_KEY for Claude"
)


def web_only(url: str) -> str:
    """The one line `run` logs without Slack tokens."""
    return (
        f"no Slack tokens: serving the browser chat only, at {url}/chat (and the dashboard at "
        f"{url}/dashboard); set SLACK_BOT_TOKEN with SLACK_APP_TOKEN or SLACK_SIGNING_SECRET "
        "to serve Slack"
    )


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


# ---- usage reports -------------------------------------------------------------------------


def answers(count: int) -> str:
    return f"{count} answer" if count == 1 else f"{count} answers"


USAGE_TITLE = "*Your ShopMax Assistant usage*"
TODAY = "Today"
THIS_MONTH = "This month"
WORKSPACE_THIS_MONTH = "Whole workspace, this month"
BY_CHANNEL = "By channel"
BY_USER = "By person"
BY_MODEL = "By model"
NO_USAGE = "_No answers yet._"
HOME_TITLE = "ShopMax Assistant"
YOUR_WEEK = "Your last 7 days"
WORKSPACE_WEEK = "Whole workspace, last 7 days"
HOME_HINT = (
    "Ask me anything about products, prices and support: mention @ShopMax, message me here, "
    "or use `/shopmax`. `/shopmax usage` shows your usage."
)
# The usage records live in the database; while it is away answers go on, reports cannot.
USAGE_UNAVAILABLE = (
    "Usage figures are unavailable for now: the usage records cannot be read at the moment. "
    "Answers are not affected, and nothing is lost; try again in a few minutes."
)


# ---- browser chat --------------------------------------------------------------------------

WEB_UNAUTHORISED = "Sign in to use the chat."
WEB_WRONG_TOKEN = "That is not the ShopMax web token. Ask your store manager for it."
WEB_BAD_STORE = (
    "Type your store's code (letters, digits, - and _, such as MUM-01), or leave it empty."
)


def web_unknown_store(shown: str, nearest: list[str]) -> str:
    hint = f" The nearest known: {', '.join(nearest)}." if nearest else ""
    return f"There is no store with the code {shown}.{hint}"


WEB_BAD_NAME = "Type your name (up to 64 characters) so your answers are counted as yours."
WEB_BAD_JSON = 'Send JSON like {"message": "your question"}.'
WEB_NO_MESSAGE = "The message is empty: type a question."
WEB_BAD_TEXT = "The message has characters that cannot be read. Please type it again."
WEB_BAD_CONVERSATION = "That conversation is not yours, or it has expired: start a new one."
WEB_HISTORY_UNAVAILABLE = (
    "The earlier messages of this conversation cannot be loaded right now. You can go on "
    "asking; reload in a few minutes to see them."
)
DASHBOARD_UNAUTHORISED = "Sign in with the ShopMax dashboard token (admins only)."
DASHBOARD_BAD_DAYS = "days must be a whole number from 1 to 90."


# ---- command line ---------------------------------------------------------------------------

CLI_DESCRIPTION = """\
ShopMax Assistant: ShopMax India's product, price and support assistant. `shopmax-bot run`
serves it; `shopmax-bot COMMAND --help` tells more about each command.

Settings come from the environment and from .env in the current folder (copy .env.example);
real environment variables win over .env."""

RUN_DESCRIPTION = """\
Serve the bot on HOST:PORT (default port 3000; host 0.0.0.0 with Slack tokens, 127.0.0.1
without): /healthz, /readyz and /metrics always, the browser
chat when SHOPMAX_WEB_TOKEN is set and the dashboard when SHOPMAX_DASHBOARD_TOKEN is (both
without a token only when nothing is configured and HOST is 127.0.0.1: the local demo, for
this machine alone). Runs until SIGTERM or Ctrl-C, letting answers
in flight finish for SHOPMAX_SHUTDOWN_GRACE seconds.

modes (chosen by which Slack settings are set):
  Socket Mode   SLACK_BOT_TOKEN and SLACK_APP_TOKEN: connects out to Slack, no public URL
  HTTP mode     SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET, no SLACK_APP_TOKEN: Slack sends
                events, /shopmax and button presses to http://HOST:PORT/slack/events
  web only      no Slack tokens: the browser chat at http://HOST:PORT/chat and the dashboard

settings (environment or .env; every one is in .env.example and docs/settings.md):
  SLACK_BOT_TOKEN, SLACK_APP_TOKEN, SLACK_SIGNING_SECRET   Slack, as above
  ANTHROPIC_API_KEY   the Claude API key; SHOPMAX_MODEL picks the model
  SHOPMAX_WEB_TOKEN   turns on /chat; staff sign in with it and their name
  SHOPMAX_DASHBOARD_TOKEN   turns on /dashboard, for admins
  DATABASE_URL        the store (default sqlite:///shopmax.db in the current folder)
  HOST, PORT          where the HTTP server listens
  SHOPMAX_LOG_LEVEL   DEBUG, INFO (default), WARNING or ERROR"""


def bad_since(raw: str) -> str:
    """`usage --since` given something that is not a span back from now."""
    if raw.startswith("-"):
        return f"{raw!r} has a minus sign: write {raw[1:]}, which already means that long ago"
    return f"expected a span back from now such as 90m, 24h, 7d or 30d, not {raw!r}"


def empty_since(raw: str) -> str:
    return f"{raw!r} covers no time: give at least 1m, 1h or 1d"


def no_answers_since(since: str) -> str:
    """What `shopmax-bot usage` prints when the ledger has nothing in the period."""
    return f"no answers since {since}"


# ---- trust boundaries (docs/security.md) ------------------------------------------------


def outside_workspace(team: str) -> str:
    """A Slack Connect asker from a workspace the bot does not serve."""
    return (
        f"ShopMax Assistant answers ShopMax staff only, and your workspace ({team}) is not one "
        "it serves, so it cannot share prices or stock here. Ask your ShopMax contact instead."
    )


SHARED_CHANNEL_COMMAND = (
    "This channel is shared with another organisation, and `/shopmax` cannot tell which one you "
    "are from, so it does not answer here. Mention @ShopMax in the channel instead (then Slack "
    "says who is asking), or ask in one of your own ShopMax channels."
)
WEB_WRONG_HOST = (
    "This address is not where ShopMax Assistant's pages are served. If it should be, set "
    "SHOPMAX_PUBLIC_URL to it (the address staff open, such as https://assistant.shopmax.in)."
)
WEB_TOO_MANY_TRIES = "Too many wrong tries: wait a minute, then try again."
WEB_TOO_MANY_SIGNINS = "Too many sign-ins from here just now: wait a minute, then try again."
WEB_SIGNIN_UNAVAILABLE = "Signing in is not possible right now. Please try again in a minute."
WEB_SLACK_SIGNIN_FAILED = "Signing in with Slack did not work. Please try again."
WEB_SIGNED_OUT = "Signed out."
WEB_USE_SLACK = "This chat signs in with Slack: use the Sign in with Slack button."


WEB_NOT_ALLOWED_TEAM = (
    "Your Slack workspace is not one ShopMax Assistant serves, so you cannot sign in here."
)


METRICS_UNAUTHORISED = (
    "send Authorization: Bearer <SHOPMAX_METRICS_TOKEN>, or serve this on a metrics port of its "
    "own on loopback (SHOPMAX_METRICS_PORT, SHOPMAX_METRICS_HOST=127.0.0.1)"
)

KEY_ROTATED = "a new session key is in the store: every browser is signed out and signs in again"
# ---- grounded answers: the knowledge base, sources and checked figures --------------------

KNOWLEDGE_SAMPLE = (
    "the knowledge base was empty: imported the sample ShopMax knowledge base; import your own "
    "with `shopmax-bot knowledge import DIR` or set SHOPMAX_KNOWLEDGE_DIR"
)


CATALOG_BUSY = "Another catalog feed is being applied: send this one again in a few seconds."
CATALOG_UNAUTHORISED = "Send the catalog token as 'Authorization: Bearer <SHOPMAX_CATALOG_TOKEN>'."
CATALOG_NO_SUCH_FEED = "No such feed: push products, stores, stock or prices."
CATALOG_NOT_UTF8 = "The feed is not UTF-8 text."


def catalog_too_big(limit: int) -> str:
    return f"The feed is larger than {limit // (1024 * 1024)} MB: split it into smaller pushes."


CATALOG_SAMPLE = "the catalog was empty: imported the sample catalog (200 products, 6 stores)"


def catalog_applied(source: str, lines: list[str]) -> str:
    """One line saying what a feed changed (`lines`: `Changes.lines()`)."""
    return f"applied {source}: " + "; ".join(lines)


def knowledge_imported(folder: str, report: object) -> str:
    """One line saying what an import changed (`report`: an `ImportReport`)."""
    counts = {
        name: len(getattr(report, name, []))
        for name in ("added", "changed", "removed", "unchanged")
    }
    shown = ", ".join(f"{count} {name}" for name, count in counts.items())
    return f"imported {folder}: {shown}"


KNOWLEDGE_NOTHING_FOUND = (
    "No ShopMax document matches that. Say so plainly, and do not guess a policy, offer or charge."
)
SOURCES_TITLE = "Sources"
NOT_FROM_CATALOG = "not from the catalog"
TERMINAL_SOURCES = "--- Sources ---"


def looking_in_documents(what: str) -> str:
    shown = f" for “{what}”" if what else ""
    return f"_:books: Looking in ShopMax's policies and guides{shown}…_"


def unchecked_figures(count: int) -> str:
    """The last line of an answer with figures that could not be checked against the tools'
    results or the catalog (each is marked ⚠ where it stands)."""
    figures = "1 figure" if count == 1 else f"{count} figures"
    verb = "was" if count == 1 else "were"
    return (
        f":warning: {figures} in this answer {verb} not found in the catalog or ShopMax's "
        "documents (marked ⚠). Check before you quote it to a customer."
    )


def now_figure(figure: str) -> str:
    """What follows a figure that has changed since the tool returned it."""
    return f"⚠ now {figure}"


def escalation(who: str) -> str:
    """The system prompt's rule for when nothing is found (SHOPMAX_ESCALATE_TO)."""
    return (
        "If the catalog and ShopMax's documents have nothing on a question, say so plainly and "
        f"tell the staff member to ask {who}; never guess a price, stock level, policy or offer."
    )
