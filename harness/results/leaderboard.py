"""The leaderboard JSON: built from a run directory's finished cells, validated on every write."""

from __future__ import annotations

import json
import platform
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema

from harness import __version__
from harness.environment import cpu, device, git_commit, library_versions
from harness.errors import BenchError
from harness.pipeline.plan import GOLD, Plan
from harness.registry.discovery import Registry
from harness.results.cost import run_cost
from harness.results.explain import correlations, pooled_diagnostics
from harness.results.frontier import frontiers, row_cost, summary_shares
from harness.results.metrics import SEEDS, gap, paired_difference, paired_units, summary, units
from harness.results.model import (
    SCHEMA_VERSION,
    Comparison,
    Floor,
    Gap,
    Generation,
    GoldRef,
    GoldReplicate,
    GoldResult,
    LanguageSummary,
    Leaderboard,
    Manifest,
    ModelSummary,
    Plugin,
    Replicate,
    Result,
    Revision,
    Scores,
    SeedScore,
    Stat,
    StrategySummary,
    Summaries,
    Unavailable,
)
from harness.results.validation import json_path, problems
from harness.store.rundir import RunDir, read_json, write_json


def intervals(replicates: int, gold: str) -> str:
    """Which variance the leaderboard's intervals cover, in words (each interval also names its
    units in its `over` field)."""
    draw = "a seeded random gold subset per replicate" if gold == "random" else "the first N gold examples per class"
    if replicates >= 2:
        return (f"95% Student-t intervals (within the metric's range) over {replicates} generation replicates: each replicate has its own "
                f"demonstrations, sampling seed and classifier seeds, and {draw}; a replicate's value is its mean over "
                f"classifier seeds, so the intervals cover generation"
                f"{', gold-draw' if gold == 'random' else ''} and classifier variance; differences (gap to gold, "
                f"comparisons) are paired by replicate; fewer than two finished replicates fall back to classifier "
                f"seeds, as the interval's `over` field says")
    return (f"95% Student-t intervals (within the metric's range) over classifier seeds only: one generated set per cell and {draw}, so the "
            f"variance of generation{' and of the gold draw' if gold == 'random' else ''} is not covered (set "
            f"[generation] replicates >= 2 for that); differences (gap to gold, comparisons) are paired by classifier "
            f"seed; a single seed gives no interval (null)")


@cache
def schema() -> dict:
    """The committed schema (generated from harness/results/model.py; a test keeps them the same)."""
    return json.loads(files("harness.results").joinpath("schema/leaderboard.schema.json").read_text(encoding="utf-8"))


def validation_error(data: Any) -> str | None:
    """The first schema violation as `path: message`, or None when the document is valid."""
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if not errors:
        return None
    err = errors[0]
    path = json_path(tuple(err.absolute_path))
    return f"{path}: {err.message}"


def validate_file(path: str | Path) -> Leaderboard:
    """A leaderboard file, read and checked (schema, then what the schema cannot say), or a one-line
    error that says what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise BenchError(f"{path} does not exist; pass a leaderboard.json (or a run directory holding one)")
    try:
        data = read_json(path)
    except ValueError as exc:
        raise BenchError(f"{path} is not valid JSON: {exc}") from None
    version = data.get("schema_version") if isinstance(data, dict) else None
    if isinstance(version, str) and version != SCHEMA_VERSION:
        from harness.results.versions import mismatch

        raise BenchError(mismatch(path, version))
    problem = validation_error(data)
    if problem:
        raise BenchError(f"{path} is not a valid leaderboard: {problem}")
    found = problems(data)
    if found:
        more = f" (and {len(found) - 1} more problem{'s' if len(found) > 2 else ''})" if len(found) > 1 else ""
        raise BenchError(f"{path} is not a valid leaderboard: {found[0]}{more}")
    return Leaderboard.from_json(data)


def write_leaderboard(path: Path, board: Leaderboard) -> None:
    data = board.to_json()
    problem = validation_error(data) or next(iter(problems(data)), None)
    if problem:  # a bug in the harness or a plugin (a NaN score, say), never written to disk
        raise RuntimeError(f"refusing to write an invalid leaderboard: {problem}")
    write_json(path, data)


def manifest(plan: Plan, reg: Registry) -> Manifest:
    return Manifest(
        harness_version=__version__,
        plugins=[Plugin(name=p.name, distribution=p.distribution, version=p.version) for p in reg.plugins
                 if not p.error],
        libraries=library_versions(),
        device=device(),
        cpu=cpu(),
        python=platform.python_version(),
        suite=plan.suite.name,
        settings=plan.suite.settings(),
        settings_hash=plan.settings_hash,
        seeds=plan.suite.seeds,
        generation_seed=plan.suite.seed,
        git_commit=git_commit(),
        created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        # what the results were made from, as MTEB records a dataset revision
        data_fingerprints=plan.provenance.get("data", {}),
        method_fingerprints=plan.provenance.get("methods", {}),
        replicates=plan.suite.replicates,
        gold_draw=plan.suite.gold,
        intervals=intervals(plan.suite.replicates, plan.suite.gold),
        # hub datasets and the commits they were read at
        data_sources=plan.provenance.get("sources") or None,
    )


def _stat(per_seed: list[SeedScore], key: str) -> Stat:
    values, over = units(per_seed, key)
    stat = Stat(**summary(list(values.values()), f"scores over {over}"), over=over)
    if stat.no_interval and over == SEEDS:
        stat.no_interval += " (the classifier gives the same fit whatever its seed)"
    return stat


def scores_block(per_seed: list[SeedScore]) -> Scores:
    """Per-seed scores with their aggregates (over replicates, or seeds with one replicate)."""
    return Scores(per_seed=per_seed, macro_f1=_stat(per_seed, "macro_f1"), accuracy=_stat(per_seed, "accuracy"))


def _seed_scores(replicate: int, per_seed: list[dict]) -> list[SeedScore]:
    return [SeedScore(replicate=replicate, seed=r["seed"], macro_f1=r["macro_f1"], accuracy=r["accuracy"],
                      fit=r.get("fit")) for r in per_seed]


def _samples(run: RunDir, cell_id: str) -> str | None:
    """A cell's per-example predictions file, when it was scored with --log-samples."""
    path = run.samples(cell_id)
    return str(path.relative_to(run.root)) if path.is_file() else None


#: generation statistics that add up over replicates; the other numbers are averaged
_COUNTS = ("requested", "accepted", "rejected", "duplicates", "llm_calls", "engine_calls", "prompt_tokens",
           "completion_tokens", "seconds", "engine_seconds", "attempts", "off_script", "off_language_accepted")
_RATES = ("acceptance_rate", "duplicate_rate", "distinct_1", "distinct_2", "mean_length", "gold_mean_length",
          "off_language_rate")


def _summed(stats: list[dict], key: str) -> dict[str, int] | None:
    """A per-label count summed over replicates (None when no replicate has it)."""
    if not any(key in st for st in stats):
        return None
    out: dict[str, int] = {}
    for st in stats:
        for lab, n in st.get(key, {}).items():
            out[lab] = out.get(lab, 0) + n
    return out


def pool_generation(stats: list[dict]) -> Generation:
    """One row's generation statistics over its replicates (each a cell's `stats`): counts summed
    (per class too), rates and lengths averaged; the demonstrations are replicate 0's (each replicate
    lists its own); prompts cut to the model's context summed over replicates."""
    first = stats[0]
    out: dict[str, Any] = {}
    for k in _COUNTS:
        if k in first:
            total = sum(st.get(k, 0) for st in stats)
            out[k] = round(total, 3) if isinstance(total, float) else total
    for k in _RATES:
        vals = [st[k] for st in stats if st.get(k) is not None]
        if k in first:  # null (e.g. no language check knows the language) stays null
            out[k] = round(sum(vals) / len(vals), 4) if vals else None
    out["per_class"] = {lab: {f: sum(st["per_class"].get(lab, {}).get(f, 0) for st in stats) for f in v}
                        for lab, v in first["per_class"].items()}
    if "shortfall" in first:
        out["shortfall"] = _summed(stats, "shortfall")
    for k in ("language_filter", "demos", "model_identity"):
        out[k] = first.get(k)
    out["demos_dropped"] = _summed(stats, "demos_dropped") or None
    too_long: dict[str, str] = {}
    for st in stats:
        for lab, why in st.get("context_rejected", {}).items():
            too_long.setdefault(lab, why)
    out["context_rejected"] = too_long or None
    return Generation(**out)


def _floor_entries(floor: dict, replicate: int, seeds: list[int]) -> list[SeedScore]:
    """An unscored replicate counts at its majority-class floor for every seed, flagged."""
    return [SeedScore(replicate=replicate, seed=s, macro_f1=floor["macro_f1"], accuracy=floor["accuracy"], floor=True)
            for s in seeds]


def revision_counts(run: RunDir, cell_ids: list[str]) -> Revision | None:
    """How many candidates the reviser judged and how many it turned down, over a row's replicates:
    the generation stats fold those into `rejected`, and the report shows what revision itself does.
    Only strategies that keep their candidates (the composed ones) can say."""
    paths = [run.candidates(c) for c in cell_ids if run.candidates(c).is_file()]
    if not paths:
        return None
    judged = [c for p in paths for c in read_json(p).get("candidates", []) if "verdict" in c]
    return Revision(judged=len(judged), rejected=sum(c.get("status") == "rejected by revision" for c in judged))


#: one finished evaluation cell: the cell, its scores file, its generation's statistics (None for gold)
Finished = tuple[Any, dict, "dict | None"]


def build(plan: Plan, reg: Registry, run: RunDir) -> Leaderboard:
    """Assemble the leaderboard from the files of finished cells (missing ones are simply absent).

    A row pools the replicates of one (task, language, strategy, model, classifier): its mean is over
    replicates x seeds and its interval over replicate means (over seeds with one replicate)."""
    finished = _finished(plan, run)
    gold_rows = [_gold_row(plan, run, key, parts) for key, parts in finished.items() if key[2] == GOLD]
    gold_index = {(r.task, r.language, r.classifier): r for r in gold_rows}
    results = [_result_row(plan, run, key, parts, gold_index.get((key[0], key[1], key[4])))
               for key, parts in finished.items() if key[2] != GOLD]
    head = manifest(plan, reg)
    head.models = _model_identities(finished) or None
    head.shared_work = shared_work(run) or None
    _add_costs(plan, reg, finished, results, head.shared_work or [])
    head.cost = run_cost([part for parts in finished.values() for part in parts], head.shared_work or [], _estimate(run))
    if flat := without_classifier_variance([*gold_rows, *results]):
        head.without_classifier_variance = flat
        head.intervals = (f"{head.intervals}; {len(flat)} row{'s' if len(flat) > 1 else ''} without classifier "
                          "variance (every seed the same score: no interval over seeds, no verdict from one), "
                          "listed in without_classifier_variance")
    return Leaderboard(
        schema_version=SCHEMA_VERSION, manifest=head, results=results, gold=gold_rows,
        unavailable=[Unavailable(**u) for u in plan.unavailable],
        summaries=summaries(results), comparisons=comparisons(results), frontiers=frontiers(results) or None,
        diagnostic_correlations=correlations(results) or None)


def _add_costs(plan: Plan, reg: Registry, finished: dict[tuple, list[Finished]], results: list[Result],
               shared: list[dict]) -> None:
    """Each row's cost: its generation cells' work, its share of the label summaries it showed, its
    model's declared price."""
    def summarizer(strategy: str, model: str) -> str | None:
        if not getattr(getattr(reg.strategies.get(strategy), "recipe", None), "needs_summaries", False):
            return None
        return plan.summarizer(strategy, model)

    users: dict[tuple[str, str], set[str]] = {}
    for (task, _, strategy, model, _), parts in finished.items():
        if strategy != GOLD and (name := summarizer(strategy, model)):
            users.setdefault((task, name), set()).update(c.source for c, _, _ in parts)
    shares = summary_shares(shared, {k: len(v) for k, v in users.items()})
    for row in results:
        name = summarizer(row.strategy, row.model)
        share = shares.get((row.task, name)) if name else None
        gens = [g for _, _, g in finished[row.key] if g is not None]
        row.cost = row_cost(gens, share, (plan.suite.model_options.get(row.model) or {}).get("price"))


def _estimate(run: RunDir) -> dict | None:
    """The bill the run saved when it started (absent for runs made before, or by hand)."""
    try:
        data = read_json(run.estimate)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def without_classifier_variance(rows: list[Result] | list[GoldResult] | list) -> list[str]:
    """The rows where some replicate's seeds all scored the same (or a deterministic classifier fitted
    once for all of them): the seeds measured no classifier variance there."""
    out = []
    for r in rows:
        if not r.scores or len(r.scores.per_seed) < 2:
            continue
        by_replicate: dict[int, list[SeedScore]] = {}
        for s in r.scores.per_seed:
            by_replicate.setdefault(s.replicate, []).append(s)
        flat = any(len(seeds) >= 2 and (len({s.macro_f1 for s in seeds}) == 1
                                         or all((s.fit or {}).get("fitted_once") for s in seeds))
                   for seeds in by_replicate.values())
        if flat:
            model = getattr(r, "model", "")
            out.append(f"{r.task}/{r.language} {getattr(r, 'strategy', 'gold')}{' ' + model if model else ''} "
                       f"[{r.classifier}]")
    return out


def _finished(plan: Plan, run: RunDir) -> dict[tuple, list[Finished]]:
    """The finished evaluation cells (and their generations), by row: (task, language, strategy,
    model, classifier) -> its replicates."""
    finished: dict[tuple, list[Finished]] = {}
    for cell in plan.eval_cells:
        path = run.scores(cell.id)
        gen_path = None if cell.strategy == GOLD else run.generation(cell.source)
        if not run.done(path) or (gen_path is not None and not run.done(gen_path)):
            continue
        key = (cell.task, cell.language, cell.strategy, cell.model, cell.classifier)
        finished.setdefault(key, []).append(
            (cell, read_json(path), None if gen_path is None else read_json(gen_path)["stats"]))
    return finished


def _replicate_record(run: RunDir, cell: Any, data: dict, gen: dict | None) -> Replicate | GoldReplicate:
    mean = sum(r["macro_f1"] for r in data["per_seed"]) / len(data["per_seed"]) if data["per_seed"] else None
    common = {"replicate": cell.replicate, "eval_id": cell.id, "train_size": data["train_size"], "macro_f1": mean,
              "samples": _samples(run, cell.id)}
    if gen is None:
        return GoldReplicate(**common)
    return Replicate(**common, cell_id=cell.source, accepted=gen["accepted"], demos=gen.get("demos"))


def _pooled(parts: list[Finished], seeds: list[int]) -> tuple[Scores | None, list[int], dict | None]:
    """The row's scores over its replicates; the replicates that could not be scored, and their floor."""
    per_seed: list[SeedScore] = []
    floored: list[int] = []
    floor = None
    for cell, data, _ in parts:
        if data["per_seed"]:
            per_seed += _seed_scores(cell.replicate, data["per_seed"])
        else:
            floored.append(cell.replicate)
            floor = floor or data.get("floor")
    if per_seed and floored:  # a replicate that could not be scored counts at its floor, never dropped
        for cell, data, _ in parts:
            if not data["per_seed"] and data.get("floor"):
                per_seed += _floor_entries(data["floor"], cell.replicate, seeds)
    return (scores_block(per_seed) if per_seed else None), floored, floor


def _gold_row(plan: Plan, run: RunDir, key: tuple, parts: list[Finished]) -> GoldResult:
    task, language, _, _, clf = key
    cell, data, _ = parts[0]
    replicates = [_replicate_record(run, *p) for p in parts]
    return GoldResult(
        task=task, language=language, language_iso=plan.languages[(task, language)].iso, classifier=clf,
        eval_id=cell.id, train_size=data["train_size"], per_class=data["per_class"],
        scores=scores_block([s for c, d, _ in parts for s in _seed_scores(c.replicate, d["per_seed"])]),
        samples=replicates[0].samples, replicates=replicates)


def _result_row(plan: Plan, run: RunDir, key: tuple, parts: list[Finished], gold: GoldResult | None) -> Result:
    task, language, strategy, model, clf = key
    cell, data, _ = parts[0]
    lang = plan.languages[(task, language)]
    scores, floored, floor = _pooled(parts, plan.suite.seeds)
    gap_block = None
    if gold and scores and (diff := gap(*paired_units(gold.scores.per_seed, scores.per_seed))):
        gap_block = Gap(points=Stat(**diff["points"]), relative=diff["relative"], paired_over=diff["paired_over"],
                        paired=diff["paired"])
    gen = pool_generation([g for _, _, g in parts])
    gen.revision = revision_counts(run, [c.source for c, _, _ in parts])
    replicates = [_replicate_record(run, *p) for p in parts]
    notes = list(dict.fromkeys(d["note"] for _, d, _ in parts if d.get("note")))
    note = "; ".join(notes) if notes else None
    if not notes and gold is None:
        note = "no gold baseline for this language (see unavailable)"
    return Result(
        diagnostics=pooled_diagnostics([d.get("diagnostics") for _, d, _ in parts]),
        task=task, language=language, language_iso=lang.iso, language_name=lang.name, tier=lang.tier,
        strategy=strategy, model=model, classifier=clf, cell_id=cell.source, eval_id=cell.id,
        train_size=data["train_size"], train_per_class=data["per_class"], scores=scores, generation=gen,
        gold=None if gold is None else GoldRef(macro_f1=gold.scores.macro_f1, accuracy=gold.scores.accuracy,
                                               train_size=gold.train_size, per_class=gold.per_class),
        gap_to_gold=gap_block, replicates=replicates, floored_replicates=floored or None,
        floor=Floor(**floor) if floor and not scores else None, samples=replicates[0].samples, note=note)


def _model_identities(finished: dict[tuple, list[Finished]]) -> dict[str, Any]:
    """What each model's generations were made with (backend, version, dtype, device kind, weights),
    from its generation cells; a model whose cells disagree (a run resumed on another device) lists each."""
    identities: dict[str, list[dict]] = {}
    for parts in finished.values():
        for cell, _, gen in parts:
            if gen is not None and gen.get("model_identity") and gen["model_identity"] not in identities.get(cell.model, []):
                identities.setdefault(cell.model, []).append(gen["model_identity"])
    return {m: ids[0] if len(ids) == 1 else ids for m, ids in sorted(identities.items())}


def shared_work(run: RunDir) -> list[dict]:
    """Work that several cells share (a task's label summaries), counted once here from the file
    that holds it, and in no cell's generation statistics."""
    out = []
    for path in run.summaries():
        try:
            data = read_json(path)
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("usage"), dict):
            out.append({"kind": "label summaries", "task": data.get("task"), "model": data.get("model"),
                        "file": str(path.relative_to(run.root)), **data["usage"]})
    return out


def _f1(r: Result) -> float:
    """A row's mean macro-F1; a cell that could not be scored counts at its majority-class floor."""
    return r.scores.macro_f1.mean if r.scores else (r.floor.macro_f1 if r.floor else 0.0)


def _per_seed(r: Result, like: Result) -> list[SeedScore]:
    """A row's per-seed values; an unscored row stands at its floor for the seeds `like` has."""
    if r.scores:
        return r.scores.per_seed
    if not like.scores:
        return []
    accuracy = r.floor.accuracy if r.floor else 0.0
    return [SeedScore(replicate=x.replicate, seed=x.seed, macro_f1=_f1(r), accuracy=accuracy, floor=True)
            for x in like.scores.per_seed]


def _compare(a: Result, b: Result) -> dict | None:
    ua, ub, over = paired_units(_per_seed(a, b), _per_seed(b, a))
    return paired_difference(ua, ub, over)


def gap_points(r: Result) -> float | None:
    """A row's gap to gold in points; an unscored row's from its floor."""
    if r.gap_to_gold:
        return r.gap_to_gold.points.mean
    if not r.scores and r.gold:
        return 100.0 * (r.gold.macro_f1.mean - _f1(r))
    return None


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def comparisons(results: list[Result]) -> list[Comparison]:
    """Every pair of strategies (same task, language, model, classifier) and of models (same task,
    language, strategy, classifier): the paired difference (over replicates, or seeds with one
    replicate) and a verdict."""
    out = []
    for kind, fixed in (("strategy", "model"), ("model", "strategy")):
        groups: dict[tuple, list[Result]] = {}
        for r in results:
            groups.setdefault((r.task, r.language, getattr(r, fixed), r.classifier), []).append(r)
        for (task, language, held, clf), rows in groups.items():
            for i, a in enumerate(rows):
                for b in rows[i + 1:]:
                    diff = _compare(a, b)
                    if diff is None:
                        continue
                    out.append(Comparison(task=task, language=language, classifier=clf, compared=kind,
                                          **{fixed: held}, a=getattr(a, kind), b=getattr(b, kind),
                                          difference_points=Stat(**diff["points"]), verdict=diff["verdict"],
                                          floored=[getattr(x, kind) for x in (a, b) if not x.scores]))
    return out


def summaries(results: list[Result]) -> Summaries:
    return Summaries(by_language=_by_language(results), by_strategy=_by_strategy(results),
                     by_model=_by_model(results))


def _by_language(results: list[Result]) -> list[LanguageSummary]:
    groups: dict[tuple, list[Result]] = {}
    for r in results:
        groups.setdefault((r.task, r.language, r.model, r.classifier), []).append(r)
    out = []
    for (task, language, model, clf), rows in groups.items():
        top = max(rows, key=lambda r: (_f1(r), r.strategy))
        # the best is a set: every strategy the top one is not distinguishably better than
        best = sorted(r.strategy for r in rows
                      if r is top or ((_compare(top, r) or {}).get("verdict") != "better"))
        out.append(LanguageSummary(
            task=task, language=language, model=model, classifier=clf, best_strategy=top.strategy,
            best_strategies=best, best_macro_f1=_f1(top),
            gold_macro_f1=top.gold.macro_f1.mean if top.gold else None,
            gap_points=gap_points(top), floored=not top.scores))
    return out


def _by_strategy(results: list[Result]) -> list[StrategySummary]:
    groups: dict[tuple, list[Result]] = {}
    for r in results:
        groups.setdefault((r.task, r.model, r.classifier), []).append(r)
    out = []
    for (task, model, clf), rows in groups.items():
        strategies = list(dict.fromkeys(r.strategy for r in rows))
        langs = {s: {r.language for r in rows if r.strategy == s} for s in strategies}
        common = set.intersection(*langs.values())  # complete case: languages every strategy covers
        tiers = {r.language: r.tier for r in rows}
        for tier in ("all", "high", "low"):
            chosen = {lang for lang in common if tier == "all" or tiers[lang] == tier}
            if not chosen:
                continue
            for s in strategies:
                sel = [r for r in rows if r.strategy == s and r.language in chosen]
                gaps = [g for g in (gap_points(r) for r in sel) if g is not None]
                out.append(StrategySummary(
                    task=task, strategy=s, model=model, classifier=clf, tier=tier,
                    mean_macro_f1=_mean([_f1(r) for r in sel]), mean_gap_points=_mean(gaps),
                    languages=len(sel), floored=sum(1 for r in sel if not r.scores),
                    left_out=sorted(langs[s] - common)))
    return out


def _by_model(results: list[Result]) -> list[ModelSummary]:
    groups: dict[tuple, list[Result]] = {}
    for r in results:
        groups.setdefault((r.model, r.classifier), []).append(r)
    out = []
    for (model, clf), rows in groups.items():
        gaps = [g for g in (gap_points(r) for r in rows) if g is not None]
        out.append(ModelSummary(model=model, classifier=clf, mean_macro_f1=_mean([_f1(r) for r in rows]),
                                mean_gap_points=_mean(gaps), cells=len(rows),
                                floored=sum(1 for r in rows if not r.scores)))
    return out
