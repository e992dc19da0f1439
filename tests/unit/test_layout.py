"""The folders tell the flow, and the imports keep to it.

`bot/` is layered from the values every part shares up to the command that wires them; a module
may import its own layer and those below, never one above. docs/DESIGN.md ("Where the code
lives") draws the same map. This test reads the imports (as text, nothing is run) so a change
that runs an import back up the layers, or leaves more loose modules at the top, fails here
with the line to fix.
"""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).parents[2] / "bot"

# Bottom to top. `bot.settings` sits with the wiring: only the composition root reads it.
LAYERS: list[tuple[str, ...]] = [
    ("bot.errors", "bot.logs", "bot.question"),
    ("bot.model",),
    ("bot.wording",),
    ("bot.accounting",),
    ("bot.store",),
    ("bot.catalog", "bot.knowledge"),
    ("bot.delivery",),
    ("bot.answering",),
    ("bot.surfaces",),
    ("bot.app", "bot.cli", "bot.settings", "bot.__main__", "bot"),
]


def layer_of(module: str) -> int:
    best, found = -1, -1
    for number, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), number
    assert found >= 0, f"{module} is in no layer: add it to LAYERS and to docs/DESIGN.md's map"
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p) for p in BOT.rglob("*.py")}


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) for each import of ours; `from pkg import sub` names the submodule."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "bot" or node.module.startswith("bot."):
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    found.append((node.lineno, sub if sub in MODULES else node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("bot.")]
    return found


def test_no_import_runs_back_up_the_layers() -> None:
    upward = []
    for path in sorted(BOT.rglob("*.py")):
        here = module_name(path)
        for line, target in imports(path):
            if layer_of(target) > layer_of(here):
                upward.append(f"{path.relative_to(BOT.parent)}:{line} imports {target}")
    assert upward == []


def test_at_most_eight_modules_at_the_top_and_the_rest_in_subpackages() -> None:
    top = sorted(p.name for p in BOT.glob("*.py"))
    packages = sorted(p.name for p in BOT.iterdir() if (p / "__init__.py").is_file())
    assert len(top) <= 8, top
    assert len(packages) >= 4, packages


def test_no_import_circles() -> None:
    graph: dict[str, set[str]] = {}
    for path in BOT.rglob("*.py"):
        graph[module_name(path)] = {target for _, target in imports(path)}
    known = set(graph)
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, trail: list[str]) -> bool:
        state[node] = 1
        for target in sorted(graph.get(node, set()) & known):
            if state.get(target) == 1:
                cycle.extend([*trail[trail.index(target) :], target])
                return True
            if target not in state and visit(target, [*trail, target]):
                return True
        state[node] = 2
        return False

    for module in sorted(graph):
        if module not in state and visit(module, [module]):
            break
    assert cycle == []
