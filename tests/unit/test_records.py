"""The cell records write the run files with the keys the files had: a field left unset is a key left
out, a null that means something stays null, and reading a file back gives the same bytes."""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass
from typing import Any

from harness.contracts import Example
from harness.records import (
    CELL_RECORDS,
    UNSET,
    Candidate,
    Candidates,
    CandidateStatus,
    ClassCount,
    Diagnostics,
    EvaluationCost,
    GenerationRecord,
    GenerationStats,
    Prediction,
    ScoresRecord,
    SeedScores,
)


def _untyped(cls: type) -> list[str]:
    """The fields of a record (and of the records it holds) whose type admits `Any`."""
    out = []
    for name, hint in typing.get_type_hints(cls).items():
        stack = [hint]
        while stack:
            t = stack.pop()
            if t is Any:
                out.append(f"{cls.__name__}.{name}")
                break
            stack.extend(typing.get_args(t))
    return out


def test_no_cell_record_has_an_untyped_field():
    assert not [f for cls in CELL_RECORDS for f in _untyped(cls)]


def test_the_untyped_field_check_finds_one():
    @dataclass
    class Loose:
        stats: dict[str, Any]

    assert _untyped(Loose) == ["Loose.stats"]


def _stats(**kw) -> GenerationStats:
    return GenerationStats(requested=4, accepted=3, rejected=1, duplicates=0,
                           per_class={"a": ClassCount(2, 2, calls=1), "b": ClassCount(2, 1)}, **kw)


def test_unset_fields_are_left_out_and_meaningful_nulls_kept():
    plain = _stats().to_json()
    assert "off_language_rate" not in plain and "demos" not in plain and "revision" not in plain
    assert plain["per_class"] == {"a": {"requested": 2, "accepted": 2, "calls": 1}, "b": {"requested": 2, "accepted": 1}}
    checked = _stats(off_language_rate=None, demos=None, language_check=None).to_json()
    assert checked["off_language_rate"] is None and checked["demos"] is None and checked["language_check"] is None


def test_a_strategys_own_statistics_are_kept_beside_the_declared_ones():
    data = {**_stats().to_json(), "my_score": 0.5}
    stats = GenerationStats.from_json(data)
    assert stats.extra == {"my_score": 0.5}
    assert stats.to_json() == data


def test_a_generation_record_reads_back_to_the_same_bytes():
    record = GenerationRecord(True, {"task": "t"}, "t.sw.x", [Example("habari", "a")],
                              _stats(off_language_rate=None, llm_calls=3, engine_seconds=1.5))
    text = json.dumps(record.to_json(), indent=1)
    assert json.dumps(GenerationRecord.from_json(json.loads(text)).to_json(), indent=1) == text
    assert list(record.to_json()) == ["complete", "cell", "id", "examples", "stats"]


def test_a_scores_record_leaves_its_predictions_out():
    record = ScoresRecord(True, {}, "c", 2, {"a": 1, "b": 1}, [SeedScores(1, 0.5, 0.6, fit={"epochs": 3})], "",
                          cost=EvaluationCost(1, None, 0.25), diagnostics=Diagnostics(),
                          predictions=[Prediction(1, 0, "x", "a", "b")])
    data = record.to_json()
    assert "predictions" not in data and "floor" not in data
    assert data["cost"] == {"fits": 1, "device_kind": None, "classifier_seconds": 0.25}
    assert data["diagnostics"] == {}
    assert ScoresRecord.from_json(data).to_json() == data
    assert Diagnostics(label_fidelity=None).to_json() == {"label_fidelity": None}


def test_candidate_status_reads_the_files_status_text():
    assert CandidateStatus.of("surplus") is CandidateStatus.SURPLUS
    assert CandidateStatus.of("rejected by revision") is CandidateStatus.REJECTED_BY_REVISION
    assert CandidateStatus.of("length 3 outside 10-200") is CandidateStatus.REJECTED
    assert CandidateStatus.of(None) is CandidateStatus.UNKNOWN


def test_candidates_keep_their_key_order_and_unknown_keys():
    raw = {"round": 1, "label": "a", "text": "x", "off_language": None, "verdict": "no", "reason": "bad",
           "status": "rejected by revision", "score": 2}
    cand = Candidate.from_json(raw)
    assert cand.kind is CandidateStatus.REJECTED_BY_REVISION and cand.judged
    assert list(cand.to_json().items()) == list(raw.items())
    assert Candidate(1, "a", "x").to_json() == {"round": 1, "label": "a", "text": "x"}
    assert Candidate.from_json({"round": 1, "label": "a", "text": "x"}).off_language is UNSET
    whole = {"strategy": "s", "window": [], "demos": None, "summaries": {}, "candidates": [raw]}
    assert Candidates.from_json(whole).to_json() == whole


def test_every_record_type_is_a_dataclass():
    assert all(dataclasses.is_dataclass(cls) for cls in CELL_RECORDS)
