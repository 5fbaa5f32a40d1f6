"""One identity policy for every plugin's code: the fingerprint of the parsed code, which a comment,
a docstring or a formatter cannot change and a code edit always does; the built-in strategies and
classifiers put it in their fingerprints."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from harness.kits import code_fingerprint as cf
from harness.kits.code_fingerprint import code_fingerprint
from harness.registry.discovery import load_registry

BASE = '''"""A parser."""

LIMIT = 3


def parse(text):
    """Lines of text."""
    return [line.strip() for line in text.splitlines()][:LIMIT]
'''

SAME_CODE = '''"""A parser, documented at length.

It keeps the first lines.
"""
LIMIT = 3  # at most


def parse(text):
    # strip each line
    return [line.strip()
            for line in text.splitlines()][:LIMIT]
'''

OTHER_CODE = BASE.replace("LIMIT = 3", "LIMIT = 4")


def _module(tmp_path: Path, name: str, text: str) -> types.ModuleType:
    path = tmp_path / f"{name}.py"
    path.write_text(text, encoding="utf-8")
    module = types.ModuleType(name)
    module.__file__ = str(path)
    return module


def test_comments_docstrings_and_formatting_keep_the_fingerprint(tmp_path):
    assert code_fingerprint(_module(tmp_path, "a", BASE)) == code_fingerprint(_module(tmp_path, "b", SAME_CODE))


def test_a_code_edit_changes_the_fingerprint(tmp_path):
    base = code_fingerprint(_module(tmp_path, "a", BASE))
    assert base != code_fingerprint(_module(tmp_path, "b", OTHER_CODE))
    assert base != code_fingerprint(_module(tmp_path, "c", BASE + "\n\ndef extra():\n    pass\n"))


def test_a_function_left_with_only_a_docstring_still_parses(tmp_path):
    only_doc = 'def hook():\n    """Nothing to do."""\n'
    assert code_fingerprint(_module(tmp_path, "a", only_doc)) == code_fingerprint(
        _module(tmp_path, "b", "def hook():\n    pass\n"))


def test_a_module_is_found_by_name_without_being_imported(tmp_path, monkeypatch):
    (tmp_path / "never_imported.py").write_text("raise SystemExit('imported')\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert len(code_fingerprint("never_imported")) == 16
    with pytest.raises(ModuleNotFoundError):
        code_fingerprint("no_such_module_here")


@pytest.mark.parametrize(("kind", "name", "module"), [
    ("strategies", "zero-shot", "parsing.py"),
    ("strategies", "target-demos+sl+revision", "compose.py"),
    ("classifiers", "e5-logreg", "logreg.py"),
    ("classifiers", "tfidf-logreg", "logreg.py"),
    ("classifiers", "finetune", "ensemble.py"),
    ("classifiers", "finetune", "finetune.py"),
])
def test_a_built_in_fingerprint_follows_the_code_that_makes_its_outputs(kind, name, module, monkeypatch):
    plugin = getattr(load_registry(), kind)[name]
    before = plugin.fingerprint()
    real = cf._module_code

    def edited(m):
        path = m if isinstance(m, str) else m.__file__
        code = real(m)
        return code + "\nedited = True" if str(path).endswith(module) or str(path).endswith(module[:-3]) else code

    monkeypatch.setattr(cf, "_module_code", edited)
    assert plugin.fingerprint() != before
