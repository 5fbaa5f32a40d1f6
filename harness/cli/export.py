"""`bench export`: a finished run's synthetic data as datasets."""

from __future__ import annotations

import sys
from pathlib import Path


def add(sub) -> None:
    p = sub.add_parser("export", help="write a finished run's synthetic data as datasets, with a dataset card")
    p.add_argument("run", metavar="RUN", help="run directory of a finished `bench run`")
    p.add_argument("--format", choices=["jsonl", "csv", "parquet", "hf"], required=True,
                    help="one file per generation cell (jsonl, csv, parquet) or a datasets.save_to_disk directory (hf)")
    p.add_argument("--out", metavar="DIR", help="output directory (default RUN/export/<format>)")
    p.add_argument("--cells", metavar="GLOBS", help="generation cell ids to export, comma list of globs (default all)")
    p.add_argument("--all-candidates", action="store_true",
                    help="every candidate, with status (accepted, rejected, surplus), reason and the reviser's reply")
    p.add_argument("--push-to-hub", metavar="REPO", help="also publish the card and each cell (as a config) to "
                                                         "this Hugging Face dataset repository (needs network and a token)")
    p.set_defaults(func=cmd_export)


def cmd_export(args) -> int:
    from harness.reports.export import export
    from harness.store.paths import directory

    out = Path(args.out) if args.out else Path(args.run) / "export" / args.format
    directory(out, "--out" if args.out else "the export directory", writable=True)
    done = export(args.run, out, args.format, cells=args.cells, all_candidates=args.all_candidates,
                  push_to_hub=args.push_to_hub)
    rows = sum(len(c.rows) for c in done)
    pushed = f", pushed to {args.push_to_hub}" if args.push_to_hub else ""
    print(f"exported {len(done)} generation cells ({rows} rows, {args.format}) and their card to {out}{pushed}",
          file=sys.stderr)
    return 0
