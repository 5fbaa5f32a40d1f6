import pytest

from harness.config.suite import Suite
from harness.errors import BenchError
from harness.pipeline.plan import apply_filters, build_plan
from harness.registry.discovery import load_registry


@pytest.fixture(scope="module")
def reg():
    return load_registry()


def suite(**kw):
    s = Suite(models=["gemma-3-270m"], classifiers=["tfidf-logreg"], per_class=5, seeds=[0, 1])
    for k, v in kw.items():
        setattr(s, k, v)
    return s


def test_globs_and_comma_lists(reg):
    s = apply_filters(suite(), {"tasks": "massive10", "languages": "sw,t*", "strategies": "target-demos*"})
    plan = build_plan(s, reg)
    assert {c.language for c in plan.gen_cells} == {"sw", "th", "te"}
    assert {c.strategy for c in plan.gen_cells} == {"target-demos", "target-demos+sl", "target-demos+revision",
                                                    "target-demos+sl+revision", "target-demos+desc", "target-demos+lid"}


def test_language_filters_accept_every_code(reg):
    for code in ("swh_Latn", "sw-KE", "Swahili", "swh"):
        plan = build_plan(suite(tasks=["massive10"], languages=[code], strategies=["sl"]), reg)
        assert [c.language for c in plan.gen_cells] == ["sw"], code


def test_unknown_names_suggest_the_nearest(reg):
    with pytest.raises(BenchError, match="unknown task 'masive10'; did you mean 'massive10'"):
        build_plan(suite(tasks=["masive10"]), reg)
    with pytest.raises(BenchError, match="did you mean 'target-demos'"):
        build_plan(suite(strategies=["target-demo"]), reg)
    with pytest.raises(BenchError, match="unknown model 'gemma-3-27m'"):
        build_plan(suite(models=["gemma-3-27m"]), reg)
    with pytest.raises(BenchError, match="matches nothing"):
        build_plan(suite(strategies=["nothing*"]), reg)


def test_unavailable_pairs_are_listed_with_reasons(reg):
    plan = build_plan(suite(tasks=["sentiment"], languages=["sl", "cy"], strategies=["*"]), reg)
    reasons = {(u.language, u.strategy): u.reason for u in plan.unavailable}
    assert "Welsh" in reasons[("cy", "*")]
    assert "no gold train" in reasons[("sl", "gold")]
    assert "target-language demonstrations" in reasons[("sl", "target-demos")]
    runnable = {c.strategy for c in plan.gen_cells}
    assert runnable == {"zero-shot", "sl", "english-demos+sl", "english-demos+revision", "zero-shot+desc", "zero-shot+lid"}
    assert all(c.language == "sl" for c in plan.gen_cells)
    assert not [c for c in plan.eval_cells if c.strategy == "gold"]


def test_ids_are_stable_and_follow_the_configuration(reg):
    a = build_plan(suite(tasks=["massive10"], languages=["de"], strategies=["sl"]), reg)
    b = build_plan(suite(tasks=["massive10"], languages=["de"], strategies=["sl"]), reg)
    c = build_plan(suite(tasks=["massive10"], languages=["de"], strategies=["sl"], per_class=6), reg)
    assert [x.id for x in a.gen_cells] == [x.id for x in b.gen_cells]
    assert a.gen_cells[0].id != c.gen_cells[0].id
    assert a.settings_hash != c.settings_hash


def test_cells_grouped_per_model(reg):
    plan = build_plan(suite(tasks=["sentiment"], languages=["de", "sw"], strategies=["sl", "zero-shot"],
                            models=["gemma-3-270m", "hf:some/model"]), reg)
    models = [c.model for c in plan.gen_cells]
    assert models == sorted(models, key=lambda m: m != "gemma-3-270m")
    assert list(dict.fromkeys(c.model for c in plan.gen_cells)) == ["gemma-3-270m", "hf:some/model"]


def test_all_expands_every_registered_combination(reg):
    plan = build_plan(suite(tasks=["*"], languages=["*"], strategies=["*"], classifiers=["*"]), reg)
    n_pairs = sum(len(t.languages()) for t in reg.tasks.values())
    assert len(plan.gen_cells) + len([u for u in plan.unavailable if u.strategy not in ("gold",)]) >= n_pairs
    assert len({(c.task, c.language) for c in plan.gen_cells}) == n_pairs - 1  # Welsh sentiment has no data
