#!/usr/bin/env python3
"""One entry point for a fresh machine that has only Python 3.11+.

    python3 scripts/dev.py run      install what the bot needs, then start it (shopmax-bot run)
    python3 scripts/dev.py test     install the test tools, then lint, type-check and run pytest
                                    (the bot tests twice: on SQLite, and on PostgreSQL if running)
    python3 scripts/dev.py bench    install, then run the benchmarks in bench/

Everything goes into `.venv/` beside this repository's pyproject.toml; the install step is
skipped when pyproject.toml has not changed since the last one. Extra arguments are passed on
(to `shopmax-bot run` for `run`, to pytest for `test`, to the benchmark for `bench`). The bot
reads its settings from the environment and `.env`: `PORT=3001 python3 scripts/dev.py run`.
`test` with arguments runs the chosen tests once, on SQLite; without, the whole suite and then
the bot tests again on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def ensure_installed(extra: str | None) -> None:
    """Create the virtual environment and install the project (with `extra`) when needed."""
    if not PYTHON.exists():
        print("Creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    spec = "." + (f"[{extra}]" if extra else "")
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + spec.encode()).hexdigest()[:16]
    stamp = VENV / f".installed-{digest}"
    if stamp.exists():
        return
    print(f"Installing {spec} into .venv ...", flush=True)
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True, cwd=ROOT)
    subprocess.run([*pip, "install", "-e", spec], check=True, cwd=ROOT)
    for old in VENV.glob(".installed-*"):
        old.unlink()
    stamp.touch()


def run(args: list[str]) -> int:
    ensure_installed(None)
    command = [str(BIN / "shopmax-bot"), "run", *args]
    if os.name == "posix":
        # Become the bot, so Ctrl-C reaches it alone and it stops gracefully (answers in
        # flight finish within SHOPMAX_SHUTDOWN_GRACE) instead of being killed with us.
        os.execv(command[0], command)
    return subprocess.call(command, cwd=Path.cwd())


def ensure_browser() -> None:
    """The browser tests drive the system's Chromium; install it where we can (root with apt,
    as in CI). Elsewhere those tests skip and say why."""
    if any(shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")):
        return
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("apt-get"):
        print("No Chromium found: the browser tests will be skipped.", flush=True)
        return
    print("Installing Chromium for the browser tests ...", flush=True)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.call(["apt-get", "update", "-qq"], env=env, **quiet)
    if subprocess.call(["apt-get", "install", "-y", "-qq", "chromium"], env=env, **quiet) != 0:
        print("Could not install Chromium: the browser tests will be skipped.", flush=True)


def ensure_postgres() -> None:
    """Start the machine's PostgreSQL cluster if it is installed but stopped (as root); the
    PostgreSQL tests skip, saying why, where none can be reached."""
    if not shutil.which("pg_lsclusters") or os.name != "posix" or os.geteuid() != 0:
        return
    clusters = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout
    for line in clusters.splitlines():
        version, name, _port, status = line.split()[:4]
        if status != "online":
            subprocess.call(
                ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "start"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )


def answers(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:`port`."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def ensure_redis() -> None:
    """Start a local Redis on 6379 (installing Debian's redis-server as root with apt if it is
    missing) when none answers there; the Redis tests skip, saying why, where none can be."""
    if answers(6379):
        return
    if not shutil.which("redis-server") and os.name == "posix" and os.geteuid() == 0:
        print("Installing Redis for the replica tests ...", flush=True)
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.call(["apt-get", "install", "-y", "-qq", "redis-server"], env=env, **quiet)
    if not shutil.which("redis-server"):
        print("No Redis found: the Redis tests will be skipped.", flush=True)
        return
    scratch = tempfile.gettempdir()  # nothing is saved; the log goes there too
    server = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379"]
    options = ["--save", "", "--appendonly", "no", "--dir", scratch]
    log = ["--logfile", str(Path(scratch) / "shopmax-redis.log")]
    subprocess.call([*server, *options, *log], stdout=subprocess.DEVNULL)
    for _ in range(50):
        if answers(6379):
            return
        time.sleep(0.1)
    print("Redis did not start: the Redis tests will be skipped.", flush=True)


def ensure_services() -> None:
    ensure_postgres()
    ensure_redis()


# Run again on PostgreSQL: the scenario tests that build a bot in this process (the contract
# tests already cover both stores; the process, replica and browser tests bring their own).
OWN_STORE = ["test_browser", "test_command_line", "test_process", "test_replicas"]
OWN_STORE += ["test_startup", "test_terminal", "test_try_it"]
OWN_STORE += ["test_outage_services", "test_database_away"]


def test(args: list[str]) -> int:
    ensure_installed("test")
    ensure_browser()
    ensure_services()
    linted = [d for d in ("bot", "tests", "bench", "scripts") if (ROOT / d).is_dir()]
    pytest = [str(PYTHON), "-m", "pytest"]
    ignored = [f"--ignore=tests/scenarios/{name}.py" for name in OWN_STORE]
    steps: list[tuple[dict[str, str], list[str]]] = [
        ({}, [str(PYTHON), "-m", "ruff", "check", *linted]),
        ({}, [str(PYTHON), "-m", "mypy"]),
        ({}, [*pytest, *args]),
    ]
    if args:
        print(
            "Tests chosen by arguments run once, on SQLite (SHOPMAX_TEST_STORE=postgres for "
            "PostgreSQL).",
            flush=True,
        )
    elif answers(5432):
        rerun = [*pytest, "tests/scenarios", *ignored]
        steps.append(({"SHOPMAX_TEST_STORE": "postgres"}, rerun))
    else:
        print("No PostgreSQL on 127.0.0.1:5432: the bot tests run on SQLite only.", flush=True)
    for env, step in steps:
        shown = [f"{k}={v}" for k, v in env.items()] + [Path(step[0]).name, *step[1:]]
        print("$", " ".join(shown), flush=True)
        code = subprocess.call(step, cwd=ROOT, env={**os.environ, **env})
        if code != 0:
            return code
    return 0


def bench(args: list[str]) -> int:
    ensure_installed("test")
    ensure_services()
    return subprocess.call([str(PYTHON), "-m", "bench", *args], cwd=ROOT)


def main() -> int:
    commands = {"run": run, "test": test, "bench": bench}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
