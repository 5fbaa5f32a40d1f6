"""Suite files: the TOML description of a grid and its settings.

Every mistake is reported as `file:line: what is wrong`, so a user can fix a suite without reading
a traceback.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field, fields
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


@dataclass
class Suite:
    """A benchmark suite: a suite file (`load_suite`) or built in Python, with the same fields and the
    same checks (README.md, "Suites", says what each one means). The grid is five name lists (globs
    allowed: `["*"]`, `["target-demos*"]`); `[generation]`, `[sampling]` and `[evaluation]` values are
    fields of their own; the `[models."X"]`, `[classifiers."X"]` and `[strategies."X"]` tables are
    `model_options`, `classifier_options` and `strategy_options`.

        Suite(name="mine", tasks=["massive10"], languages=["sw"], strategies=["zero-shot", "target-demos"],
              models=["gemma-3-270m"], classifiers=["e5-logreg"], per_class=8, seeds=[0, 1, 2])
    """

    name: str = "custom"
    description: str = ""
    tasks: list[str] = field(default_factory=lambda: ["*"])
    languages: list[str] = field(default_factory=lambda: ["*"])
    strategies: list[str] = field(default_factory=lambda: ["*"])
    models: list[str] = field(default_factory=lambda: ["gemma-3-270m"])
    classifiers: list[str] = field(default_factory=lambda: ["e5-logreg"])
    per_class: int = 100
    seeds: list[int] = field(default_factory=lambda: list(range(10)))
    seed: int = 0  # generation seed: demos, sampling
    summarizer: str = ""  # model writing label summaries; "" = each generator for itself
    faithful: bool = False
    data_dir: str = ""
    samples_per_request: int = 4
    calls_per_class: int = 0  # 0: derived from per_class
    demos_per_class: int = 10
    summary_examples: int = 10
    sampling: SamplingParams = field(default_factory=SamplingParams)
    revision_max_new_tokens: int = 64
    match_gold_size: bool = False  # cap every synthetic class at its gold count before training
    replicates: int = 1  # independent generations per cell (own demos, sampling and classifier seeds)
    gold: str = "first"  # gold subset: "first" N per class (the paper) or a seeded "random" draw per replicate
    model_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    model_sampling: dict[str, dict[str, Any]] = field(default_factory=dict)  # [models."X".sampling] overrides
    classifier_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    strategy_options: dict[str, dict[str, Any]] = field(default_factory=dict)  # [strategies."X"] tables
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Everything needed to rebuild this exact suite elsewhere (a Ray worker, `bench merge`)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Suite:
        known = {k: v for k, v in data.items() if k in SUITE_FIELDS}
        known["sampling"] = SamplingParams(**known.get("sampling", {}))
        return cls(**known)

    def sampling_for(self, model: str) -> SamplingParams:
        """The suite's sampling with the model's own `[models."X".sampling]` values on top: a small
        base model and a large chat model rarely want the same decoding."""
        return SamplingParams(**{**self.sampling.as_dict(), **self.model_sampling.get(model, {})})

    def settings(self) -> dict[str, Any]:
        """What decides the numbers (not which cells): a run directory keeps one of these. The
        replicate count, like the grid, says which cells exist, so raising it resumes a run."""
        keep = {
            "per_class", "seeds", "seed", "summarizer", "faithful", "samples_per_request", "calls_per_class",
            "demos_per_class", "summary_examples", "revision_max_new_tokens", "match_gold_size", "gold",
        }
        out = {k: v for k, v in asdict(self).items() if k in keep}
        out["sampling"] = self.sampling.as_dict()
        if self.model_sampling:
            out["model_sampling"] = {m: dict(v) for m, v in sorted(self.model_sampling.items())}
        return out  # model, classifier and strategy tables are in the ids of the cells they change

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
            elif key in _SPEC["generation"] and key in SUITE_FIELDS:
                out[key] = getattr(self, key)
            else:
                out[key] = option.default
        return out

    def budget(self) -> int:
        if self.calls_per_class > 0:
            return self.calls_per_class
        # generous enough for a model accepting a quarter of its lines, yet always finite
        return max(4, -(-4 * self.per_class // max(1, self.samples_per_request * 5)))


_TOP = {"suite", "grid", "generation", "sampling", "evaluation", "models", "classifiers", "strategies"}
_SPEC: dict[str, dict[str, type | tuple[type, ...]]] = {
    "suite": {"name": str, "description": str, "data_dir": str},
    "grid": {a: (list, str) for a in AXES},
    "generation": {
        "per_class": int, "seed": int, "summarizer": str, "faithful": bool, "samples_per_request": int,
        "calls_per_class": int, "demos_per_class": int, "summary_examples": int, "revision_max_new_tokens": int,
        "replicates": int,
    },
    "sampling": {"temperature": (float, int), "top_p": (float, int), "repetition_penalty": (float, int), "max_new_tokens": int},
    "evaluation": {"seeds": (int, list), "match_gold_size": bool, "gold": str},
}


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
        if top in ("models", "classifiers", "strategies"):
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
                getattr(suite, f"{top[:-1] if top != 'strategies' else 'strategy'}_options")[name] = opts
            continue
        for key, val in value.items():
            msg = _check_value(top, key, val)
            if msg:
                raise bad(msg, key, top)
            if top == "grid":
                items = [val] if isinstance(val, str) else val
                if not items or not all(isinstance(x, str) and x for x in items):
                    raise bad(f"[grid] {key} must be a non-empty list of names or globs", key, top)
                setattr(suite, key, list(items))
            elif top == "sampling":
                suite.sampling = SamplingParams(**{**suite.sampling.as_dict(), key: val})
            elif top == "evaluation" and key in ("match_gold_size", "gold"):
                setattr(suite, key, val)
            elif top == "evaluation":
                if isinstance(val, int):
                    if val < 1:
                        raise bad("[evaluation] seeds must be at least 1", key, top)
                    suite.seeds = list(range(val))
                else:
                    if not val or not all(isinstance(s, int) and not isinstance(s, bool) for s in val):
                        raise bad("[evaluation] seeds must be a count or a non-empty list of integers", key, top)
                    suite.seeds = list(val)
            else:
                setattr(suite, key, val)
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
    if suite.per_class < 1:
        out.append(("per_class", "generation", "per_class must be at least 1"))
    if suite.samples_per_request < 1:
        out.append(("samples_per_request", "generation", "samples_per_request must be at least 1"))
    if suite.calls_per_class < 0:
        out.append(("calls_per_class", "generation", "calls_per_class must be 0 (automatic) or more"))
    if suite.replicates < 1:
        out.append(("replicates", "generation", "replicates must be at least 1"))
    if suite.gold not in GOLD_DRAWS:
        hint = nearest(suite.gold, GOLD_DRAWS)
        out.append(("gold", "evaluation", f"[evaluation] gold must be one of {list(GOLD_DRAWS)}, not {suite.gold!r}"
                    + (f"; did you mean {hint!r}?" if hint else "")))
    if suite.demos_per_class < 1:
        out.append(("demos_per_class", "generation", "demos_per_class must be at least 1"))
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
    if not suite.seeds:
        out.append(("seeds", "evaluation", "seeds must be a count of at least 1 or a non-empty list of integers"))
    elif not all(isinstance(x, int) and not isinstance(x, bool) for x in suite.seeds):
        out.append(("seeds", "evaluation", f"seeds must be integers, not {suite.seeds!r}"))
    elif len(set(suite.seeds)) != len(suite.seeds):
        out.append(("seeds", "evaluation", "seeds must not repeat"))
    for axis in AXES:
        if not getattr(suite, axis):
            out.append((axis, "grid", f"[grid] {axis} must be a non-empty list of names or globs"))
    for kind, tables in (("models", suite.model_options), ("classifiers", suite.classifier_options)):
        for name, opts in tables.items():
            for key, val in opts.items():
                if msg := option_problem(f'{kind}."{name}"', key, val):
                    out.append((key, f'{kind}."{name}"', msg))
    return out


SUITE_FIELDS = {f.name for f in fields(Suite)}
