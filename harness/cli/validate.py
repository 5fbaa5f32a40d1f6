"""`bench validate`: a leaderboard checked against its schema and its semantic rules."""

from __future__ import annotations

from harness.cli.common import leaderboard_arg


def add(sub) -> None:
    p = sub.add_parser("validate", help="check a leaderboard JSON against the schema")
    p.add_argument("file")
    p.set_defaults(func=cmd_validate)


def cmd_validate(args) -> int:
    from harness.results.leaderboard import validate_file

    path = leaderboard_arg(args.file)
    board = validate_file(path)
    print(f"{path}: valid leaderboard (schema {board.schema_version}, {len(board.results)} results, "
          f"{len(board.gold)} gold baselines)")
    return 0
