"""The leaderboard's types are its file: the committed schema is the one they generate, and a
leaderboard read into them writes back the same JSON."""

from __future__ import annotations

import json

import pytest
from test_gate import make_board

from harness.results.leaderboard import validation_error
from harness.results.model import SCHEMA_FILE, Generation, Leaderboard, Replicate, schema_text
from harness.results.typed import to_json
from harness.results.validation import problems


def test_the_committed_schema_is_the_generated_one():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), \
        "regenerate it: python -m harness.results.model"


def test_a_leaderboard_round_trips_key_for_key_in_order():
    doc = make_board()
    again = Leaderboard.from_json(json.loads(json.dumps(doc))).to_json()
    assert json.dumps(again) == json.dumps(doc)  # same keys, same order, same values


def test_optional_fields_are_left_out_unless_null_is_a_value():
    rep = Replicate(replicate=0, eval_id="e", train_size=4, macro_f1=None)
    assert to_json(rep) == {"replicate": 0, "eval_id": "e", "train_size": 4, "demos": None, "macro_f1": None}
    gen = to_json(Generation(requested=1, accepted=1, rejected=0, duplicates=0, llm_calls=1, engine_calls=1,
                             prompt_tokens=1, completion_tokens=1, seconds=0.5, per_class={}))
    assert "attempts" not in gen and gen["off_language_rate"] is None and gen["demos"] is None


def test_keys_the_model_does_not_declare_are_read_past():
    doc = make_board()
    doc["results"][0]["from_a_newer_harness"] = 1
    assert problems(doc) == []
    assert "from_a_newer_harness" not in Leaderboard.from_json(doc).to_json()["results"][0]


def test_a_missing_required_field_is_refused_by_the_schema():
    doc = make_board()
    del doc["results"][0]["generation"]["requested"]
    assert "requested" in (validation_error(doc) or "")  # checked before the file is read into the types
    with pytest.raises(TypeError):
        Leaderboard.from_json(doc)
