"""False rejections of the language-identification check on real gold text.

For every task and language with a gold test split, the share of real test texts that the
off-language check would reject (they are all in the right language, so every rejection is false).
The filter is switched on only for languages at or under 2% on every task; see
harness/kits/strategies/language_id.py.

    python benchmarks/language_id.py [--data-dir ../shared/data] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--json", help="also write the table as JSON here")
    args = ap.parse_args()
    os.environ["BENCH_DATA_DIR"] = str(Path(args.data_dir).resolve())

    from harness.kits.strategies import language_id
    from harness.registry.discovery import load_registry

    reg = load_registry()
    rows = []
    start = time.perf_counter()
    for tname in ("massive10", "sib200", "sentiment"):
        task = reg.task(tname)
        for code, lang in task.languages().items():
            if task.unavailable(code, "test"):
                continue
            texts = [e.text for e in task.load(code, "test")]
            flags = [language_id.off_language(t, code, lang.iso, lang.script) for t in texts]
            rejected = sum(1 for f in flags if f)
            rows.append({"task": tname, "language": code, "texts": len(texts), "rejected": rejected,
                         "rate": round(rejected / len(texts), 4), "detector": language_id.known(code, lang.iso)})
            print(f"{tname:10} {code:3} {rejected:5}/{len(texts):5} = {100 * rejected / len(texts):5.2f}%", flush=True)
    worst: dict[str, float] = {}
    for r in rows:
        worst[r["language"]] = max(worst.get(r["language"], 0.0), r["rate"])
    print("\nworst rate per language (filter allowed at <= 2%):")
    for code, rate in worst.items():
        print(f"  {code}: {100 * rate:.2f}% {'filter' if rate <= 0.02 else 'report only'}")
    print(f"{sum(r['texts'] for r in rows)} texts in {time.perf_counter() - start:.0f}s")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "worst": worst}, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
