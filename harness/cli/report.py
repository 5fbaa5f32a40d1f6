"""`bench report`: a leaderboard as markdown, one self-contained HTML page, or the long-form results
table as CSV (the seed level of `harness.api.results`, for spreadsheets and data frames)."""

from __future__ import annotations

import sys
from pathlib import Path

from harness.cli.common import leaderboard_arg
from harness.errors import BenchError


def add(sub) -> None:
    p = sub.add_parser("report", help="markdown or self-contained HTML report of a leaderboard, or its results as CSV")
    p.add_argument("source", help="run directory or leaderboard.json")
    p.add_argument("--format", choices=["md", "html", "csv"], default="md",
                   help="md (default), html, or csv: one row per task, language, strategy, model, classifier, "
                        "replicate and seed, as harness.api.results(run) gives it")
    p.add_argument("--out", help="write to this file instead of stdout")
    p.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    from harness.reports.html import html_page
    from harness.reports.markdown import markdown
    from harness.results.leaderboard import validate_file
    from harness.store.rundir import MANIFEST

    path = leaderboard_arg(args.source)
    board = validate_file(path)
    # the sample browser reads each cell's candidates from the run directory the leaderboard sits in
    run_dir = path.parent if (path.parent / MANIFEST).is_file() else None
    if args.format == "csv":
        from harness.results.frame import results

        text = results(board).to_csv(index=False)  # ends with its line break
    else:
        text = markdown(board) if args.format == "md" else html_page(board, run_dir)
    if args.out:
        from harness.store.ownership import refuse_inside_run
        from harness.store.paths import file_target
        from harness.store.rundir import write_text

        refuse_inside_run(args.out, "--out", "bench report")
        file_target(args.out, "--out")
        try:
            write_text(Path(args.out), text)
        except OSError as exc:  # a directory, a path under a file, no permission
            raise BenchError(f"--out {args.out}: cannot write the report there ({exc.strerror or exc})") from None
        print(f"report written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text if args.format == "csv" else text + "\n")
    return 0
