"""The records of one cell, from what a strategy returns to what the leaderboard reads: a generation
cell's examples and statistics (generations/<cell>.json), the candidates a composed strategy kept
(artefacts/<cell>/candidates.json), an evaluation cell's per-seed scores, cost and diagnostics
(scores/<cell>.json), and one line of a generation cell's usage ledger.

Each type reads and writes its own JSON (`from_json`, `to_json`), so a misspelled key is an
attribute error where it is written, not a silent zero where it is read, and the run files keep
their keys: a field that holds `None` (or `UNSET`, for the few fields a file may hold as null) is
left out, exactly as the dicts that made these files left the key out.

Plain dataclasses, like the leaderboard's model (harness/results/typed.py), rather than pydantic:
one mechanism for every record and the leaderboard, no validation library on the path of every
`bench` command (importing pydantic's model machinery costs about 22 ms on the development machine,
dataclasses about 12 ms, and dataclasses is imported anyway), and the order of a written file's keys
is the order of the fields, so files written now are byte for byte the files written before.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Literal

#: a JSON value: what a record keeps of a plugin's free-form output (an engine's identity, a
#: classifier's fit details, a third-party strategy's own statistics)
JSON = str | int | float | bool | None | list["JSON"] | dict[str, "JSON"]


@dataclass(frozen=True)
class Example:
    """One labelled text: a gold example, or a synthetic one a strategy accepted. `label` is one of
    the task's `labels`.

        Example("ondoa miadi yangu na daktari wangu", "calendar_remove")
    """

    text: str
    label: str


class Unset(enum.Enum):
    """The value of a field the file leaves out, for fields where null is a value of its own (an
    off-language rate no check could measure is null; a strategy without a language check has none)."""

    UNSET = "unset"


UNSET = Unset.UNSET


def _dump(value: object) -> JSON:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return value.to_json()  # type: ignore[attr-defined]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dump(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value  # type: ignore[return-value]


class _Record:
    """A cell record that writes itself: its fields in declared order, `None` and `UNSET` left out
    except for the fields named in `KEEP_NONE` (where the file holds null), `extra` written beside
    the declared fields, and fields marked `transient` never written."""

    KEEP_NONE: ClassVar[tuple[str, ...]] = ()

    def to_json(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if f.metadata.get("transient") or value is UNSET or (value is None and f.name not in self.KEEP_NONE):
                continue
            if f.name == "extra":
                out.update(_dump(value))  # type: ignore[arg-type]
            else:
                out[f.name] = _dump(value)
        return out


def _maybe(data: Mapping[str, JSON], key: str) -> JSON | Unset:
    return data[key] if key in data else UNSET


def _extra(data: Mapping[str, JSON], cls: type) -> dict[str, JSON]:
    known = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in data.items() if k not in known}


class CandidateStatus(enum.Enum):
    """What became of a parsed candidate. Its file keeps the status as text: one of these values,
    or the reason a filter rejected it (`"duplicate"`, `"length 3 outside 10-200"`, ...), which
    `CandidateStatus.of` reads as REJECTED."""

    ACCEPTED = "accepted"
    SURPLUS = "surplus"  # valid, beyond the requested count: neither kept nor rejected
    REJECTED_BY_REVISION = "rejected by revision"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"  # by a filter; the status text is the filter's reason
    UNKNOWN = "unknown"  # no status: generation stopped before the candidate was settled

    @classmethod
    def of(cls, status: str | None) -> CandidateStatus:
        if not status:
            return cls.UNKNOWN
        try:
            return cls(status)
        except ValueError:
            return cls.REJECTED


@dataclass
class Candidate(_Record):
    """One parsed line of a model's reply, with what the filters and the reviser made of it."""

    round: int | None  # the generation round that wrote it
    label: str
    text: str
    off_language: bool | None | Unset = UNSET  # None: no language check knows the language
    revision_skipped: str | None = None
    verdict: str | None = None  # the reviser's verdict ("yes" keeps it)
    reason: str | None = None  # the reviser's reply
    status: str | None = None  # a CandidateStatus value, or a filter's reason
    extra: dict[str, JSON] = field(default_factory=dict)

    @property
    def kind(self) -> CandidateStatus:
        return CandidateStatus.of(self.status)

    @property
    def judged(self) -> bool:
        """Whether the reviser gave a verdict on it."""
        return self.verdict is not None

    KEEP_NONE = ("off_language",)

    @classmethod
    def from_json(cls, data: Mapping[str, JSON]) -> Candidate:
        return cls(round=data.get("round"), label=str(data["label"]), text=str(data["text"]),  # type: ignore[arg-type]
                   off_language=_maybe(data, "off_language"),  # type: ignore[arg-type]
                   revision_skipped=data.get("revision_skipped"), verdict=data.get("verdict"),  # type: ignore[arg-type]
                   reason=data.get("reason"), status=data.get("status"),  # type: ignore[arg-type]
                   extra=_extra(data, cls))


@dataclass
class DemoRecord(_Record):
    """Which draw of demonstrations a cell's prompts showed."""

    source: str
    k: int
    file: str
    digest: str

    @classmethod
    def from_json(cls, data: Mapping[str, JSON]) -> DemoRecord:
        return cls(source=str(data["source"]), k=int(data["k"]), file=str(data["file"]),  # type: ignore[arg-type]
                   digest=str(data["digest"]))


@dataclass
class Candidates(_Record):
    """A composed strategy's candidates.json: every parsed candidate of a cell with its status."""

    strategy: str
    window: list[str]
    demos: DemoRecord | None
    summaries: dict[str, str]
    candidates: list[Candidate]

    KEEP_NONE = ("demos",)

    @classmethod
    def from_json(cls, data: Mapping[str, JSON]) -> Candidates:
        demos = data.get("demos")
        return cls(strategy=str(data.get("strategy", "")), window=list(data.get("window") or []),  # type: ignore[arg-type]
                   demos=DemoRecord.from_json(demos) if isinstance(demos, dict) else None,
                   summaries=dict(data.get("summaries") or {}),  # type: ignore[arg-type]
                   candidates=[Candidate.from_json(c) for c in data.get("candidates") or []])  # type: ignore[union-attr, arg-type]


@dataclass
class ClassCount(_Record):
    """One label's share of a generation cell: asked for, accepted, and the calls it took."""

    requested: int
    accepted: int
    calls: int | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, JSON]) -> ClassCount:
        calls = data.get("calls")
        return cls(requested=int(data["requested"]), accepted=int(data["accepted"]),  # type: ignore[arg-type]
                   calls=None if calls is None else int(calls))  # type: ignore[arg-type]


@dataclass
class RevisionShare(_Record):
    """The revision phase's part of a generation cell's engine work (`CachedEngine.phase`)."""

    llm_calls: float
    prompt_tokens: float
    completion_tokens: float
    engine_seconds: float

    @classmethod
    def from_json(cls, data: Mapping[str, JSON]) -> RevisionShare:
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls)})  # type: ignore[arg-type]


#: the engine accounting the runner adds to a strategy's statistics
ACCOUNTING = ("llm_calls", "prompt_tokens", "completion_tokens", "engine_calls", "engine_seconds", "seconds",
              "attempts")


@dataclass
class GenerationStats(_Record):
    """How a generation cell's examples were made. A strategy fills the counts and rates it knows
    (`requested`, `accepted`, `per_class` are filled by the runner when it leaves them out); the
    runner adds the engine accounting (`ACCOUNTING`, `revision`, `model_identity`). A third-party
    strategy's own statistics go in `extra`, written beside the declared ones."""

    requested: int | None = None
    accepted: int | None = None
    rejected: int | None = None
    duplicates: int | None = None
    parsed: int | None = None
    per_class: dict[str, ClassCount] | None = None
    shortfall: dict[str, int] | None = None
    acceptance_rate: float | None = None
    duplicate_rate: float | None = None
    mean_length: float | None = None
    gold_mean_length: float | None = None
    distinct_1: float | None = None
    distinct_2: float | None = None
    off_script: int | None = None
    off_language_rate: float | None | Unset = UNSET  # null: nothing was checked
    off_language_accepted: int | None = None
    demos: DemoRecord | None | Unset = UNSET  # null: the prompts showed no demonstrations
    demos_dropped: dict[str, int] | None = None
    context_rejected: dict[str, str] | None = None
    language_check: str | None | Unset = UNSET  # null: no check knows the language
    language_filter: bool | None = None
    language_filter_note: str | None = None
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    engine_calls: int = 0
    engine_seconds: float = 0.0
    seconds: float = 0.0
    attempts: int = 0
    revision: RevisionShare | None = None
    model_identity: dict[str, JSON] | None = None
    extra: dict[str, JSON] = field(default_factory=dict)

    KEEP_NONE = ("off_language_rate", "demos", "language_check")

    @classmethod
    def from_json(cls, data: Mapping[str, JSON]) -> GenerationStats:
        d = dict(data)
        per_class = d.get("per_class")
        demos = d.get("demos", UNSET)
        revision = d.get("revision")
        return cls(
            **{k: d[k] for k in ("requested", "accepted", "rejected", "duplicates", "parsed", "shortfall",
                                 "acceptance_rate", "duplicate_rate", "mean_length", "gold_mean_length", "distinct_1",
                                 "distinct_2", "off_script", "off_language_accepted", "demos_dropped", "context_rejected",
                                 "language_filter", "language_filter_note", "model_identity", *ACCOUNTING) if k in d},
            per_class=({lab: ClassCount.from_json(v) for lab, v in per_class.items()}  # type: ignore[arg-type]
                       if isinstance(per_class, dict) else None),
            off_language_rate=_maybe(d, "off_language_rate"),  # type: ignore[arg-type]
            demos=DemoRecord.from_json(demos) if isinstance(demos, dict) else demos,  # type: ignore[arg-type]
            language_check=_maybe(d, "language_check"),  # type: ignore[arg-type]
            revision=RevisionShare.from_json(revision) if isinstance(revision, dict) else None,  # type: ignore[arg-type]
            extra=_extra(d, cls))

    @property
    def device_kind(self) -> str | None:
        """The kind of device that generated (from the engine's identity), when it says."""
        kind = (self.model_identity or {}).get("device_kind")
        return str(kind) if kind else None


def strategy_stats(stats: GenerationStats | Mapping[str, JSON]) -> GenerationStats:
    """A copy of what a strategy returned as its statistics, typed (a strategy may return a mapping
    of its own keys: the declared ones are read into their fields, the rest kept in `extra`)."""
    if isinstance(stats, GenerationStats):
        return dataclasses.replace(stats, extra=dict(stats.extra))
    return GenerationStats.from_json(stats)


@dataclass
class GenerationRecord(_Record):
    """What one generation cell produces (generations/<cell>.json): its accepted examples and the
    statistics of how they were made."""

    complete: bool
    cell: dict[str, JSON]  # the cell's identity (its config)
    id: str
    examples: list[Example]
    stats: GenerationStats

    def to_json(self) -> dict[str, JSON]:
        return {"complete": self.complete, "cell": self.cell, "id": self.id,
                "examples": [{"text": e.text, "label": e.label} for e in self.examples], "stats": self.stats.to_json()}

    @classmethod
    def from_json(cls, data: Mapping[str, JSON]) -> GenerationRecord:
        return cls(complete=data.get("complete") is True, cell=dict(data.get("cell") or {}),  # type: ignore[arg-type]
                   id=str(data["id"]),
                   examples=[Example(str(e["text"]), str(e["label"])) for e in data.get("examples") or []],  # type: ignore[index, union-attr]
                   stats=GenerationStats.from_json(data.get("stats") or {}))  # type: ignore[arg-type]


@dataclass
class SeedScores(_Record):
    """One classifier seed's scores on the test set; `fit` what the classifier said of its fit."""

    seed: int
    macro_f1: float
    accuracy: float
    fit: dict[str, JSON] | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, JSON]) -> SeedScores:
        fit = data.get("fit")
        return cls(seed=int(data["seed"]), macro_f1=float(data["macro_f1"]),  # type: ignore[arg-type]
                   accuracy=float(data["accuracy"]), fit=dict(fit) if isinstance(fit, dict) else None)  # type: ignore[arg-type]


@dataclass
class Floor(_Record):
    """The majority-class scores of a cell whose training data cannot be scored."""

    macro_f1: float
    accuracy: float

    @classmethod
    def from_json(cls, data: Mapping[str, JSON]) -> Floor:
        return cls(macro_f1=float(data["macro_f1"]), accuracy=float(data["accuracy"]))  # type: ignore[arg-type]


@dataclass
class EvaluationCost(_Record):
    """What an evaluation cell's fits cost, for the manifest's bill."""

    fits: int
    device_kind: str | None
    classifier_seconds: float

    KEEP_NONE = ("device_kind",)

    @classmethod
    def from_json(cls, data: Mapping[str, JSON]) -> EvaluationCost:
        kind = data.get("device_kind")
        return cls(fits=int(data.get("fits") or 0), device_kind=None if kind is None else str(kind),  # type: ignore[arg-type]
                   classifier_seconds=float(data.get("classifier_seconds") or 0.0))  # type: ignore[arg-type]


@dataclass
class Diagnostics(_Record):
    """What may explain a synthetic cell's score (harness/pipeline/diagnostics.py). Every field is
    UNSET when the diagnostics could not be computed (the file then holds `{}`), None when that one
    measurement was not possible."""

    diversity: float | None | Unset = UNSET
    gold_diversity: float | None | Unset = UNSET
    distance_to_gold: float | None | Unset = UNSET
    label_fidelity: float | None | Unset = UNSET
    gold_label_fidelity: float | None | Unset = UNSET

    def to_json(self) -> dict[str, JSON]:  # every measure is written, null where none could be measured
        return {f.name: _dump(v) for f in dataclasses.fields(self) if (v := getattr(self, f.name)) is not UNSET}

    @classmethod
    def from_json(cls, data: Mapping[str, JSON]) -> Diagnostics:
        return cls(**{f.name: _maybe(data, f.name) for f in dataclasses.fields(cls)})  # type: ignore[arg-type]


@dataclass
class Prediction(_Record):
    """One test example's prediction by one seed (samples/<cell>.jsonl, with --log-samples)."""

    seed: int
    index: int
    text: str
    gold: str
    prediction: str



@dataclass
class ScoresRecord(_Record):
    """What one evaluation cell produces (scores/<cell>.json): a score per classifier seed, or the
    majority-class floor when the training data cannot be scored. `predictions` are written beside
    the scores (samples/<cell>.jsonl), never inside them."""

    complete: bool
    cell: dict[str, JSON]
    id: str
    train_size: int
    per_class: dict[str, int]
    per_seed: list[SeedScores]
    note: str
    cost: EvaluationCost | None = None
    floor: Floor | None = None
    diagnostics: Diagnostics | None = None
    predictions: list[Prediction] = field(default_factory=list, metadata={"transient": True})

    @classmethod
    def from_json(cls, data: Mapping[str, JSON]) -> ScoresRecord:
        cost, floor, diag = data.get("cost"), data.get("floor"), data.get("diagnostics")
        return cls(complete=data.get("complete") is True, cell=dict(data.get("cell") or {}),  # type: ignore[arg-type]
                   id=str(data["id"]), train_size=int(data.get("train_size") or 0),  # type: ignore[arg-type]
                   per_class=dict(data.get("per_class") or {}),  # type: ignore[arg-type]
                   per_seed=[SeedScores.from_json(r) for r in data.get("per_seed") or []],  # type: ignore[union-attr, arg-type]
                   note=str(data.get("note") or ""),
                   cost=EvaluationCost.from_json(cost) if isinstance(cost, dict) else None,
                   floor=Floor.from_json(floor) if isinstance(floor, dict) else None,
                   diagnostics=Diagnostics.from_json(diag) if isinstance(diag, dict) else None)


@dataclass
class UsageLine(_Record):
    """One line of a generation cell's usage ledger: a batch of engine work by one attempt."""

    attempt: str
    engine_calls: int
    engine_seconds: float
    elapsed: float

    @classmethod
    def from_json(cls, data: Mapping[str, JSON]) -> UsageLine:
        return cls(attempt=str(data["attempt"]), engine_calls=int(data["engine_calls"]),  # type: ignore[arg-type]
                   engine_seconds=float(data["engine_seconds"]), elapsed=float(data["elapsed"]))  # type: ignore[arg-type]


@dataclass
class EarlierAttempts:
    """The engine work of a cell's interrupted attempts, summed from its usage ledger."""

    attempts: int = 0
    engine_calls: int = 0
    engine_seconds: float = 0.0
    elapsed: float = 0.0


@dataclass
class GenerationSaved:
    """What a tracker's `cell` gets for a saved generation cell: its place in the grid and its statistics."""

    id: str
    task: str
    language: str
    strategy: str
    model: str
    replicate: int
    stats: GenerationStats
    kind: Literal["generation"] = "generation"


@dataclass
class EvaluationSaved:
    """What a tracker's `cell` gets for a saved evaluation cell: its place in the grid and its per-seed
    scores (none, with `floor`, for a cell that could not be trained)."""

    id: str
    task: str
    language: str
    strategy: str
    model: str
    classifier: str
    source: str
    replicate: int
    train_size: int
    per_seed: list[SeedScores]
    note: str
    floor: Floor | None = None
    kind: Literal["evaluation"] = "evaluation"


#: a finished cell, as a tracker is told of it
CellSaved = GenerationSaved | EvaluationSaved


#: the types of the cell records, for the test that keeps them free of untyped fields
CELL_RECORDS: tuple[type, ...] = (Candidate, DemoRecord, Candidates, ClassCount, RevisionShare, GenerationStats,
                                  GenerationRecord, SeedScores, Floor, EvaluationCost, Diagnostics, Prediction,
                                  ScoresRecord, UsageLine, EarlierAttempts, GenerationSaved,
                                  EvaluationSaved)
