"""The dry run's bill: per-phase calls, tokens and fits, priced at rates measured here (kept in the
cache by real work) or at a built-in rate said as such, and a plan too large to start without --yes."""

from __future__ import annotations

import json

import pytest
from fakes import FakeEngine

from conftest import bench, write_suite
from harness.config.suite import Suite
from harness.contracts import Completion, GenerationRequest, SamplingParams
from harness.errors import BenchError
from harness.pipeline import run as pipeline
from harness.pipeline.estimate import MAX_LLM_CALLS, estimate, refusal
from harness.pipeline.plan import build_plan
from harness.registry.discovery import load_registry
from harness.store.cache import CachedEngine, OverlayStore, Store


@pytest.fixture(scope="module")
def reg():
    return load_registry()


def _suite(**kw) -> Suite:
    defaults = dict(tasks=["massive10"], languages=["de"], strategies=["zero-shot", "target-demos+sl+revision"],
                    models=["gemma-3-270m"], classifiers=["tfidf-logreg"], per_class=10, seeds=[0, 1, 2])
    return Suite(**{**defaults, **kw})


def test_phases_add_up_to_the_plans_calls_and_summaries_are_counted_once(reg):
    plan = build_plan(_suite(models=["gemma-3-270m", "hf:x"]), reg)
    bill = estimate(plan, reg, {})
    by = {p.name: p for p in bill.phases}
    assert bill.llm_calls - by["label summaries"].llm_calls == plan.expected_llm_calls
    labels = len(reg.task("massive10").labels)
    assert by["label summaries"].llm_calls == 2 * labels  # once per model that writes its own, not per cell
    assert by["revision"].llm_calls > 0 and by["generation"].llm_calls > 0
    s = plan.suite
    assert by["revision"].completion_tokens == by["revision"].llm_calls * s.revision_max_new_tokens
    # the bound: every label asked its whole budget, every sample at max_new_tokens
    assert by["generation"].llm_calls_at_most == len(plan.gen_cells) * labels * s.budget() >= by["generation"].llm_calls
    assert by["generation"].completion_tokens == by["generation"].llm_calls_at_most * s.samples_per_request * \
        s.sampling.max_new_tokens
    assert by["evaluation"].fine_tunings == len(plan.eval_cells) * 3


def test_measured_rates_price_the_work_and_the_built_in_says_it_is_one(reg):
    plan = build_plan(_suite(models=["gemma-3-270m", "hf:x"]), reg)
    built_in = estimate(plan, reg, {})
    gen = next(p for p in built_in.phases if p.name == "generation")
    assert gen.rates["gemma-3-270m on cpu"].startswith("built-in")
    assert gen.unpriced == ["hf:x on cpu"]  # another model's speed is not the offline model's
    assert "at least" in "\n".join(built_in.lines())
    rates = {("engine", "gemma-3-270m", "cpu"): (1000.0, 10.0, 50), ("engine", "hf:x", "cpu"): (100.0, 10.0, 5),
             ("classifier", "tfidf-logreg", "cpu"): (2000.0, 4.0, 10)}
    measured = estimate(plan, reg, rates)
    by = {p.name: p for p in measured.phases}
    assert not measured.unpriced and by["generation"].rates["hf:x on cpu"].startswith("measured here, 10.0 tokens/s")
    examples = plan.suite.per_class * len(reg.task("massive10").labels)
    assert by["evaluation"].seconds == pytest.approx(by["evaluation"].fine_tunings * examples * 4.0 / 2000.0)
    each = by["generation"].completion_tokens / 2  # the two models have the same cells
    assert by["generation"].seconds == pytest.approx(each / 100.0 + each / 10.0)  # 100 and 10 tokens/s
    assert json.loads(json.dumps(measured.as_dict()))["phases"][0]["phase"] == "label summaries"


def test_a_plan_above_the_thresholds_is_refused_with_its_numbers(reg):
    small = estimate(build_plan(_suite(), reg), reg, {})
    assert refusal(small) is None
    huge = estimate(build_plan(_suite(per_class=10_000_000), reg), reg, {})
    why = refusal(huge)
    assert huge.llm_calls > MAX_LLM_CALLS and f"{huge.llm_calls:,} LLM calls" in why and "--yes" in why
    slow = estimate(build_plan(_suite(per_class=100, seeds=list(range(10)), classifiers=["finetune"]), reg), reg,
                    {("classifier", reg.classifier("finetune").rate_name({}), "cpu"): (1.0, 3600.0, 1)})  # an hour per example
    assert slow.llm_calls < MAX_LLM_CALLS and "more than a week" in refusal(slow)


def test_a_fine_tuning_is_priced_by_its_own_encoders_rate(reg):
    """The encoder decides a fine-tuning's speed several-fold: one encoder's measured rate never prices
    another's, which falls back to the built-in rate, said as such."""
    rates = {("classifier", "finetune[e5-small-offline, fp32, auto]", "cpu"): (1000.0, 10.0, 1)}
    mine = estimate(build_plan(_suite(classifiers=["finetune"]), reg), reg, rates)
    theirs = estimate(build_plan(_suite(classifiers=["finetune"], classifier_options={
        "finetune": {"model": "FacebookAI/xlm-roberta-base"}}), reg), reg, rates)
    (how,) = next(p for p in mine.phases if p.name == "evaluation").rates.values()
    (other,) = next(p for p in theirs.phases if p.name == "evaluation").rates.values()
    assert how.startswith("measured here, 10.0 s per 1,000") and other.startswith("built-in")
    assert "not measured for these options" in other


def test_bench_run_refuses_a_huge_plan_before_writing_anything_and_yes_lets_it_start(tmp_path, monkeypatch):
    suite = write_suite(tmp_path / "s.toml", "gemma-3-270m", per_class=3)
    suite.write_text(suite.read_text(encoding="utf-8").replace("calls_per_class = 3\n", ""), encoding="utf-8")
    out = bench("run", str(suite), "--per-class", "10000000", "--out", str(tmp_path / "run"))
    assert out.returncode == 2 and "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert "LLM calls (more than" in out.stderr and "--yes" in out.stderr  # no request cap: generation is huge
    assert not (tmp_path / "run").exists()
    dry = bench("run", str(suite), "--per-class", "10000000", "--dry-run")
    assert dry.returncode == 0 and dry.stdout.startswith("estimate")  # the bill comes first
    assert "refused without --yes" in dry.stdout

    class Started(Exception):
        pass

    def started(*_a, **_k):
        raise Started

    monkeypatch.setattr(pipeline.Runner, "run_pending", started)
    prepared = pipeline.prepare(suite, overrides={"per_class": 10_000_000})
    with pytest.raises(BenchError, match="--yes"):
        pipeline.execute(prepared, out=tmp_path / "run2", cache_dir=tmp_path / "c")
    with pytest.raises(Started):
        pipeline.execute(prepared, out=tmp_path / "run2", cache_dir=tmp_path / "c", yes=True)


def test_real_work_is_measured_into_the_cache_and_a_workers_measurements_add_up(tmp_path):
    store = Store(tmp_path / "c.sqlite")
    engine = FakeEngine(lambda r, i: Completion(f"{r.prompt}{i}", 3, 7), chat=False, batch_size=4, summary=None)
    engine.identity = {"backend": "fake", "device_kind": "cpu"}
    cached = CachedEngine(engine, store, "m")
    reqs = [GenerationRequest(SamplingParams(), seed=i, n=2, prompt=f"p{i}") for i in range(6)]
    cached.generate(reqs)
    units, seconds, count = store.rates()[("engine", "m", "cpu")]
    assert (units, count) == (6 * 2 * 7, 12) and seconds > 0
    cached.generate(reqs)  # answered by the cache: no engine work, nothing measured
    assert store.rates()[("engine", "m", "cpu")][0] == units
    worker = OverlayStore(tmp_path / "c.sqlite", store.snapshot(tmp_path / "snap.sqlite"))
    worker.add_rate("classifier", "tfidf-logreg", "cpu", 100, 2.0)
    worker.add_rate("engine", "m", "cpu", 10, 1.0, 2)
    store.merge(worker.take_new())
    assert store.rates()[("engine", "m", "cpu")][0] == units + 10
    assert store.rates()[("classifier", "tfidf-logreg", "cpu")] == (100.0, 2.0, 1)
    assert "rates" not in worker.take_new()  # handed over once


def test_one_bill_the_plan_and_the_estimate_agree_under_a_request_cap(reg):
    """per_class far above what one request per class can yield: the plan's expected calls carry the
    same cap as the bill, and evaluation is priced for the training sets that can actually be filled."""
    suite = _suite(strategies=["zero-shot"], per_class=10_000_000, calls_per_class=1)
    plan = build_plan(suite, reg)
    bill = estimate(plan, reg, {("classifier", "tfidf-logreg", "cpu"): (1000.0, 1.0, 1)})
    labels = reg.task("massive10").labels
    assert plan.expected_llm_calls == bill.llm_calls == len(labels)
    gold = {lab: 0 for lab in labels}
    for e in reg.task("massive10").load("de", "train"):
        gold[e.label] += 1
    most = len(labels) * suite.samples_per_request * 5 + sum(gold.values())  # a synthetic and a gold training set
    by = {p.name: p for p in bill.phases}
    assert by["evaluation"].seconds == pytest.approx(len(suite.seeds) * most / 1000.0)


def test_the_dry_run_says_one_number_of_llm_calls(tmp_path):
    suite = write_suite(tmp_path / "s.toml", "gemma-3-270m", per_class=10_000_000)  # 3 requests per class
    out = bench("run", str(suite), "--dry-run")
    assert out.returncode == 0, out.stderr
    total = next(line for line in out.stdout.splitlines() if line.strip().startswith("total"))
    assert total.split()[1] == "6" and "expected LLM calls: about 6 " in out.stdout  # 2 labels x 3 requests
    assert "days" not in out.stdout and "years" not in out.stdout
