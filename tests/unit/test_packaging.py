"""What the package ships: every file the pages load, vendored libraries and licences included,
is matched by pyproject's package-data (a file left out works from a checkout and 404s from
an installed package, as in the Docker image)."""

from __future__ import annotations

import tomllib
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).parents[2]


def test_every_static_file_is_in_the_package_data() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["bot"]
    static = ROOT / "bot" / "surfaces" / "web" / "static"
    files = [p.relative_to(ROOT / "bot").as_posix() for p in static.rglob("*") if p.is_file()]
    left_out = [f for f in files if not any(shipped(f, p) for p in patterns)]
    assert files and left_out == []


def shipped(path: str, pattern: str) -> bool:
    """setuptools' glob: `*` stays within one folder."""
    parts = PurePosixPath(path)
    return len(parts.parts) == len(PurePosixPath(pattern).parts) and parts.match(pattern)
