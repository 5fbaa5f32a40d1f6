"""Write harness/kits/tasks/gold_checksums.json: the SHA-256 of every file of the offline gold copy, which
`--data-dir remote` checks each downloaded file against (the same bytes as the copy, or an error).

    python scripts/gold_checksums.py ../shared/data
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "harness" / "kits" / "tasks" / "gold_checksums.json"


def main(root: Path) -> None:
    sums = {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.suffix in (".csv", ".tsv", ".txt")}
    OUT.write_text(json.dumps(sums, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{len(sums)} files -> {OUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
