"""`bench plugins`: the plugins, what each registered, and why any was skipped."""

from __future__ import annotations

from harness.cli import common
from harness.cli.common import console, print_json, strict_plugins_flag


def add(sub) -> None:
    p = sub.add_parser("plugins", help="list plugins, what they registered and their errors")
    p.add_argument("--json", action="store_true")
    strict_plugins_flag(p)
    p.set_defaults(func=cmd_plugins)


def cmd_plugins(args) -> int:
    reg = common.registry(args)
    rows = [p.as_dict() for p in reg.plugins]
    if args.json:
        print_json(rows)
        return 0
    from rich.markup import escape
    from rich.table import Table

    table = Table("plugin", "distribution", "version", "registered", "error (skipped) / conflicts")
    for r in rows:
        what = "; ".join(f"{k}: {', '.join(v)}" for k, v in r["registered"].items())
        problems = ([f"skipped: {r['error']}"] if r["error"] else []) + r["conflicts"]
        table.add_row(*(escape(c) for c in (r["name"], r["distribution"], r["version"], what, "\n".join(problems))))
    console().print(table)
    return 0
