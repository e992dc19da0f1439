"""Workload 1 on three replicas behind a load balancer against one process, in the same run.

* **1 process** is the default single deployment: SQLite and a budget kept in the process.
* **3 replicas** share PostgreSQL (dedup, leases, ledger) and Redis (the Slack budget).
* **3, no Redis** shares PostgreSQL only, each replica keeping Slack's whole budget to itself:
  what the shared budget saves a deployment from.

Every mention is delivered as Slack does, with duplicates: again as a retry to the next replica
and its `message` twin to the one after (`deploy.py`). Figures are those of the scheduler
benchmark plus how many questions were answered exactly once.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from bench.deploy import Deployment, run
from bench.measure import Figures, table
from bench.workloads import long_burst

DEPLOYMENTS = [
    Deployment("1 process"),
    Deployment("3 replicas", 3, postgres=True, redis=True),
    Deployment("3, no Redis", 3, postgres=True, redis=False),
]


async def main() -> list[Figures]:
    workload = replace(long_burst(), duplicates=True)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for deployment in DEPLOYMENTS:
            results.extend(await run(workload, deployment, Path(tmp)))
    return results


def report(results: list[Figures]) -> str:
    one, three = results[0], results[1]
    once = ", ".join(f"{r.name} {r.exactly_once}/{r.answers}" for r in results)
    return (
        f"{table(results)}\n\nanswered exactly once: {once}.\n3 replicas: "
        f"{three.complete}/{three.answers} complete; 429s {100 * three.throttled_share:.1f}% of "
        f"calls; lag {three.ratio:.2f}x the least possible against {one.ratio:.2f}x for one "
        "process."
    )
