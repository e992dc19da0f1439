#!/usr/bin/env python3
"""Fetch the pages' front-end libraries from the npm registry into the package, pinned.

    python3 scripts/update_vendor.py                  fetch the versions in vendor.json again
    python3 scripts/update_vendor.py marked@18.3.0    move one library to another version
    python3 scripts/update_vendor.py --latest         move every library to its latest version
    python3 scripts/update_vendor.py --check          verify the files against vendor.json
                                                      (offline; the test suite runs this)

The chat and dashboard pages load these files from `/static/vendor/` (their Content Security
Policy allows scripts from the bot itself only), so nothing is fetched from a CDN at run time
and there is no build step. Each library's tarball comes from `npm pack`, which checks the
registry's integrity hash; the files taken from it, their licences, versions and sha256 are
recorded in `bot/surfaces/web/static/vendor/vendor.json`. Commit the changed files together.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VENDOR = Path(__file__).resolve().parent.parent / "bot" / "surfaces" / "web" / "static" / "vendor"
MANIFEST = VENDOR / "vendor.json"

# Which files each library gives the pages (path in its npm tarball -> name here), licence
# included. UMD builds: plain <script src> files that define a global, no bundler needed.
FILES: dict[str, dict[str, str]] = {
    "marked": {"lib/marked.umd.js": "marked.umd.js", "LICENSE": "marked.LICENSE"},
    "dompurify": {"dist/purify.min.js": "purify.min.js", "LICENSE": "dompurify.LICENSE"},
    "chart.js": {"dist/chart.umd.min.js": "chart.umd.min.js", "LICENSE.md": "chart.js.LICENSE.md"},
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pins", nargs="*", metavar="NAME@VERSION", help="libraries to move")
    parser.add_argument("--latest", action="store_true", help="move all to their latest version")
    parser.add_argument("--check", action="store_true", help="verify files against vendor.json")
    args = parser.parse_args(argv)
    if args.check:
        problems = check()
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    versions = pinned()
    for pin in args.pins:
        name, _, version = pin.rpartition("@")
        if name not in FILES or not version:
            parser.error(f"expected one of {', '.join(FILES)} as NAME@VERSION, not {pin!r}")
        versions[name] = version
    if args.latest:
        versions = {name: latest(name) for name in FILES}
    missing = [name for name in FILES if name not in versions]
    if missing:
        parser.error(f"no version recorded for {', '.join(missing)}: give it as NAME@VERSION")
    packages = [fetch(name, versions[name]) for name in FILES]
    MANIFEST.write_text(json.dumps({"packages": packages}, indent=2) + "\n", encoding="utf-8")
    for package in packages:
        print(f"{package['name']} {package['version']}: {', '.join(package['files'])}")
    return 0


def pinned() -> dict[str, str]:
    """The versions vendor.json records (none before the first run)."""
    if not MANIFEST.is_file():
        return {}
    packages = json.loads(MANIFEST.read_text(encoding="utf-8"))["packages"]
    return {p["name"]: p["version"] for p in packages}


def latest(name: str) -> str:
    return npm("view", name, "version").strip()


def fetch(name: str, version: str) -> dict[str, object]:
    """Unpack the wanted files of name@version into VENDOR; their record for vendor.json."""
    with tempfile.TemporaryDirectory() as scratch:
        packed = json.loads(npm("pack", f"{name}@{version}", "--json", cwd=scratch))[0]
        files: dict[str, dict[str, str]] = {}
        with tarfile.open(Path(scratch) / packed["filename"]) as tarball:
            for inside, local in FILES[name].items():
                member = tarball.extractfile(f"package/{inside}")
                if member is None:
                    sys.exit(f"{name}@{version} has no {inside}: update FILES in this script")
                data = member.read()
                (VENDOR / local).write_bytes(data)
                files[local] = {"from": inside, "sha256": hashlib.sha256(data).hexdigest()}
    return {
        "name": name,
        "version": packed["version"],
        "integrity": packed["integrity"],
        "files": files,
    }


def check() -> list[str]:
    """Every recorded file is present with its recorded sha256, and nothing else is here."""
    packages = json.loads(MANIFEST.read_text(encoding="utf-8"))["packages"]
    recorded = {local: f["sha256"] for p in packages for local, f in p["files"].items()}
    problems = []
    for local, digest in recorded.items():
        path = VENDOR / local
        if not path.is_file():
            problems.append(f"{local} is missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            problems.append(f"{local} differs from the sha256 in vendor.json")
    extra = {p.name for p in VENDOR.iterdir()} - set(recorded) - {MANIFEST.name}
    problems += [f"{name} is not in vendor.json" for name in sorted(extra)]
    return problems


def npm(*args: str, cwd: str | None = None) -> str:
    if shutil.which("npm") is None:
        sys.exit("npm is needed to fetch from the npm registry (apt-get install npm)")
    done = subprocess.run(["npm", *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"npm {' '.join(args)} failed:\n{done.stderr.strip()}")
    return done.stdout


if __name__ == "__main__":
    sys.exit(main())
