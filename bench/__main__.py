"""`python -m bench`: run the benchmarks and print their figures."""

from __future__ import annotations

import argparse
import asyncio

from bench import (
    answers,
    budget,
    catalog,
    chain_catalog,
    memory,
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
            "memory",
        ],
        help="which benchmark to run (all)",
    )
    parser.add_argument(
        "--workload",
        type=int,
        action="append",
        choices=range(1, 10),
        help="run only this scheduler workload (repeatable)",
    )
    parser.add_argument(
        "--transport",
        choices=["update", "native", "both"],
        default="both",
        help="scheduler: the stream transport(s) to measure (both)",
    )
    parser.add_argument("--cold-only", action="store_true", help="scheduler: skip the warm pass")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="scheduler: for iterating: cold only, the steady workloads cut to a minute",
    )
    parser.add_argument(
        "--variants",
        action="store_true",
        help="simulate: also steady arrivals at other gaps and with random lengths",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=3,
        help="memory: how many times to run the workload (3), each on a fresh bot",
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
        every = workloads.all_workloads(quick=args.quick)
        numbers = args.workload or [w.number for w in every]
        chosen = [w for w in every if w.number in numbers]
        transports = scheduler.TRANSPORTS if args.transport == "both" else (args.transport,)
        print(
            "Scheduler benchmark: the workloads of issues 14 and 26 against real bot processes, "
            "fake Slack enforcing chat.update 50, chat.appendStream 100, chat.startStream and "
            "chat.stopStream 20 each a minute per workspace and chat.postMessage about one a "
            "second per channel (bursts of 5).",
            flush=True,
        )
        warm = not (args.cold_only or args.quick)
        results = asyncio.run(scheduler.main(chosen, transports, warm))
        print(scheduler.report(results), end="\n\n", flush=True)
    if args.which in ("all", "answers"):
        key = load_settings().anthropic_api_key
        print(answers.run(args.model, key), end="\n\n", flush=True)
    if args.which == "memory":  # not in "all": the scheduler's table has the peak RSS
        number = (args.workload or [2])[0]
        print(memory.run(number, args.runs), flush=True)
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
