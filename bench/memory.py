"""The bot's memory: its resident set right after start-up and at its peak, read from
`/proc/PID/status` of the bot processes a workload runs against (Linux only; elsewhere the
figures are NaN), and `python -m bench memory`, which runs one workload several times, cold,
and prints both figures of each run (issue 26's goal: at most 120 MB in workload 2).

VmHWM is the process's own high-water mark since its exec, so the figure is the bot's alone,
never the benchmark's that started it.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

GOAL_MB = 120.0  # issue 26: peak RSS in workload 2


@dataclass(frozen=True)
class Memory:
    """MB (kB / 1024, as the kernel counts them) of one bot process."""

    now: float  # VmRSS: resident now
    peak: float  # VmHWM: the most it has been resident since it started


def memory_of(pid: int) -> Memory:
    """The resident set of process `pid` now and at its peak (NaN where /proc cannot say)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return Memory(float("nan"), float("nan"))
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)

    def mb(name: str) -> float:
        value = fields.get(name, "").split()
        return int(value[0]) / 1024 if value else float("nan")

    return Memory(mb("VmRSS"), mb("VmHWM"))


def largest(pids: list[int]) -> Memory:
    """The largest figures over the replicas of one deployment."""
    every = [memory_of(pid) for pid in pids]
    return Memory(max(m.now for m in every), max(m.peak for m in every))


def after_imports(module: str = "bot.app") -> float:
    """MB a fresh Python holds once `module` is imported (VmHWM), nothing run."""
    code = (
        f"import {module}\n"
        "status = open('/proc/self/status').read().split('VmHWM:')[1].split()[0]\n"
        "print(int(status) / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def run(number: int = 2, runs: int = 3) -> str:
    """Workload `number` (update transport, cold) `runs` times, each on a fresh bot."""
    # Here, not at the top: `deploy` reads the figures with this module's `largest`.
    from bench.deploy import run as run_workload
    from bench.scheduler import deployment_for
    from bench.workloads import all_workloads

    workload = next(w for w in all_workloads(quick=True) if w.number == number)
    lines = [
        f"Memory: workload {number} ({workload.title}), update transport, cold, {runs} runs on "
        f"fresh bots; MB of the bot process (largest replica), goal at most {GOAL_MB:g} MB.",
        f"  import bot.app alone: {after_imports():.1f} MB; import anthropic alone: "
        f"{after_imports('anthropic'):.1f} MB",
    ]
    print("\n".join(lines), flush=True)
    peaks = []
    for n in range(1, runs + 1):
        with tempfile.TemporaryDirectory() as tmp:
            figures = asyncio.run(run_workload(workload, deployment_for(workload), Path(tmp)))[0]
        line = (
            f"  run {n}: {figures.rss_start:.1f} MB after start-up, peak {figures.rss_peak:.1f} "
            f"MB ({figures.complete}/{figures.answers} answers complete)"
        )
        print(line, flush=True)
        peaks.append(figures.rss_peak)
    shown = ", ".join(f"{peak:.1f}" for peak in peaks)
    verdict = "met" if max(peaks) <= GOAL_MB else "missed"
    return f"  peak RSS {shown} MB: goal of at most {GOAL_MB:g} MB {verdict}"
