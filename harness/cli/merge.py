"""`bench merge`: shard run directories into one run directory and leaderboard."""

from __future__ import annotations

import sys
from pathlib import Path

from harness.cli import common
from harness.cli.common import strict_plugins_flag


def add(sub) -> None:
    p = sub.add_parser("merge", help="combine the run directories of shards (bench run --shard) into one leaderboard")
    p.add_argument("dirs", nargs="+", metavar="DIR", help="shard run directories")
    p.add_argument("--out", required=True, help="run directory to write (new, or a previous merge of the same plan)")
    p.add_argument("--data-dir", help="gold data directory (default: $BENCH_DATA_DIR, else the one the shards read, "
                                      "else the suite's data_dir, else shared/data beside the checkout, else remote)")
    p.add_argument("--partial", action="store_true", help="merge even when shards are missing or unfinished")
    common.quiet_flag(p)
    strict_plugins_flag(p)
    p.set_defaults(func=cmd_merge)


def cmd_merge(args) -> int:
    from harness.results.merge import merge

    reg = common.registry(args)
    path, info = merge([Path(d) for d in args.dirs], Path(args.out), reg, partial=args.partial,
                         data_dir=args.data_dir)
    print(f"merged {info['shards']} run directories ({info['generations']} generation and {info['scores']} "
          f"evaluation results) into {path}", file=sys.stderr)
    if not args.quiet:
        common.print_answer(path)
    return 0
