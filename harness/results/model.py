"""The leaderboard as types: what `bench run` writes and every reader (reports, export, compare,
validation) reads. The committed JSON Schema (schema/leaderboard.schema.json) is generated from these
classes (`python -m harness.results.model`), and a test keeps the two the same.

Field order is the order of the file. Fields declared `optional` may be absent from a leaderboard
(older ones of this schema version, or strategies that do not report them)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from harness.results.typed import defined, from_json, object_schema, optional, required, to_json

SCHEMA_VERSION = "1.2"

Over = Literal["classifier seeds", "generation replicates"]
Verdict = Literal["better", "worse", "not distinguishable"]

_UNIT = {"type": "number", "minimum": 0, "maximum": 1}
_ISO = {"pattern": "^[a-z]{3}_[A-Z][a-z]{3}$"}


@defined("stat")
@dataclass(kw_only=True)
class Stat:
    """Mean, sample standard deviation and a Student-t 95% interval over `n` values."""

    mean: float = required()
    std: float | None = required(minimum=0)
    ci95: list[float] | None = required(minItems=2, maxItems=2,
                                        description="null for a single value, or for n identical values (no_interval): no spread was "
                                                    "measured")
    n: int = required(minimum=1, description="how many values the interval is over")
    over: Over | None = optional(description="what the n values are: the variance the interval covers")
    no_interval: str | None = optional(
        description="why ci95 is null although n > 1: every value was the same, so no variance was measured")


@dataclass(kw_only=True)
class SeedScore:
    """One classifier fit's scores (macro-F1, accuracy) for one seed of one replicate; `floor` marks a
    replicate that could not be trained, counted at its majority-class floor, and `fit` holds what the
    classifier recorded (epochs, seconds).

        [(s.replicate, s.seed, s.macro_f1) for s in board.results[0].scores.per_seed]
    """

    replicate: int = required(minimum=0)
    seed: int = required()
    macro_f1: float = required(ref="unit")
    accuracy: float = required(ref="unit")
    floor: Literal[True] | None = optional(
        description="a replicate that could not be trained, counted at its majority-class floor")
    fit: dict[str, Any] | None = optional(
        override={"type": "object", "description": "facts about the training run, e.g. epochs and seconds per epoch"})


@defined("scores")
@dataclass(kw_only=True)
class Scores:
    """A row's per-seed scores and their statistics (`Stat`: mean, std, 95% interval and what it is
    over).

        board.results[0].scores.macro_f1.mean
    """

    per_seed: list[SeedScore] = required(minItems=1)
    macro_f1: Stat = required()
    accuracy: Stat = required()


@defined("replicate")
@dataclass(kw_only=True)
class Replicate:
    """One generation replicate of a result: its cells and its mean over classifier seeds."""

    SCHEMA_DESCRIPTION = "one generation replicate of a row: its cells and its mean over classifier seeds (null: not scored)"

    replicate: int = required(minimum=0)
    eval_id: str = required()
    train_size: int = required(minimum=0)
    cell_id: str | None = optional()
    accepted: int | None = optional(minimum=0)
    demos: dict[str, Any] | None = optional(nullable=True, override={"type": ["object", "null"]})
    macro_f1: float | None = required(ref="unitOrNull")
    samples: str | None = optional()


@defined("goldReplicate")
@dataclass(kw_only=True)
class GoldReplicate:
    """One replicate of a gold baseline (its gold draw, with `gold = "random"`)."""

    SCHEMA_DESCRIPTION = "one replicate of a gold baseline: its cell and its mean over classifier seeds"

    replicate: int = required(minimum=0)
    eval_id: str = required()
    train_size: int = required(minimum=0)
    macro_f1: float | None = required(ref="unitOrNull")
    samples: str | None = optional()


@dataclass(kw_only=True)
class Floor:
    SCHEMA_DESCRIPTION = "majority-class scores of a cell that could not be trained (fewer than two classes)"

    macro_f1: float = required(ref="unit")
    accuracy: float = required(ref="unit")


@dataclass(kw_only=True)
class Revision:
    SCHEMA_DESCRIPTION = ("candidates the reviser judged and turned down (from the cell's candidates.json; "
                          "0 judged without revision)")

    judged: int = required(minimum=0)
    rejected: int = required(minimum=0)


_COUNT = {"minimum": 0}


@dataclass(kw_only=True)
class Generation:
    """A row's generation statistics, pooled over its replicates (harness/results/leaderboard.py)."""

    requested: int = required(**_COUNT)
    accepted: int = required(**_COUNT)
    rejected: int = required(**_COUNT)
    duplicates: int = required(**_COUNT)
    llm_calls: int = required(**_COUNT)
    engine_calls: int = required(**_COUNT)
    prompt_tokens: int = required(**_COUNT)
    completion_tokens: int = required(**_COUNT)
    seconds: float = required(minimum=0, description="wall time of the cell, summed over its attempts")
    engine_seconds: float | None = optional(minimum=0, description="time in the engine, summed over attempts")
    attempts: int | None = optional(
        minimum=1, description="runs of the cell it took to finish it (more than 1 after a resume); engine_calls "
                               "adds up over them")
    off_script: int | None = optional()
    off_language_accepted: int | None = optional(minimum=0, description="accepted examples the language check flags")
    acceptance_rate: float | None = optional()
    duplicate_rate: float | None = optional()
    distinct_1: float | None = optional()
    distinct_2: float | None = optional()
    mean_length: float | None = optional()
    gold_mean_length: float | None = optional()
    off_language_rate: float | None = optional(
        nullable=True, minimum=0, maximum=1,
        description="share of parsed candidates the language check flags as not in the target language, before "
                    "any filter; null when no check knows the language")
    per_class: dict[str, dict[str, int]] = required(override={
        "type": "object", "additionalProperties": {
            "type": "object", "required": ["requested", "accepted"],
            "properties": {"requested": {"type": "integer"}, "accepted": {"type": "integer"}}}})
    shortfall: dict[str, int] | None = optional()
    language_filter: bool | None = optional(
        description="off-language candidates were rejected (+lid strategies, where the check is reliable)")
    demos: dict[str, Any] | None = optional(nullable=True, override={
        "type": ["object", "null"], "required": ["source", "k", "file", "digest"],
        "description": "the demonstrations shown: one file and digest for every strategy and model of a task and "
                       "language"})
    model_identity: dict[str, Any] | None = optional(override={
        "type": "object", "required": ["backend", "backend_version", "dtype", "device_kind", "quantization", "weights"],
        "description": "what generated the cell: the engine's identity, whose digest keys its cache entries"})
    demos_dropped: dict[str, int] | None = optional(override={
        "type": "object", "additionalProperties": {"type": "integer", "minimum": 0},
        "description": "per label, demonstrations left out (from the end of the draw) so that the prompt and its "
                       "max_new_tokens fit the model's context; summed over replicates"})
    context_rejected: dict[str, str] | None = optional(
        description="labels never asked for: the prompt does not fit the model's context even without "
                    "demonstrations (the reason)")
    revision: Revision | None = optional()


@dataclass(kw_only=True)
class Cost:
    """What a row's data cost to make, summed over its replicates: its generation cells' tokens and
    engine time (revision's share included and also given apart), its share of the label summaries it
    showed, and its price where its model declares one (`[models."X"] price`)."""

    prompt_tokens: int = required(**_COUNT)
    completion_tokens: int = required(**_COUNT)
    engine_seconds: float = required(minimum=0, description="engine time, 0 where every generation came from the cache")
    device_kinds: list[str] = required()
    revision: dict[str, float] | None = optional(override={
        "type": "object", "additionalProperties": {"type": "number", "minimum": 0},
        "description": "revision's share of the numbers above"})
    label_summaries: dict[str, float] | None = optional(override={
        "type": "object", "additionalProperties": {"type": "number", "minimum": 0},
        "description": "this row's share of the label summaries it showed (their work split evenly over the "
                       "generation cells that showed them), on top of the numbers above"})
    price: float | None = optional(minimum=0, description="in the currency of the model's declared price")
    price_basis: Literal["tokens", "gpu_hour"] | None = optional()


@dataclass(kw_only=True)
class Diagnostics:
    """Properties of a row's synthetic data that may explain its score, averaged over its replicates
    and classifier seeds (harness/pipeline/diagnostics.py)."""

    label_fidelity: float | None = required(
        minimum=0, maximum=1,
        description="share of synthetic examples the gold-trained e5 classifier of the same seed assigns to the "
                    "label they were generated for")
    gold_label_fidelity: float | None = required(
        minimum=0, maximum=1,
        description="the same classifier's accuracy on the gold test set: the ceiling of label fidelity")
    diversity: float | None = required(
        description="mean pairwise cosine distance of the examples' e5 embeddings within a class, "
                                   "averaged over classes")
    gold_diversity: float | None = required(description="the same for the gold training subset")
    distance_to_gold: float | None = required(
        description="kernel distance (KID: unbiased MMD^2, cubic polynomial kernel) between the "
                                   "synthetic and gold training embeddings of a class, averaged over classes")


@dataclass(kw_only=True)
class GoldRef:
    """The gold baseline a result is measured against, repeated in the row for readers of one row."""

    macro_f1: Stat = required()
    accuracy: Stat = required()
    train_size: int = required()
    per_class: dict[str, int] | None = optional(override={})


@dataclass(kw_only=True)
class Gap:
    """Gold minus synthetic macro-F1 in points, paired by unit, and relative to gold."""

    points: Stat = required()
    relative: float | None = required()
    paired_over: Over = required()
    paired: list[int] = required()


@defined("result")
@dataclass(kw_only=True)
class Result:
    """One (task, language, strategy, model, classifier): its scores pooled over replicates."""

    task: str = required()
    language: str = required(ref="language")
    language_iso: str = required(**_ISO)
    language_name: str = required()
    tier: Literal["high", "low"] = required()
    strategy: str = required()
    model: str = required()
    classifier: str = required()
    cell_id: str = required()
    eval_id: str = required()
    train_size: int = required(minimum=0)
    train_per_class: dict[str, int] | None = optional(override={
        "type": "object", "additionalProperties": {"type": "integer", "minimum": 0}})
    scores: Scores | None = required()
    generation: Generation = required()
    gold: GoldRef | None = required()
    gap_to_gold: Gap | None = required()
    replicates: list[Replicate] = required(minItems=1)
    floored_replicates: list[int] | None = optional()
    floor: Floor | None = optional()
    samples: str | None = optional(description="per-example predictions (--log-samples), relative to the run directory")
    note: str | None = optional()
    cost: Cost | None = optional()
    diagnostics: Diagnostics | None = optional()

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.task, self.language, self.strategy, self.model, self.classifier)


@defined("gold")
@dataclass(kw_only=True)
class GoldResult:
    """A classifier trained on the same amount of real data: the baseline of its task and language."""

    task: str = required()
    language: str = required(ref="language")
    language_iso: str = required(**_ISO)
    classifier: str = required()
    eval_id: str = required()
    train_size: int = required(minimum=1)
    per_class: dict[str, int] = required()
    scores: Scores = required()
    samples: str | None = optional()
    replicates: list[GoldReplicate] = required(minItems=1)

    strategy = "gold"  # a gold baseline is strategy `gold` with no model, where results are keyed
    model = ""

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.task, self.language, self.strategy, self.model, self.classifier)


@dataclass(kw_only=True)
class Unavailable:
    task: str = required()
    language: str = required()
    strategy: str = required()
    model: str = required()
    reason: str = required(minLength=1)


@dataclass(kw_only=True)
class Comparison:
    """a minus b in F1 points, paired by generation replicate (or by classifier seed with one replicate)."""

    SCHEMA_DESCRIPTION = ("a minus b in F1 points, paired by generation replicate (or by classifier seed with one "
                          "replicate: see difference_points.over); verdict at 95%")

    task: str = required()
    language: str = required()
    classifier: str = required()
    compared: Literal["strategy", "model"] = required()
    model: str | None = optional()  # the one held fixed: the model when strategies are compared
    strategy: str | None = optional()  # and the strategy when models are
    a: str = required()
    b: str = required()
    difference_points: Stat = required()
    verdict: Verdict = required()
    floored: list[str] | None = optional()


@dataclass(kw_only=True)
class FrontierPoint:
    """One (strategy, model) in a frontier: its gap to gold against its cost."""

    strategy: str = required()
    model: str = required()
    gap_points: float = required(description="mean gap to gold in F1 points (lower is better)")
    gap_ci95: list[float] | None = required(override={
        "type": ["array", "null"], "items": {"type": "number"}, "minItems": 2, "maxItems": 2})
    cost: float = required(minimum=0)
    on_frontier: bool = required(description="no other point has a smaller-or-equal gap at a smaller-or-equal cost "
                                             "(one of them strictly)")
    times_cheapest: float | None = required(
        description="its cost over the cheapest frontier point's (null where that costs 0)")
    languages: int = required(minimum=1, description="languages pooled (1 for a single language)")


@dataclass(kw_only=True)
class Frontier:
    """The Pareto set of (strategy, model) over (gap to gold, cost) for one task, language (or tier,
    pooled) and classifier: the data worth making at each budget."""

    task: str = required()
    language: str = required(description="a language code, or tier:low / tier:high for the tier pooled")
    classifier: str = required()
    unit: Literal["price", "tokens"] = required(
        description="what cost counts: price (every model of the group declares one), else tokens (prompt plus "
                    "completion: the same whether the cache answered or not)")
    points: list[FrontierPoint] = required(minItems=1)


@dataclass(kw_only=True)
class Correlation:
    """How one diagnostic ranks the rows of a run against their gap to gold (Spearman)."""

    diagnostic: str = required()
    classifier: str = required()
    rho: float | None = required()
    p_value: float | None = required()
    n: int = required(minimum=0)
    note: str | None = optional()


@dataclass(kw_only=True)
class LanguageSummary:
    task: str = required()
    language: str = required()
    model: str = required()
    classifier: str = required()
    best_strategy: str = required(description="the highest mean")
    best_strategies: list[str] = required(
        minItems=1, description="every strategy the highest mean is not better than at 95% (paired by replicate, "
                                "or seed)")
    best_macro_f1: float = required(ref="unit")
    gold_macro_f1: float | None = required(ref="unitOrNull")
    gap_points: float | None = required()
    floored: bool = required()


@dataclass(kw_only=True)
class StrategySummary:
    SCHEMA_DESCRIPTION = ("complete case: means over the languages every strategy of the group covers, per resource "
                          "tier; an unscorable cell counts at its majority-class floor")

    task: str = required()
    strategy: str = required()
    model: str = required()
    classifier: str = required()
    tier: Literal["all", "high", "low"] = required()
    mean_macro_f1: float = required(ref="unit")
    mean_gap_points: float | None = required()
    languages: int = required(minimum=1)
    floored: int = required(minimum=0)
    left_out: list[str] = required()


@dataclass(kw_only=True)
class ModelSummary:
    model: str = required()
    classifier: str = required()
    mean_macro_f1: float = required(ref="unit")
    mean_gap_points: float | None = required()
    cells: int = required(minimum=1)
    floored: int = required(minimum=0)


@dataclass(kw_only=True)
class Summaries:
    by_language: list[LanguageSummary] = required()
    by_strategy: list[StrategySummary] = required()
    by_model: list[ModelSummary] = required()


@dataclass(kw_only=True)
class Plugin:
    name: str = required()
    distribution: str = required()
    version: str = required()


_FINGERPRINTS = {"type": "object", "additionalProperties": {"type": "string"}}


@dataclass(kw_only=True)
class Manifest:
    """What the results were made with and from, as MTEB records a dataset revision."""

    harness_version: str = required()
    plugins: list[Plugin] = required()
    libraries: dict[str, str] = required()
    device: str = required()
    cpu: dict[str, Any] | None = optional(override={
        "type": "object", "description": "model name, vendor, instruction sets and BLAS kernels of the CPU",
        "properties": {"model": {"type": "string"}, "vendor": {"type": ["string", "null"]},
                       "isa": {"type": "array", "items": {"type": "string"}},
                       "blas": {"type": "array", "items": {"type": "string"}}}})
    python: str = required()
    suite: str = required()
    settings: dict[str, Any] = required(override={"type": "object"})
    settings_hash: str = required(minLength=1)
    seeds: list[int] = required(minItems=1)
    generation_seed: int = required()
    git_commit: str | None = required()
    created: str = required()
    data_fingerprints: dict[str, str] | None = optional(
        description="task/language/split -> digest of the gold examples read")
    method_fingerprints: dict[str, str] | None = optional(description="strategy -> digest of its prompts and code")
    replicates: int | None = optional(minimum=1, description="independent generations per cell")
    gold_draw: Literal["first", "random"] | None = optional(
        description="gold subset: first N per class, or a seeded random N per replicate")
    intervals: str | None = optional(description="which variance the intervals cover")
    without_classifier_variance: list[str] | None = optional(
        description="rows (task/language strategy model [classifier]) whose seeds all gave the same score, a "
                    "deterministic classifier's included: they have no classifier interval and no verdict rests on one")
    data_sources: dict[str, str] | None = optional(
        description="task/language -> where its data was read (hub dataset, config and commit), for languages "
                    "that say")
    models: dict[str, Any] | None = optional(override={
        "type": "object",
        "description": "model -> identity of the engine that generated its cells (backend, backend_version, dtype, "
                       "device_kind, quantization, weights), or a list of them where its cells disagree"})
    shared_work: list[dict[str, Any]] | None = optional(override={
        "type": "array",
        "description": "work several cells share (label summaries), counted once here and in no cell's generation "
                       "statistics",
        "items": {"type": "object", "required": ["kind", "file", "llm_calls"],
                  "properties": {"kind": {"type": "string"}, "file": {"type": "string"},
                                 "llm_calls": {"type": "integer", "minimum": 0}}}})
    cost: dict[str, Any] | None = optional(override={
        "type": "object",
        "description": "what the run's finished cells really cost per phase (label summaries, generation, revision, "
                       "evaluation: LLM calls, tokens, engine-seconds, fits, classifier-seconds, device kinds), and "
                       "the dry run's estimate for the plan beside it (null for a run that did not save one)",
        "required": ["phases", "estimate"],
        "properties": {"phases": {"type": "array", "items": {"type": "object", "required": ["phase"]}},
                       "engine_seconds": {"type": "number", "minimum": 0},
                       "classifier_seconds": {"type": "number", "minimum": 0},
                       "estimate": {"type": ["object", "null"]}}})
    shards: list[Any] | None = optional(override={"type": "array"})


@dataclass(kw_only=True)
class Leaderboard:
    """A leaderboard.json as types: what `run` returns and `validate_file` reads. `to_json()` is the
    file's JSON; README.md, "The leaderboard", says what each part holds.

        board = validate_file("runs/ci/leaderboard.json")
        [(r.strategy, r.gap_to_gold.points.mean) for r in board.results if r.gap_to_gold]
    """

    schema_version: Literal["1.2"] = required()
    manifest: Manifest = required()
    results: list[Result] = required()
    gold: list[GoldResult] = required()
    unavailable: list[Unavailable] = required()
    summaries: Summaries = required()
    comparisons: list[Comparison] = required()
    frontiers: list[Frontier] | None = optional()
    diagnostic_correlations: list[Correlation] | None = optional()

    def to_json(self) -> dict[str, Any]:
        return to_json(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Leaderboard:
        """From a document valid against the schema (harness/results/leaderboard.py checks it first)."""
        return from_json(cls, data)

    def gold_for(self, task: str, language: str, classifier: str) -> GoldResult | None:
        return next((g for g in self.gold if (g.task, g.language, g.classifier) == (task, language, classifier)),
                    None)


def schema() -> dict[str, Any]:
    """The leaderboard's JSON Schema, from the classes above."""
    defs: dict[str, Any] = {"unit": dict(_UNIT), "unitOrNull": {**_UNIT, "type": ["number", "null"]},
                            "language": {"type": "string", "minLength": 1}}
    body = object_schema(Leaderboard, defs)
    ordered = {name: defs[name] for name in sorted(defs)}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://lowres-bench/leaderboard.schema.json", "title": "lowres-bench leaderboard",
            **body, "additionalProperties": False, "$defs": ordered}


SCHEMA_FILE = Path(__file__).parent / "schema" / "leaderboard.schema.json"


def schema_text() -> str:
    return json.dumps(schema(), ensure_ascii=False, indent=1) + "\n"


if __name__ == "__main__":  # regenerate the committed schema after changing a class above
    SCHEMA_FILE.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")
