"""Writes tests/unit/data/gold: a miniature of the gold data directory (same layout, same files, the
first rows of each label in file order), so the unit tests run without ../shared. Real rows, few of
them: what the unit tests check is behaviour, not scores.

    python scripts/unit_gold.py [--source ../shared/data]
"""

from __future__ import annotations

import argparse
import csv
import io
import shutil
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "unit" / "data" / "gold"
KINIT_LANGUAGES = ("az", "cy", "de", "en", "he", "id", "ro", "sl", "sw", "te", "th")
SIB_LANGUAGES = ("azj_Latn", "cym_Latn", "deu_Latn", "eng_Latn", "heb_Hebr", "ind_Latn", "ron_Latn", "slv_Latn",
                 "swh_Latn", "tel_Telu", "tha_Thai")
PER_LABEL = {"train": 30, "test": 10, "dev": 5}


def first_per_label(text: str, delimiter: str, label_column: str, keep: int) -> str:
    """The header and the first `keep` rows of each label, in file order, written back as read."""
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    col = rows[0].index(label_column)
    taken: Counter[str] = Counter()
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n",
                        quoting=csv.QUOTE_MINIMAL)
    writer.writerow(rows[0])
    for row in rows[1:]:
        if len(row) > col and taken[row[col]] < keep:
            taken[row[col]] += 1
            writer.writerow(row)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=str(ROOT.parent / "shared" / "data"))
    src = Path(parser.parse_args().source)
    if OUT.exists():
        shutil.rmtree(OUT)
    for task in ("intent", "sentiment"):
        for code in KINIT_LANGUAGES:
            for split, name in (("train", f"{code}-train_human_parsed.csv"), ("test", f"{code}-test.csv")):
                path = src / "kinit" / task / name
                if path.is_file():
                    target = OUT / "kinit" / task / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    text = path.read_text(encoding="utf-8")
                    target.write_text(first_per_label(text, ",", "intent", PER_LABEL[split]), encoding="utf-8")
    for code in SIB_LANGUAGES:
        folder = src / "sib200" / "annotated" / code
        target = OUT / "sib200" / "annotated" / code
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(folder / "labels.txt", target / "labels.txt")
        for split in ("train", "dev", "test"):
            text = (folder / f"{split}.tsv").read_text(encoding="utf-8")
            (target / f"{split}.tsv").write_text(first_per_label(text, "\t", "category", PER_LABEL[split]),
                                                 encoding="utf-8")
    shutil.copy(src / "sib200" / "LICENSE", OUT / "sib200" / "LICENSE")
    if (src / "SOURCES.md").is_file():
        shutil.copy(src / "SOURCES.md", OUT / "SOURCES.md")
    (OUT / "README.md").write_text(
        "# A miniature of the gold data, for the unit tests\n\nThe first rows of each label, in file order, of the "
        f"files described in SOURCES.md (licences there): {PER_LABEL['train']} per label of a train split, "
        f"{PER_LABEL['test']} of a test split, {PER_LABEL['dev']} of a dev split. Written by scripts/unit_gold.py; "
        "scores on it mean nothing.\n", encoding="utf-8")
    size = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"{OUT.relative_to(ROOT)}: {sum(1 for p in OUT.rglob('*') if p.is_file())} files, {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
