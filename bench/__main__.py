"""`python -m bench`: run the benchmarks and print their figures."""

from __future__ import annotations

import argparse
import asyncio

from bench import (
    answers,
    budget,
    catalog,
    chain_catalog,
    replicas,
    scheduler,
    simulate,
    store,
    workloads,
)
from bot.settings import load_settings


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument(
        "which",
        nargs="?",
        default="all",
        choices=[
            "all",
            "scheduler",
            "catalog",
            "budget",
            "store",
            "replicas",
            "simulate",
            "answers",
        ],
        help="which benchmark to run (all)",
    )
    parser.add_argument(
        "--workload",
        type=int,
        action="append",
        choices=[1, 2, 3, 4],
        help="run only this scheduler workload (repeatable)",
    )
    parser.add_argument(
        "--variants",
        action="store_true",
        help="simulate: also steady arrivals at other gaps and with random lengths",
    )
    parser.add_argument(
        "--model",
        help="answers: the Claude model to answer with (needs ANTHROPIC_API_KEY; without a key "
        "the offline demo model answers)",
    )
    args = parser.parse_args()
    if args.which in ("all", "catalog"):
        print(catalog.run(), end="\n\n", flush=True)
        print(chain_catalog.run(), end="\n\n", flush=True)
    if args.which in ("all", "budget"):
        print(budget.run(), end="\n\n", flush=True)
    if args.which in ("all", "store"):
        print(store.run(), end="\n\n", flush=True)
    if args.which in ("all", "scheduler"):
        numbers = args.workload or [1, 2, 3, 4]
        chosen = [w for w in workloads.all_workloads() if w.number in numbers]
        print(
            "Scheduler benchmark: the workloads of issue 14 against real bot processes, fake "
            "Slack enforcing chat.update a minute per workspace and chat.postMessage about one a "
            "second per channel (bursts of 5), model at 80 tokens/s.",
            flush=True,
        )
        results = asyncio.run(scheduler.main(chosen))
        print(scheduler.report(results, chosen), end="\n\n", flush=True)
    if args.which in ("all", "answers"):
        key = load_settings().anthropic_api_key
        print(answers.run(args.model, key), end="\n\n", flush=True)
    if args.which == "simulate":
        print(simulate.run(more=args.variants), flush=True)
    if args.which == "replicas":
        print(
            "Replica benchmark: workload 1 delivered to real bot processes in HTTP mode, "
            "round-robin, each mention also as a retry and a message twin on other replicas.",
            flush=True,
        )
        print(replicas.report(asyncio.run(replicas.main())))


if __name__ == "__main__":
    main()
