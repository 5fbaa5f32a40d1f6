"""`bench compare NEW BASELINE`: what got worse, for CI.

A result regressed when its mean macro-F1 fell, or its gap to gold grew, by more than the tolerance
(in F1 points), or when a (task, language, strategy, model, classifier) of the baseline is missing
from the new leaderboard. Gold baselines are compared the same way."""

from __future__ import annotations

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
            "ok": regressions == 0 and missing == 0}
