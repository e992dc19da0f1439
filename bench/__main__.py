"""`python -m bench`: run the benchmarks and print their figures."""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from bench import budget, catalog, replicas, scheduler, store


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument(
        "which",
        nargs="?",
        default="all",
        choices=["all", "scheduler", "catalog", "budget", "store", "replicas"],
        help="which benchmark to run (all)",
    )
    parser.add_argument("--answers", type=int, default=20, help="concurrent answers (20)")
    parser.add_argument("--per-minute", type=int, default=50, help="chat.update limit (50)")
    parser.add_argument("--tokens-per-second", type=float, default=80.0, help="model pace (80)")
    parser.add_argument("--seconds", type=float, default=25.0, help="slowest answer (25)")
    args = parser.parse_args()
    if args.which in ("all", "catalog"):
        print(catalog.run(), end="\n\n", flush=True)
    if args.which in ("all", "budget"):
        print(budget.run(), end="\n\n", flush=True)
    if args.which in ("all", "store"):
        print(store.run(), end="\n\n", flush=True)
    if args.which in ("catalog", "budget", "store"):
        return
    config = scheduler.Config(
        answers=args.answers,
        per_minute=args.per_minute,
        tokens_per_second=args.tokens_per_second,
        seconds=args.seconds,
    )
    print(
        f"Scheduler benchmark: {config.answers} concurrent answers, fake Slack enforcing "
        f"{config.per_minute} chat.update a minute, model at "
        f"{config.tokens_per_second:g} tokens/s, answers of "
        f"{0.6 * config.seconds:g}-{config.seconds:g} s.",
        flush=True,
    )
    if args.which == "replicas":
        run_replicas(config)
        return
    with tempfile.TemporaryDirectory() as tmp:
        results = asyncio.run(scheduler.main(config, Path(tmp)))
    print(scheduler.table(results))
    ours = results[0]
    print(
        f"\nscheduler: mean lag {ours.mean_lag / ours.least_mean_lag:.2f}x the least the budget "
        f"allows (target <= 1.25x); 429s {100 * ours.throttled / max(ours.calls, 1):.1f}% of calls "
        f"(target <= 1%); {ours.complete}/{ours.answers} answers complete."
    )
    if args.which == "all":
        print(flush=True)
        run_replicas(config)


def run_replicas(config: scheduler.Config) -> None:
    print(
        f"Replica benchmark: the same {config.answers} answers delivered to real bot processes "
        "in HTTP mode, round-robin, each mention also as a retry and a message twin on other "
        "replicas.",
        flush=True,
    )
    print(replicas.report(asyncio.run(replicas.main(config)), config))


if __name__ == "__main__":
    main()
