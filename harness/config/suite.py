"""Suite files: the TOML description of a grid and its settings.

Every mistake is reported as `file:line: what is wrong`, so a user can fix a suite without reading
a traceback.
"""

from __future__ import annotations

import copy
import os
import re
import tomllib
from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from harness.contracts import Option, SamplingParams
from harness.errors import BenchError, nearest

AXES = ("tasks", "languages", "strategies", "models", "classifiers")
#: how the gold training subset is drawn: the paper's first N per class in dataset order, or a seeded
#: random N per class, fresh for every generation replicate (so the gold draw's variance is measured)
GOLD_DRAWS = ("first", "random")
REMOTE_DATA = "remote"  # a data_dir that means: fetch the gold files from their pinned public sources


def resolve_data_dir(value: str, base: Path) -> str:
    """A data directory made absolute against `base` (the suite file's folder, or the working
    directory for --data-dir); the `remote` keyword is not a folder and stays as it is."""
    if value == REMOTE_DATA:
        return value
    try:
        return str((base / value).resolve())
    except (RuntimeError, OSError):  # a symbolic-link loop: kept as written, for the check that names it
        return os.path.abspath(base / value)


#: the strategy the others are compared with in the answer and the results table, unless a suite names another
DEFAULT_BASELINE = "zero-shot"
#: lines one generated sample is planned to hold: what request budgets and bills assume
LINES_PER_SAMPLE = 5
#: a setting's value that is left out of `Suite.settings()` (and so of the settings hash)
OMIT = object()


@dataclass(frozen=True)
class Key:
    """How one `Suite` field is written in a suite file and what it means for a run: the field's
    metadata, so that parsing, `settings()` and `check()` all read one declaration.

    `section`: the TOML section the key is written in (None: not a plain key of a section).
    `types`: what TOML values the key takes. `parse`: the file's value turned into the field's, or a
    ValueError whose text is the message. `check`: why a field value is wrong (file or code), or None.
    `setting`: whether the value decides the numbers, so enters `settings()` and the settings hash;
    a function gives the value as it enters them (or OMIT, to leave it out)."""

    section: str | None
    types: type | tuple[type, ...] = ()
    parse: Callable[[Any], Any] | None = None
    check: Callable[[str, Any], str | None] | None = None
    setting: bool | Callable[[Any], Any] = False


def _key(default: Any, section: str | None, types: type | tuple[type, ...] = (), **key: Any) -> Any:
    """A Suite field with its Key; a list or dict default is copied for every suite."""
    meta = {"key": Key(section, types, **key)}
    if isinstance(default, list | dict):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    if callable(default):
        return field(default_factory=default, metadata=meta)
    return field(default=default, metadata=meta)


def _at_least(low: int, why: str = "") -> Callable[[str, Any], str | None]:
    def check(name: str, value: Any) -> str | None:
        return None if value >= low else why or f"{name} must be at least {low}"
    return check


def _grid(value: Any) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not items or not all(isinstance(x, str) and x for x in items):
        raise ValueError("must be a non-empty list of names or globs")
    return list(items)


def _grid_check(name: str, value: Any) -> str | None:
    return None if value else f"[grid] {name} must be a non-empty list of names or globs"


def _seeds(value: Any) -> list[int]:
    if isinstance(value, int):
        if value < 1:
            raise ValueError("must be at least 1")
        return list(range(value))
    if not value or not all(isinstance(s, int) and not isinstance(s, bool) for s in value):
        raise ValueError("must be a count or a non-empty list of integers")
    return list(value)


def _seeds_check(name: str, value: Any) -> str | None:
    if not value:
        return "seeds must be a count of at least 1 or a non-empty list of integers"
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in value):
        return f"seeds must be integers, not {value!r}"
    if len(set(value)) != len(value):
        return "seeds must not repeat"
    return None


def _gold_check(name: str, value: Any) -> str | None:
    if value in GOLD_DRAWS:
        return None
    hint = nearest(value, GOLD_DRAWS)
    return f"[evaluation] gold must be one of {list(GOLD_DRAWS)}, not {value!r}" + (f"; did you mean {hint!r}?" if hint else "")


def _baseline_check(name: str, value: Any) -> str | None:
    return None if value else "[evaluation] baseline must name a strategy"


def _model_sampling(value: dict[str, dict[str, Any]]) -> Any:
    return {m: dict(v) for m, v in sorted(value.items())} if value else OMIT


def _unless_default(value: Any) -> Any:
    """The baseline enters the settings so that a leaderboard's settings (its manifest) say which
    strategy its rows are compared with; only where a suite changes it, so that every run made against
    zero-shot keeps its settings hash and resumes."""
    return OMIT if value == DEFAULT_BASELINE else value


_GRID = {"section": "grid", "types": (list, str), "parse": _grid, "check": _grid_check}
_GEN_INT = {"types": int, "setting": True}


@dataclass
class Suite:
    """A benchmark suite: a suite file (`load_suite`) or built in Python, with the same fields and the
    same checks (README.md, "Suites", says what each one means). The grid is five name lists (globs
    allowed: `["*"]`, `["target-demos*"]`); `[generation]`, `[sampling]` and `[evaluation]` values are
    fields of their own; the `[models."X"]`, `[classifiers."X"]` and `[strategies."X"]` tables are
    `model_options`, `classifier_options` and `strategy_options`. Each field's `Key` (its metadata)
    says where a suite file writes it, what it takes and whether it decides the numbers.

        Suite(name="mine", tasks=["massive10"], languages=["sw"], strategies=["zero-shot", "target-demos"],
              models=["gemma-3-270m"], classifiers=["e5-logreg"], per_class=8, seeds=[0, 1, 2])
    """

    name: str = _key("custom", "suite", str)
    description: str = _key("", "suite", str)
    tasks: list[str] = _key(["*"], **_GRID)
    languages: list[str] = _key(["*"], **_GRID)
    strategies: list[str] = _key(["*"], **_GRID)
    models: list[str] = _key(["gemma-3-270m"], **_GRID)
    classifiers: list[str] = _key(["e5-logreg"], **_GRID)
    per_class: int = _key(100, "generation", check=_at_least(1), **_GEN_INT)
    seeds: list[int] = _key(list(range(10)), "evaluation", (int, list), parse=_seeds, check=_seeds_check,
                            setting=True)
    seed: int = _key(0, "generation", **_GEN_INT)  # generation seed: demos, sampling
    summarizer: str = _key("", "generation", str, setting=True)  # model writing label summaries; "" = each generator
    faithful: bool = _key(False, "generation", bool, setting=True)
    data_dir: str = _key("", "suite", str)
    samples_per_request: int = _key(4, "generation", check=_at_least(1), **_GEN_INT)
    calls_per_class: int = _key(0, "generation", check=_at_least(0, "calls_per_class must be 0 (automatic) or more"),
                                **_GEN_INT)  # 0: derived from per_class
    demos_per_class: int = _key(10, "generation", check=_at_least(1), **_GEN_INT)
    summary_examples: int = _key(10, "generation", **_GEN_INT)
    sampling: SamplingParams = _key(SamplingParams, "sampling", setting=SamplingParams.as_dict)
    revision_max_new_tokens: int = _key(64, "generation", **_GEN_INT)
    # cap every synthetic class at its gold count before training
    match_gold_size: bool = _key(False, "evaluation", bool, setting=True)
    # independent generations per cell (own demos, sampling and classifier seeds); like the grid, it says
    # which cells exist rather than what they compute, so raising it resumes a run
    replicates: int = _key(1, "generation", int, check=_at_least(1))
    # gold subset: "first" N per class (the paper) or a seeded "random" draw per replicate
    gold: str = _key("first", "evaluation", str, check=_gold_check, setting=True)
    # the strategy the others are compared with (the answer's and the DataFrame's "vs" column)
    baseline: str = _key(DEFAULT_BASELINE, "evaluation", str, check=_baseline_check, setting=_unless_default)
    model_options: dict[str, dict[str, Any]] = _key({}, None)
    model_sampling: dict[str, dict[str, Any]] = _key({}, None, setting=_model_sampling)  # [models."X".sampling]
    classifier_options: dict[str, dict[str, Any]] = _key({}, None)
    strategy_options: dict[str, dict[str, Any]] = _key({}, None)  # [strategies."X"] tables
    source: str = _key("", None)

    def to_dict(self) -> dict[str, Any]:
        """Everything needed to rebuild this exact suite elsewhere (a Ray worker, `bench merge`)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Suite:
        known = {k: v for k, v in data.items() if k in SUITE_FIELDS}
        known["sampling"] = SamplingParams(**known.get("sampling", {}))
        return cls(**known)

    def with_overrides(self, overrides: Mapping[str, Any]) -> Suite:
        """A new suite: this one's values with `overrides` (field name -> value) on top. The suite
        itself is left as it was, so a suite built once in a notebook can be run many ways."""
        if unknown := [k for k in overrides if k not in SUITE_FIELDS]:
            raise BenchError(f"unknown suite setting {unknown[0]!r}")
        return replace(copy.deepcopy(self), **copy.deepcopy(dict(overrides)))

    def sampling_for(self, model: str) -> SamplingParams:
        """The suite's sampling with the model's own `[models."X".sampling]` values on top: a small
        base model and a large chat model rarely want the same decoding."""
        return SamplingParams(**{**self.sampling.as_dict(), **self.model_sampling.get(model, {})})

    def settings(self) -> dict[str, Any]:
        """What decides the numbers (not which cells): a run directory keeps one of these. The fields
        whose Key is a setting, as that Key gives them; model, classifier and strategy tables are in
        the ids of the cells they change instead."""
        plain = {n: copy.deepcopy(getattr(self, n)) for n, k in _KEYS.items() if k.setting is True}
        derived = {n: k.setting(getattr(self, n)) for n, k in _KEYS.items() if callable(k.setting)}
        return plain | {n: v for n, v in derived.items() if v is not OMIT}

    def options_for_strategy(self, name: str, declared: Mapping[str, Option] | None) -> dict[str, Any]:
        """A strategy's options as it reads them: its `[strategies."X"]` table, then for what the table
        leaves out the suite's `[generation]` value of the same name (the default every recipe of the
        suite shares), then the option's declared default."""
        table = dict(self.strategy_options.get(name, {}))
        if declared is None:
            return table
        out = {}
        for key, option in declared.items():
            if key in table:
                out[key] = table[key]
            elif key in _SPEC["generation"]:
                out[key] = getattr(self, key)
            else:
                out[key] = option.default
        return out

    def budget(self) -> int:
        if self.calls_per_class > 0:
            return self.calls_per_class
        # generous enough for a model accepting a quarter of its lines, yet always finite
        return max(4, -(-4 * self.per_class // max(1, self.samples_per_request * LINES_PER_SAMPLE)))


_KEYS: dict[str, Key] = {f.name: f.metadata["key"] for f in fields(Suite)}
SUITE_FIELDS = set(_KEYS)
#: the `[sampling]` table (and each `[models."X".sampling]`): SamplingParams's fields and their TOML types
_SAMPLING_TYPES: dict[str, type | tuple[type, ...]] = {
    "temperature": (float, int), "top_p": (float, int), "repetition_penalty": (float, int), "max_new_tokens": int}
#: the option tables of a suite file and the fields that keep them
_TABLES = {"models": "model_options", "classifiers": "classifier_options", "strategies": "strategy_options"}
#: each section's plain keys and their TOML types, from the fields' Keys
_SPEC: dict[str, dict[str, type | tuple[type, ...]]] = {}
for _name, _k in _KEYS.items():
    if _k.section is not None and _k.section != "sampling":
        _SPEC.setdefault(_k.section, {})[_name] = _k.types
_SPEC["sampling"] = _SAMPLING_TYPES
_TOP = {*_SPEC, *_TABLES}


#: what a model's generations cost, for the leaderboard's quality-cost frontier: per million input and
#: output tokens (an API's price), or per GPU-hour of engine time (a rented GPU). Not part of identity.
PRICE_KEYS = ("input_per_mtok", "output_per_mtok", "gpu_hour")


@dataclass(frozen=True)
class _PriceOption(Option):
    def problem(self, value: Any) -> str | None:
        if not isinstance(value, Mapping) or not value:
            return f"must be {self.what}, not {type(value).__name__} {value!r}"
        for key, number in value.items():
            if key not in PRICE_KEYS:
                hint = nearest(key, PRICE_KEYS)
                return f"has no key {key!r}" + (f"; did you mean {hint!r}?" if hint else f"; valid: {', '.join(PRICE_KEYS)}")
            if isinstance(number, bool) or not isinstance(number, int | float) or number < 0:
                return f"{key} must be a number, 0 or more, not {number!r}"
        if "gpu_hour" in value and len(value) > 1:
            return "takes either input_per_mtok/output_per_mtok or gpu_hour, not both"
        return None


PRICE = _PriceOption(dict, "a table: {input_per_mtok = X, output_per_mtok = Y} or {gpu_hour = Z}", identity=False)


#: options the harness itself reads (scheduling, and the GPUs a tensor-parallel model takes on Ray)
#: and those most engines share, with their types and ranges: a wrong type would otherwise surface as
#: a traceback from int()/float() when the model loads, after other work is done. An engine declares
#: which of these it reads, and its own (plugins/models/options.py: vLLM's and OpenAI's), on its ModelSpec.
_POSITIVE = Option(int, "a positive integer", 1)
_TEXT = Option(str, "a string")
COMMON_OPTIONS: dict[str, Option] = {
    "batch_size": _POSITIVE,
    "max_model_len": _POSITIVE,
    "tensor_parallel_size": _POSITIVE,
    "replicas": Option(int, "a positive integer", 1, identity=False),
    "seed": Option(int, "an integer"),
    "gpus": Option((int, float), "a number of GPUs, 0 or more", 0, identity=False),
    "cpus": Option((int, float), "a number of CPUs, 0 or more", 0, identity=False),
    "plain_prompts": Option(bool, "true or false"),
    "device": _TEXT,
    "dtype": _TEXT,
    "quantization": _TEXT,
    "revision": _TEXT,
    "price": PRICE,
}
#: options every model takes whatever its engine: where it runs, read by the executors
SCHEDULING_OPTIONS = ("gpus", "cpus", "replicas")


def option_problem(section: str, key: str, val: Any, declared: Mapping[str, Option] | None = None) -> str | None:
    """Why option `key = val` of `[section]` (a model's or classifier's table) is invalid, or None.
    `declared`: the engine's own options; without them only the common names are checked and any
    other is left to the plugin that reads it."""
    option = (declared or {}).get(key) or (COMMON_OPTIONS.get(key) if not section.startswith("strategies.") else None)
    if option is None:
        return None
    msg = option.problem(val)
    return f"[{section}] {key} {msg}" if msg else None


def option_table_problems(section: str, declared: Mapping[str, Option] | None,
                          options: Mapping[str, Any], scheduling: bool = True) -> list[tuple[str, str]]:
    """(key, message) for each option of the suite table `[section]` (a model's, a classifier's or a
    strategy's) that its plugin does not declare or that has a wrong value; a plugin that declares
    nothing (None) only gets the common checks. `scheduling`: the table also takes the executors'
    options (models and classifiers run somewhere; strategies run where their model does)."""
    out = []
    extra = (SCHEDULING_OPTIONS + (("price",) if section.startswith("models") else ())) if scheduling else ()
    for key, val in options.items():
        if declared is not None and key not in declared and key not in extra:
            valid = sorted({*declared, *extra})
            hint = nearest(key, valid)
            out.append((key, f"[{section}] has no option {key!r}" + (f"; did you mean {hint!r}?" if hint
                                                                     else f"; valid: {', '.join(valid)}" if valid
                                                                     else "; it takes none")))
        elif msg := option_problem(section, key, val, declared):
            out.append((key, msg))
    return out


def where(suite: Suite, key: str, section: str) -> str:
    """`file:line: ` of a key in the suite file the suite came from (empty for a suite built in code)."""
    try:
        text = Path(suite.source).read_text(encoding="utf-8-sig") if suite.source else None
    except (OSError, UnicodeDecodeError):
        text = None
    return f"{suite.source}:{_line_of(text, key, section)}: " if text is not None else ""


def _line_of(text: str, key: str, section: str | None = None) -> int:
    in_section = section is None
    for no, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            name = stripped.strip("[]").strip()
            in_section = section is None or name == section or name.startswith(section + ".")
            if section is not None and key == "" and name == section:
                return no
            continue
        if in_section and re.match(rf"^\s*\"?{re.escape(key)}\"?\s*=", line):
            return no
    return 1


def _type_name(t: type | tuple[type, ...]) -> str:
    ts = t if isinstance(t, tuple) else (t,)
    names = {int: "an integer", float: "a number", str: "a string", bool: "true/false", list: "a list", dict: "a table"}
    return " or ".join(names.get(x, x.__name__) for x in ts)


def _check_value(section: str, key: str, val: Any) -> str | None:
    """Why `key = val` is not valid in `[section]`, or None."""
    spec = _SPEC[section]
    if key not in spec:
        hint = nearest(key, spec)
        return f"unknown key {key!r} in [{section}]" + (f"; did you mean {hint!r}?" if hint else f"; valid: {sorted(spec)}")
    want = spec[key]
    if not isinstance(val, want) or (isinstance(val, bool) and want in (int, (float, int), (int, list))):
        return f"[{section}] {key} must be {_type_name(want)}, not {type(val).__name__} {val!r}"
    return None


def load_suite(path: str | Path, *, given: Collection[str] = ()) -> Suite:
    """A suite file read and checked, every mistake as `file:line: what is wrong`.

    Every axis of `[grid]` must be stated: a missing line read as "everything registered" would turn
    a two-strategy suite into a twelve-strategy run without a word. `given` names the axes the
    caller sets itself (`bench run --strategies ...`, `--all`), which the file may then leave out."""
    # long: one section after another, each read and checked where its lines are known; split, the
    # sections would share the parsed document, the line index and the suite under construction
    path = Path(path)
    if not path.is_file():
        raise BenchError(f"suite file {path} does not exist (suites live in benchmarks/, e.g. benchmarks/default.toml)")
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark, as some editors save, is dropped
    except UnicodeDecodeError as exc:
        raise BenchError(f"suite file {path} is not valid UTF-8 text (byte {exc.start}: {exc.reason}); "
                         "save it as UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        line = m.group(1) if m else "?"
        raise BenchError(f"{path}:{line}: malformed TOML: {exc}") from None

    def bad(msg: str, key: str, section: str | None) -> BenchError:
        return BenchError(f"{path}:{_line_of(text, key, section)}: {msg}")

    suite = Suite(source=str(path))
    for top, value in data.items():
        if top not in _TOP:
            hint = nearest(top, _TOP)
            raise bad(f"unknown section [{top}]" + (f"; did you mean [{hint}]?" if hint else f"; valid: {sorted(_TOP)}"),
                      top if not isinstance(value, dict) else "", None if not isinstance(value, dict) else top)
        if not isinstance(value, dict):
            raise bad(f"{top!r} must be a [section]", top, None)
        if top in _TABLES:
            for name, opts in value.items():
                if not isinstance(opts, dict):
                    raise bad(f"[{top}.{name!r}] must be a table of options for that {top[:-1]}", name, top)
                opts = dict(opts)
                if top == "models" and "sampling" in opts:
                    own = opts.pop("sampling")
                    section = f'models."{name}".sampling'
                    if not isinstance(own, dict):
                        raise bad(f'[{section}] must be a table of sampling values', "sampling", f'models."{name}"')
                    for key, val in own.items():
                        msg = _check_value("sampling", key, val)
                        if msg:
                            raise bad(msg.replace("[sampling]", f"[{section}]"), key, section)
                    suite.model_sampling[name] = own
                for key, val in opts.items():  # a strategy's table is checked against its declaration, in the plan
                    if top != "strategies" and (msg := option_problem(f'{top}."{name}"', key, val)):
                        raise bad(msg, key, f'{top}."{name}"')
                getattr(suite, _TABLES[top])[name] = opts
            continue
        for key, val in value.items():
            msg = _check_value(top, key, val)
            if msg:
                raise bad(msg, key, top)
            if top == "sampling":
                suite.sampling = SamplingParams(**{**suite.sampling.as_dict(), key: val})
                continue
            parse = _KEYS[key].parse
            try:
                setattr(suite, key, parse(val) if parse else val)
            except ValueError as exc:
                raise bad(f"[{top}] {key} {exc}", key, top) from None
    problems = check(suite)
    if problems:
        key, section, msg = problems[0]
        raise bad(msg, key, section)
    if not data.get("grid"):
        raise BenchError(f"{path}:1: no [grid] section; a suite must say what it runs, e.g. [grid] tasks = [\"sib200\"], "
                         "languages, strategies, models, classifiers (see benchmarks/default.toml; `bench run --all` "
                         "runs everything registered)")
    if missing := [axis for axis in AXES if axis not in data["grid"] and axis not in given]:
        axis = missing[0]
        raise bad(f'[grid] has no {axis} line; name the {axis} to run ({axis} = ["..."], see `bench list {axis}`), '
                  f'or say {axis} = ["*"] for every registered one (`bench run --all` runs every axis in full)'
                  + (f"; also missing: {', '.join(missing[1:])}" if missing[1:] else ""), "", "grid")
    if suite.data_dir:
        suite.data_dir = resolve_data_dir(suite.data_dir, path.parent)
    return suite


def check(suite: Suite) -> list[tuple[str, str, str]]:
    """Range checks shared by suite files and CLI overrides: (key, section, message)."""
    out = []
    for name, key in _KEYS.items():
        if key.check is not None and (msg := key.check(name, getattr(suite, name))):
            out.append((name, key.section or "", msg))
    sections = [("sampling", suite.sampling)]
    sections += [(f'models."{m}".sampling', suite.sampling_for(m)) for m in suite.model_sampling]
    for section, s in sections:
        if not 0 <= s.temperature <= 5:
            out.append(("temperature", section, f"[{section}] temperature must be between 0 and 5"))
        if not 0 < s.top_p <= 1:
            out.append(("top_p", section, f"[{section}] top_p must be in (0, 1]"))
        if not 0 < s.repetition_penalty <= 5:
            out.append(("repetition_penalty", section, f"[{section}] repetition_penalty must be in (0, 5]"))
        if s.max_new_tokens < 1:
            out.append(("max_new_tokens", section, f"[{section}] max_new_tokens must be at least 1"))
    for kind, tables in (("models", suite.model_options), ("classifiers", suite.classifier_options)):
        for name, opts in tables.items():
            for key, val in opts.items():
                if msg := option_problem(f'{kind}."{name}"', key, val):
                    out.append((key, f'{kind}."{name}"', msg))
    return out

