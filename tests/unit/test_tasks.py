"""The task plugins on the unit tests' miniature of the gold files: order, codes, checks of bad rows
(the real files' sizes and label sets: tests/e2e/test_gold_data.py)."""

import pytest

from harness.errors import DataError
from harness.registry.discovery import load_registry


@pytest.fixture(scope="module")
def reg():
    return load_registry()


def test_intent_train_order_is_recovered_from_massive_ids(reg, data_dir):
    import csv

    rows = list(csv.DictReader(open(data_dir / "kinit/intent/de-train_human_parsed.csv", encoding="utf-8")))
    by_id = sorted(rows, key=lambda r: int(r["id"]))
    train = reg.task("massive10").load("de", "train")
    assert [e.text for e in train[:5]] == [r["text"].strip() for r in by_id[:5]]


def test_languages_carry_every_code(reg):
    sw = reg.task("massive10").languages()["sw"]
    assert (sw.name, sw.iso, sw.dataset_code, sw.tier) == ("Swahili", "swh_Latn", "sw-KE", "high")
    assert reg.task("sib200").languages()["az"].dataset_code == "azj_Latn"
    assert reg.task("sib200").languages()["cy"].tier == "low"


def test_bad_label_names_file_and_line(tmp_path, monkeypatch):
    from harness.kits.tasks import files

    path = tmp_path / "x.csv"
    path.write_text("id,text,intent,label\n1,hello there,greeting,0\n2,set alarm,alarm_query,0\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"x.csv:2: label 'greeting' is not in the task's label set"):
        files.read_rows(path, "text", "intent", ["alarm_query"])


def test_missing_file_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_DATA_DIR", str(tmp_path))
    from plugins.tasks.gold import Massive10

    with pytest.raises(DataError, match=r"missing gold data file .*de-test.csv.*kinit"):
        Massive10().load("de", "test")
