"""One leaderboard row from its replicates: the per-seed scores of every replicate with their
aggregates, a replicate that could not be scored at its majority-class floor, the generation
statistics summed or averaged, and what the reviser judged."""

from __future__ import annotations

from harness.records import JSON, UNSET, Candidates, CandidateStatus, DemoRecord, GenerationStats, Unset
from harness.records import Floor as FloorScores
from harness.records import SeedScores as CellSeedScores
from harness.results.metrics import SEEDS, summary, units
from harness.results.model import Generation, Result, Revision, Scores, SeedScore, Stat
from harness.results.reader import FinishedCell


def _stat(per_seed: list[SeedScore], key: str) -> Stat:
    values, over = units(per_seed, key)
    stat = Stat(**summary(list(values.values()), f"scores over {over}"), over=over)
    if stat.no_interval and over == SEEDS:
        stat.no_interval += " (the classifier gives the same fit whatever its seed)"
    return stat


def scores_block(per_seed: list[SeedScore]) -> Scores:
    """Per-seed scores with their aggregates (over replicates, or seeds with one replicate)."""
    return Scores(per_seed=per_seed, macro_f1=_stat(per_seed, "macro_f1"), accuracy=_stat(per_seed, "accuracy"))


def seed_scores(replicate: int, per_seed: list[CellSeedScores]) -> list[SeedScore]:
    """A cell's per-seed scores as the leaderboard lists them, with the replicate they belong to."""
    return [SeedScore(replicate=replicate, seed=r.seed, macro_f1=r.macro_f1, accuracy=r.accuracy, fit=r.fit)
            for r in per_seed]


def _floor_entries(floor: FloorScores, replicate: int, seeds: list[int]) -> list[SeedScore]:
    """An unscored replicate counts at its majority-class floor for every seed, flagged."""
    return [SeedScore(replicate=replicate, seed=s, macro_f1=floor.macro_f1, accuracy=floor.accuracy, floor=True)
            for s in seeds]


def pooled_scores(parts: list[FinishedCell], seeds: list[int]) -> tuple[Scores | None, list[int], FloorScores | None]:
    """The row's scores over its replicates; the replicates that could not be scored, and their floor."""
    per_seed: list[SeedScore] = []
    floored: list[int] = []
    floor = None
    for part in parts:
        if part.scores.per_seed:
            per_seed += seed_scores(part.cell.replicate, part.scores.per_seed)
        else:
            floored.append(part.cell.replicate)
            floor = floor or part.scores.floor
    if per_seed and floored:  # a replicate that could not be scored counts at its floor, never dropped
        for part in parts:
            if not part.scores.per_seed and part.scores.floor:
                per_seed += _floor_entries(part.scores.floor, part.cell.replicate, seeds)
    return (scores_block(per_seed) if per_seed else None), floored, floor


#: generation statistics that add up over replicates; the other numbers are averaged
_COUNTS = ("requested", "accepted", "rejected", "duplicates", "llm_calls", "engine_calls", "prompt_tokens",
           "completion_tokens", "seconds", "engine_seconds", "attempts", "off_script", "off_language_accepted")
_RATES = ("acceptance_rate", "duplicate_rate", "distinct_1", "distinct_2", "mean_length", "gold_mean_length",
          "off_language_rate")


def _number(stats: GenerationStats, key: str) -> float | None:
    value = getattr(stats, key)
    return None if value is UNSET else value


def _summed(stats: list[GenerationStats], key: str) -> dict[str, int] | None:
    """A per-label count summed over replicates (None when no replicate has it)."""
    if all(getattr(st, key) is None for st in stats):
        return None
    out: dict[str, int] = {}
    for st in stats:
        for lab, n in (getattr(st, key) or {}).items():
            out[lab] = out.get(lab, 0) + n
    return out


def _demos(value: DemoRecord | None | Unset) -> dict[str, JSON] | None:
    return value.to_json() if isinstance(value, DemoRecord) else None


def pool_generation(stats: list[GenerationStats]) -> Generation:
    """One row's generation statistics over its replicates (each a cell's `stats`): counts summed
    (per class too), rates and lengths averaged; the demonstrations are replicate 0's (each replicate
    lists its own); prompts cut to the model's context summed over replicates."""
    first = stats[0]
    out: dict[str, object] = {}
    for k in _COUNTS:
        if getattr(first, k) is not None:
            total = sum(getattr(st, k) or 0 for st in stats)
            out[k] = round(total, 3) if isinstance(total, float) else total
    for k in _RATES:
        vals = [v for v in (_number(st, k) for st in stats) if v is not None]
        value = getattr(first, k)
        if value is not UNSET and (value is not None or k == "off_language_rate"):
            out[k] = round(sum(vals) / len(vals), 4) if vals else None  # null (no check knows the language) stays null
    per_class = {lab: c.to_json() for lab, c in (first.per_class or {}).items()}
    out["per_class"] = {lab: {f: sum(int((st.per_class or {})[lab].to_json().get(f, 0) or 0)
                                     for st in stats if lab in (st.per_class or {})) for f in v}
                        for lab, v in per_class.items()}
    if first.shortfall is not None:
        out["shortfall"] = _summed(stats, "shortfall")
    out["language_filter"] = first.language_filter
    out["demos"] = _demos(first.demos)
    out["model_identity"] = first.model_identity
    out["demos_dropped"] = _summed(stats, "demos_dropped") or None
    too_long: dict[str, str] = {}
    for st in stats:
        for lab, why in (st.context_rejected or {}).items():
            too_long.setdefault(lab, why)
    out["context_rejected"] = too_long or None
    return Generation(**out)  # type: ignore[arg-type]


def replicate_demos(stats: GenerationStats) -> dict[str, JSON] | None:
    """The demonstrations one replicate showed, as the leaderboard lists them."""
    return _demos(stats.demos)


def revision_counts(kept: list[Candidates | None]) -> Revision | None:
    """How many candidates the reviser judged and how many it turned down, over a row's replicates:
    the generation stats fold those into `rejected`, and the report shows what revision itself does.
    Only strategies that keep their candidates (the composed ones) can say."""
    files = [k for k in kept if k is not None]
    if not files:
        return None
    judged = [c for k in files for c in k.candidates if c.judged]
    return Revision(judged=len(judged), rejected=sum(c.kind is CandidateStatus.REJECTED_BY_REVISION for c in judged))


def without_classifier_variance(rows: list[Result] | list) -> list[str]:
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
