"""Fine-tunings per hour of the `finetune` classifier: the seeds of a cell one at a time against the
same seeds stacked (`seeds_together`), on the same cells in one process, alone on the machine.

Each cell is a real gold training subset (per class as asked) scored on the real test split, as the
runner builds it: the seeds are the runner's derived classifier seeds. Both modes run every cell
(the pretrained weights are loaded before the clock starts; the order alternates between cells so
neither mode always runs warm). Per mode it prints the time and fine-tunings per hour; per seed the
macro-F1 of both modes and the largest difference; the last line is `ratio <together/one-at-a-time>`
in fine-tunings per hour.

    python benchmarks/eval_throughput.py --quick                      # under a minute on 2 CPU cores
    python benchmarks/eval_throughput.py --device cuda --per-class 100 --seeds 10 --tasks massive10 sib200
    python benchmarks/eval_throughput.py --json out.json              # also the numbers as JSON
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.api import ClassifierContext, Suite, load_registry  # noqa: E402
from harness.config import datadir  # noqa: E402
from harness.pipeline import seeds as derived  # noqa: E402
from harness.pipeline.run import choose_data_dir  # noqa: E402
from harness.pipeline.runner import gold_subset  # noqa: E402
from harness.results.metrics import scores  # noqa: E402
from harness.store.cache import Store, default_cache_dir  # noqa: E402
from plugins.classifiers.finetune import FineTune  # noqa: E402


def cells(reg, tasks: list[str], language: str, per_class: int, test_size: int | None):
    for name in tasks:
        task = reg.task(name)
        train, _ = gold_subset(task.load(language, "train"), task.labels, per_class)
        test = task.load(language, "test")
        yield name, task, train, test[:test_size] if test_size else test


def run_mode(clf, cell, language: str, seeds: list[int], options: dict, device: str, store, together: bool) -> tuple[float, list[float]]:
    name, task, train, test = cell
    ctxs = [ClassifierContext(seed=derived.classifier_seed(s, name, language, 0), cache=store, device=device,
                              options={**options, "seeds_together": together}, log=lambda m: None) for s in seeds]
    started = time.perf_counter()
    fits = clf.fit_predict_seeds(train, [e.text for e in test], list(task.labels), ctxs)
    if device == "cuda":
        import torch

        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    gold = [e.label for e in test]
    return seconds, [100 * scores(gold, f.predictions, list(task.labels))["macro_f1"] for f in fits]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a small check: massive10/de, 2 per class, 3 seeds, 2 epochs")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--tasks", nargs="+", default=None, help="default: massive10 sib200 (massive10 with --quick)")
    ap.add_argument("--language", default="de")
    ap.add_argument("--per-class", type=int, default=100)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--max-epochs", type=int, default=50)
    ap.add_argument("--test-size", type=int, default=None, help="score on the first N test examples only")
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    ap.add_argument("--model", default="e5-small-offline")
    ap.add_argument("--data-dir", help="the gold data (default: the harness's rule, shared/data beside the checkout)")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    args = ap.parse_args(argv)
    if args.quick:
        args.per_class, args.seeds, args.max_epochs, args.test_size = 2, 3, 2, 40
    args.tasks = args.tasks or (["massive10"] if args.quick else ["massive10", "sib200"])
    with datadir.reading(choose_data_dir(Suite(), args.data_dir)[0]):
        return measure(args)


def measure(args: argparse.Namespace) -> int:
    """Both ways of fitting on every cell, timed, with the gold data of the chosen directory."""
    options = {"model": args.model, "max_epochs": args.max_epochs, "precision": args.precision}
    reg = load_registry()
    store = Store(default_cache_dir() / "cache.sqlite")
    clf = FineTune()
    chosen = list(range(args.seeds))
    todo = list(cells(reg, args.tasks, args.language, args.per_class, args.test_size))
    clf._base(args.model, ClassifierContext(seed=0, cache=store))  # the pretrained weights, before the clock
    seconds = {False: 0.0, True: 0.0}
    f1 = {False: [], True: []}
    for i, cell in enumerate(todo):
        for together in ((False, True) if i % 2 == 0 else (True, False)):
            took, got = run_mode(clf, cell, args.language, chosen, options, args.device, store, together)
            seconds[together] += took
            f1[together] += got
            print(f"{cell[0]}/{args.language} {len(cell[2])} train, {len(cell[3])} test, {args.seeds} seeds "
                  f"{'together' if together else 'one at a time'}: {took:.1f} s", flush=True)
    fits = len(todo) * args.seeds
    per_hour = {k: 3600 * fits / v for k, v in seconds.items()}
    diffs = [abs(a - b) for a, b in zip(f1[True], f1[False])]
    print(f"one at a time: {seconds[False]:.1f} s, {per_hour[False]:,.0f} fine-tunings/h")
    print(f"together:      {seconds[True]:.1f} s, {per_hour[True]:,.0f} fine-tunings/h")
    print(f"macro-F1 per seed, one at a time: {' '.join(f'{x:.2f}' for x in f1[False])}")
    print(f"macro-F1 per seed, together:      {' '.join(f'{x:.2f}' for x in f1[True])}")
    print(f"largest per-seed difference: {max(diffs):.4f} points (mean F1 {statistics.fmean(f1[False]):.2f} vs "
          f"{statistics.fmean(f1[True]):.2f})")
    ratio = per_hour[True] / per_hour[False]
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "seconds": {
            "one_at_a_time": seconds[False], "together": seconds[True]}, "fine_tunings": fits,
            "per_hour": {"one_at_a_time": per_hour[False], "together": per_hour[True]}, "ratio": ratio,
            "max_f1_difference": max(diffs)}, indent=2))
    print(f"ratio {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
