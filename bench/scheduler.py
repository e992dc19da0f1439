"""Many answers at once under Slack's `chat.update` limit: our scheduler against a naive throttle.

Both strategies answer the same N questions, streamed by the fake model at a realistic pace,
into the fake Slack enforcing a per-minute `chat.update` limit with 429 + Retry-After, in the
same run (machines here are noisy: compare the ratios, not absolute times).

* **scheduler** is the real bot: signed `app_mention` events dispatched into the Bolt app,
  answered by `Answerer`, edited through the per-workspace scheduler.
* **naive** is what many bots do: each answer edits its own message at most once a second from
  inside the token loop, and sleeps out a 429 right there.

Lag is measured per model chunk: from the moment the fake model wrote it to the moment the fake
Slack accepted a version of the message that contains it. The *least mean lag the budget
allows* spreads the budget evenly: at any moment each streaming answer gets an equal share of
the per-minute limit (and no more than one edit per second), each answer's edits are evenly
spaced and its last edit lands the moment it finishes; a chunk waits for the next edit.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from dataclasses import dataclass, replace
from pathlib import Path

import anthropic
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import build_services
from bot.delivery.slack_api import SlackApi
from bot.errors import RateLimited, ShopMaxError
from bot.model.stream import ModelRequest, TextDelta, stream_answer
from bot.settings import Settings
from bot.wording import markdown
from tests.conftest import signed_headers
from tests.fakes.anthropic_server import FakeAnthropic, ModelCall, Script
from tests.fakes.slack_server import BOT_USER, TEAM, TOKEN, FakeSlack, Message

WORDS = "ShopMax stocks LG Samsung Sony Voltas Whirlpool Godrej IFB Haier Bajaj Philips".split()
SIGNING_SECRET = "bench-signing-secret"


@dataclass(frozen=True)
class Config:
    answers: int = 20
    per_minute: int = 50
    tokens_per_second: float = 80.0
    seconds: float = 25.0  # how long the slowest answers stream
    interval: float = 1.0


@dataclass(frozen=True)
class Result:
    name: str
    complete: int
    answers: int
    calls: int
    updates: int
    throttled: int
    mean_lag: float
    p95_lag: float
    least_mean_lag: float
    wall: float


def scripts(config: Config) -> list[Script]:
    """Answers of 60-100% of `seconds` at `tokens_per_second`, one word-ish chunk per token."""
    result = []
    for n in range(config.answers):
        share = 0.6 + 0.4 * ((n * 7) % config.answers) / max(config.answers - 1, 1)
        tokens = int(config.tokens_per_second * config.seconds * share)
        words = [WORDS[(n + i) % len(WORDS)] for i in range(tokens)]
        text = " ".join(w + (".\n\n" if i % 60 == 59 else "") for i, w in enumerate(words))
        # About four characters a token, as with Claude's tokenizers on English text.
        chunks = [text[i : i + 4] for i in range(0, 4 * tokens, 4)]
        result.append(
            Script(
                chunks=chunks,
                tokens_per_second=config.tokens_per_second,
                first_token_delay=0.4,
                output_tokens=tokens,
            )
        )
    return result


def visible_length(message: Message, version: int) -> int:
    payload = message.versions[version]
    text = "".join(b["text"] for b in payload.get("blocks") or [] if b["type"] == "markdown")
    if text.startswith("_Thinking"):
        return 0
    return len(text.removesuffix(" " + markdown.texts.CURSOR).rstrip())


def lags(call: ModelCall, script: Script, messages: list[Message], cutoff: float) -> list[float]:
    """Seconds from each chunk leaving the model to Slack showing it.

    A chunk Slack never showed counts as shown at `cutoff` (when the run was stopped), so
    its lag is a lower bound.
    """
    [message] = messages  # the bench's answers fit one message
    shown = [(t, visible_length(message, i)) for i, t in enumerate(message.times)]
    result, so_far, cursor = [], "", 0
    for chunk, sent_at in zip(script.chunks, call.chunk_times, strict=True):
        so_far += chunk
        needed = len(so_far.rstrip())
        while cursor < len(shown) and shown[cursor][1] < needed:
            cursor += 1
        shown_at = shown[cursor][0] if cursor < len(shown) else cutoff
        result.append(max(shown_at - sent_at, 0.0))
    return result


def least_mean_lag(calls: list[ModelCall], config: Config) -> float:
    """The even-spread lower bound described in the module docstring."""
    spans = [(c.chunk_times[0], c.chunk_times[-1]) for c in calls if c.chunk_times]
    rate = config.per_minute / 60

    def interval(t: float) -> float:
        active = sum(1 for start, end in spans if start <= t <= end)
        return max(config.interval, active / rate)

    waits = []
    for call in calls:
        end = call.chunk_times[-1]
        spacing = statistics.fmean(interval(t) for t in call.chunk_times[::10])
        for t in call.chunk_times:
            # Edits at end, end - spacing, end - 2 * spacing, ...: the next one after t.
            steps_before_end = int((end - t) // spacing)
            waits.append((end - steps_before_end * spacing) - t)
    return statistics.fmean(waits)


def summarise(
    name: str,
    config: Config,
    model: FakeAnthropic,
    slack: FakeSlack,
    plan: dict[str, Script],
    started: float,
) -> Result:
    cutoff = time.monotonic()
    all_lags: list[float] = []
    complete = 0
    for call in model.calls:
        question = call.body["messages"][-1]["content"]
        script = plan[question]
        mine = [m for m in slack.messages if m.channel == channel_for(question)]
        if mine and mine[0].markdown.rstrip() == script.text.rstrip() and mine[0].context:
            complete += 1
        if mine:
            all_lags.extend(lags(call, script, mine, cutoff))
        else:
            all_lags.extend(cutoff - t for t in call.chunk_times)
    finite = sorted(all_lags)
    return Result(
        name=name,
        complete=complete,
        answers=config.answers,
        calls=len(slack.calls),
        updates=len(slack.calls_to("chat.update")),
        throttled=sum(1 for c in slack.calls if c.status == 429),
        mean_lag=statistics.fmean(finite),
        p95_lag=finite[int(0.95 * (len(finite) - 1))],
        least_mean_lag=least_mean_lag(model.calls, config),
        wall=cutoff - started,
    )


def deadline(config: Config) -> float:
    """How long a strategy may take before it is stopped: three times the slowest answer."""
    return 3 * config.seconds + 30


def channel_for(question: str) -> str:
    return "C" + question.split("#")[1].split()[0].zfill(4)


def questions(config: Config) -> list[str]:
    return [f"Question #{n} about ShopMax TVs" for n in range(config.answers)]


async def start_fakes(config: Config) -> tuple[FakeSlack, FakeAnthropic, dict[str, Script]]:
    """The fake Slack enforcing the `chat.update` limit and the fake model streaming each
    question's script, started; and that plan (question -> script)."""
    slack, model = FakeSlack(), FakeAnthropic()
    await slack.start()
    await model.start()
    plan = dict(zip(questions(config), scripts(config), strict=True))
    model.by_question.update(plan)
    slack.per_minute["chat.update"] = config.per_minute
    return slack, model, plan


async def run_scheduler(config: Config, tmp: Path) -> Result:
    """The real bot, end to end through Bolt."""
    slack, model, plan = await start_fakes(config)
    settings = Settings(
        slack_bot_token=TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.api_url,
        anthropic_api_key="sk-ant-bench",
        anthropic_base_url=model.url,
        database_url=f"sqlite:///{tmp / 'bench.db'}",
        update_interval=config.interval,
        updates_per_minute=config.per_minute,
    )
    services = await build_services(settings)
    started = time.monotonic()
    try:
        for n, question in enumerate(plan):
            body = json.dumps(
                {
                    "type": "event_callback",
                    "team_id": TEAM,
                    "event_id": f"Ev{n}",
                    "event": {
                        "type": "app_mention",
                        "user": "U0STAFF",
                        "team": TEAM,
                        "channel": channel_for(question),
                        "ts": f"1700100000.{n:06d}",
                        "text": f"<@{BOT_USER}> {question}",
                    },
                }
            )
            headers = signed_headers(body, secret=SIGNING_SECRET)
            await services.bolt.async_dispatch(AsyncBoltRequest(body=body, headers=headers))
        await asyncio.sleep(0.5)
        await services.answerer.wait_idle(deadline(config))
        return summarise("scheduler", config, model, slack, plan, started)
    finally:
        await services.close()
        await slack.close()
        await model.close()


async def naive_answer(
    slack_api: SlackApi, model_url: str, channel: str, question: str, config: Config
) -> None:
    """Post, then edit from inside the token loop at most once a second; sleep out 429s."""

    client = anthropic.AsyncAnthropic(api_key="sk-ant-bench", base_url=model_url)
    ts = await slack_api.post(channel, markdown.render_piece("", in_progress=True), thread_ts="1.0")
    text, last = "", 0.0
    request = ModelRequest("claude-haiku-5-5", 4096, "", [{"role": "user", "content": question}])

    async def edit(final: bool) -> None:
        rendered = markdown.render_piece(
            text, in_progress=not final, footer="done" if final else None
        )
        while True:
            try:
                await slack_api.update(channel, ts, rendered)
                return
            except RateLimited as exc:
                await asyncio.sleep(exc.retry_after)

    async for event in stream_answer(client, request):
        if isinstance(event, TextDelta):
            text += event.text
            if time.monotonic() - last >= config.interval:
                last = time.monotonic()
                await edit(final=False)
    await edit(final=True)
    await client.close()


async def run_naive(config: Config) -> Result:
    slack, model, plan = await start_fakes(config)
    slack_api = SlackApi(AsyncWebClient(token=TOKEN, base_url=slack.api_url))
    started = time.monotonic()
    try:
        tasks = [
            asyncio.create_task(naive_answer(slack_api, model.url, channel_for(q), q, config))
            for q in plan
        ]
        done, pending = await asyncio.wait(tasks, timeout=deadline(config))
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        failures = [t.exception() for t in done if t.exception() is not None]
        if failures and not all(isinstance(f, ShopMaxError) for f in failures):
            raise failures[0]  # type: ignore[misc]
        return summarise("naive 1 s", config, model, slack, plan, started)
    finally:
        await slack.close()
        await model.close()


def table(results: list[Result]) -> str:
    header = (
        f"{'strategy':<11} {'complete':>9} {'calls':>6} {'updates':>8} {'429s':>5} "
        f"{'429 %':>6} {'mean lag':>9} {'p95 lag':>8} {'least':>7} {'ratio':>6} {'wall':>6}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        ratio = r.mean_lag / r.least_mean_lag if r.least_mean_lag else float("nan")
        lines.append(
            f"{r.name:<11} {r.complete:>4}/{r.answers:<4} {r.calls:>6} {r.updates:>8} "
            f"{r.throttled:>5} {100 * r.throttled / max(r.calls, 1):>5.1f}% "
            f"{r.mean_lag:>8.2f}s {r.p95_lag:>7.2f}s {r.least_mean_lag:>6.2f}s "
            f"{ratio:>5.2f}x {r.wall:>5.1f}s"
        )
    return "\n".join(lines)


async def main(config: Config, tmp: Path) -> list[Result]:
    ours = await run_scheduler(config, tmp)
    naive = await run_naive(replace(config))
    return [ours, naive]
