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
from harness.metrics import gap, paired_difference, summary
from harness.plan import GOLD, Plan
from harness.plugins import Registry
from harness.rundir import RunDir, read_json, write_json

SCHEMA_VERSION = "1.1"
#: which variance every interval of a leaderboard covers, stated in each one
INTERVALS = ("95% Student-t intervals over classifier seeds only: one generated set per cell and one fixed gold "
             "subset, so the variance of generation and of the gold draw is not covered; paired differences "
             "(gap to gold, comparisons) are paired by classifier seed; a single seed gives no interval (null)")


@cache
def schema() -> dict:
    return json.loads(files("harness").joinpath("schema/leaderboard.schema.json").read_text(encoding="utf-8"))


def validation_error(data: Any) -> str | None:
    """The first schema violation as `path: message`, or None when the document is valid."""
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if not errors:
        return None
    err = errors[0]
    path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)
    return f"{path}: {err.message}"


def validate_file(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise BenchError(f"{path} does not exist; pass a leaderboard.json (or a run directory holding one)")
    try:
        data = read_json(path)
    except ValueError as exc:
        raise BenchError(f"{path} is not valid JSON: {exc}") from None
    version = data.get("schema_version") if isinstance(data, dict) else None
    if isinstance(version, str) and version != SCHEMA_VERSION:
        raise BenchError(f"{path} has leaderboard schema {version}; this harness reads {SCHEMA_VERSION}. Rebuild it "
                         f"by rerunning the `bench run` that made it (finished cells are kept, or refused with the reason)")
    problem = validation_error(data)
    if problem:
        raise BenchError(f"{path} is not a valid leaderboard: {problem}")
    return data


def write_leaderboard(path: Path, data: dict) -> None:
    problem = validation_error(data)
    if problem:  # a bug in the harness or a plugin, never written to disk
        raise RuntimeError(f"refusing to write an invalid leaderboard: {problem}")
    write_json(path, data)


def manifest(plan: Plan, reg: Registry) -> dict[str, Any]:
    return {
        "harness_version": __version__,
        "plugins": [{"name": p.name, "distribution": p.distribution, "version": p.version} for p in reg.plugins
                    if not p.error],
        "libraries": library_versions(),
        "device": device(),
        "cpu": cpu(),
        "python": platform.python_version(),
        "suite": plan.suite.name,
        "settings": plan.suite.settings(),
        "settings_hash": plan.settings_hash,
        "seeds": plan.suite.seeds,
        "generation_seed": plan.suite.seed,
        "git_commit": git_commit(),
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        # what the results were made from, as MTEB records a dataset revision
        "data_fingerprints": plan.provenance.get("data", {}),
        "method_fingerprints": plan.provenance.get("methods", {}),
        "intervals": INTERVALS,
    }


def _stat(per_seed: list[dict], key: str) -> dict:
    return summary([r[key] for r in per_seed])


def _scores_block(per_seed: list[dict]) -> dict:
    return {"per_seed": per_seed, "macro_f1": _stat(per_seed, "macro_f1"), "accuracy": _stat(per_seed, "accuracy")}


def _link_samples(row: dict, run: RunDir, cell_id: str) -> None:
    """Point a row at its per-example predictions, when the cell was scored with --log-samples."""
    path = run.samples(cell_id)
    if path.is_file():
        row["samples"] = str(path.relative_to(run.root))


def build(plan: Plan, reg: Registry, run: RunDir) -> dict[str, Any]:
    """Assemble the leaderboard from the files of finished cells (missing ones are simply absent)."""
    gold_rows: list[dict] = []
    gold_index: dict[tuple[str, str, str], dict] = {}
    results: list[dict] = []
    for cell in plan.eval_cells:
        path = run.scores(cell.id)
        if not run.done(path):
            continue
        data = read_json(path)
        lang = plan.languages[(cell.task, cell.language)]
        if cell.strategy == GOLD:
            row = {"task": cell.task, "language": cell.language, "language_iso": lang.iso, "classifier": cell.classifier,
                   "eval_id": cell.id, "train_size": data["train_size"], "per_class": data["per_class"],
                   "scores": _scores_block(data["per_seed"])}
            _link_samples(row, run, cell.id)
            gold_rows.append(row)
            gold_index[(cell.task, cell.language, cell.classifier)] = row
    for cell in plan.eval_cells:
        if cell.strategy == GOLD:
            continue
        path = run.scores(cell.id)
        gen_path = run.generation(cell.source)
        if not (run.done(path) and run.done(gen_path)):
            continue
        data = read_json(path)
        gen = read_json(gen_path)["stats"]
        lang = plan.languages[(cell.task, cell.language)]
        gold = gold_index.get((cell.task, cell.language, cell.classifier))
        scores = _scores_block(data["per_seed"]) if data["per_seed"] else None
        gap_block = None
        if gold and scores:
            gap_block = gap({r["seed"]: r["macro_f1"] for r in gold["scores"]["per_seed"]},
                            {r["seed"]: r["macro_f1"] for r in data["per_seed"]})
        row = {
            "task": cell.task, "language": cell.language, "language_iso": lang.iso, "language_name": lang.name,
            "tier": lang.tier, "strategy": cell.strategy, "model": cell.model, "classifier": cell.classifier,
            "cell_id": cell.source, "eval_id": cell.id, "train_size": data["train_size"],
            "train_per_class": data["per_class"], "scores": scores,
            "generation": {k: gen[k] for k in ("requested", "accepted", "rejected", "duplicates", "llm_calls",
                                               "engine_calls", "prompt_tokens", "completion_tokens", "seconds",
                                               "per_class")},
            "gold": None if gold is None else {"macro_f1": gold["scores"]["macro_f1"], "accuracy": gold["scores"]["accuracy"],
                                               "train_size": gold["train_size"], "per_class": gold["per_class"]},
            "gap_to_gold": gap_block,
        }
        for extra in ("acceptance_rate", "duplicate_rate", "distinct_1", "distinct_2", "mean_length", "gold_mean_length",
                      "off_script", "shortfall", "off_language_rate", "off_language_accepted", "language_filter",
                      "demos"):
            if extra in gen:
                row["generation"][extra] = gen[extra]
        if data.get("floor"):
            row["floor"] = data["floor"]
        _link_samples(row, run, cell.id)
        if data.get("note"):
            row["note"] = data["note"]
        elif gold is None:
            row["note"] = "no gold baseline for this language (see unavailable)"
        results.append(row)
    return {
        "schema_version": SCHEMA_VERSION,
        "manifest": manifest(plan, reg),
        "results": results,
        "gold": gold_rows,
        "unavailable": plan.unavailable,
        "summaries": summaries(results),
        "comparisons": comparisons(results),
    }


def _f1(r: dict) -> float:
    """A row's mean macro-F1; a cell that could not be scored counts at its majority-class floor."""
    return r["scores"]["macro_f1"]["mean"] if r["scores"] else (r.get("floor") or {}).get("macro_f1", 0.0)


def _by_seed(r: dict, seeds: list[int]) -> dict[int, float]:
    if r["scores"]:
        return {x["seed"]: x["macro_f1"] for x in r["scores"]["per_seed"]}
    return dict.fromkeys(seeds, _f1(r))  # the floor does not depend on the seed


def _seeds(r: dict) -> list[int]:
    return [x["seed"] for x in r["scores"]["per_seed"]] if r["scores"] else []


def _compare(a: dict, b: dict) -> dict | None:
    seeds = sorted(set(_seeds(a)) | set(_seeds(b)))
    return paired_difference(_by_seed(a, seeds), _by_seed(b, seeds))


def _gap_points(r: dict) -> float | None:
    if r["gap_to_gold"]:
        return r["gap_to_gold"]["points"]["mean"]
    if not r["scores"] and r["gold"]:
        return 100.0 * (r["gold"]["macro_f1"]["mean"] - _f1(r))
    return None


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def comparisons(results: list[dict]) -> list[dict]:
    """Every pair of strategies (same task, language, model, classifier) and of models (same task,
    language, strategy, classifier): the paired difference over classifier seeds and a verdict."""
    out = []
    for kind, fixed in (("strategy", "model"), ("model", "strategy")):
        groups: dict[tuple, list[dict]] = {}
        for r in results:
            groups.setdefault((r["task"], r["language"], r[fixed], r["classifier"]), []).append(r)
        for (task, language, held, clf), rows in groups.items():
            for i, a in enumerate(rows):
                for b in rows[i + 1:]:
                    diff = _compare(a, b)
                    if diff is None:
                        continue
                    out.append({"task": task, "language": language, "classifier": clf, "compared": kind,
                                fixed: held, "a": a[kind], "b": b[kind], "difference_points": diff["points"],
                                "verdict": diff["verdict"],
                                "floored": [x[kind] for x in (a, b) if not x["scores"]]})
    return out


def summaries(results: list[dict]) -> dict[str, list]:
    by_lang: dict[tuple, list[dict]] = {}
    by_group: dict[tuple, list[dict]] = {}
    by_model: dict[tuple, list[dict]] = {}
    for r in results:
        by_lang.setdefault((r["task"], r["language"], r["model"], r["classifier"]), []).append(r)
        by_group.setdefault((r["task"], r["model"], r["classifier"]), []).append(r)
        by_model.setdefault((r["model"], r["classifier"]), []).append(r)

    lang_rows = []
    for (task, language, model, clf), rows in by_lang.items():
        top = max(rows, key=lambda r: (_f1(r), r["strategy"]))
        # the best is a set: every strategy the top one is not distinguishably better than
        best = sorted(r["strategy"] for r in rows
                      if r is top or ((_compare(top, r) or {}).get("verdict") != "better"))
        lang_rows.append({
            "task": task, "language": language, "model": model, "classifier": clf, "best_strategy": top["strategy"],
            "best_strategies": best, "best_macro_f1": _f1(top),
            "gold_macro_f1": top["gold"]["macro_f1"]["mean"] if top["gold"] else None,
            "gap_points": _gap_points(top), "floored": not top["scores"],
        })
    strat_rows = []
    for (task, model, clf), rows in by_group.items():
        strategies = list(dict.fromkeys(r["strategy"] for r in rows))
        langs = {s: {r["language"] for r in rows if r["strategy"] == s} for s in strategies}
        common = set.intersection(*langs.values())  # complete case: languages every strategy covers
        tiers = {r["language"]: r["tier"] for r in rows}
        for tier in ("all", "high", "low"):
            chosen = {lang for lang in common if tier == "all" or tiers[lang] == tier}
            if not chosen:
                continue
            for s in strategies:
                sel = [r for r in rows if r["strategy"] == s and r["language"] in chosen]
                gaps = [g for g in (_gap_points(r) for r in sel) if g is not None]
                strat_rows.append({
                    "task": task, "strategy": s, "model": model, "classifier": clf, "tier": tier,
                    "mean_macro_f1": _mean([_f1(r) for r in sel]), "mean_gap_points": _mean(gaps),
                    "languages": len(sel), "floored": sum(1 for r in sel if not r["scores"]),
                    "left_out": sorted(langs[s] - common),
                })
    model_rows = []
    for (model, clf), rows in by_model.items():
        gaps = [g for g in (_gap_points(r) for r in rows) if g is not None]
        model_rows.append({"model": model, "classifier": clf, "mean_macro_f1": _mean([_f1(r) for r in rows]),
                           "mean_gap_points": _mean(gaps), "cells": len(rows),
                           "floored": sum(1 for r in rows if not r["scores"])})
    return {"by_language": lang_rows, "by_strategy": strat_rows, "by_model": model_rows}
