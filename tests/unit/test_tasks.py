"""The task plugins against the real gold files: sizes and label sets from shared/data/SOURCES.md."""

from collections import Counter

import pytest

from harness.errors import DataError
from harness.registry.discovery import load_registry
from plugins.tasks.languages import CODES

SENTIMENT = {"en": (1821, 6920), "de": (1490, 6444), "th": (2344, 8103), "he": (2483, 8932), "id": (2266, 7926),
             "sw": (304, 738), "ro": (3000, 10800), "az": (4200, 19600), "te": (3214, 11386), "sl": (751, None)}
INTENT_TRAIN_PER_CLASS = [130, 52, 312, 207, 52, 354, 150, 70, 127, 573]


@pytest.fixture(scope="module")
def reg():
    return load_registry()


@pytest.mark.parametrize("code", CODES)
def test_intent_sizes_and_labels(reg, code):
    task = reg.task("massive10")
    train, test = task.load(code, "train"), task.load(code, "test")
    assert len(train) == 2027 and len(test) == 565
    counts = Counter(e.label for e in train)
    assert [counts[lab] for lab in task.labels] == INTENT_TRAIN_PER_CLASS


@pytest.mark.parametrize("code", CODES)
def test_sib200_sizes_and_labels(reg, code):
    task = reg.task("sib200")
    assert len(task.load(code, "train")) == 701
    test = task.load(code, "test")
    assert len(test) == 204
    assert {e.label for e in test} == set(task.labels)


@pytest.mark.parametrize("code", CODES)
def test_sentiment_sizes_and_gaps(reg, code):
    task = reg.task("sentiment")
    if code == "cy":
        assert "Welsh" in task.unavailable("cy", "test")
        with pytest.raises(DataError):
            task.load("cy", "test")
        return
    n_test, n_train = SENTIMENT[code]
    assert len(task.load(code, "test")) == n_test
    if n_train is None:
        assert "no gold train" in task.unavailable(code, "train")
    else:
        train = task.load(code, "train")
        assert len(train) == n_train
        assert {e.label for e in train} == {"negative", "positive"}


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
