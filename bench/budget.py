"""What asking Redis for a Slack call costs, against the in-process budget, same run.

Every edit of an answer asks its budget first. With one process that is a few microseconds of
Python; with replicas it is one Lua script on Redis over loopback (or the network). This times
`acquire` + `settle` pairs for both, with a budget large enough that every call is granted, and
prints median and p99 per pair and the ratio. Against a model that streams for seconds and
Slack calls of tens of milliseconds, anything under a millisecond is invisible.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time

from bot.delivery.pacing.redis_window import RedisWindows
from bot.delivery.pacing.window import CallWindow, LocalWindow, Share

REDIS_URL = os.environ.get("SHOPMAX_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
PAIRS = 2000


async def timed(budget: CallWindow, pairs: int) -> list[float]:
    """Seconds per acquire + settle pair (a no-op edit gives its call back, so the window
    never fills)."""
    times = []
    for _ in range(pairs):
        start = time.perf_counter()
        grant = await budget.acquire(Share(3))
        await budget.settle(grant, 0)
        times.append(time.perf_counter() - start)
    return times


def line(name: str, times: list[float]) -> str:
    ordered = sorted(times)
    p99 = ordered[int(0.99 * (len(ordered) - 1))]
    return f"{name:<14} {statistics.median(times) * 1e6:>10.1f} µs {p99 * 1e6:>10.1f} µs"


async def main(pairs: int = PAIRS) -> str:
    local = await timed(LocalWindow(10**9, 10**9), pairs)
    shared = RedisWindows(REDIS_URL, "bench")
    try:
        await shared.client.flushdb()
        redis = await timed(shared("T0BENCH", "chat.update", 10**9, 10**9), pairs)
    finally:
        await shared.client.flushdb()
        await shared.close()
    ratio = statistics.median(redis) / statistics.median(local)
    return "\n".join(
        [
            f"CallWindow benchmark: {pairs} acquire + settle pairs, each budget in the same run.",
            f"{'budget':<14} {'median':>13} {'p99':>13}",
            line("in-process", local),
            line("Redis (shared)", redis),
            f"Redis costs {ratio:.0f}x the in-process budget per edit, "
            f"{statistics.median(redis) * 1e3:.2f} ms.",
        ]
    )


def run() -> str:
    return asyncio.run(main())
