"""`bench list`: what the registry holds, and the task x language coverage."""

from __future__ import annotations

from harness.cli import common
from harness.cli.common import console, print_json, strict_plugins_flag


def add(sub) -> None:
    p = sub.add_parser("list", help="list registered tasks, languages, strategies, models, classifiers or trackers")
    p.add_argument("kind", choices=["tasks", "languages", "strategies", "models", "classifiers", "trackers"])
    p.add_argument("--json", action="store_true")
    strict_plugins_flag(p)
    p.set_defaults(func=cmd_list)


def cmd_list(args) -> int:
    reg = common.registry(args)
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
    elif kind == "trackers":
        rows = [{"name": t.name, "description": t.description, "plugin": reg.plugin_of("trackers", t.name)}
                for t in reg.trackers.values()]
    else:
        rows = coverage(reg)
    if args.json:
        print_json(rows)
        return 0
    from rich.table import Table

    out = console()
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
        out.print(table)
        for n in notes:
            out.print(n, markup=False, highlight=False)
        return 0
    table = Table(*rows[0].keys()) if rows else Table("name")
    for r in rows:
        table.add_row(*[", ".join(v) if isinstance(v, list) else str(v) for v in r.values()])
    out.print(table)
    return 0


def coverage(reg) -> list[dict]:
    rows = []
    for t in reg.tasks.values():
        for code, lang in t.languages().items():
            rows.append({
                "task": t.name, "language": code, "name": lang.name, "iso": lang.iso, "dataset_code": lang.dataset_code,
                "tier": lang.tier, "train": t.unavailable(code, "train") or "ok", "test": t.unavailable(code, "test") or "ok",
                "strategies_unavailable": {s.name: why for s in reg.strategies.values() if (why := s.unavailable(t, lang))},
            })
    return rows
