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
from harness.environment import device, git_commit, library_versions
from harness.errors import BenchError
from harness.metrics import gap, summary
from harness.plan import GOLD, Plan
from harness.plugins import Registry
from harness.rundir import RunDir, read_json, write_json

SCHEMA_VERSION = "1.0"


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
    }


def _stat(per_seed: list[dict], key: str) -> dict:
    return summary([r[key] for r in per_seed])


def _scores_block(per_seed: list[dict]) -> dict:
    return {"per_seed": per_seed, "macro_f1": _stat(per_seed, "macro_f1"), "accuracy": _stat(per_seed, "accuracy")}


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
            "cell_id": cell.source, "eval_id": cell.id, "train_size": data["train_size"], "scores": scores,
            "generation": {k: gen[k] for k in ("requested", "accepted", "rejected", "duplicates", "llm_calls",
                                               "engine_calls", "prompt_tokens", "completion_tokens", "seconds",
                                               "per_class")},
            "gold": None if gold is None else {"macro_f1": gold["scores"]["macro_f1"], "accuracy": gold["scores"]["accuracy"],
                                               "train_size": gold["train_size"]},
            "gap_to_gold": gap_block,
        }
        for extra in ("acceptance_rate", "duplicate_rate", "distinct_1", "distinct_2", "mean_length", "gold_mean_length",
                      "off_script", "shortfall", "off_language_rate", "off_language_accepted", "language_filter",
                      "demos"):
            if extra in gen:
                row["generation"][extra] = gen[extra]
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
    }


def summaries(results: list[dict]) -> dict[str, list]:
    scored = [r for r in results if r["scores"]]
    by_lang: dict[tuple, list[dict]] = {}
    by_strat: dict[tuple, list[dict]] = {}
    by_model: dict[tuple, list[dict]] = {}
    for r in scored:
        by_lang.setdefault((r["task"], r["language"], r["model"], r["classifier"]), []).append(r)
        by_strat.setdefault((r["task"], r["strategy"], r["model"], r["classifier"]), []).append(r)
        by_model.setdefault((r["model"], r["classifier"]), []).append(r)

    def mean(xs: list[float]) -> float | None:
        return sum(xs) / len(xs) if xs else None

    lang_rows = []
    for (task, language, model, clf), rows in by_lang.items():
        best = max(rows, key=lambda r: (r["scores"]["macro_f1"]["mean"], r["strategy"]))
        lang_rows.append({
            "task": task, "language": language, "model": model, "classifier": clf, "best_strategy": best["strategy"],
            "best_macro_f1": best["scores"]["macro_f1"]["mean"],
            "gold_macro_f1": best["gold"]["macro_f1"]["mean"] if best["gold"] else None,
            "gap_points": best["gap_to_gold"]["points"]["mean"] if best["gap_to_gold"] else None,
        })
    strat_rows = []
    for (task, strategy, model, clf), rows in by_strat.items():
        gaps = [r["gap_to_gold"]["points"]["mean"] for r in rows if r["gap_to_gold"]]
        strat_rows.append({
            "task": task, "strategy": strategy, "model": model, "classifier": clf,
            "mean_macro_f1": mean([r["scores"]["macro_f1"]["mean"] for r in rows]),
            "mean_gap_points": mean(gaps), "languages": len(rows),
        })
    model_rows = []
    for (model, clf), rows in by_model.items():
        gaps = [r["gap_to_gold"]["points"]["mean"] for r in rows if r["gap_to_gold"]]
        model_rows.append({"model": model, "classifier": clf,
                           "mean_macro_f1": mean([r["scores"]["macro_f1"]["mean"] for r in rows]),
                           "mean_gap_points": mean(gaps), "cells": len(rows)})
    return {"by_language": lang_rows, "by_strategy": strat_rows, "by_model": model_rows}
