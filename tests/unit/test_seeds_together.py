"""The seeds of a cell fine-tuned as one stacked model follow, member by member, the trajectory each
seed follows trained alone: the same per-step losses (float rounding aside), epochs, best epoch and
predictions, a member that stops early included; and a stopped member leaves the stack."""

import tempfile
import types

import pytest

from conftest import finetune_toy_data
from harness.config.suite import Suite
from harness.contracts import Classifier, ClassifierContext, Fit
from harness.hookspecs import hookimpl
from harness.pipeline.plan import build_plan
from harness.pipeline.progress import Reporter
from harness.pipeline.runner import Runner
from harness.registry.discovery import load_registry
from harness.store.cache import Store
from plugins.classifiers import finetune as ft

LABELS = ["negative", "positive"]
SEEDS = [1, 2, 3, 4]
OPTIONS = {"lr": 1e-3, "max_epochs": 12, "patience": 2}


class _Store:
    path = None


def toy_data():
    """The fine-tune tests' toy sentiment data, with a longer test set than theirs."""
    train, test = finetune_toy_data()
    return train, test + ["bora mno", "sipendi sana"]


def _cell(tiny_bert):
    """A cell as fit_predict_seeds prepares it, and the members of SEEDS."""
    import torch
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    train, test = toy_data()
    tok = AutoTokenizer.from_pretrained(tiny_bert)
    opts = ft.settings({"model": str(tiny_bert), **OPTIONS})
    cell = ft._Cell(AutoConfig.from_pretrained(tiny_bert), AutoModel.from_pretrained(tiny_bert).state_dict(), LABELS,
                    tok.pad_token_id, torch.device("cpu"), opts)
    ids = cell.prune(tok([e.text for e in train] + test)["input_ids"], tok.all_special_ids)
    cell.width = max(len(x) for x in ids[:len(train)])
    label_id = {lab: i for i, lab in enumerate(LABELS)}
    members = [ft._member(train, ids[:len(train)], label_id, s, 0.1) for s in SEEDS]
    return cell, members, ids[len(train):]


@pytest.mark.parametrize("encoder", ["tiny_bert", "tiny_xlmr"])
def test_stacked_members_follow_their_solo_trajectories(encoder, request, monkeypatch):
    """BERT (positions passed per row) and XLM-R (positions from the padding id, its own head)."""
    tiny_bert = request.getfixturevalue(encoder)
    cell, stacked, test_ids = _cell(tiny_bert)
    widths = []
    step = ft._Net.step
    monkeypatch.setattr(ft._Net, "step", lambda self, rows, targets: widths.append(len(targets)) or step(self, rows, targets))
    together = cell.train(stacked, test_ids)
    assert widths[0] == len(SEEDS) and widths[-1] < len(SEEDS)  # members that stopped left the stack
    assert min(m.epochs for m in stacked) < max(m.epochs for m in stacked)  # one stopped while others went on
    for member, pred in zip(stacked, together):
        cell, alone, _ = _cell(tiny_bert)
        solo = next(m for m in alone if m.seed == member.seed)
        assert cell.train([solo], test_ids) == [pred]
        assert (member.epochs, member.best_epoch, member.best[0]) == (solo.epochs, solo.best_epoch, solo.best[0])
        assert member.best[1] == pytest.approx(solo.best[1], rel=1e-5)  # the held-out loss
        assert len(member.losses) == len(solo.losses) > 0
        assert member.losses == pytest.approx(solo.losses, rel=1e-5)


def test_dropout_is_on_and_a_members_own(tiny_bert):
    """Without dropout the seeds would differ only in head, order and split: the masks must be drawn,
    and drawn differently for different seeds."""
    import torch

    from plugins.classifiers.ensemble import DropoutStream

    stream = DropoutStream([1, 2], width=8, device=torch.device("cpu"))
    x = torch.ones(4, 5, 6)
    out = stream.apply(x, 0.5, (1,))
    assert set(out.unique().tolist()) == {0.0, 2.0}
    assert not torch.equal(out[:2], out[2:])
    alone = DropoutStream([2], width=8, device=torch.device("cpu")).apply(torch.ones(2, 3, 6), 0.5, (1,))
    assert torch.equal(alone, out[2:, :3])  # the same mask at a shorter length: padding does not move it


def test_fit_predict_seeds_gives_the_same_fits_either_way(tiny_bert):
    train, test = toy_data()

    def fits(together):
        ctxs = [ClassifierContext(seed=s, cache=_Store(), log=lambda m: None,
                                  options={"model": str(tiny_bert), "seeds_together": together, **OPTIONS}) for s in SEEDS]
        return ft.FineTune().fit_predict_seeds(train, test, LABELS, ctxs)

    keep = ("epochs", "best_epoch", "held_out_macro_f1", "held_out")
    stacked, alone = fits(True), fits(False)
    assert [f.predictions for f in stacked] == [f.predictions for f in alone]
    assert [{k: f.details[k] for k in keep} for f in stacked] == [{k: f.details[k] for k in keep} for f in alone]
    assert {f.details["trained_with"] for f in stacked} == {len(SEEDS)} and {f.details["trained_with"] for f in alone} == {1}


@pytest.mark.parametrize("opts, message", [
    ({"precision": "fp16"}, 'precision must be "fp32" or "bf16"'),
    ({"seeds_together": 1}, "seeds_together must be true, false or \"auto\""),
])
def test_precision_and_seeds_together_are_checked(opts, message):
    problems = {k: ft.OPTIONS[k].problem(v) for k, v in opts.items()}
    assert all(p and message.split(" must be ")[1][:10] in p for p in problems.values()), problems


def test_seeds_together_stays_out_of_identity_and_precision_does_not():
    assert ft.OPTIONS["seeds_together"].identity is False and ft.OPTIONS["precision"].identity is True


def test_the_runner_gives_a_classifier_every_seed_at_once(monkeypatch):
    """A classifier that declares fits_seeds_together gets one call with every seed's context; one that
    does not is called once per seed."""

    calls = []

    class Majority(Classifier):
        name = "majority-seeds"
        fits_seeds_together = True

        def fit_predict(self, train, test_texts, labels, ctx):  # pragma: no cover - must not be called
            raise AssertionError("called per seed")

        def fit_predict_seeds(self, train, test_texts, labels, ctxs):
            calls.append([c.seed for c in ctxs])
            return [Fit([labels[c.seed % len(labels)]] * len(test_texts)) for c in ctxs]


    mod = types.ModuleType("seeds_plugin")
    mod.bench_register_classifiers = hookimpl(lambda register: register(Majority()))
    reg = load_registry(extra=[("seeds_plugin", mod)])
    plan = build_plan(Suite(tasks=["sentiment"], languages=["sw"], strategies=["zero-shot"], models=["gemma-3-270m"],
                            classifiers=["majority-seeds"], per_class=3, seeds=[0, 1, 2]), reg)

    gold = next(c for c in plan.eval_cells if c.source == "gold")

    with tempfile.TemporaryDirectory() as out:
        runner = Runner(plan, reg, out, Store(f"{out}/cache.sqlite"), Reporter(False))
        record = runner.evaluation_payload(gold)
    assert len(calls) == 1 and len(calls[0]) == 3 and len(set(calls[0])) == 3
    assert [r.seed for r in record.per_seed] == [0, 1, 2]
