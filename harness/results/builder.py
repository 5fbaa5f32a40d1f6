"""Building the leaderboard from a run directory's finished cells: a row per (task, language,
strategy, model, classifier) pooled over its replicates (harness/results/pooling.py), the gold rows,
each row's cost, the manifest, and the comparisons and summaries across rows."""

from __future__ import annotations

from harness.pipeline.plan import GOLD, Plan
from harness.records import JSON
from harness.registry.discovery import Registry
from harness.results.aggregate import comparisons, summaries
from harness.results.cost import run_cost
from harness.results.explain import correlations, pooled_diagnostics
from harness.results.frontier import frontiers, row_cost, summary_shares
from harness.results.manifest import manifest
from harness.results.metrics import gap, paired_units
from harness.results.model import (
    SCHEMA_VERSION,
    Floor,
    Gap,
    GoldRef,
    GoldReplicate,
    GoldResult,
    Leaderboard,
    Replicate,
    Result,
    Stat,
)
from harness.results.pooling import (
    pool_generation,
    pooled_scores,
    replicate_demos,
    revision_counts,
    scores_block,
    seed_scores,
    without_classifier_variance,
)
from harness.results.reader import FinishedCell, RowKey, finished, samples_file, saved_estimate, shared_work
from harness.store.rundir import RunDir


def build(plan: Plan, reg: Registry, run: RunDir) -> Leaderboard:
    """Assemble the leaderboard from the files of finished cells (missing ones are simply absent).

    A row pools the replicates of one (task, language, strategy, model, classifier): its mean is over
    replicates x seeds and its interval over replicate means (over seeds with one replicate)."""
    rows = finished(plan, run)
    gold_rows = [_gold_row(plan, run, key, parts) for key, parts in rows.items() if key.strategy == GOLD]
    gold_index = {(r.task, r.language, r.classifier): r for r in gold_rows}
    results = [_result_row(plan, run, key, parts, gold_index.get((key.task, key.language, key.classifier)))
               for key, parts in rows.items() if key.strategy != GOLD]
    head = manifest(plan, reg)
    head.models = _model_identities(rows) or None
    head.shared_work = shared_work(run) or None
    _add_costs(plan, rows, results, head.shared_work or [])
    head.cost = run_cost([part for parts in rows.values() for part in parts], head.shared_work or [],
                         saved_estimate(run))
    if flat := without_classifier_variance([*gold_rows, *results]):
        head.without_classifier_variance = flat
        head.intervals = (f"{head.intervals}; {len(flat)} row{'s' if len(flat) > 1 else ''} without classifier "
                          "variance (every seed the same score: no interval over seeds, no verdict from one), "
                          "listed in without_classifier_variance")
    return Leaderboard(
        schema_version=SCHEMA_VERSION, manifest=head, results=results, gold=gold_rows,
        unavailable=list(plan.unavailable),
        summaries=summaries(results), comparisons=comparisons(results), frontiers=frontiers(results) or None,
        diagnostic_correlations=correlations(results) or None)


def _add_costs(plan: Plan, rows: dict[RowKey, list[FinishedCell]], results: list[Result],
               shared: list[dict]) -> None:
    """Each row's cost: its generation cells' work, its share of the label summaries its prompts
    showed (its generations' candidates say whether they did), its model's declared price."""
    def summarizer(key: RowKey) -> str | None:
        if key.strategy == GOLD or not any(part.showed_summaries for part in rows[key]):
            return None
        return plan.summarizer(key.strategy, key.model)

    users: dict[tuple[str, str], set[str]] = {}
    for key, parts in rows.items():
        if name := summarizer(key):
            users.setdefault((key.task, name), set()).update(part.cell.source for part in parts)
    shares = summary_shares(shared, {k: len(v) for k, v in users.items()})
    for row in results:
        key = RowKey(*row.key)
        name = summarizer(key)
        share = shares.get((row.task, name)) if name else None
        gens = [part.generation for part in rows[key] if part.generation is not None]
        row.cost = row_cost(gens, share, (plan.suite.model_options.get(row.model) or {}).get("price"))


def _replicate_record(run: RunDir, part: FinishedCell) -> Replicate | GoldReplicate:
    cell, scores, gen = part.cell, part.scores, part.generation
    mean = sum(r.macro_f1 for r in scores.per_seed) / len(scores.per_seed) if scores.per_seed else None
    common = {"replicate": cell.replicate, "eval_id": cell.id, "train_size": scores.train_size, "macro_f1": mean,
              "samples": samples_file(run, cell.id)}
    if gen is None:
        return GoldReplicate(**common)
    return Replicate(**common, cell_id=cell.source, accepted=gen.accepted, demos=replicate_demos(gen))


def _gold_row(plan: Plan, run: RunDir, key: RowKey, parts: list[FinishedCell]) -> GoldResult:
    first = parts[0]
    replicates = [_replicate_record(run, p) for p in parts]
    return GoldResult(
        task=key.task, language=key.language, language_iso=plan.languages[(key.task, key.language)].iso,
        classifier=key.classifier, eval_id=first.cell.id, train_size=first.scores.train_size,
        per_class=first.scores.per_class,
        scores=scores_block([s for p in parts for s in seed_scores(p.cell.replicate, p.scores.per_seed)]),
        samples=replicates[0].samples, replicates=replicates)


def _result_row(plan: Plan, run: RunDir, key: RowKey, parts: list[FinishedCell], gold: GoldResult | None) -> Result:
    first = parts[0]
    lang = plan.languages[(key.task, key.language)]
    scores, floored, floor = pooled_scores(parts, plan.suite.seeds)
    gap_block = None
    if gold and scores and (diff := gap(*paired_units(gold.scores.per_seed, scores.per_seed))):
        gap_block = Gap(points=Stat(**diff["points"]), relative=diff["relative"], paired_over=diff["paired_over"],
                        paired=diff["paired"])
    gen = pool_generation([p.generation for p in parts if p.generation is not None])
    gen.revision = revision_counts([p.candidates for p in parts])
    replicates = [_replicate_record(run, p) for p in parts]
    notes = list(dict.fromkeys(p.scores.note for p in parts if p.scores.note))
    note = "; ".join(notes) if notes else None
    if not notes and gold is None:
        note = "no gold baseline for this language (see unavailable)"
    return Result(
        diagnostics=pooled_diagnostics([p.scores.diagnostics for p in parts]),
        task=key.task, language=key.language, language_iso=lang.iso, language_name=lang.name, tier=lang.tier,
        strategy=key.strategy, model=key.model, classifier=key.classifier, cell_id=first.cell.source,
        eval_id=first.cell.id, train_size=first.scores.train_size, train_per_class=first.scores.per_class,
        scores=scores, generation=gen,
        gold=None if gold is None else GoldRef(macro_f1=gold.scores.macro_f1, accuracy=gold.scores.accuracy,
                                               train_size=gold.train_size, per_class=gold.per_class),
        gap_to_gold=gap_block, replicates=replicates, floored_replicates=floored or None,
        floor=Floor(macro_f1=floor.macro_f1, accuracy=floor.accuracy) if floor and not scores else None,
        samples=replicates[0].samples, note=note)


def _model_identities(rows: dict[RowKey, list[FinishedCell]]) -> dict[str, JSON]:
    """What each model's generations were made with (backend, version, dtype, device kind, weights),
    from its generation cells; a model whose cells disagree (a run resumed on another device) lists each."""
    identities: dict[str, list[JSON]] = {}
    for parts in rows.values():
        for part in parts:
            found = part.generation.model_identity if part.generation is not None else None
            if found and found not in identities.get(part.cell.model, []):
                identities.setdefault(part.cell.model, []).append(found)
    return {m: ids[0] if len(ids) == 1 else ids for m, ids in sorted(identities.items())}
