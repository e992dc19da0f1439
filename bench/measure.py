"""What a workload's run looked like to the people asking, from what the fakes recorded.

Lag is measured per model chunk: from the moment the fake model wrote it to the moment the fake
Slack accepted a version of the answer's message that contains it; a chunk Slack never showed
counts as shown when the run was stopped (so its lag is a lower bound). The least possible is
computed on the same chunk times, twice: for any schedule obeying Slack's windows (`least`,
`ratio`), and for those that also show each answer's first words within
`FIRST_WORDS_DEADLINE` of its question (`least_first_words`, `ratio_first_words`), the
question's time being when the benchmark delivered its event; and, as a third comparator, for
those obeying issue 26's rule itself — first words at the first token unless the answer ends
within 2 s (`least_rule`, `ratio_rule`; `lower_bound.first_token_rule`), which says how much
of a ratio is the price of that rule and how much is pacing. For `chat.update` it is
`lower_bound.least_mean_lag`; for the native transport `native_bound.least_native_mean_lag`,
which counts Slack's 20 stream starts a minute and lets answers use both the appends' and
`chat.update`'s windows (before 2026-12-07 the native least let every answer stream, on the
appends' window alone: too low past 20 answers a minute, and too high where both windows are
used).

429s: `throttled` counts every call Slack refused with 429, whatever its method (the issue's
goal is on all calls); `throttled_streams` the ones of them on `chat.startStream` and
`chat.stopStream`, Tier 2 (20 a minute per workspace each), shown apart because the native
transport meets that window first.
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from bench.lower_bound import first_token_rule, least_mean_lag
from bench.native_bound import least_native_mean_lag
from bench.workloads import Ask, Workload
from bot.wording import texts
from tests.fakes.anthropic_server import FakeAnthropic, ModelCall
from tests.fakes.slack_server import Call, FakeSlack, Message


@dataclass(frozen=True)
class Figures:
    name: str
    answers: int
    complete: int
    calls: int
    updates: int
    posts: int
    throttled: int
    mean_lag: float
    p95_lag: float
    least: float
    all_complete: float  # seconds from the first question until every answer was complete
    median_complete: float  # seconds from asking until the answer was complete, per question
    last_complete: float
    first_words_p95: float  # seconds from asking until some of the answer was visible
    ack_p95: float  # seconds Slack waited for the bot to acknowledge an event
    exactly_once: int  # questions answered by one model call and one message
    first_words_p50: float = float("nan")
    # Seconds from asking until the thread showed any sign of the bot: a status
    # (`assistant.threads.setStatus`), a reaction, or a message, whichever came first.
    sign_p50: float = float("nan")
    sign_p95: float = float("nan")
    per_minute: int = 50  # the window of the transport's edit method
    # The least mean lag for schedules that also show first words within 1.5 s of asking
    # (infinite where none can), and the 429s on chat.startStream / chat.stopStream.
    least_first_words: float = float("nan")
    throttled_streams: int = 0
    # The least for schedules obeying issue 26's rule (first words at the first token unless
    # the answer ends within 2 s): a comparator, never the goal's figure.
    least_rule: float = float("nan")
    # Native: the chat.update calls beside the appends (answers posted and edited), and the
    # answers that streamed (chat.startStream granted).
    native: bool = False
    also_updated: int = 0
    streamed: int = 0
    # MB resident in the bot process (the largest replica): right after start-up, and its
    # peak (VmHWM) once the pass ended, from /proc (`memory.py`); NaN where not measured.
    rss_start: float = float("nan")
    rss_peak: float = float("nan")

    @property
    def ratio(self) -> float:
        return self.mean_lag / self.least if self.least else float("nan")

    @property
    def ratio_first_words(self) -> float:
        """Against the least for schedules showing first words in time (NaN where none can)."""
        if not 0 < self.least_first_words < math.inf:
            return float("nan")
        return self.mean_lag / self.least_first_words

    @property
    def ratio_rule(self) -> float:
        """Against the least for schedules obeying issue 26's rule (NaN where not measured)."""
        if not 0 < self.least_rule < math.inf:
            return float("nan")
        return self.mean_lag / self.least_rule

    @property
    def throttled_share(self) -> float:
        return self.throttled / max(self.calls, 1)


def visible_length(message: Message, version: int) -> int:
    text = markdown_of(message.versions[version])
    if text.startswith("_Thinking"):
        return 0
    return len(text.removesuffix(" " + texts.CURSOR).rstrip())


def markdown_of(payload: dict[str, object]) -> str:
    blocks = payload.get("blocks") or []
    assert isinstance(blocks, list)
    return "".join(b["text"] for b in blocks if b["type"] == "markdown")


def finished(message: Message) -> bool:
    return bool(message.context) and texts.CURSOR not in message.markdown


def lags(call: ModelCall, chunks: Sequence[str], message: Message, cutoff: float) -> list[float]:
    """Seconds from each chunk leaving the model to Slack showing it."""
    shown = [(t, visible_length(message, i)) for i, t in enumerate(message.times)]
    result, so_far, cursor = [], "", 0
    for chunk, sent_at in zip(chunks, call.chunk_times, strict=True):
        so_far += chunk
        needed = len(so_far.rstrip())
        while cursor < len(shown) and shown[cursor][1] < needed:
            cursor += 1
        shown_at = shown[cursor][0] if cursor < len(shown) else cutoff
        result.append(max(shown_at - sent_at, 0.0))
    return result


def completed_at(message: Message, text: str) -> float | None:
    """When Slack first showed the whole answer, finished (footer, no cursor)."""
    for version, at in zip(message.versions, message.times, strict=True):
        shown = markdown_of(version)
        if texts.CURSOR not in shown and shown.rstrip() == text.rstrip():
            context = [b for b in version.get("blocks") or [] if b["type"] == "context"]
            if context:
                return at
    return None


def first_words_at(message: Message) -> float | None:
    for n, at in enumerate(message.times):
        if visible_length(message, n) > 0:
            return at
    return None


def p95(values: Sequence[float]) -> float:
    return percentile(values, 0.95)


def percentile(values: Sequence[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[int(share * (len(ordered) - 1))]


def _sign(call: Call, ts: str) -> bool:
    """Whether `call` showed the thread of question `ts` that the bot is on it."""
    if call.method == "assistant.threads.setStatus":
        shown = call.payload.get("status") or call.payload.get("loading_messages")
        return call.payload.get("thread_ts") == ts and bool(shown)
    return call.method == "reactions.add" and call.payload.get("timestamp") == ts


def sign_of_life_at(slack: FakeSlack, ask: Ask, since: float) -> float | None:
    """When the question's thread first showed the bot on it: a status set in the thread, a
    reaction on the question, or a message in the thread (read from the fake's calls)."""
    ts = _thread_ts(ask)
    times = [c.at for c in slack.calls if c.at >= since and c.status == 200 and _sign(c, ts)]
    times += [m.times[0] for m in slack.messages if m.thread_ts == ts and m.times]
    return min(times, default=None)


def summarise(
    workload: Workload,
    slack: FakeSlack,
    model: FakeAnthropic,
    asked: dict[int, float],
    acks: Sequence[float],
    cutoff: float,
    name: str = "",
    since: float = 0.0,
    edit_window: tuple[str, int] = ("chat.update", 50),
) -> Figures:
    """The figures of one run; `asked` maps each question to when it was asked (clock time).
    Only Slack calls from `since` on count (a warm pass after a cold one); `edit_window` is
    the transport's edit method and its calls a minute, for the least possible lag."""
    by_question = {ask.question: ask for ask in workload.asks}
    all_lags: list[float] = []
    chunk_times: list[list[float]] = []
    asked_times: list[float] = []  # when each of those answers' questions was asked
    complete, once = 0, 0
    done_after, first_words, done_times, signs = [], [], [], []
    asks = {ask.n for ask in workload.asks}
    for ask in workload.asks:
        sign = sign_of_life_at(slack, ask, since)
        # A question that never showed a sign counts as never (not left out of the p95).
        signs.append(math.inf if sign is None else sign - asked[ask.n])
    questions_asked = [c.body["messages"][-1]["content"] for c in model.calls]
    for call in model.calls:
        ask: Ask | None = by_question.get(call.body["messages"][-1]["content"])
        if ask is None or ask.n not in asks or not call.chunk_times:
            continue
        chunk_times.append(call.chunk_times)
        asked_times.append(asked[ask.n])
        mine = [m for m in slack.messages if m.thread_ts == _thread_ts(ask)]
        if not mine:
            all_lags.extend(cutoff - t for t in call.chunk_times)
            first_words.append(math.inf)  # never shown: counted, not left out
            continue
        message = mine[0]
        all_lags.extend(lags(call, ask.script.chunks, message, cutoff))
        done = completed_at(message, ask.script.text)
        if done is not None:
            complete += 1
            done_after.append(done - asked[ask.n])
            done_times.append(done)
        words = first_words_at(message)
        first_words.append(math.inf if words is None else words - asked[ask.n])
        if len(mine) == 1 and questions_asked.count(ask.question) == 1:
            once += 1
    start = min(asked[n] for n in asks)
    calls = [c for c in slack.calls if c.at >= since]
    method, per_minute = edit_window
    native = method == "chat.appendStream"
    if native:
        # Native: streams (20 starts a minute), appends and chat.update, all at once.
        least_native = functools.partial(
            least_native_mean_lag,
            chunk_times,
            asked_times,
            appends=per_minute,
            updates=workload.per_minute,
        )
        least, least_first_words = least_native(), least_native(first_words=True)
        least_rule = least_native_mean_lag(
            chunk_times,
            first_token_rule(chunk_times),
            first_words=True,
            appends=per_minute,
            updates=workload.per_minute,
        )
    else:
        least = least_mean_lag(chunk_times, per_minute)
        least_first_words = least_mean_lag(chunk_times, per_minute, asked=asked_times)
        least_rule = least_mean_lag(chunk_times, per_minute, asked=first_token_rule(chunk_times))
    return Figures(
        name=name or f"{workload.number}",
        answers=len(workload.asks),
        complete=complete,
        calls=len(calls),
        updates=sum(1 for c in calls if c.method == method and c.status == 200),
        posts=sum(1 for c in calls if c.method == "chat.postMessage"),
        throttled=sum(1 for c in calls if c.status == 429),
        mean_lag=statistics.fmean(all_lags) if all_lags else float("nan"),
        p95_lag=p95(all_lags),
        least=least,
        all_complete=(max(done_times) - start) if complete == len(workload.asks) else float("inf"),
        median_complete=statistics.median(done_after) if done_after else float("nan"),
        last_complete=max(done_after) if done_after else float("nan"),
        first_words_p95=p95(first_words),
        ack_p95=p95(acks),
        exactly_once=once,
        first_words_p50=percentile(first_words, 0.5),
        sign_p50=percentile(signs, 0.5),
        sign_p95=percentile(signs, 0.95),
        per_minute=per_minute,
        least_first_words=least_first_words,
        least_rule=least_rule,
        throttled_streams=throttled_streams(calls),
        native=native,
        also_updated=(
            sum(1 for c in calls if c.method == "chat.update" and c.status == 200) if native else 0
        ),
        streamed=sum(1 for c in calls if c.method == "chat.startStream" and c.status == 200),
    )


STREAM_ENDS = ("chat.startStream", "chat.stopStream")  # Slack's Tier 2 streaming methods


def throttled_streams(calls: Sequence[Call]) -> int:
    """The calls to `chat.startStream` or `chat.stopStream` Slack answered 429."""
    return sum(1 for c in calls if c.status == 429 and c.method in STREAM_ENDS)


def _thread_ts(ask: Ask) -> str:
    return event_ts(ask.n)


def event_ts(n: int) -> str:
    """The ts of question `n`'s message in Slack (the answer's thread)."""
    return f"1700300000.{n:06d}"


def people_table(rows: Sequence[Figures]) -> str:
    """What people saw: sign of life and first words p50/p95 from the question, the lag's
    ratio to the least possible (`ratio`) and to the least with first words within 1.5 s
    (`ratio@1.5s`, "none" where no schedule can) and to the least for schedules obeying issue
    26's rule (`@rule`: first words at the first token unless the answer ends within 2 s),
    edits spent (`chat.update`; native: `chat.appendStream` + `chat.update`, and `s` the
    answers streamed), 429s as a share of all calls, and how many of them were on
    `chat.startStream` / `chat.stopStream` (`s/s 429`); and the bot's peak RSS."""
    header = (
        f"{'run':<24} {'done':>7} {'sign p50/p95':>13} {'words p50/p95':>14} {'lag':>6} "
        f"{'ratio':>6} {'ratio@1.5s':>10} {'@rule':>6} {'edits':>12} {'429s':>6} {'s/s 429':>7} "
        f"{'all done':>9} {'peak RSS':>9}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        at_deadline = "none" if r.least_first_words == math.inf else f"{r.ratio_first_words:.2f}x"
        edits = f"{r.updates}"
        if r.native:  # both windows
            edits = f"{r.updates}+{r.also_updated} s{r.streamed}"
        lines.append(
            f"{r.name:<24} {r.complete:>3}/{r.answers:<3} {r.sign_p50:>5.2f}/{r.sign_p95:<5.2f}s "
            f"{r.first_words_p50:>6.2f}/{r.first_words_p95:<5.2f}s {r.mean_lag:>5.2f}s "
            f"{r.ratio:>5.2f}x {at_deadline:>10} {r.ratio_rule:>5.2f}x "
            f"{edits:>12} {100 * r.throttled_share:>5.1f}% {r.throttled_streams:>7} "
            f"{r.all_complete:>8.1f}s {r.rss_peak:>6.1f} MB"
        )
    return "\n".join(lines)


def table(rows: Sequence[Figures]) -> str:
    header = (
        f"{'run':<11} {'complete':>9} {'calls':>6} {'updates':>8} {'429s':>5} "
        f"{'mean lag':>9} {'p95 lag':>8} {'least':>7} {'ratio':>6} {'all done':>9}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r.name:<11} {r.complete:>4}/{r.answers:<4} {r.calls:>6} {r.updates:>8} "
            f"{r.throttled:>5} {r.mean_lag:>8.2f}s {r.p95_lag:>7.2f}s {r.least:>6.2f}s "
            f"{r.ratio:>5.2f}x {r.all_complete:>8.1f}s"
        )
    return "\n".join(lines)


def extras(r: Figures) -> str:
    return (
        f"workload {r.name}: complete after asking: median {r.median_complete:.2f} s, last "
        f"{r.last_complete:.2f} s; first words p95 {r.first_words_p95:.2f} s; ack p95 "
        f"{1000 * r.ack_p95:.0f} ms; 429s {100 * r.throttled_share:.1f}% of calls."
    )
