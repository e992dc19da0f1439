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
from bench.measure import Figures
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
            results.append(await run(workload, deployment, Path(tmp)))
    return results


def report(results: list[Figures]) -> str:
    header = (
        f"{'deployment':<11} {'once':>7} {'posts':>6} {'calls':>6} {'updates':>8} "
        f"{'429 %':>6} {'mean lag':>9} {'p95 lag':>8} {'least':>7} {'ratio':>6}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.name:<11} {r.exactly_once:>3}/{r.answers:<3} {r.posts:>6} {r.calls:>6} "
            f"{r.updates:>8} {100 * r.throttled_share:>5.1f}% {r.mean_lag:>8.2f}s "
            f"{r.p95_lag:>7.2f}s {r.least:>6.2f}s {r.ratio:>5.2f}x"
        )
    one, three = results[0], results[1]
    lines.append(
        f"\n3 replicas: {three.exactly_once}/{three.answers} answered exactly once "
        f"({three.complete}/{three.answers} complete); 429s {100 * three.throttled_share:.1f}% of "
        f"calls; lag {three.ratio:.2f}x the least possible against {one.ratio:.2f}x for one "
        "process."
    )
    return "\n".join(lines)
