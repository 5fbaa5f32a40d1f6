"""The `bench` command."""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

from harness.errors import BenchError

DEFAULT_SUITE = Path(__file__).resolve().parents[2] / "benchmarks" / "default.toml"


def _print_json(data) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def _registry(args):
    from harness.registry.discovery import load_registry

    return load_registry(strict=True if getattr(args, "strict_plugins", False) else None)


# -- bench plugins / list ----------------------------------------------------------------------
def cmd_plugins(args) -> int:
    reg = _registry(args)
    rows = [p.as_dict() for p in reg.plugins]
    if args.json:
        _print_json(rows)
        return 0
    from rich.markup import escape
    from rich.table import Table

    table = Table("plugin", "distribution", "version", "registered", "error (skipped) / conflicts")
    for r in rows:
        what = "; ".join(f"{k}: {', '.join(v)}" for k, v in r["registered"].items())
        problems = ([f"skipped: {r['error']}"] if r["error"] else []) + r["conflicts"]
        table.add_row(*(escape(c) for c in (r["name"], r["distribution"], r["version"], what, "\n".join(problems))))
    _console().print(table)
    return 0


def _coverage(reg) -> list[dict]:
    rows = []
    for t in reg.tasks.values():
        for code, lang in t.languages().items():
            rows.append({
                "task": t.name, "language": code, "name": lang.name, "iso": lang.iso, "dataset_code": lang.dataset_code,
                "tier": lang.tier, "train": t.unavailable(code, "train") or "ok", "test": t.unavailable(code, "test") or "ok",
                "strategies_unavailable": {s.name: why for s in reg.strategies.values() if (why := s.unavailable(t, lang))},
            })
    return rows


def cmd_list(args) -> int:
    reg = _registry(args)
    kind = args.kind
    if kind == "tasks":
        rows = [{"name": t.name, "labels": list(t.labels), "languages": list(t.languages()), "description": t.description,
                 "plugin": reg.plugin_of("tasks", t.name)} for t in reg.tasks.values()]
    elif kind == "strategies":
        rows = [{"name": s.name, "description": s.description, "plugin": reg.plugin_of("strategies", s.name)}
                for s in reg.strategies.values()]
    elif kind == "models":
        rows = [{"name": m.name + (":<id or path>" if m.prefix else ""), "description": m.description,
                 "plugin": reg.plugin_of("models", m.name)} for m in reg.models.values()]
    elif kind == "classifiers":
        rows = [{"name": c.name, "description": c.description, "plugin": reg.plugin_of("classifiers", c.name)}
                for c in reg.classifiers.values()]
    else:
        rows = _coverage(reg)
    if args.json:
        _print_json(rows)
        return 0
    from rich.table import Table

    console = _console()
    if kind == "languages":
        langs: dict[str, dict] = {}
        for r in rows:
            langs.setdefault(r["language"], {"name": r["name"], "iso": r["iso"], "tier": r["tier"]})
        tasks = list(dict.fromkeys(r["task"] for r in rows))
        table = Table("language", "iso", "tier", *tasks, title="task x language coverage")
        notes = []
        for code, info in langs.items():
            cells = []
            for t in tasks:
                r = next((x for x in rows if x["task"] == t and x["language"] == code), None)
                if r is None:
                    cells.append("-")
                elif r["test"] != "ok":
                    cells.append("unavailable")
                    notes.append(f"{t}/{code}: {r['test']}")
                elif r["train"] != "ok":
                    cells.append("test only")
                    notes.append(f"{t}/{code}: {r['train']}; unavailable: gold baseline, "
                                 + ", ".join(sorted(r["strategies_unavailable"])))
                else:
                    cells.append("ok")
            table.add_row(f"{code} ({info['name']})", info["iso"], info["tier"], *cells)
        console.print(table)
        for n in notes:
            console.print(n, markup=False, highlight=False)
        return 0
    table = Table(*rows[0].keys()) if rows else Table("name")
    for r in rows:
        table.add_row(*[", ".join(v) if isinstance(v, list) else str(v) for v in r.values()])
    console.print(table)
    return 0


# -- bench run ---------------------------------------------------------------------------------
def cmd_run(args) -> int:
    from harness.config.suite import load_suite
    from harness.pipeline import run as pipeline
    from harness.pipeline.plan import apply_filters, parse_shard

    suite = load_suite(args.suite or DEFAULT_SUITE)
    if args.all:
        for axis in ("tasks", "languages", "strategies", "models", "classifiers"):
            setattr(suite, axis, ["*"])
    apply_filters(suite, {"tasks": args.tasks, "languages": args.languages, "strategies": args.strategies,
                          "models": args.models, "classifiers": args.classifiers})
    overrides: dict = {}
    named_by = {}  # suite setting -> the command-line option that set it, to name in a problem
    if args.per_class is not None:
        overrides["per_class"], named_by["per_class"] = args.per_class, f"--per-class {args.per_class}"
    if args.seeds is not None:
        overrides["seeds"], named_by["seeds"] = _parse_seeds(args.seeds), f"--seeds {args.seeds!r}"
    if args.replicates is not None:
        overrides["replicates"], named_by["replicates"] = args.replicates, f"--replicates {args.replicates}"
    if args.gold is not None:
        overrides["gold"] = args.gold
    if args.faithful:
        overrides["faithful"] = True
    prepared = pipeline.prepare(suite, overrides=overrides, named_by=named_by, data_dir=args.data_dir,
                                registry=_registry(args), shard=parse_shard(args.shard) if args.shard else None,
                                executor=args.executor, ray_address=args.ray_address)
    if args.dry_run:
        return _print_plan(prepared.plan, args.json)
    pipeline.execute(prepared, out=args.out, cache_dir=args.cache_dir, progress=not args.no_progress,
                     log_samples=args.log_samples)
    return 0


def _parse_seeds(text: str) -> list[int]:
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


def _print_plan(plan, as_json: bool) -> int:
    if as_json:
        _print_json({
            **plan.as_dict(),
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
        print(f"  {u['task']}/{u['language']} strategy={u['strategy']} model={u['model'] or '-'}: {u['reason']}")
    print(f"expected LLM calls: about {plan.expected_llm_calls} "
          f"(bounded by {s.budget()} requests per class per cell, before revision)")
    return 0


# -- bench merge -------------------------------------------------------------------------------
def cmd_merge(args) -> int:
    from harness.results.merge import merge

    reg = _registry(args)
    path, info = merge([Path(d) for d in args.dirs], Path(args.out), reg, partial=args.partial)
    print(f"merged {info['shards']} run directories ({info['generations']} generation and {info['scores']} "
          f"evaluation results) into {path}", file=sys.stderr)
    return 0


# -- bench validate ----------------------------------------------------------------------------
def cmd_validate(args) -> int:
    from harness.results.leaderboard import validate_file

    path = _leaderboard_arg(args.file)
    data = validate_file(path)
    print(f"{path}: valid leaderboard (schema {data['schema_version']}, {len(data['results'])} results, "
          f"{len(data['gold'])} gold baselines)")
    return 0


def _leaderboard_arg(value: str) -> Path:
    from harness.store.rundir import RunDir

    path = Path(value)
    return RunDir(path).leaderboard if path.is_dir() else path


def cmd_report(args) -> int:
    from harness.reports.html import html_page
    from harness.reports.markdown import markdown
    from harness.results.leaderboard import validate_file
    from harness.store.rundir import MANIFEST

    path = _leaderboard_arg(args.source)
    board = validate_file(path)
    # the sample browser reads each cell's candidates from the run directory the leaderboard sits in
    run_dir = path.parent if (path.parent / MANIFEST).is_file() else None
    text = markdown(board) if args.format == "md" else html_page(board, run_dir)
    if args.out:
        from harness.store.rundir import write_text

        try:
            write_text(Path(args.out), text)
        except OSError as exc:  # a directory, a path under a file, no permission
            raise BenchError(f"--out {args.out}: cannot write the report there ({exc.strerror or exc})") from None
        print(f"report written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text + "\n")
    return 0


def cmd_compare(args) -> int:
    from harness.results.compare import check_tolerance, compare
    from harness.results.leaderboard import validate_file

    check_tolerance(args.tolerance)
    new = validate_file(_leaderboard_arg(args.new))
    base = validate_file(_leaderboard_arg(args.baseline))
    result = compare(new, base, args.tolerance, allow_different_settings=args.allow_different_settings)
    if args.json:
        _print_json(result)
    else:
        from rich.table import Table

        table = Table("task", "lang", "strategy", "model", "classifier", "F1 base", "F1 new", "gap base", "gap new", "status",
                      title=f"compare (tolerance {args.tolerance} F1 points)")

        def num(v):
            return "-" if v is None else f"{v:.2f}"

        for r in result["rows"]:
            if r["status"] == "ok" and not args.all:
                continue
            table.add_row(r["task"], r["language"], r["strategy"], r["model"], r["classifier"],
                          num(r.get("macro_f1_baseline")), num(r.get("macro_f1_new")), num(r.get("gap_baseline")),
                          num(r.get("gap_new")), r["status"])
        console = _console()
        if table.row_count:
            console.print(table)
        console.print(f"{len(result['rows'])} compared, {result['regressions']} regressed, {result['missing']} missing, "
                      f"{len(result['added'])} new", markup=False, highlight=False)
        if result["cpu_note"]:
            console.print(f"note: {result['cpu_note']}", markup=False, highlight=False)
        if result["settings_differ"]:
            console.print(f"note: the settings differ (baseline -> new): {'; '.join(result['settings_differ'])}",
                          markup=False, highlight=False)
    return OK if result["ok"] else REGRESSED


def cmd_export(args) -> int:
    from harness.reports.export import export

    out = Path(args.out) if args.out else Path(args.run) / "export" / args.format
    done = export(args.run, out, args.format, cells=args.cells, all_candidates=args.all_candidates,
                  push_to_hub=args.push_to_hub)
    rows = sum(len(c.rows) for c in done)
    pushed = f", pushed to {args.push_to_hub}" if args.push_to_hub else ""
    print(f"exported {len(done)} generation cells ({rows} rows, {args.format}) and their card to {out}{pushed}",
          file=sys.stderr)
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse that reports a mistake in one line, as every other input error is, instead of the
    usage block followed by the error (subcommand parsers are made of the same class)."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}; see `{self.prog} --help`\n")


def _console():
    """A console as wide as the terminal; piped into a file or a CI log, wide enough that tables
    are not folded into unreadable columns."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=200)


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="bench", description="Benchmark LLM data-generation strategies for low-resource languages.")
    p.add_argument("--strict-plugins", action="store_true", help="fail when any plugin fails to load (also BENCH_STRICT_PLUGINS=1)")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run a suite (default: benchmarks/default.toml)")
    r.add_argument("suite", nargs="?", help="suite TOML file")
    r.add_argument("--all", action="store_true", help="every registered task, language, strategy, model and classifier")
    for axis in ("tasks", "languages", "strategies", "models", "classifiers"):
        r.add_argument(f"--{axis}", metavar="GLOBS", help=f"{axis} to run, comma list of names or globs (replaces the suite's)")
    r.add_argument("--per-class", type=int, help="examples per class, synthetic and gold")
    r.add_argument("--seeds", help="evaluation seeds: a count or a comma list")
    r.add_argument("--replicates", type=int, metavar="R", help="independent generations per cell (own demos, sampling "
                   "and classifier seeds); with R >= 2 intervals cover generation as well as classifier variance")
    r.add_argument("--gold", choices=["first", "random"], help="gold subset: the first N per class (the paper) or a "
                   "seeded random N per class per replicate")
    r.add_argument("--out", help="run directory (default runs/<suite name>); rerunning resumes it")
    r.add_argument("--data-dir", help="gold data directory (default: $BENCH_DATA_DIR, else the suite's data_dir); "
                                       "`remote`: fetch the files from their pinned public sources")
    r.add_argument("--cache-dir", help="generation/embedding cache directory (default $BENCH_CACHE_DIR or ~/.cache/lowres-bench)")
    r.add_argument("--faithful", action="store_true", help="reproduce the reference code's parsing and revision quirks")
    r.add_argument("--dry-run", action="store_true", help="print the plan and exit without loading a model")
    r.add_argument("--json", action="store_true", help="with --dry-run: the plan as JSON")
    r.add_argument("--no-progress", action="store_true", help="plain log lines instead of progress bars")
    r.add_argument("--log-samples", action="store_true",
                   help="write every test example's gold label and prediction per evaluation cell and seed "
                        "to samples/<cell>.jsonl (cells finished before are not redone)")
    r.add_argument("--shard", metavar="I/N", help="run only part I of N of the plan (0 <= I < N), e.g. for a Slurm job "
                                                   "array; combine the parts with `bench merge`")
    r.add_argument("--executor", choices=["local", "ray"], default="local",
                   help="where cells run: this process (default) or a Ray cluster")
    r.add_argument("--ray-address", metavar="ADDR", help="with --executor ray: the cluster to join (default: start a "
                                                         "local one; 'auto' joins the cluster of this node)")
    r.add_argument("--strict-plugins", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    r.set_defaults(func=cmd_run)

    mg = sub.add_parser("merge", help="combine the run directories of shards (bench run --shard) into one leaderboard")
    mg.add_argument("dirs", nargs="+", metavar="DIR", help="shard run directories")
    mg.add_argument("--out", required=True, help="run directory to write (new, or a previous merge of the same plan)")
    mg.add_argument("--partial", action="store_true", help="merge even when shards are missing or unfinished")
    mg.add_argument("--strict-plugins", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    mg.set_defaults(func=cmd_merge)

    pl = sub.add_parser("plugins", help="list plugins, what they registered and their errors")
    pl.add_argument("--json", action="store_true")
    pl.add_argument("--strict-plugins", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    pl.set_defaults(func=cmd_plugins)

    ls = sub.add_parser("list", help="list registered tasks, languages, strategies, models or classifiers")
    ls.add_argument("kind", choices=["tasks", "languages", "strategies", "models", "classifiers"])
    ls.add_argument("--json", action="store_true")
    ls.add_argument("--strict-plugins", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    ls.set_defaults(func=cmd_list)

    rp = sub.add_parser("report", help="markdown or self-contained HTML report of a leaderboard")
    rp.add_argument("source", help="run directory or leaderboard.json")
    rp.add_argument("--format", choices=["md", "html"], default="md")
    rp.add_argument("--out", help="write to this file instead of stdout")
    rp.set_defaults(func=cmd_report)

    cp = sub.add_parser("compare", help="exit non-zero when NEW regressed against BASELINE")
    cp.add_argument("new")
    cp.add_argument("baseline")
    cp.add_argument("--tolerance", type=float, default=0.0, help="allowed change in F1 points (default 0)")
    cp.add_argument("--json", action="store_true")
    cp.add_argument("--all", action="store_true", help="show unchanged rows too")
    cp.add_argument("--allow-different-settings", action="store_true",
                    help="compare runs made with different settings (refused by default); the differences are printed")
    cp.set_defaults(func=cmd_compare)

    ex = sub.add_parser("export", help="write a finished run's synthetic data as datasets, with a dataset card")
    ex.add_argument("run", metavar="RUN", help="run directory of a finished `bench run`")
    ex.add_argument("--format", choices=["jsonl", "csv", "parquet", "hf"], required=True,
                    help="one file per generation cell (jsonl, csv, parquet) or a datasets.save_to_disk directory (hf)")
    ex.add_argument("--out", metavar="DIR", help="output directory (default RUN/export/<format>)")
    ex.add_argument("--cells", metavar="GLOBS", help="generation cell ids to export, comma list of globs (default all)")
    ex.add_argument("--all-candidates", action="store_true",
                    help="every candidate, with status (accepted, rejected, surplus), reason and the reviser's reply")
    ex.add_argument("--push-to-hub", metavar="REPO", help="also publish the card and each cell (as a config) to "
                                                         "this Hugging Face dataset repository (needs network and a token)")
    ex.set_defaults(func=cmd_export)

    v = sub.add_parser("validate", help="check a leaderboard JSON against the schema")
    v.add_argument("file")
    v.set_defaults(func=cmd_validate)
    return p


def _warning_line(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"bench: warning: {message}", file=sys.stderr)


#: exit statuses (README.md, "Errors and exit codes")
OK, REGRESSED, BAD_INPUT, INTERNAL_ERROR, INTERRUPTED = 0, 1, 2, 3, 130


def main(argv: list[str] | None = None) -> int:
    """Exit 0: done (or compare found nothing worse); 1: compare found a regression or a missing
    result; 2: a mistake in the input (a BenchError, or a usage error from argparse), one line on
    stderr; 3: a bug (with its traceback); 130: interrupted."""
    args = parser().parse_args(argv)
    warnings.showwarning = _warning_line
    try:
        return args.func(args)
    except BenchError as exc:  # one line, even when the input it quotes holds a line break
        print("bench: error: " + str(exc).replace("\r", "\\r").replace("\n", "\\n"), file=sys.stderr)
        return BAD_INPUT
    except KeyboardInterrupt:
        print("bench: interrupted; finished cells are kept, rerun the same command to resume", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        return _closed_pipe()
    except Exception:  # a bug, not the user's input: keep the traceback, and never exit 1 (a regression)
        import traceback

        traceback.print_exc()
        print("bench: internal error: the traceback above is a bug in the harness or a plugin, not a problem with "
              "the input", file=sys.stderr)
        return INTERNAL_ERROR


def _closed_pipe() -> int:
    """The reader of stdout went away (`bench run --dry-run | head -1`): end quietly, as `cat` does.
    Python would otherwise complain again when it flushes stdout at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 0

