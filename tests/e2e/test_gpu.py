"""The CUDA paths: the transformers engine and the fine-tune classifier on a GPU. Skipped cleanly where
torch sees no CUDA device (every CI machine); run them on a GPU node with `pytest -m gpu`."""

import pytest

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")]


def test_hf_engine_uses_cuda_in_bf16_and_is_seeded(tiny_model):
    from harness.api import TransformersEngine
    from harness.contracts import GenerationRequest, SamplingParams

    engine = TransformersEngine(str(tiny_model))
    assert engine.device == "cuda" and engine.dtype == "bfloat16" and engine.batch_size == 64
    params = SamplingParams(temperature=0.9, max_new_tokens=12)
    reqs = [GenerationRequest(params, seed=7, n=3, prompt="1. "), GenerationRequest(params, seed=8, n=1, prompt="2. ")]
    first, again = engine.generate(reqs), engine.generate(reqs)
    assert [[c.text for c in r] for r in first] == [[c.text for c in r] for r in again]
    assert [len(r) for r in first] == [3, 1] and all(c.completion_tokens <= 12 for r in first for c in r)
    engine.close()


def test_finetune_trains_on_cuda(tiny_bert):
    from test_finetune import toy_data

    from harness.contracts import ClassifierContext
    from plugins.classifiers.finetune import FineTune

    class Store:
        path = None

    model = tiny_bert
    clf = FineTune()
    train, test = toy_data()
    ctx = ClassifierContext(seed=0, cache=Store(), device="cuda", options={"model": str(model), "max_epochs": 2},
                            log=lambda m: None)
    result = clf.fit_predict(train, test, ["negative", "positive"], ctx)
    assert len(result.predictions) == len(test) and result.details["device"] == "cuda"


def test_seeds_stacked_on_cuda_match_one_at_a_time(tiny_bert):
    """On a GPU `seeds_together` defaults to on: the stacked members give the predictions and early
    stopping of the same seeds trained one at a time there (kernels may differ in the last bits)."""
    from test_finetune import toy_data

    from harness.contracts import ClassifierContext
    from plugins.classifiers.finetune import FineTune

    class Store:
        path = None

    train, test = toy_data()

    def fits(together):
        ctxs = [ClassifierContext(seed=s, cache=Store(), device="cuda", log=lambda m: None,
                                  options={"model": str(tiny_bert), "lr": 1e-3, "max_epochs": 8, "patience": 2,
                                           "seeds_together": together}) for s in range(4)]
        return FineTune().fit_predict_seeds(train, test, ["negative", "positive"], ctxs)

    auto, alone = fits("auto"), fits(False)
    assert {f.details["trained_with"] for f in auto} == {4} and {f.details["trained_with"] for f in alone} == {1}
    assert [f.predictions for f in auto] == [f.predictions for f in alone]
    assert [f.details["epochs"] for f in auto] == [f.details["epochs"] for f in alone]
