"""What a plugin declares for the core: a task its gold data's licence, a model spec its built-in
speed and the terms of its outputs, a classifier its built-in speed; a plugin of a third party is
served from its declarations exactly as a built-in one is."""

from __future__ import annotations

import pytest

from harness.config.suite import Suite
from harness.contracts import Classifier, Language, ModelSpec, Task
from harness.kits.tasks.file_task import FileTask
from harness.pipeline.estimate import estimate
from harness.pipeline.plan import build_plan
from harness.pipeline.progress import Reporter
from harness.pipeline.runner import Runner
from harness.registry.discovery import load_registry
from harness.reports.export import model_terms, task_licence
from harness.store.cache import Store


class Headlines(Task):
    name, labels, description = "headlines", ("sport", "politics"), "Topic of news headlines."

    def languages(self):
        return {"yo": Language("yo", "Yoruba", "yor_Latn")}

    def unavailable(self, language, split):
        return None

    def load(self, language, split):
        return []

    def licence(self, language):
        return "cc-by-4.0", "Yoruba headlines, CC BY 4.0"


class Quick(Classifier):
    name = "quick"
    rates = {"cpu": 0.5}

    def fit_predict(self, train, test_texts, labels, ctx):
        return [labels[0]] * len(test_texts)


class Unmeasured(Quick):
    name = "unmeasured"
    rates = {}


@pytest.fixture()
def reg():
    reg = load_registry()
    reg.tasks["headlines"] = Headlines()
    reg.classifiers.update({"quick": Quick(), "unmeasured": Unmeasured()})
    return reg


def test_a_task_exports_under_the_licence_it_declares(reg):
    assert task_licence(reg, "headlines", "yo") == ("cc-by-4.0", "Yoruba headlines, CC BY 4.0")
    assert task_licence(reg, "sentiment", "az")[0] == "cc-by-nc-sa-4.0"  # per language where the sources differ
    assert task_licence(reg, "sentiment", "sw")[0] == "mit"
    assert task_licence(reg, "sib200", "sw")[0] == "cc-by-sa-4.0"
    assert task_licence(reg, "massive10", "sw")[0] == "cc-by-4.0"
    assert task_licence(reg, "gone", "sw")[0] == "other"  # a task no longer registered


def test_a_task_from_files_exports_under_the_licence_given_to_it(reg):
    files = {"yo": (None, "yo-test.csv")}
    reg.tasks["given"] = FileTask("given", ("a", "b"), "d", {"yo": Language("yo", "Yoruba", "yor_Latn")}, files,
                                  licence=("cc0-1.0", "public domain"))
    reg.tasks["unsaid"] = FileTask("unsaid", ("a", "b"), "d", {"yo": Language("yo", "Yoruba", "yor_Latn")}, files)
    assert task_licence(reg, "given", "yo") == ("cc0-1.0", "public domain")
    assert task_licence(reg, "unsaid", "yo")[0] == "other"


def test_a_task_that_declares_no_licence_is_said_to_be_unknown():
    class Bare(Headlines):
        licence = Task.licence

    assert Bare().licence("yo")[0] == "other" and "'headlines'" in Bare().licence("yo")[1]


def test_model_terms_come_from_the_spec_serving_the_model(reg):
    assert model_terms(reg, "gemma-3-270m")[0] == "gemma"
    assert "Gemma Terms of Use" in model_terms(reg, "gemma-3-270m")[1]
    assert model_terms(reg, "hf:google/gemma-3-1b-pt")[0] == "gemma"  # the scheme's spec reads the name
    assert model_terms(reg, "hf:/models/tiny")[0] is None
    assert model_terms(reg, "hf:/models/tiny", {"weights": "gemma-3-1b"})[0] == "gemma"  # or the engine identity
    assert model_terms(reg, "nowhere:x")[0] is None  # no spec: the card points at the model card
    reg.models["mine"] = ModelSpec("mine", lambda arg, options: None, terms=lambda model, identity: ("apache-2.0", "A"))
    assert model_terms(reg, "mine") == ("apache-2.0", "A")


def test_the_bill_prices_a_classifier_at_the_rate_it_declares(reg):
    suite = Suite(tasks=["massive10"], languages=["de"], strategies=["zero-shot"], models=["gemma-3-270m"],
                  classifiers=["quick", "unmeasured"], per_class=10, seeds=[0, 1])
    plan = build_plan(suite, reg)
    evaluation = next(p for p in estimate(plan, reg, {}).phases if p.name == "evaluation")
    assert evaluation.rates["quick on cpu"].startswith("built-in 500.0 s per 1,000")
    assert evaluation.unpriced == ["unmeasured on cpu"]
    fits = sum(1 for c in plan.eval_cells if c.classifier == "quick") * len(suite.seeds)
    assert evaluation.seconds == pytest.approx(fits * 0.5 * suite.per_class * len(reg.task("massive10").labels))


def test_a_model_without_declared_rates_is_unpriced_until_measured(reg):
    reg.models["gemma-3-270m"] = ModelSpec("gemma-3-270m", reg.models["gemma-3-270m"].load)  # the same, no rates
    suite = Suite(tasks=["massive10"], languages=["de"], strategies=["zero-shot"], models=["gemma-3-270m"],
                  classifiers=["quick"], per_class=10, seeds=[0])
    generation = next(p for p in estimate(build_plan(suite, reg), reg, {}).phases if p.name == "generation")
    assert generation.unpriced == ["gemma-3-270m on cpu"]


def test_one_registered_classifier_reads_label_fidelity():
    """The diagnostics train the one that declares it; two would make the choice an accident of order."""
    readers = [c.name for c in load_registry().classifiers.values() if c.reads_label_fidelity]
    assert len(readers) == 1


class Diagnosing(Quick):
    name = "diagnosing"
    diagnoses = True


@pytest.mark.parametrize(("classifiers", "diagnosed"), [
    (["quick"], False), (["tfidf-logreg"], False), (["diagnosing"], True), (["quick", "e5-logreg"], True)])
def test_a_run_computes_the_diagnostics_where_a_classifier_declares_them(reg, tmp_path, classifiers, diagnosed):
    reg.classifiers["diagnosing"] = Diagnosing()
    suite = Suite(tasks=["massive10"], languages=["de"], strategies=["zero-shot"], models=["gemma-3-270m"],
                  classifiers=classifiers, per_class=2, seeds=[0])
    store = Store(tmp_path / "c.sqlite")
    try:
        runner = Runner(build_plan(suite, reg), reg, tmp_path / "run", store, Reporter(enabled=False))
        assert runner.diagnose is diagnosed
    finally:
        store.close()
