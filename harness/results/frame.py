"""The leaderboard as one long-form table (a pandas DataFrame), for notebooks and CSV: the shape
`groupby` and plotting libraries want, where the leaderboard's JSON is nested per row.

Two levels. `seed`: one row per (task, language, strategy, model, classifier, replicate, seed), each
classifier fit's scores as the leaderboard's `per_seed` holds them; a row that could not be scored at
all stands at its majority-class floor for each of its replicates and the run's seeds, with `floor`
true, as the leaderboard's comparisons count it. `row`: one row per leaderboard row, with its mean,
95% interval and gap to gold as the leaderboard states them. Gold baselines are rows of strategy
`gold` (model empty) with a gap of 0, so `df[df.strategy == "gold"]` is the baseline.

Scores (`macro_f1`, `accuracy`, `gold_macro_f1`) are in [0, 1] as in the file; gaps and differences
are in F1 points (gold minus synthetic: positive means the synthetic data is worse). The generation
cost of a row (`llm_calls`, `prompt_tokens`, `completion_tokens`, `engine_seconds`) is the row's,
pooled over its replicates, and is repeated on each of its seed rows: sum it at row level.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from harness.config.suite import DEFAULT_BASELINE
from harness.errors import BenchError
from harness.results.model import Comparison, GoldResult, Leaderboard, Result, SeedScore, Stat

if TYPE_CHECKING:
    import pandas as pd

Level = Literal["seed", "row"]
LEVELS = ("seed", "row")


#: generation statistics that say what a row cost, read from its `generation` block where present
GENERATION_COST = ("llm_calls", "prompt_tokens", "completion_tokens", "engine_seconds")

#: mappings on a row whose numbers become columns, with this prefix (absent ones are skipped)
EXTRA_MAPPINGS = {"cost": "cost_", "diagnostics": "diag_"}


def results(source: str | Path | Leaderboard, level: Level = "seed") -> pd.DataFrame:
    """The leaderboard of a run directory, a leaderboard.json or a `Leaderboard` as a long-form
    DataFrame (module docstring: what each level holds); a bad source or level is a one-line
    BenchError."""
    if level not in LEVELS:
        raise BenchError(f"level={level!r} is not a level of the results table; pass level=\"seed\" (one row per "
                         f"classifier seed) or level=\"row\" (one row per leaderboard row)")
    board = load(source)
    import pandas as pd

    records = seed_records(board) if level == "seed" else row_records(board)
    df = pd.DataFrame.from_records(records, columns=_columns(level, records))
    for name in df.columns:  # a number absent from every row is a float column of NaN, not one of None
        if name not in _NOT_FLOAT:
            df[name] = df[name].astype("float64")
    return df


def load(source: str | Path | Leaderboard) -> Leaderboard:
    """A `Leaderboard` from a run directory, a leaderboard file or the object itself."""
    if isinstance(source, Leaderboard):
        return source
    if not isinstance(source, (str, Path)):
        raise BenchError(f"cannot read results from a {type(source).__name__}; pass a run directory, the path of a "
                         f"leaderboard.json or a Leaderboard (harness.api.run returns one)")
    from harness.results.leaderboard import validate_file
    from harness.store.rundir import RunDir

    path = Path(source)
    if path.is_dir():
        board = RunDir(path).leaderboard
        if not board.is_file():
            raise BenchError(f"{path} holds no leaderboard.json (a run that has not finished?); pass a run directory "
                             f"that `bench run` completed, or the path of a leaderboard.json")
        path = board
    return validate_file(path)


# -- the columns ----------------------------------------------------------------------------------

_KEYS = ["task", "language", "language_iso", "language_name", "tier", "strategy", "model", "classifier"]
_SEED = [*_KEYS, "replicate", "seed", "macro_f1", "accuracy", "floor"]
_ROW = [*_KEYS, "macro_f1", "macro_f1_std", "macro_f1_ci95_low", "macro_f1_ci95_high", "n", "over", "accuracy",
        "floored"]
_AFTER = ["gold_macro_f1", "gap_points", "vs_zero_shot", "vs_zero_shot_points", "best", *GENERATION_COST]
_ROW_AFTER = ["gold_macro_f1", "gap_points", "gap_ci95_low", "gap_ci95_high", "vs_zero_shot", "vs_zero_shot_points",
              "best", *GENERATION_COST]

#: the columns that are not floats: text, flags and counts
_NOT_FLOAT = {*_KEYS, "over", "vs_zero_shot", "floor", "floored", "best", "replicate", "seed", "n"}


def _columns(level: str, records: list[dict[str, Any]]) -> list[str]:
    """The fixed columns in a stable order, then any `cost_`/`diag_` column some row has, sorted."""
    fixed = [*_SEED, *_AFTER] if level == "seed" else [*_ROW, *_ROW_AFTER]
    extra = sorted({k for r in records for k in r if k not in fixed})
    return [*fixed, *extra]


# -- one record per seed, or per row --------------------------------------------------------------

def seed_records(board: Leaderboard) -> list[dict[str, Any]]:
    """One dict per classifier fit: result rows, then the gold baselines."""
    out: list[dict[str, Any]] = []
    for r in board.results:
        common = _common(board, r)
        gold = common["gold_macro_f1"]
        for s in _seeds(board, r):
            gap = None if gold is None else 100.0 * (gold - s.macro_f1)
            out.append({**common, "replicate": s.replicate, "seed": s.seed, "macro_f1": s.macro_f1,
                        "accuracy": s.accuracy, "floor": bool(s.floor), "gap_points": gap})
    for g in board.gold:
        common = _gold_common(board, g)
        for s in g.scores.per_seed:
            out.append({**common, "replicate": s.replicate, "seed": s.seed, "macro_f1": s.macro_f1,
                        "accuracy": s.accuracy, "floor": bool(s.floor)})
    return out


def row_records(board: Leaderboard) -> list[dict[str, Any]]:
    """One dict per leaderboard row: result rows, then the gold baselines."""
    out: list[dict[str, Any]] = []
    for r in board.results:
        rec = _common(board, r)
        if r.scores:
            rec.update(_stat_columns("macro_f1", r.scores.macro_f1), accuracy=r.scores.accuracy.mean, floored=False)
        else:  # counted at its majority-class floor, as the summaries count it
            rec.update(macro_f1=r.floor.macro_f1 if r.floor else None,
                       accuracy=r.floor.accuracy if r.floor else None, floored=True)
        if r.gap_to_gold:
            gap = r.gap_to_gold.points
            rec.update(gap_points=gap.mean, gap_ci95_low=_ci(gap, 0), gap_ci95_high=_ci(gap, 1))
        elif rec["gold_macro_f1"] is not None and rec["macro_f1"] is not None:
            rec["gap_points"] = 100.0 * (rec["gold_macro_f1"] - rec["macro_f1"])
        out.append(rec)
    for g in board.gold:
        out.append({**_gold_common(board, g), **_stat_columns("macro_f1", g.scores.macro_f1),
                    "accuracy": g.scores.accuracy.mean, "floored": False})
    return out


def _seeds(board: Leaderboard, r: Result) -> list[SeedScore]:
    """A row's per-seed scores; a row that could not be scored stands at its floor for each of its
    replicates and the run's seeds (flagged), never dropped."""
    if r.scores:
        return r.scores.per_seed
    if not r.floor:
        return []
    return [SeedScore(replicate=rep.replicate, seed=seed, macro_f1=r.floor.macro_f1, accuracy=r.floor.accuracy,
                      floor=True) for rep in r.replicates for seed in board.manifest.seeds]


def _common(board: Leaderboard, r: Result) -> dict[str, Any]:
    """The columns a result row's seed rows share: its keys, gold, verdict, best set and cost."""
    verdict, points = vs_baseline(board, r)
    rec: dict[str, Any] = {
        "task": r.task, "language": r.language, "language_iso": r.language_iso, "language_name": r.language_name,
        "tier": r.tier, "strategy": r.strategy, "model": r.model, "classifier": r.classifier,
        "gold_macro_f1": r.gold.macro_f1.mean if r.gold else None,
        "vs_zero_shot": verdict, "vs_zero_shot_points": points, "best": in_best_set(board, r)}
    for name in GENERATION_COST:
        rec[name] = getattr(r.generation, name, None)
    for field, prefix in EXTRA_MAPPINGS.items():
        rec.update(numbers(getattr(r, field, None), prefix))
    return rec


def _gold_common(board: Leaderboard, g: GoldResult) -> dict[str, Any]:
    """A gold baseline's columns: strategy `gold`, no model, no verdict, a gap of 0."""
    like = next((r for r in board.results if (r.task, r.language) == (g.task, g.language)), None)
    return {"task": g.task, "language": g.language, "language_iso": g.language_iso,
            "language_name": like.language_name if like else None, "tier": like.tier if like else None,
            "strategy": g.strategy, "model": g.model, "classifier": g.classifier,
            "gold_macro_f1": g.scores.macro_f1.mean, "gap_points": 0.0, "vs_zero_shot": None,
            "vs_zero_shot_points": None, "best": False}


def _stat_columns(name: str, stat: Stat) -> dict[str, Any]:
    return {name: stat.mean, f"{name}_std": stat.std, f"{name}_ci95_low": _ci(stat, 0),
            f"{name}_ci95_high": _ci(stat, 1), "n": stat.n, "over": stat.over}


def _ci(stat: Stat, i: int) -> float | None:
    return None if stat.ci95 is None else stat.ci95[i]


# -- what the leaderboard says about a row --------------------------------------------------------

def baseline(board: Leaderboard) -> str:
    """The strategy this leaderboard's rows are compared with: the suite's `baseline` setting, which
    its settings name only where the suite changed it."""
    return str(board.manifest.settings.get("baseline", DEFAULT_BASELINE))


def baseline_comparison(board: Leaderboard, r: Result) -> Comparison | None:
    """The leaderboard's comparison of this row's strategy with the baseline strategy (same task,
    language, model and classifier), whichever way round it was written; None for the baseline itself
    or without one."""
    base = baseline(board)
    if r.strategy == base:
        return None
    for c in board.comparisons:
        if (c.compared == "strategy" and (c.task, c.language, c.classifier, c.model) ==
                (r.task, r.language, r.classifier, r.model) and {c.a, c.b} == {r.strategy, base}):
            return c
    return None


_FLIPPED = {"better": "worse", "worse": "better", "not distinguishable": "not distinguishable"}


def vs_baseline(board: Leaderboard, r: Result) -> tuple[str | None, float | None]:
    """This row against the baseline strategy: the verdict and the difference in points, both read as
    "this row minus the baseline" (the leaderboard stores each pair once, as a minus b). The columns
    keep the name `vs_zero_shot` whatever the baseline, so that code reading them keeps working."""
    c = baseline_comparison(board, r)
    if c is None:
        return None, None
    if c.a == r.strategy:
        return c.verdict, c.difference_points.mean + 0.0  # never -0.0
    return _FLIPPED[c.verdict], 0.0 - c.difference_points.mean


def in_best_set(board: Leaderboard, r: Result) -> bool:
    """Whether the row's strategy is among the best of its task, language, model and classifier (the
    top mean and every strategy it is not better than at 95%)."""
    return any(r.strategy in b.best_strategies for b in board.summaries.by_language
               if (b.task, b.language, b.model, b.classifier) == (r.task, r.language, r.model, r.classifier))


def numbers(mapping: Any, prefix: str) -> dict[str, float | int]:
    """The numeric fields of a mapping (or a dataclass), nested ones joined with `_`, as prefixed
    columns; anything else, or nothing, gives no column."""
    if dataclasses.is_dataclass(mapping) and not isinstance(mapping, type):
        mapping = dataclasses.asdict(mapping)
    if not isinstance(mapping, Mapping):
        return {}
    out: dict[str, float | int] = {}
    for key, value in mapping.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            out[f"{prefix}{key}"] = value
        elif isinstance(value, Mapping) or dataclasses.is_dataclass(value):
            out.update(numbers(value, f"{prefix}{key}_"))
    return out
