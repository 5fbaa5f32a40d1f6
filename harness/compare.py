"""`bench compare NEW BASELINE`: what got worse, for CI.

A result regressed when its mean macro-F1 fell, or its gap to gold grew, by more than the tolerance
(in F1 points), or when a (task, language, strategy, model, classifier) of the baseline is missing
from the new leaderboard. Gold baselines are compared the same way. When the two were made on different
CPUs, the result carries a note saying so: the e5 embeddings differ in their last digits between CPU
vendors, which moves scores by a measured spread (benchmarks/README.md)."""

from __future__ import annotations

import re
from typing import Any

Key = tuple[str, str, str, str, str]


def _key(row: dict) -> Key:
    return (row["task"], row["language"], row.get("strategy", "gold"), row.get("model", ""), row["classifier"])


def _index(board: dict) -> dict[Key, dict[str, float | None]]:
    out: dict[Key, dict[str, float | None]] = {}
    for r in board["results"]:
        out[_key(r)] = {
            "macro_f1": 100 * r["scores"]["macro_f1"]["mean"] if r["scores"] else None,
            "gap": r["gap_to_gold"]["points"]["mean"] if r["gap_to_gold"] else None,
        }
    for g in board["gold"]:
        out[_key(g)] = {"macro_f1": 100 * g["scores"]["macro_f1"]["mean"], "gap": None}
    return out


def machine(board: dict) -> str:
    """The CPU a leaderboard was made on, as recorded: model name, vendor and instruction sets."""
    c = board["manifest"].get("cpu")
    if not c:
        return cpu_model(board)
    isa = ", ".join(c.get("isa") or [])
    return f"{c.get('model')} ({c.get('vendor') or 'unknown vendor'}{'; ' + isa if isa else ''})"


def cpu_model(board: dict) -> str:
    """The CPU's model name; leaderboards from before the manifest had `cpu` give it in `device`."""
    m = board["manifest"]
    if m.get("cpu"):
        return str(m["cpu"].get("model"))
    return re.sub(r"\s*\(\d+ cores\)$", "", str(m.get("device", "unknown"))).removeprefix("cpu: ")


def cpu_note(new: dict, baseline: dict) -> str | None:
    """A line for when the two were made on different CPUs (only the model name when one side does
    not record more), else None."""
    both = new["manifest"].get("cpu") and baseline["manifest"].get("cpu")
    if (machine(new) == machine(baseline)) if both else (cpu_model(new) == cpu_model(baseline)):
        return None
    return (f"the baseline was made on {machine(baseline)}, this run on {machine(new)}: scores computed with "
            "CPU-specific kernels (e5 embeddings) may differ within the spread measured in benchmarks/README.md")


def compare(new: dict, baseline: dict, tolerance: float) -> dict[str, Any]:
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
            "ok": regressions == 0 and missing == 0, "cpu_note": cpu_note(new, baseline)}
