"""How run time grows with the grid: languages (cells) and examples per class, each at three sizes,
with the offline generator and the e5-logreg classifier, every run from an empty generation cache.

    python benchmarks/scaling.py --model-cache ~/.cache/lowres-bench/models

Prints one JSON object: for each run its cells, per_class, wall time, generation and evaluation
seconds, LLM calls and completion tokens, plus the fitted growth (seconds per generation cell and
per requested example) so the time of a larger grid can be predicted.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from timed_run import ROOT, timed_run  # a sibling script module

SUITE = """
[suite]
name = "scaling"
data_dir = "{data_dir}"

[grid]
tasks = ["sentiment"]
languages = {languages}
strategies = ["target-demos"]
models = ["gemma-3-270m"]
classifiers = ["e5-logreg"]

[generation]
per_class = {per_class}
samples_per_request = 2
demos_per_class = 5

[sampling]
temperature = 0.7
max_new_tokens = 80

[evaluation]
seeds = 3

[models."gemma-3-270m"]
batch_size = 32
"""


def run(name: str, languages: list[str], per_class: int, args, workdir: Path) -> dict:
    text = SUITE.format(data_dir=args.data_dir, languages=json.dumps(languages), per_class=per_class)
    leaderboard, wall = timed_run(name, text, workdir, args.model_cache)
    board = json.loads(leaderboard.read_text())
    gen = [r["generation"] for r in board["results"]]
    row = {"run": name, "languages": len(languages), "per_class": per_class, "generation_cells": len(gen),
           "evaluation_cells": len(board["results"]) + len(board["gold"]), "wall_seconds": round(wall, 1),
           "generation_seconds": round(sum(g["seconds"] for g in gen), 1),
           "llm_calls": sum(g["llm_calls"] for g in gen), "completion_tokens": sum(g["completion_tokens"] for g in gen)}
    print(json.dumps(row), file=sys.stderr, flush=True)
    return row


def slope(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares line y = a + b x: the fixed cost a and the cost b of one more unit."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return round(my - b * mx, 2), round(b, 3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--model-cache", help="a cache 'models' directory holding the converted offline model")
    ap.add_argument("--languages", default="sw;sw,de;sw,de,te", help="language sets, ';'-separated")
    ap.add_argument("--per-class", default="4,8,16", help="examples per class, with the first language set")
    args = ap.parse_args()
    lang_sets = [s.split(",") for s in args.languages.split(";")]
    sizes = [int(x) for x in args.per_class.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="scaling.") as tmp:
        for langs in lang_sets:
            rows.append(run(f"lang{len(langs)}-pc{sizes[0]}", langs, sizes[0], args, Path(tmp)))
        for pc in sizes[1:]:
            rows.append(run(f"lang{len(lang_sets[0])}-pc{pc}", lang_sets[0], pc, args, Path(tmp)))
    by_lang = [r for r in rows if r["per_class"] == sizes[0]]
    by_pc = [r for r in rows if r["languages"] == len(lang_sets[0])]
    result = {
        "runs": rows,
        "wall_vs_generation_cells": dict(zip(("fixed_seconds", "seconds_per_cell"),
                                             slope([r["generation_cells"] for r in by_lang], [r["wall_seconds"] for r in by_lang]))),
        "wall_vs_per_class": dict(zip(("fixed_seconds", "seconds_per_example_per_class"),
                                      slope([r["per_class"] for r in by_pc], [r["wall_seconds"] for r in by_pc]))),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
