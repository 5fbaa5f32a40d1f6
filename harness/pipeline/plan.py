"""From a suite and CLI filters to the list of cells a run executes.

A generation cell is (task, language, strategy, model); an evaluation cell trains one classifier on
a generation cell's output or on the gold baseline, over all seeds. Ids are derived from the full
configuration, so the same settings always name the same cell and a run directory can be resumed.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness import __version__
from harness.config.suite import AXES, COMMON_OPTIONS, Suite, option_table_problems, where
from harness.contracts import Language, Option
from harness.errors import BenchError, unknown
from harness.pipeline.provenance import key as provenance_key
from harness.pipeline.provenance import split_fingerprint
from harness.pipeline.work import cell_calls
from harness.registry.discovery import Registry
from harness.results.model import Unavailable
from harness.store.cache import digest
from harness.store.rundir import slug

GOLD = "gold"


@dataclass(frozen=True)
class GenCell:
    id: str
    task: str
    language: str
    strategy: str
    model: str
    config: dict = field(compare=False, hash=False, repr=False)
    expected_calls: int = field(default=0, compare=False)
    replicate: int = 0  # which independent generation of (task, language, strategy, model) this is


@dataclass(frozen=True)
class EvalCell:
    id: str
    task: str
    language: str
    strategy: str  # GOLD for the gold baseline
    model: str  # "" for the gold baseline
    classifier: str
    source: str  # generation cell id, or GOLD
    config: dict = field(compare=False, hash=False, repr=False)
    replicate: int = 0  # the generation replicate it scores (gold: the replicate whose seeds and draw it uses)


@dataclass
class Plan:
    suite: Suite
    gen_cells: list[GenCell]
    eval_cells: list[EvalCell]
    unavailable: list[Unavailable]  # the cells that cannot run, each with its reason
    languages: dict[tuple[str, str], Language]
    expected_llm_calls: int
    settings_hash: str
    shard: tuple[int, int] | None = None  # (index, count) when this plan is one part of a larger one
    plan_hash: str = ""  # identity of the whole (unsharded) plan: the ids of all its cells
    provenance: dict[str, dict[str, str]] = field(default_factory=dict)  # {"data": {...}, "methods": {...}}
    strategy_options: dict[str, dict[str, Any]] = field(default_factory=dict)  # resolved, per strategy of the grid
    helper_models: list[str] = field(default_factory=list)  # models the strategies' options name (summarizers)
    data_dir: str = ""  # where its tasks read gold data (harness.config.datadir.reading); "": $BENCH_DATA_DIR

    def __post_init__(self) -> None:
        if not self.plan_hash:
            self.plan_hash = digest([[c.id for c in self.gen_cells], [c.id for c in self.eval_cells]])[:16]

    def summarizer(self, strategy: str, model: str) -> str:
        """The model that writes the label summaries a cell of `strategy` and `model` shows (if its
        strategy shows any): the strategy's `summarizer` option, else the suite's, else the generator."""
        return str((self.strategy_options.get(strategy) or {}).get("summarizer") or self.suite.summarizer or model)

    def as_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite.name,
            "settings_hash": self.settings_hash,
            "plan_hash": self.plan_hash,
            "shard": None if self.shard is None else f"{self.shard[0]}/{self.shard[1]}",
            "generation_cells": [c.id for c in self.gen_cells],
            "evaluation_cells": [c.id for c in self.eval_cells],
            "unavailable": [dataclasses.asdict(u) for u in self.unavailable],
            "expected_llm_calls": self.expected_llm_calls,
        }


def split_patterns(value: str | list[str]) -> list[str]:
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        out.extend(p.strip() for p in item.split(",") if p.strip())
    return out


def _is_glob(p: str) -> bool:
    return any(ch in p for ch in "*?[")


def _select(kind: str, patterns: list[str], names: list[str], dynamic: bool = False) -> list[str]:
    """Names matching the patterns, in registry order; exact names may be dynamic (models: `hf:...`)."""
    chosen: list[str] = []
    for p in patterns:
        if _is_glob(p):
            hits = [n for n in names if fnmatch.fnmatchcase(n, p)]
            if not hits:
                raise BenchError(f"{kind} pattern {p!r} matches nothing (see `bench list {kind}`)")
        elif p in names or dynamic:
            hits = [p]
        else:
            raise unknown(kind[:-1] if kind != "strategies" else "strategy", p, names)
        chosen.extend(h for h in hits if h not in chosen)
    return chosen


def _select_languages(patterns: list[str], reg: Registry, tasks: list[str]) -> dict[str, list[str]]:
    per_task: dict[str, list[str]] = {t: [] for t in tasks}
    every_alias = {a for t in reg.tasks.values() for lang in t.languages().values() for a in lang.aliases}
    for p in patterns:
        matched_any = False
        for t in tasks:
            for code, lang in reg.tasks[t].languages().items():
                hit = any(fnmatch.fnmatchcase(a, p) if _is_glob(p) else a == p for a in lang.aliases)
                if hit:
                    matched_any = True
                    if code not in per_task[t]:
                        per_task[t].append(code)
        if not matched_any:
            if _is_glob(p):
                raise BenchError(f"language pattern {p!r} matches no language of the selected tasks (see `bench list languages`)")
            if p in every_alias:
                raise BenchError(f"language {p!r} is not covered by the selected tasks {tasks} (see `bench list languages`)")
            raise unknown("language", p, sorted(a for a in every_alias if len(a) <= 8))
    return per_task


def output_options(options: Mapping[str, Any], declared: Mapping[str, Option] | None) -> dict[str, Any]:
    """The options that can change an output: all but those declared `identity=False` (where and how
    fast work runs, how a server is reached), which stay out of cell identity, so moving a run to more
    GPUs or another cluster keeps every finished cell."""
    spec = {**COMMON_OPTIONS, **(declared or {})}
    return {k: v for k, v in options.items() if k not in spec or spec[k].identity}


def _replicate(r: int) -> tuple[dict[str, int], str]:
    """Identity of replicate r: replicate 0 adds nothing to a cell's identity, so raising
    `replicates` keeps every finished first replicate."""
    return ({"replicate": r}, f".r{r}") if r else ({}, "")


def _options(suite: Suite, reg: Registry, classifier: str) -> dict[str, Any]:
    """Classifier options change the numbers, so they are part of an evaluation cell's identity
    (absent when empty, so cells without options keep their ids)."""
    opts = output_options(suite.classifier_options.get(classifier, {}), reg.classifiers[classifier].options)
    return {"classifier_options": opts} if opts else {}


def build_plan(suite: Suite, reg: Registry) -> Plan:
    """Every cell of the suite's grid with its identity, and the pairs that cannot run with why.
    Every name and option is checked first, so a mistake fails before any data is read."""
    builder = _PlanBuilder(suite, reg, *_selection(suite, reg))
    for t in builder.tasks:
        for code in builder.langs[t]:
            builder.add_pair(t, code)
    return builder.plan()


def _selection(suite: Suite, reg: Registry) -> tuple[list[str], list[str], list[str], list[str], dict[str, list[str]]]:
    """The suite's axes resolved against the registry (globs expanded, names and options checked)."""
    tasks = _select("tasks", suite.tasks, list(reg.tasks))
    strategies = _select("strategies", suite.strategies, list(reg.strategies))
    named_models = [m.name for m in reg.models.values() if not m.prefix]
    models = _select("models", suite.models, named_models, dynamic=True)
    for m in models:
        spec, arg = reg.model(m)  # unknown names fail here, with a suggestion
        if spec.check is not None:
            spec.check(arg)  # a malformed server address, before any model loads
    for name, opts in suite.model_options.items():
        try:
            spec, _ = reg.model(name)
        except BenchError as exc:
            raise BenchError(f"{where(suite, '', f'models.{json.dumps(name)}')}[models.{json.dumps(name)}]: {exc}") from None
        for key, msg in option_table_problems(f'models."{name}"', spec.options, opts):
            raise BenchError(where(suite, key, f"models.{json.dumps(name)}") + msg)
    _check_strategy_tables(suite, reg, strategies)
    classifiers = _select("classifiers", suite.classifiers, list(reg.classifiers))
    for name, opts in suite.classifier_options.items():
        if name not in reg.classifiers:
            raise unknown("classifier", name, list(reg.classifiers))
        section = f"classifiers.{json.dumps(name)}"
        for key, msg in option_table_problems(section, reg.classifiers[name].options, opts):
            raise BenchError(where(suite, key, section) + msg)
    return tasks, strategies, models, classifiers, _select_languages(suite.languages, reg, tasks)


def _check_strategy_tables(suite: Suite, reg: Registry, strategies: list[str]) -> None:
    """Each `[strategies."X"]` table against what X declares, and every option that names a model
    (from the table or the suite's [generation]) against the registry, before anything loads."""
    for name, opts in suite.strategy_options.items():
        section = f"strategies.{json.dumps(name)}"
        if name not in reg.strategies:
            raise BenchError(f"{where(suite, '', section)}[{section}]: {unknown('strategy', name, list(reg.strategies))}")
        for key, msg in option_table_problems(section, reg.strategies[name].options, opts, scheduling=False):
            raise BenchError(where(suite, key, section) + msg)
    for name in strategies:
        declared = reg.strategies[name].options or {}
        for key, value in suite.options_for_strategy(name, declared).items():
            if declared[key].model and value:
                spec, arg = reg.model(value)  # unknown names fail here, with a suggestion
                if spec.check is not None:
                    spec.check(arg)


def helper_models(options: dict[str, dict[str, Any]], reg: Registry) -> list[str]:
    """The models the strategies' options name (a recipe's summarizer), in a stable order."""
    out = []
    for name, opts in options.items():
        declared = reg.strategies[name].options or {}
        out += [v for k, v in opts.items() if k in declared and declared[k].model and v]
    return list(dict.fromkeys(out))


class _PlanBuilder:
    """The cells of one plan, added one (task, language) pair at a time; each split's fingerprint is
    read once per plan."""

    def __init__(self, suite: Suite, reg: Registry, tasks: list[str], strategies: list[str], models: list[str],
                 classifiers: list[str], langs: dict[str, list[str]]):
        self.suite, self.reg = suite, reg
        self.tasks, self.strategies, self.models, self.classifiers, self.langs = tasks, strategies, models, classifiers, langs
        self.settings = suite.settings()
        self.fps: dict[tuple[str, str, str], str | None] = {}
        self.methods = {s: reg.strategies[s].fingerprint() for s in strategies}
        self.sources: dict[str, str] = {}  # task/language -> where its data comes from, for the results
        self.gen_cells: list[GenCell] = []
        self.eval_cells: list[EvalCell] = []
        self.unavailable: list[Unavailable] = []
        self.languages: dict[tuple[str, str], Language] = {}
        self.expected = 0
        self.base = {k: v for k, v in self.settings.items() if k not in ("seeds", "match_gold_size", "gold")}  # evaluation-only
        self.base["harness_version"] = __version__

    def fp_of(self, t: str, code: str, split: str) -> str | None:
        if (t, code, split) not in self.fps:
            self.fps[(t, code, split)] = split_fingerprint(self.reg.tasks[t], code, split)
        return self.fps[(t, code, split)]

    def add_pair(self, t: str, code: str) -> None:
        task = self.reg.tasks[t]
        lang = task.languages()[code]
        self.languages[(t, code)] = lang
        no_test = task.unavailable(code, "test")
        if no_test:
            self.unavailable.append(Unavailable(task=t, language=code, strategy="*", model="*", reason=no_test))
            return
        # what this pair's evaluation cells read: its train and test splits
        fp = {"task": task.data_fingerprint(), "train": self.fp_of(t, code, "train"), "test": self.fp_of(t, code, "test")}
        if source := task.data_source(code):  # only when there is one: other cell ids stay as they were
            fp["source"] = source
            where = task.data_location(code)
            self.sources[f"{t}/{code}"] = f"{source} at {where}" if where else source
        if no_train := task.unavailable(code, "train"):
            self.unavailable.append(Unavailable(task=t, language=code, strategy=GOLD, model="", reason=no_train))
        else:
            self.add_gold(t, code, fp)
        for s in self.strategies:
            if why := self.reg.strategies[s].unavailable(task, lang):
                for m in self.models:
                    self.unavailable.append(Unavailable(task=t, language=code, strategy=s, model=m, reason=why))
                continue
            for m, r in ((m, r) for m in self.models for r in range(self.suite.replicates)):
                self.add_generation(t, code, s, m, r, fp)

    def add_gold(self, t: str, code: str, fp: dict) -> None:
        suite = self.suite
        for r in range(suite.replicates):
            rep, tag = _replicate(r)
            draw = {"gold": "random"} if suite.gold == "random" else {}
            for c in self.classifiers:
                cfg = {"kind": "gold", "task": t, "data": fp, "language": code, "per_class": suite.per_class,
                       "classifier": self.reg.classifiers[c].fingerprint(), "seeds": suite.seeds,
                       **_options(suite, self.reg, c), **draw, **rep}
                eid = f"{t}.{code}.gold.{slug(c)}{tag}.{digest(cfg)[:10]}"
                self.eval_cells.append(EvalCell(eid, t, code, GOLD, "", c, GOLD, cfg, r))

    def add_generation(self, t: str, code: str, s: str, m: str, r: int, fp: dict) -> None:
        suite, task, strategy = self.suite, self.reg.tasks[t], self.reg.strategies[s]
        lang = self.languages[(t, code)]
        rep, tag = _replicate(r)
        reads = {f"{lc}/{split}": self.fp_of(t, lc, split) for lc, split in strategy.reads(task, lang)}
        cfg = {"kind": "generation", "task": t, "data": {**fp, "generation_reads": reads}, "language": code,
               "strategy": s,
               "method": self.methods[s], "model": m,
               "model_options": output_options(suite.model_options.get(m, {}), self.reg.model(m)[0].options),
               **self.base, "sampling": suite.sampling_for(m).as_dict(), **rep}
        if table := suite.strategy_options.get(s):  # only when given: other cell ids stay as they were
            cfg["strategy_options"] = dict(sorted(table.items()))
        gid = f"{t}.{code}.{slug(s)}.{slug(m)}{tag}.{digest(cfg)[:10]}"
        calls = cell_calls(strategy, task, suite)
        self.gen_cells.append(GenCell(gid, t, code, s, m, cfg, calls, r))
        self.expected += calls
        for c in self.classifiers:
            ecfg = {"kind": "evaluation", "source": gid, "classifier": self.reg.classifiers[c].fingerprint(),
                    "seeds": suite.seeds, **_options(suite, self.reg, c)}
            if suite.match_gold_size:
                ecfg["match_gold_size"] = True
            eid = f"{t}.{code}.{slug(s)}.{slug(m)}.{slug(c)}{tag}.{digest(ecfg)[:10]}"
            self.eval_cells.append(EvalCell(eid, t, code, s, m, c, gid, ecfg, r))

    def plan(self) -> Plan:
        # one engine load per model: generation cells grouped by model, in a stable order
        order = {m: i for i, m in enumerate(self.models)}
        self.gen_cells.sort(key=lambda c: order[c.model])
        options = {s: self.suite.options_for_strategy(s, self.reg.strategies[s].options) for s in self.strategies}
        return Plan(self.suite, self.gen_cells, self.eval_cells, self.unavailable, self.languages, self.expected,
                    digest(self.settings)[:16],
                    provenance={"data": {provenance_key(*k): fp for k, fp in sorted(self.fps.items()) if fp},
                                "methods": self.methods, **({"sources": self.sources} if self.sources else {})},
                    strategy_options=options, helper_models=helper_models(options, self.reg))


def apply_filters(suite: Suite, filters: dict[str, str | None]) -> Suite:
    """A new suite whose axes named by CLI options (globs and comma lists) replace the suite's."""
    chosen = {}
    for axis in AXES:
        value = filters.get(axis)
        if value is None:
            continue
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # bytes the shell passed that are not UTF-8 (Python keeps them as surrogates)
            raise BenchError(f"--{axis} {value!r} is not valid UTF-8 text") from None
        items = split_patterns(value)
        if not items:  # `--tasks ''` or `--classifiers ,` is a mistake, not "the suite's list"
            raise BenchError(f"--{axis} {value!r} names no {axis}; give a comma list of names or globs "
                             f"(see `bench list {axis}`), or leave the "
                             f"option out to run the suite's {axis}")
        chosen[axis] = items
    return suite.with_overrides(chosen)


def by_model(cells: list[GenCell]) -> dict[str, list[GenCell]]:
    """Generation cells grouped per model, in plan order: each group is one engine load."""
    groups: dict[str, list[GenCell]] = {}
    for c in cells:
        groups.setdefault(c.model, []).append(c)
    return groups


def parse_shard(text: str) -> tuple[int, int]:
    """`i/N` with 0 <= i < N (job-array indices start at 0, as SLURM_ARRAY_TASK_ID does by default)."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    if not m or int(m.group(2)) < 1 or int(m.group(1)) >= int(m.group(2)):
        raise BenchError(f"--shard {text!r} must be i/N with 0 <= i < N, e.g. 0/4 (the first of four shards)")
    return int(m.group(1)), int(m.group(2))


def shard_plan(plan: Plan, index: int, count: int) -> Plan:
    """One of `count` disjoint parts of the plan, the same for every machine that computes it.

    The unit is a generation cell with all its evaluation cells (they need its output) or one
    gold evaluation cell. Units keep plan order, grouped by model, and are cut into contiguous,
    equally weighted runs, so a shard loads as few models as possible."""
    units: list[tuple[list[GenCell], list[EvalCell]]] = []
    by_source: dict[str, list[EvalCell]] = {}
    for e in plan.eval_cells:
        by_source.setdefault(e.source, []).append(e)
    units += [([g], by_source.get(g.id, [])) for g in plan.gen_cells]
    units += [([], [e]) for e in by_source.get(GOLD, [])]
    weights = [len(g) + len(e) for g, e in units]
    total = sum(weights)
    lo, hi = total * index / count, total * (index + 1) / count
    gens: list[GenCell] = []
    evals: list[EvalCell] = []
    acc = 0
    for (g, e), w in zip(units, weights):
        mid = acc + w / 2  # a unit belongs to the shard holding its midpoint: disjoint and complete
        if lo <= mid < hi:
            gens += g
            evals += e
        acc += w
    keep = {id(c) for c in evals}
    evals = [c for c in plan.eval_cells if id(c) in keep]  # plan order
    return Plan(plan.suite, gens, evals, plan.unavailable, plan.languages, sum(c.expected_calls for c in gens),
                plan.settings_hash, shard=(index, count), plan_hash=plan.plan_hash, provenance=plan.provenance,
                strategy_options=plan.strategy_options, helper_models=plan.helper_models, data_dir=plan.data_dir)
