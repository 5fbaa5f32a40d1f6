"""`bench compare NEW BASELINE`: what got worse, for CI.

A result regressed when its mean macro-F1 fell, or its gap to gold grew, by more than the tolerance
(in F1 points), or when a (task, language, strategy, model, classifier) of the baseline is missing
from the new leaderboard. Gold baselines are compared the same way. When the two were made on different
CPUs, the result carries a note saying so: the e5 embeddings differ in their last digits between CPU
vendors, which moves scores by a measured spread (benchmarks/README.md)."""

from __future__ import annotations

import math
import re
from typing import Any

from harness.errors import BenchError
from harness.results.model import Leaderboard
from harness.results.validation import Key


def _index(board: Leaderboard) -> dict[Key, dict[str, float | None]]:
    out: dict[Key, dict[str, float | None]] = {}
    seen: set[Key] = set()
    for r in [*board.results, *board.gold]:
        if r.key in seen:  # a second row could mask a regressed first one
            raise BenchError(f"the leaderboard has {', '.join(r.key)} twice; each result may appear once")
        seen.add(r.key)
    for r in board.results:
        out[r.key] = {
            "macro_f1": 100 * r.scores.macro_f1.mean if r.scores else None,
            "gap": r.gap_to_gold.points.mean if r.gap_to_gold else None,
        }
    for g in board.gold:
        out[g.key] = {"macro_f1": 100 * g.scores.macro_f1.mean, "gap": None}
    return out


def machine(board: Leaderboard) -> str:
    """The CPU a leaderboard was made on, as recorded: model name, vendor and instruction sets."""
    c = board.manifest.cpu
    if not c:
        return cpu_model(board)
    isa = ", ".join(c.get("isa") or [])
    return f"{c.get('model')} ({c.get('vendor') or 'unknown vendor'}{'; ' + isa if isa else ''})"


def cpu_model(board: Leaderboard) -> str:
    """The CPU's model name; leaderboards from before the manifest had `cpu` give it in `device`."""
    m = board.manifest
    if m.cpu:
        return str(m.cpu.get("model"))
    return re.sub(r"\s*\(\d+ cores\)$", "", str(m.device or "unknown")).removeprefix("cpu: ")


def cpu_note(new: Leaderboard, baseline: Leaderboard) -> str | None:
    """A line for when the two were made on different CPUs (only the model name when one side does
    not record more), else None."""
    both = new.manifest.cpu and baseline.manifest.cpu
    if (machine(new) == machine(baseline)) if both else (cpu_model(new) == cpu_model(baseline)):
        return None
    return (f"the baseline was made on {machine(baseline)}, this run on {machine(new)}: scores computed with "
            "CPU-specific kernels (e5 embeddings) may differ within the spread measured in benchmarks/README.md")


def check_tolerance(tolerance: float) -> float:
    """A tolerance in F1 points: finite and 0 or more (NaN would make every comparison pass)."""
    if not math.isfinite(tolerance) or tolerance < 0:
        raise BenchError(f"--tolerance {tolerance!r} must be a finite number of F1 points, 0 or more (e.g. 1.0)")
    return tolerance


_ABSENT = object()


def _show(value: Any) -> str:
    return "(absent)" if value is _ABSENT else repr(value)


def settings_differences(new: Leaderboard, baseline: Leaderboard) -> list[str]:
    """The settings (manifest `settings`) that differ between two runs, as `name: baseline -> new`;
    empty when their settings hashes agree."""
    a, b = new.manifest, baseline.manifest
    if a.settings_hash == b.settings_hash:
        return []
    sa, sb = a.settings, b.settings
    out = [f"{k}: {_show(sb.get(k, _ABSENT))} -> {_show(sa.get(k, _ABSENT))}"
           for k in sorted(set(sa) | set(sb)) if sa.get(k, _ABSENT) != sb.get(k, _ABSENT)]
    return out or [f"settings_hash: {b.settings_hash} -> {a.settings_hash}"]


def compare(new: Leaderboard, baseline: Leaderboard, tolerance: float, allow_different_settings: bool = False) -> dict[str, Any]:
    """Raises BenchError for a tolerance that is not a finite number >= 0, and for two runs made with
    different settings unless `allow_different_settings` (then the result lists them)."""
    check_tolerance(tolerance)
    differ = settings_differences(new, baseline)
    if differ and not allow_different_settings:
        raise BenchError(f"the two leaderboards were made with different settings ({'; '.join(differ)}); their scores "
                         "are not comparable. Rerun with the baseline's suite, or pass --allow-different-settings")
    a, b = _index(new), _index(baseline)
    rows, regressions, missing = [], 0, 0
    for key, base in sorted(b.items()):
        cur = a.get(key)
        row: dict[str, Any] = {"task": key[0], "language": key[1], "strategy": key[2], "model": key[3],
                               "classifier": key[4], "status": "ok"}
        if cur is None:
            row["status"] = "missing"
            missing += 1
            rows.append(row)
            continue
        for metric, worse_if in (("macro_f1", -1), ("gap", +1)):
            old, now = base[metric], cur[metric]
            row[f"{metric}_baseline"], row[f"{metric}_new"] = old, now
            if old is None:
                continue
            if now is None:
                row["status"] = "regressed"
                continue
            delta = now - old
            row[f"{metric}_delta"] = delta
            if worse_if * delta > tolerance:
                row["status"] = "regressed"
        if row["status"] == "regressed":
            regressions += 1
        rows.append(row)
    added = [{"task": k[0], "language": k[1], "strategy": k[2], "model": k[3], "classifier": k[4]}
             for k in sorted(set(a) - set(b))]
    return {"tolerance_points": tolerance, "regressions": regressions, "missing": missing, "rows": rows, "added": added,
            "ok": regressions == 0 and missing == 0, "cpu_note": cpu_note(new, baseline),
            "settings_differ": differ}
