"""The pacing rule on a fake clock: workloads 1, 3, 5 and 7 through `SchedulerCore` alone, in
seconds instead of minutes, for trying a change to the rule before the real benchmark.

Each answer streams 80 marks (tokens) a second from its first token; its post, held posts,
edits and final edit are made when the core says, within Slack's rolling window
(`RollingWindow`, 50 `chat.update` a minute, 3 a second). It leaves out network and Slack
latency, the per-channel post limit, the bot's own event loop and the real stream's pieces,
and its figures differ from the real benchmark's (on 2026-11-30: workload 1 1.27x here against
1.16-1.17x there, workload 3 1.23x against 1.26x): compare a change against this simulation's
own figures first, then confirm on `bench scheduler`. The native transport is simulated for
its streams alone (every answer streams: no limit on starts, no answer posted and edited
beside them), so its ratios say how the appends are paced, not how the two windows are
shared. Lag is measured as in `measure.py`: from a chunk leaving the model to the first
version at or after it, against `lower_bound.least_mean_lag` on the same chunk times.
`variants` (`--variants`) are more steady arrivals: other gaps, and lengths drawn at random,
for a change that must not only fit workload 3's eight lengths, and workload 7 run for 10
minutes (its two minutes are mostly edges). Every figure is printed against three leasts
(`measure.py`): unconstrained, first words within 1.5 s, and issue 26's rule (`@rule`).
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace

from bench.lower_bound import first_token_rule, least_mean_lag
from bench.workloads import Workload, long_burst, slow_burst, slow_steady, steady
from bot.delivery.pacing.core import SchedulerCore
from bot.delivery.pacing.window import RollingWindow

STEP = 0.05  # seconds of the fake clock per tick
RATE = 80.0  # marks (tokens) a second


@dataclass(frozen=True)
class Simulated:
    number: int
    mean_lag: float
    least: float
    updates: int
    first_words_p95: float = 0.0  # from the first token to the first version
    least_first_words: float = float("nan")  # the least with first words within 1.5 s
    least_rule: float = float("nan")  # the least under issue 26's rule (`first_token_rule`)

    @property
    def ratio(self) -> float:
        return self.mean_lag / self.least


def simulate(
    asks: Sequence[tuple[float, float]],
    per_minute: int = 50,
    burst: int = 3,
    asked: Sequence[float] | None = None,
    *,
    streams: bool = False,
) -> Simulated:
    """`asks`: (first token at, seconds of streaming) per answer; `asked`: when each question
    was asked (0.4 s before its first token unless given), for the least with first words.
    `streams`: every answer is a native stream (the window is `chat.appendStream`'s; its start
    and its stop, the final, take nothing from it; starts unlimited)."""
    core = SchedulerCore(
        per_minute=per_minute, min_interval=1.0, burst=burst, max_marks=2048, finals_free=streams
    )
    core.window = replace(core.window, burst=burst)
    window = RollingWindow(per_minute=per_minute, burst=burst)
    versions: dict[Hashable, list[float]] = {n: [] for n in range(len(asks))}
    posted: set[Hashable] = set()
    started: dict[int, float] = {}
    ended: set[int] = set()
    updates = 0

    def post(key: Hashable, now: float) -> None:
        core.posted(key, now)
        posted.add(key)
        versions[key].append(now)

    last = max(at + life for at, life in asks) + 10
    tick = 0
    while (now := tick * STEP) <= last:
        tick += 1
        for n, (at, life) in enumerate(asks):
            if n in ended or now < at:
                continue
            if n not in started:
                started[n] = now
                core.arrive(n, now)
            core.mark(n, now, weight=RATE * STEP)
            if now == started[n] and not core.hold_first_post(n, now):
                post(n, now)
            if now >= at + life:
                ended.add(n)
                if n in posted and streams:
                    versions[n].append(now)  # the stop carries the final text
                    core.forget(n)
                elif n in posted:
                    core.mark(n, now, urgent=True)  # the final edit
                else:
                    post(n, now)  # whole, in one post
                    core.forget(n)
        for key in core.releases(now)[0]:
            post(key, now)
        while (key := core.due(now)[0]) is not None and window.available_at(now) <= now:
            window.take(now)
            core.sending(key, now)
            core.done(key)
            versions[key].append(now)
            updates += 1
            if key in ended:
                core.forget(key)
    chunk_times, waited = [], 0.0
    for n, (_, life) in enumerate(asks):
        times = [started[n] + i / RATE for i in range(max(int(RATE * life), 1))]
        chunk_times.append(times)
        shown = sorted(versions[n])
        waited += sum(shown[bisect.bisect_left(shown, t - 1e-9)] - t for t in times)
    chunks = sum(map(len, chunk_times))
    firsts = sorted(min(versions[n]) - at for n, (at, _) in enumerate(asks))
    first_p95 = firsts[int(0.95 * (len(firsts) - 1))]
    least = least_mean_lag(chunk_times, per_minute, final_free=streams)
    questions = list(asked) if asked is not None else [at - 0.4 for at, _ in asks]
    fw = least_mean_lag(chunk_times, per_minute, asked=questions, final_free=streams)
    rule = first_token_rule(chunk_times)
    under_rule = least_mean_lag(chunk_times, per_minute, asked=rule, final_free=streams)
    return Simulated(0, waited / chunks, least, updates, first_p95, fw, under_rule)


def asks_of(workload: Workload) -> list[tuple[float, float]]:
    return [
        (ask.at + ask.script.first_token_delay, len(ask.script.chunks) / workload.tokens_per_second)
        for ask in workload.asks
    ]


def variants() -> list[tuple[str, list[tuple[float, float]]]]:
    """Steady arrivals beyond workload 3's eight lengths in turn, whose ends the rule can
    learn exactly: other gaps, and lengths drawn at random (seeded, so that a run repeats),
    where no two answers run alike. (name, asks) each, first tokens 0.4 s after asking."""
    exponential, uniform, poisson = random.Random(1), random.Random(2), random.Random(3)
    arrivals, at = [], 0.0
    while at < 180.0:
        at += poisson.expovariate(1 / 2.0)
        arrivals.append((at + 0.4, float(poisson.choice((3, 6, 9, 18, 30)))))
    return [
        ("every 1.5 s, workload 3's lengths", asks_of(steady(every=1.5))),
        ("every 3 s, workload 3's lengths", asks_of(steady(every=3.0))),
        (
            "every 2 s, 10 s on average (exponential)",
            [(n * 2.0 + 0.4, max(0.3, exponential.expovariate(1 / 10))) for n in range(90)],
        ),
        (
            "every 2.5 s, 1-30 s (uniform)",
            [(n * 2.5 + 0.4, uniform.uniform(1, 30)) for n in range(72)],
        ),
        ("every 2 s on average (Poisson), 3-30 s", arrivals),
        # Workload 7 ten times as long: how much of its ratio is the two minutes' edges (a
        # fresh window at the start and an idle one at the end, which a bound knowing every
        # arrival spends and an online rule cannot).
        ("workload 7's answers for 10 minutes", asks_of(slow_steady(minutes=10.0))),
    ]


APPENDS = 100  # chat.appendStream a minute, the native streams' window
STREAM_BURST = 5  # a second, as the bot runs (SHOPMAX_UPDATE_BURST)


def run(*, more: bool = False) -> str:
    lines = [
        "Pacing simulation (fake clock; no network, no per-channel post limit): workloads 1, "
        "3, 5 and 7 through SchedulerCore alone, posted and edited with chat.update (50 a "
        "minute, 3 a second), then every answer a native stream (100 appends a minute, 5 a "
        "second; starts unlimited, finals free on the stop)."
    ]
    for streams in (False, True):
        per_minute, burst = (APPENDS, STREAM_BURST) if streams else (50, 3)
        mode = "streams" if streams else "update"
        for workload in (long_burst(), steady(), slow_burst(), slow_steady()):
            asked = [ask.at for ask in workload.asks]
            result = replace(
                simulate(
                    asks_of(workload),
                    per_minute if streams else workload.per_minute,
                    burst,
                    asked=asked,
                    streams=streams,
                ),
                number=workload.number,
            )
            lines.append(f"{mode} workload {result.number}: {_figures(result)}")
        for name, asks in variants() if more else []:
            result = simulate(asks, per_minute, burst, streams=streams)
            lines.append(f"{mode} {name}: {_figures(result)}")
    return "\n".join(lines)


def _figures(result: Simulated) -> str:
    return (
        f"mean lag {result.mean_lag:.2f} s, least {result.least:.2f} s, ratio "
        f"{result.ratio:.3f}x, @1.5s {result.mean_lag / result.least_first_words:.3f}x, "
        f"@rule {result.mean_lag / result.least_rule:.3f}x, "
        f"{result.updates} calls, first words p95 {result.first_words_p95:.2f} s after the "
        "first token"
    )
