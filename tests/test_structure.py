"""The structure shows the flow: no import cycle among the harness's modules (lazy imports inside
functions included), only harness/rundir.py spells out the run directory's layout, and the built-in
plugins import only harness.api, as third-party ones do."""

from __future__ import annotations

import ast
import re
from pathlib import Path

HARNESS = Path(__file__).resolve().parent.parent / "harness"
PLUGINS = HARNESS.parent / "plugins"


def _imports(path: Path) -> set[str]:
    """harness modules imported anywhere in a file, except under `if TYPE_CHECKING:`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for n in ast.walk(node)}
    out = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("harness."):
            out.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            out |= {a.name.split(".")[1] for a in node.names if a.name.startswith("harness.")}
    return out


def test_no_import_cycle_in_the_harness():
    graph = {p.stem: _imports(p) - {p.stem} for p in HARNESS.glob("*.py")}
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*stack[stack.index(nxt):], nxt]))
            if nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_only_rundir_spells_out_the_run_directory_layout():
    folders = r'"(generations|scores|artefacts|samples|summaries|demos)"|"(plan|leaderboard|manifest)\.json"'
    offenders = [f"{p.relative_to(HARNESS.parent)}:{i}" for base in (HARNESS, PLUGINS) for p in base.rglob("*.py")
                 if p.name != "rundir.py"
                 for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if re.search(r"/\s*(" + folders + ")", line)]
    assert not offenders, offenders


def test_built_in_plugins_use_only_the_public_api():
    """What a third-party plugin can import is enough for the built-in ones too."""
    offenders = [f"{p.relative_to(PLUGINS.parent)}:{i}: {line.strip()}" for p in PLUGINS.rglob("*.py")
                 for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if re.match(r"\s*(from harness\.(?!api\b)\w+ import|import harness\.(?!api\b))", line)]
    assert not offenders, offenders
