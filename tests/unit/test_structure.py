"""The structure shows the flow: imports point one way (plugins -> harness.api -> the rest of the
harness), with no cycle among the modules of harness and plugins together (imports inside functions
and under `TYPE_CHECKING` included); only the run-directory module spells out the run directory's layout."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HARNESS = ROOT / "harness"
PLUGINS = ROOT / "plugins"
PACKAGES = ("harness", "plugins")


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def _imports(path: Path, known: set[str]) -> set[str]:
    """The project's modules a file imports anywhere, under `if TYPE_CHECKING:` too (a cycle that
    only type checkers follow is still two modules that each need the other); `from a.b import c`
    counts as a.b.c where c is a module, else as a.b."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                out.add(full if full in known else node.module)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    return {m for m in out if m in known}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(path, known) - {name} for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for module in sorted(graph):
        if module not in state and (found := visit(module)):
            return found
    return None


def test_the_cycle_check_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_imports_for_type_checkers_count(tmp_path):
    (tmp_path / "a.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import b\n")
    assert _imports(tmp_path / "a.py", {"b"}) == {"b"}


def test_no_import_cycle_across_harness_and_plugins():
    graph = _graph()
    assert "harness.api" in graph and "plugins.strategies" in graph
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_harness_never_imports_the_built_in_plugins():
    offenders = {m: sorted(d for d in deps if d.startswith("plugins")) for m, deps in _graph().items()
                 if m.startswith("harness")}
    assert not {m: d for m, d in offenders.items() if d}


def test_built_in_plugins_use_only_the_public_api():
    """What a third-party plugin can import is enough for the built-in ones too: the public API, and
    the helpers the built-in plugins share (harness/_builtin_kit.py), which a third party may use too."""
    offenders = {m: sorted(d for d in deps if d.startswith("harness") and d not in ("harness.api", "harness._builtin_kit"))
                 for m, deps in _graph().items() if m.startswith("plugins")}
    assert not {m: d for m, d in offenders.items() if d}


def test_the_api_has_no_module_getattr():
    """Every name of the API is a real attribute, so `help()`, editors and `dir()` see it."""
    tree = ast.parse((HARNESS / "api.py").read_text(encoding="utf-8"))
    assert not [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "__getattr__"]


def test_only_rundir_spells_out_the_run_directory_layout():
    folders = r'"(generations|scores|artefacts|samples|summaries|demos)"|"(plan|leaderboard|manifest)\.json"'
    offenders = [f"{p.relative_to(ROOT)}:{i}" for base in (HARNESS, PLUGINS) for p in base.rglob("*.py")
                 if p.name != "rundir.py"
                 for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if re.search(r"/\s*(" + folders + ")", line)]
    assert not offenders, offenders


def test_unit_tests_start_no_process():
    """tests/unit runs in-process; a test that needs a real process belongs in tests/e2e."""
    offenders = [f"{p.relative_to(ROOT)}:{i}" for p in (ROOT / "tests" / "unit").rglob("*.py") if p.name != "test_structure.py"
                 for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if re.search(r"\b(subprocess|bench_process|Popen)\b", line)]
    assert not offenders, offenders


def test_unit_tests_read_the_miniature_gold_data_only():
    """tests/unit reads tests/unit/data/gold (conftest pins BENCH_DATA_DIR there); the real data is
    for tests/e2e and tests/plugins."""
    offenders = [f"{p.relative_to(ROOT)}:{i}" for p in (ROOT / "tests" / "unit").rglob("*.py") if p.name != "test_structure.py"
                 for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if re.search(r"\bshared_data\b", line)]
    assert not offenders, offenders
    assert (ROOT / "tests" / "unit" / "data" / "gold" / "kinit" / "intent" / "sw-test.csv").is_file()


#: the longest a function of harness/ or plugins/ may be without a reason written beside it
MAX_LINES = 65


def test_functions_fit_on_a_screen_or_say_why_not():
    """A function over MAX_LINES lines has a `# long: why` comment in its first lines."""
    offenders = []
    for base in (HARNESS, PLUGINS):
        for p in base.rglob("*.py"):
            lines = p.read_text(encoding="utf-8").splitlines()
            for node in ast.walk(ast.parse("\n".join(lines))):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    size = node.end_lineno - node.lineno + 1
                    head = lines[node.lineno - 1:node.lineno + 12]
                    if size > MAX_LINES and not any("# long:" in line for line in head):
                        offenders.append(f"{p.relative_to(ROOT)}:{node.lineno} {node.name} ({size} lines)")
    assert not offenders, offenders
