"""Typed leaderboards for tests of the code that reads them: the fields a test does not care about
filled with values a real run could have written."""

from __future__ import annotations

from typing import Any

from harness.results.model import SCHEMA_VERSION, Leaderboard

MANIFEST: dict[str, Any] = {
    "harness_version": "0.1.0", "plugins": [], "libraries": {}, "device": "cpu: AMD EPYC (2 cores)",
    "python": "3.11.7", "suite": "test", "settings": {}, "settings_hash": "0" * 16, "seeds": [0],
    "generation_seed": 0, "git_commit": None, "created": "2026-01-01T00:00:00+00:00",
}


def leaderboard(manifest: dict[str, Any] | None = None, **parts: Any) -> Leaderboard:
    """A leaderboard from its JSON parts (`results`, `gold`, ...), empty where not given."""
    doc = {"schema_version": SCHEMA_VERSION, "manifest": {**MANIFEST, **(manifest or {})}, "results": [],
           "gold": [], "unavailable": [], "summaries": {"by_language": [], "by_strategy": [], "by_model": []},
           "comparisons": [], **parts}
    return Leaderboard.from_json(doc)


#: what a clock decides in a leaderboard row: different between executions of the same plan
CLOCKS = ("seconds", "engine_seconds")


def without_clocks(rows: list[dict[str, Any]], extra: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Result rows (JSON) without their clocks (and the generation's `extra` keys, "attempts" where a
    run was resumed): the generation's, and the engine time in the row's cost (its own, revision's
    share and the label summaries' share)."""
    for r in rows:
        for key in (*CLOCKS, *extra):
            r["generation"].pop(key, None)
        cost = r.get("cost") or {}
        for part in (cost, cost.get("revision") or {}, cost.get("label_summaries") or {}):
            part.pop("engine_seconds", None)
    return rows
