"""Do two run directories hold the same results? For a change that must not change any: run the same
suite before and after it from (a copy of) the same cache, then

    python benchmarks/same_results.py runs/before runs/after

Cells are matched by what they are (task, language, strategy, model, replicate; and the classifier
for an evaluation), not by their ids, which include the method's fingerprint and so change whenever
the strategy code moves. Compared: every generation cell's examples (texts and labels, in order),
its demonstration draw and its statistics (without what the clock and the cache decide), and every
evaluation cell's training size, classes and per-seed scores, exactly; and the whole leaderboard. Prints one line per cell and
which ids changed; exit 1 on any difference.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

#: statistics that the clock, the cache or a resume decide, never the method
VOLATILE = ("seconds", "engine_seconds", "engine_calls", "attempts")


def _cells(run: Path, folder: str) -> dict[tuple, dict]:
    out = {}
    for path in sorted((run / folder).glob("*.json")):
        rec = json.loads(path.read_text(encoding="utf-8"))
        c = rec["cell"]
        if folder == "generations":
            key = (c["task"], c["language"], c["strategy"], c["model"], c.get("replicate", 0))
        else:
            source = rec["id"].split(".")[2] if ".gold." in rec["id"] else c["source"].split(".")[2]
            key = (rec["id"].split(".")[0], rec["id"].split(".")[1], source, c["classifier"].split("@")[0].split("+")[0],
                   _replicate(rec))
        if key in out:  # two cells read as one would compare only the last
            raise SystemExit(f"{run}: {out[key]['id']} and {rec['id']} both read as {key}")
        out[key] = rec
    return out


def _replicate(rec: dict) -> int:
    """The replicate of an evaluation cell: in its config for gold cells, in its id (`.r<N>.`) for the
    evaluation of a generation replicate."""
    if "replicate" in rec["cell"]:
        return int(rec["cell"]["replicate"])
    found = re.search(r"\.r(\d+)\.[0-9a-f]{10}$", rec["id"])
    return int(found.group(1)) if found else 0


def _generation(rec: dict) -> dict:
    stats = {k: v for k, v in rec["stats"].items() if k not in VOLATILE}
    if isinstance(stats.get("demos"), dict):
        stats["demos"] = {k: v for k, v in stats["demos"].items() if k != "file"}  # the file name carries the id
    return {"examples": rec["examples"], "stats": stats}


def _evaluation(rec: dict) -> dict:
    return {"train_size": rec["train_size"], "per_class": rec["per_class"], "note": rec["note"],
            "per_seed": [{**s, **({"fit": _untimed(s["fit"])} if "fit" in s else {})} for s in rec["per_seed"]]}


def _untimed(fit: dict) -> dict:
    return {k: v for k, v in fit.items() if "seconds" not in k}


def _leaderboard(run: Path) -> str:
    """The leaderboard's rows, gold baselines, summaries and comparisons, with cell ids (which end in
    a hash of the cell's identity) and what the clock and the cache decide blanked."""
    board = json.loads((run / "leaderboard.json").read_text(encoding="utf-8"))
    text = json.dumps({k: board[k] for k in ("results", "gold", "summaries", "comparisons", "unavailable")},
                      sort_keys=True)
    text = re.sub(r"\.[0-9a-f]{10}\b", ".<id>", text)
    return re.sub(r'"(seconds|engine_seconds|engine_calls|attempts)": [0-9.e-]+', r'"\1": 0', text)


def compare(before: Path, after: Path) -> list[str]:
    """The differences, one line each (empty: the same results)."""
    problems, lines = [], []
    for folder, view in (("generations", _generation), ("scores", _evaluation)):
        a, b = _cells(before, folder), _cells(after, folder)
        for key in sorted(set(a) | set(b), key=str):
            name = "/".join(str(k) for k in key)
            if key not in a or key not in b:
                problems.append(f"{folder} {name}: only in {'after' if key in b else 'before'}")
                continue
            same = view(a[key]) == view(b[key])
            renamed = "" if a[key]["id"] == b[key]["id"] else f" (id {a[key]['id']} -> {b[key]['id']})"
            detail = ""
            if folder == "generations":
                s = b[key]["stats"]
                detail = (f"{len(b[key]['examples'])} examples, {s['llm_calls']} LLM calls of which "
                          f"{s['engine_calls']} reached the engine")
            else:
                detail = "macro-F1 per seed " + ", ".join(f"{s['macro_f1']:.6f}" for s in b[key]["per_seed"])
            lines.append(f"{'same' if same else 'DIFFERENT'}  {folder[:-1] if folder == 'generations' else 'scores'} "
                         f"{name}: {detail}{renamed}")
            if not same:
                problems.append(f"{folder} {name}: differs")
    same_board = _leaderboard(before) == _leaderboard(after)
    lines.append(f"{'same' if same_board else 'DIFFERENT'}  leaderboard: rows, gold baselines, summaries, comparisons "
                 "(ids and clocks aside)")
    if not same_board:
        problems.append("leaderboard differs")
    print("\n".join(lines))
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    args = ap.parse_args(argv)
    problems = compare(args.before, args.after)
    for p in problems:
        print(p, file=sys.stderr)
    print("the same results" if not problems else f"{len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
