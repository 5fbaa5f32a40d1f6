"""What a run's work really cost, per phase (label summaries, generation, revision, evaluation),
summed over its finished cells, beside what the dry run estimated for it: the estimate's rates are
checked against every run, and a user sees where the time went.

Generation and revision come from each generation cell's statistics (revision's share is counted
apart by the engine wrapper, `CachedEngine.phase`), label summaries from the shared summary files
(work several cells share, counted once), evaluation from each evaluation cell's record of its fits.
A generation cell that feeds several classifiers is counted once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.results.reader import FinishedCell

_TOKENS = ("llm_calls", "prompt_tokens", "completion_tokens")


def _phase(name: str) -> dict[str, Any]:
    return {"phase": name, "llm_calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "engine_seconds": 0.0,
            "fits": 0, "classifier_seconds": 0.0, "device_kinds": []}


def _add(phase: dict[str, Any], numbers: Mapping[str, Any], device_kind: str | None) -> None:
    for key in (*_TOKENS, "engine_seconds", "fits", "classifier_seconds"):
        phase[key] += numbers.get(key) or 0
    if device_kind and device_kind not in phase["device_kinds"]:
        phase["device_kinds"].append(device_kind)


def run_cost(finished: Iterable[FinishedCell], shared: Iterable[Mapping[str, Any]],
             estimate: Mapping[str, Any] | None) -> dict[str, Any]:
    """`finished`: the finished evaluation cells with their generations' statistics; `shared`: the
    manifest's shared work; `estimate`: what the dry run printed, as saved by the run."""
    phases = {name: _phase(name) for name in ("label summaries", "generation", "revision", "evaluation")}
    for work in shared:
        _add(phases["label summaries"], work, None)
    seen: set[str] = set()
    for part in finished:
        bill = part.scores.cost
        if bill is not None:
            _add(phases["evaluation"], {"fits": bill.fits, "classifier_seconds": bill.classifier_seconds},
                 bill.device_kind)
        gen = part.generation
        if gen is None or part.cell.source in seen:
            continue
        seen.add(part.cell.source)
        kind = gen.device_kind
        revision = gen.revision.to_json() if gen.revision is not None else {}
        _add(phases["revision"], revision, kind if revision else None)
        _add(phases["generation"], {k: getattr(gen, k) - revision.get(k, 0) for k in (*_TOKENS, "engine_seconds")},
             kind)
    out = [p for p in phases.values() if p["llm_calls"] or p["fits"]]
    for p in out:
        p["engine_seconds"] = round(p["engine_seconds"], 1)
        p["classifier_seconds"] = round(p["classifier_seconds"], 1)
    return {"phases": out, "engine_seconds": round(sum(p["engine_seconds"] for p in out), 1),
            "classifier_seconds": round(sum(p["classifier_seconds"] for p in out), 1),
            "estimate": dict(estimate) if estimate else None}
