"""`bench run`: the flags turned into overrides for the one orchestrator (harness/pipeline/run.py),
and the plan that `--dry-run` prints."""

from __future__ import annotations

from harness.cli import common
from harness.cli.common import DEFAULT_SUITE, print_json, strict_plugins_flag
from harness.errors import BenchError


def add(sub) -> None:
    p = sub.add_parser("run", help="run a suite (default: benchmarks/default.toml)")
    p.add_argument("suite", nargs="?", help="suite TOML file")
    p.add_argument("--all", action="store_true", help="every registered task, language, strategy, model and classifier")
    for axis in ("tasks", "languages", "strategies", "models", "classifiers"):
        p.add_argument(f"--{axis}", metavar="GLOBS", help=f"{axis} to run, comma list of names or globs (replaces the suite's)")
    p.add_argument("--per-class", type=int, help="examples per class, synthetic and gold")
    p.add_argument("--seeds", help="evaluation seeds: a count or a comma list")
    p.add_argument("--replicates", type=int, metavar="R", help="independent generations per cell (own demos, sampling "
                   "and classifier seeds); with R >= 2 intervals cover generation as well as classifier variance")
    p.add_argument("--gold", choices=["first", "random"], help="gold subset: the first N per class (the paper) or a "
                   "seeded random N per class per replicate")
    p.add_argument("--baseline", metavar="STRATEGY", help="the strategy the others are compared with in the answer "
                   "and the results table (default: the suite's [evaluation] baseline, else zero-shot)")
    p.add_argument("--out", help="run directory (default runs/<suite name>); rerunning resumes it")
    p.add_argument("--data-dir", help="gold data directory (default: $BENCH_DATA_DIR, else the suite's data_dir, else "
                                       "shared/data beside the checkout, else the public sources); "
                                       "`remote`: fetch the files from their pinned public sources")
    p.add_argument("--cache-dir", help="generation/embedding cache directory (default $BENCH_CACHE_DIR or ~/.cache/lowres-bench)")
    p.add_argument("--faithful", action="store_true", help="reproduce the reference code's parsing and revision quirks")
    p.add_argument("--dry-run", action="store_true", help="print the plan and exit without loading a model")
    p.add_argument("--json", action="store_true", help="with --dry-run: the plan as JSON")
    p.add_argument("--priced-on", choices=["cpu", "cuda"], help="with --dry-run: price the bill as if run on this device "
                   "kind (default: this machine's), e.g. a GPU plan from a laptop")
    p.add_argument("--yes", action="store_true", help="run a plan even when its estimate is above the thresholds "
                                                       "(more than 1,000,000 LLM calls or a week of compute)")
    p.add_argument("--no-progress", action="store_true", help="plain log lines instead of progress bars")
    p.add_argument("--log-samples", action="store_true",
                   help="write every test example's gold label and prediction per evaluation cell and seed "
                        "to samples/<cell>.jsonl (cells finished before are not redone)")
    p.add_argument("--shard", metavar="I/N", help="run only part I of N of the plan (0 <= I < N), e.g. for a Slurm job "
                                                   "array; combine the parts with `bench merge`")
    p.add_argument("--executor", choices=["local", "ray"], default="local",
                   help="where cells run: this process (default) or a Ray cluster")
    p.add_argument("--ray-address", metavar="ADDR", help="with --executor ray: the cluster to join (default: start a "
                                                         "local one; 'auto' joins the cluster of this node)")
    p.add_argument("--track", action="append", default=[], metavar="NAME[:URI]",
                   help="also report the run to an experiment tracker, e.g. mlflow or mlflow:http://host:5000 "
                        "(repeatable; `bench list trackers`); a tracker that fails is a warning, not a failed run")
    common.quiet_flag(p)
    strict_plugins_flag(p)
    p.set_defaults(func=cmd_run)


def cmd_run(args) -> int:
    from harness.config.suite import load_suite
    from harness.pipeline import run as pipeline
    from harness.pipeline.plan import apply_filters, parse_shard
    from harness.store.rundir import RunDir

    axes = ("tasks", "languages", "strategies", "models", "classifiers")
    given = axes if args.all else [axis for axis in axes if getattr(args, axis) is not None]
    suite = load_suite(args.suite or DEFAULT_SUITE, given=given)
    if args.all:
        suite = suite.with_overrides({axis: ["*"] for axis in axes})
    suite = apply_filters(suite, {"tasks": args.tasks, "languages": args.languages, "strategies": args.strategies,
                          "models": args.models, "classifiers": args.classifiers})
    overrides: dict = {}
    named_by = {}  # suite setting -> the command-line option that set it, to name in a problem
    if args.per_class is not None:
        overrides["per_class"], named_by["per_class"] = args.per_class, f"--per-class {args.per_class}"
    if args.seeds is not None:
        overrides["seeds"], named_by["seeds"] = parse_seeds(args.seeds), f"--seeds {args.seeds!r}"
    if args.replicates is not None:
        overrides["replicates"], named_by["replicates"] = args.replicates, f"--replicates {args.replicates}"
    if args.gold is not None:
        overrides["gold"] = args.gold
    if args.faithful:
        overrides["faithful"] = True
    if args.baseline is not None:
        overrides["baseline"], named_by["baseline"] = args.baseline, f"--baseline {args.baseline!r}"
    prepared = pipeline.prepare(suite, overrides=overrides, named_by=named_by, data_dir=args.data_dir,
                                registry=common.registry(args), shard=parse_shard(args.shard) if args.shard else None,
                                executor=args.executor, ray_address=args.ray_address, track=args.track)
    if args.dry_run:
        return print_plan(prepared.plan, pipeline.bill(prepared, cache_dir=args.cache_dir, device=args.priced_on), args.json)
    board = pipeline.execute(prepared, out=args.out, cache_dir=args.cache_dir, progress=not args.no_progress,
                             log_samples=args.log_samples, yes=args.yes)
    if not args.quiet:
        common.print_answer(RunDir(pipeline.out_dir(prepared.plan, args.out)).leaderboard, board)
    return 0


def parse_seeds(text: str) -> list[int]:
    try:
        if "," in text:
            seeds = [int(s) for s in text.split(",")]  # an empty item (",", "1,,2") is a ValueError
        else:
            n = int(text)
            if n < 1:
                raise ValueError
            seeds = list(range(n))
    except ValueError:
        raise BenchError(f"--seeds {text!r} must be a count (3) or a comma list of integers (0,1,7)") from None
    return seeds


def print_plan(plan, bill, as_json: bool) -> int:
    """The plan, its bill first: what it will cost is what a user must read before anything else."""
    from harness.pipeline.estimate import refusal

    why = refusal(bill)
    if as_json:
        print_json({
            **plan.as_dict(),
            "estimate": {**bill.as_dict(), "refused_without_yes": why},
            "generation_cells": [{"id": c.id, "task": c.task, "language": c.language, "strategy": c.strategy,
                                  "model": c.model, "replicate": c.replicate} for c in plan.gen_cells],
            "evaluation_cells": [{"id": c.id, "task": c.task, "language": c.language, "strategy": c.strategy,
                                  "model": c.model, "classifier": c.classifier, "replicate": c.replicate}
                                 for c in plan.eval_cells],
            "seeds": plan.suite.seeds, "per_class": plan.suite.per_class, "replicates": plan.suite.replicates,
            "gold": plan.suite.gold,
        })
        return 0
    s = plan.suite
    for line in bill.lines():
        print(line)
    if why:
        print(f"a run of this plan is refused without --yes: {why.split('; ')[0]}")
    shard = f" shard={plan.shard[0]}/{plan.shard[1]}" if plan.shard else ""
    print(f"suite {s.name}: per_class={s.per_class} seeds={s.seeds} replicates={s.replicates} gold={s.gold} "
          f"generation seed={s.seed} settings={plan.settings_hash}"
          f" plan={plan.plan_hash}{shard}")
    print(f"generation cells ({len(plan.gen_cells)}):")
    for c in plan.gen_cells:
        print(f"  {c.id}")
    print(f"evaluation cells ({len(plan.eval_cells)}), each trained {len(s.seeds)} times:")
    for c in plan.eval_cells:
        print(f"  {c.id}")
    print(f"unavailable ({len(plan.unavailable)}):")
    for u in plan.unavailable:
        print(f"  {u.task}/{u.language} strategy={u.strategy} model={u.model or '-'}: {u.reason}")
    print(f"expected LLM calls: about {bill.llm_calls:,} (the estimate's total; generation bounded by {s.budget()} "
          "requests per class per cell)")
    return 0
