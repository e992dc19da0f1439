"""The four workloads of issue 14 against the real bot, under Slack's limits (see
`workloads.py`): how close the scheduler comes to the least lag Slack's windows allow.

For each workload: answers complete, Slack calls (all methods) and `chat.update`s, 429s, the
mean and p95 lag from a token leaving the model to Slack showing it, the least mean lag any
schedule obeying Slack's windows could reach (`lower_bound.py`), their ratio, and the time
until every answer was complete. Workload 2 adds the median and last time from asking to a
complete answer, first words p95 and ack p95. The machine is shared and noisy: compare ratios
across runs rather than absolute times.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from bench.deploy import Deployment, run
from bench.measure import Figures, extras, table
from bench.workloads import Workload, all_workloads

GOALS = {1: 1.25, 3: 1.25, 4: 1.5}  # the ratio goals


def deployment_for(workload: Workload) -> Deployment:
    if workload.replicas > 1:
        return Deployment(f"{workload.replicas} replicas", workload.replicas, True, True)
    return Deployment("1 process")


async def main(workloads: list[Workload] | None = None) -> list[Figures]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for workload in workloads or all_workloads():
            print(f"  workload {workload.number}: {workload.title} ...", flush=True)
            figures = await run(workload, deployment_for(workload), Path(tmp))
            results.append(replace(figures, name=str(workload.number)))
    return results


def report(results: list[Figures], workloads: list[Workload] | None = None) -> str:
    titles = {w.number: w.title for w in workloads or all_workloads()}
    lines = [table(results), ""]
    for r in results:
        number = int(r.name)
        goal = GOALS.get(number)
        verdict = f" (goal <= {goal}x)" if goal else ""
        lines.append(
            f"workload {number}, {titles.get(number, '')}: {r.complete}/{r.answers} complete, "
            f"mean lag {r.ratio:.2f}x the least possible{verdict}; 429s "
            f"{100 * r.throttled_share:.1f}% of calls (goal <= 1%)."
        )
        if number == 2:
            lines.append(
                extras(r) + " (goals: median <= 3 s, last <= 10 s, first words <= 1.5 s,"
                " ack <= 50 ms)"
            )
    return "\n".join(lines)
