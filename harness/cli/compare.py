"""`bench compare`: the regression gate, for CI."""

from __future__ import annotations

from harness.cli.common import OK, REGRESSED, console, leaderboard_arg, print_json


def add(sub) -> None:
    p = sub.add_parser("compare", help="exit non-zero when NEW regressed against BASELINE")
    p.add_argument("new")
    p.add_argument("baseline")
    p.add_argument("--tolerance", type=float, default=0.0, help="allowed change in F1 points (default 0)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--all", action="store_true", help="show unchanged rows too")
    p.add_argument("--allow-different-settings", action="store_true",
                    help="compare runs made with different settings (refused by default); the differences are printed")
    p.set_defaults(func=cmd_compare)


def cmd_compare(args) -> int:
    from harness.results.compare import check_tolerance, compare
    from harness.results.leaderboard import validate_file

    check_tolerance(args.tolerance)
    new = validate_file(leaderboard_arg(args.new))
    base = validate_file(leaderboard_arg(args.baseline))
    result = compare(new, base, args.tolerance, allow_different_settings=args.allow_different_settings)
    if args.json:
        print_json(result)
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
        out = console()
        if table.row_count:
            out.print(table)
        out.print(f"{len(result['rows'])} compared, {result['regressions']} regressed, {result['missing']} missing, "
                      f"{len(result['added'])} new", markup=False, highlight=False)
        if result["cpu_note"]:
            out.print(f"note: {result['cpu_note']}", markup=False, highlight=False)
        if result["settings_differ"]:
            out.print(f"note: the settings differ (baseline -> new): {'; '.join(result['settings_differ'])}",
                          markup=False, highlight=False)
    return OK if result["ok"] else REGRESSED
