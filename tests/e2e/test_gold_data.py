"""The task plugins against the real gold files: sizes and label sets from shared/data/SOURCES.md."""

from collections import Counter

import pytest

from harness.api import DataError, load_registry
from plugins.tasks.languages import CODES


@pytest.fixture(scope="module")
def reg():
    return load_registry()


SENTIMENT = {"en": (1821, 6920), "de": (1490, 6444), "th": (2344, 8103), "he": (2483, 8932), "id": (2266, 7926),
             "sw": (304, 738), "ro": (3000, 10800), "az": (4200, 19600), "te": (3214, 11386), "sl": (751, None)}
INTENT_TRAIN_PER_CLASS = [130, 52, 312, 207, 52, 354, 150, 70, 127, 573]


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
