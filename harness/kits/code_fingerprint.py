"""The identity of a plugin's code, for its `fingerprint()`: one policy for every plugin that puts
its code in its cells' identity.

A cell made by other code is another cell, never a finished one to resume; a cell made by the same
code is the same cell, whatever its comments, docstrings or formatting say. So the fingerprint is a
digest of the parsed code with docstrings removed and written back out (`ast.unparse`): a comment, a
docstring, a blank line or a formatter run keeps it, a changed constant, condition or call changes
it. A hand-bumped version tag would rely on someone remembering to bump it; raw file bytes would
recompute every cell for a comment."""

from __future__ import annotations

import ast
import functools
import importlib.util
from pathlib import Path
from types import ModuleType

from harness.store.cache import digest


def code_fingerprint(*modules: ModuleType | str) -> str:
    """16 hex digits naming the code of `modules` (in the order given), comments, docstrings and
    formatting left out. A strategy or classifier passes the modules whose code decides its outputs,
    as module objects or dotted names (a name is found without importing the module, so a module
    that imports torch costs nothing until it runs):

        def fingerprint(self):
            return f"{self.name}@{code_fingerprint(__name__, 'my_plugin.parser')}"
    """
    return digest([_module_code(m) for m in modules])[:16]


def _module_code(module: ModuleType | str) -> str:
    if isinstance(module, str):
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.origin:
            raise ModuleNotFoundError(f"no module {module!r} to fingerprint")
        path = Path(spec.origin)
    else:
        path = Path(module.__file__ or "")
    stat = path.stat()
    return normalized_code(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=256)
def normalized_code(path: str, mtime_ns: int = 0, size: int = 0) -> str:
    """The module's code as `ast.unparse` writes it, without docstrings; cached per file version
    (its modification time and size), since each cell's fingerprint asks again."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return ast.unparse(tree)
