"""`help()` is documentation too: every name of `harness.api` has a docstring of its own, and the two
types every plugin builds, `Recipe` and `Language`, explain each of their fields there."""

from __future__ import annotations

import dataclasses
import inspect
import re

import pytest

import harness.api as api


def _own_doc(obj) -> str:
    """The docstring written for `obj` itself: for a class, the one defined on it (not a base class's),
    and not the bare signature `@dataclass` writes where there is none."""
    if inspect.isclass(obj):
        doc = obj.__dict__.get("__doc__") or ""
        if dataclasses.is_dataclass(obj) and doc == obj.__name__ + str(inspect.signature(obj)).replace(" -> None", ""):
            return ""
        return doc.strip()
    return (obj.__doc__ or "").strip()


def _documented_values() -> set[str]:
    """Names the module's docstring describes (a value cannot carry a docstring: `- `NAME`: ...`)."""
    return set(re.findall(r"^- `(\w+)`:", api.__doc__, flags=re.M))


def test_every_public_name_has_a_docstring_of_its_own():
    names = getattr(api, "__all__", None) or [n for n in dir(api) if not n.startswith("_")]
    missing = []
    for name in names:
        obj = getattr(api, name)
        if inspect.isclass(obj) or inspect.isroutine(obj):
            ok = bool(_own_doc(obj))
        else:  # a constant or a type alias: described in the module's docstring
            ok = name in _documented_values()
        if not ok:
            missing.append(name)
    assert not missing, f"no docstring of their own: {missing}"


def test_the_doc_check_sees_a_bare_dataclass_and_an_inherited_docstring():
    @dataclasses.dataclass
    class Bare:
        x: int

    class Base:
        """Documented."""

    class Child(Base):
        pass

    assert _own_doc(Bare) == "" and _own_doc(Child) == "" and _own_doc(Base) == "Documented."


@pytest.mark.parametrize("cls", [api.Recipe, api.Language, api.ClassifierContext])
def test_recipe_and_language_explain_every_field(cls):
    doc = _own_doc(cls)
    unexplained = [f.name for f in dataclasses.fields(cls) if f"`{f.name}`" not in doc]
    assert not unexplained, f"{cls.__name__}'s docstring does not explain {unexplained}"
    assert f"{cls.__name__}(" in doc  # with an example
