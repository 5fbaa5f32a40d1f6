"""Dataclasses that write themselves as JSON and describe themselves as JSON Schema.

The leaderboard is a file other tools read, so its JSON is the contract: a field's position in the
class is its position in the file, a field declared `optional` is left out when it holds None, and
the schema that validates the file is generated from the same declarations (harness/results/model.py
declares them). Plain dataclasses rather than a validation library: the bytes of every leaderboard
written before stay the bytes written now, and the schema says exactly what it said by hand.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from functools import cache
from typing import Any, Literal, Union

#: the $defs names of the classes the schema refers to rather than inlines
DEFS: dict[type, str] = {}


def required(**schema: Any) -> Any:
    """A field every document has; `schema` adds keywords (description, minimum, ...) or `ref`
    (a name in the schema's $defs) or `override` (the whole schema, for free-form parts)."""
    return dataclasses.field(metadata={"schema": schema})


def optional(*, nullable: bool = False, **schema: Any) -> Any:
    """A field a document may leave out; None leaves it out on writing, unless `nullable` (then the
    file holds null, which says "unknown", as the field's description explains)."""
    return dataclasses.field(default=None, metadata={"schema": schema, "optional": True, "nullable": nullable})


def defined(name: str):
    """Class decorator: the schema names this class in $defs and refers to it."""
    def mark(cls: type) -> type:
        DEFS[cls] = name
        return cls
    return mark


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _fields(cls: type) -> list[tuple[dataclasses.Field, Any]]:
    hints = _hints(cls)
    return [(f, hints[f.name]) for f in dataclasses.fields(cls)]


def _strip_none(hint: Any) -> tuple[Any, bool]:
    """`X | None` -> (X, True); anything else -> (hint, False)."""
    if typing.get_origin(hint) in (Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1 < len(typing.get_args(hint)):  # the models use no other unions
            return args[0], True
    return hint, False


def to_json(value: Any) -> Any:
    """The JSON value of a model (dataclasses, lists, dicts and scalars), fields in declared order."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if v is None and f.metadata.get("optional") and not f.metadata.get("nullable"):
                continue
            out[f.name] = to_json(v)
        return out
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value


def from_json(hint: Any, value: Any) -> Any:
    """A model from its JSON value (already valid against the schema); keys the model does not
    declare are left out, as the schema allows them."""
    hint, _ = _strip_none(hint)
    if value is None:
        return None
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return hint(**{f.name: from_json(h, value[f.name]) for f, h in _fields(hint) if f.name in value})
    origin = typing.get_origin(hint)
    if origin is list:
        (item,) = typing.get_args(hint)
        return [from_json(item, v) for v in value]
    if origin is dict:
        _, item = typing.get_args(hint)
        return {k: from_json(item, v) for k, v in value.items()}
    return value


_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _type_schema(hint: Any, defs: dict[str, Any]) -> dict[str, Any]:
    inner, nullable = _strip_none(hint)
    if nullable:
        base = _type_schema(inner, defs)
        if set(base) == {"type"} or ("type" in base and "$ref" not in base):
            t = base["type"]
            return {**base, "type": [*([t] if isinstance(t, str) else t), "null"]}
        return {"oneOf": [base, {"type": "null"}]}
    if hint is Any:
        return {}
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    if typing.get_origin(hint) is Literal:
        values = list(typing.get_args(hint))
        return {"const": values[0]} if len(values) == 1 else {"enum": values}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if hint in DEFS:
            name = DEFS[hint]
            if name not in defs:
                defs[name] = {}  # a placeholder first: a class may refer to itself
                defs[name] = object_schema(hint, defs)
            return {"$ref": f"#/$defs/{name}"}
        return object_schema(hint, defs)
    origin = typing.get_origin(hint)
    if origin is list:
        (item,) = typing.get_args(hint)
        return {"type": "array", "items": _type_schema(item, defs)}
    if origin is dict:
        _, item = typing.get_args(hint)
        return {"type": "object", "additionalProperties": _type_schema(item, defs)}
    raise TypeError(f"no JSON Schema for {hint!r}")


def field_schema(f: dataclasses.Field, hint: Any, defs: dict[str, Any]) -> dict[str, Any]:
    spec = dict(f.metadata.get("schema", {}))
    if "override" in spec:
        return spec["override"]
    if "ref" in spec:
        return {"$ref": f"#/$defs/{spec.pop('ref')}", **spec}
    if f.metadata.get("optional"):  # declared `X | None` so that it can be left out
        inner, _ = _strip_none(hint)
        hint = inner | None if f.metadata.get("nullable") else inner
    return {**_type_schema(hint, defs), **spec}


def object_schema(cls: type, defs: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object"}
    need = [f.name for f in dataclasses.fields(cls) if not f.metadata.get("optional")]
    if need:
        out["required"] = need
    if doc := getattr(cls, "SCHEMA_DESCRIPTION", None):
        out["description"] = doc
    out["properties"] = {f.name: field_schema(f, h, defs) for f, h in _fields(cls)}
    return out
