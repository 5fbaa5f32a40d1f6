"""The core names no built-in plugin: what the harness needs to know about a task, a model or a
classifier (licences, built-in rates, diagnostics, shared embeddings) the plugin declares, so a
third-party plugin is served exactly as a built-in one is.

The check reads the code of every module under harness/ (its string values, not its docstrings or
comments, where a built-in name is an example for the reader) for the names the built-in plugins
register, collected from the registry, so a new built-in is covered the day it is added."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

from harness.registry.discovery import KINDS, load_registry

ROOT = Path(__file__).resolve().parents[2]
HARNESS = ROOT / "harness"

#: (file, the name assigned, the value): the only places the core may spell a built-in's name, each
#: a setting's default or a stored key whose value existing files hold
ALLOWED = {
    # the suite's defaults: what `bench run` runs with no suite file
    ("harness/config/suite.py", "models", "gemma-3-270m"),
    ("harness/config/suite.py", "classifiers", "e5-logreg"),
    # the baseline strategy of comparisons: a suite setting's default
    ("harness/config/suite.py", "DEFAULT_BASELINE", "zero-shot"),
    # the shared embeddings' cache key: caches and cell ids hold the vectors by this value
    ("harness/kits/embeddings.py", "CACHE_NAME", "e5-logreg"),
}


@functools.cache
def built_in_names() -> dict[str, str]:
    """Every name the built-in plugins (the modules of plugins/) register -> its kind, except two
    kinds of name that are also something else: a model scheme (`hf`, `vllm`, `openai`) names the
    library its engines serve through, which the core names too (the `hf` export format, the `vllm`
    package), and a name that is a language code (the strategy `sl`, Slovenian's code)."""
    reg = load_registry()
    schemes = {name for name, spec in reg.models.items() if spec.prefix}
    codes = {code for task in reg.tasks.values() for code in task.languages()}
    return {name: kind for info in reg.plugins if info.module.split(".")[0] == "plugins"
            for kind, registered in info.registered.items() for name in registered
            if name not in schemes and name not in codes}


def _named(value: str, names: dict[str, str]) -> str | None:
    """The built-in name a string value spells: the name itself, or the name followed by what
    composes one (`zero-shot+desc`, `finetune[...]`, `e5-logreg@2`, `hf:<id>`)."""
    for name in names:
        if re.fullmatch(re.escape(name) + r"([+@\[:].*)?", value, flags=re.S):
            return name
    return None


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def _assigned_to(tree: ast.AST) -> dict[int, str]:
    """Each string constant inside an assignment or a dataclass field -> the name it is assigned to."""
    out = {}
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for target in targets:
            if isinstance(target, ast.Name) and node.value is not None:
                for sub in ast.walk(node.value):
                    out[id(sub)] = target.id
    return out


def mentions(path: Path, names: dict[str, str]) -> list[tuple[int, str, str, str]]:
    """(line, name assigned or "", the built-in name, the value) of each string value in a module's
    code that spells a built-in plugin's name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip, assigned = _docstrings(tree), _assigned_to(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            if name := _named(node.value, names):
                found.append((node.lineno, assigned.get(id(node), ""), name, node.value))
    return found


def test_the_check_finds_a_built_in_name_in_code_but_not_in_a_docstring(tmp_path):
    module = tmp_path / "m.py"
    module.write_text('"""Runs e5-logreg."""\n\nUSED = {"e5-logreg", "finetune"}\nRATE = ("zero-shot+desc", 1)\n'
                      'def f():\n    """zero-shot"""\n    return "finetune[x]" if 1 else "finetuned"\n')
    names = {"e5-logreg": "classifiers", "finetune": "classifiers", "zero-shot": "strategies"}
    assert sorted((line, name) for line, _, name, _ in mentions(module, names)) == [
        (3, "e5-logreg"), (3, "finetune"), (4, "zero-shot"), (7, "finetune")]


def test_the_names_come_from_the_registry():
    names = built_in_names()
    assert set(KINDS) <= set(names.values())
    assert "hf" not in names and "sl" not in names  # a model scheme, a language code
    assert len([n for n, kind in names.items() if kind == "strategies"]) >= 8


def test_harness_names_no_built_in_plugin():
    names = built_in_names()
    found = []
    for path in sorted(HARNESS.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        found += [f"{rel}:{line}: {value!r} ({names[name]} {name!r})"
                  for line, target, name, value in mentions(path, names) if (rel, target, value) not in ALLOWED]
    assert not found, ("the core names a built-in plugin; let the plugin declare what the core needs "
                       "(Task.licence, ModelSpec.rates/terms, Classifier.diagnoses/rates, ...):\n" + "\n".join(found))
