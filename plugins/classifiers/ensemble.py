"""Members of one evaluation cell fine-tuned as one stacked model.

The seeds of a cell fine-tune the same encoder on the same texts; at batch 16 and 30-128 tokens one
such fit leaves a data-centre GPU mostly idle. Here the members' weights are stacked along a leading
member axis and their batches folded into one: member `m` owns rows `m*B .. (m+1)*B - 1` of every
batch, and each linear layer multiplies every member's rows by that member's weights in one batched
matmul (`baddbmm`). The transformers model code runs unchanged on the folded batch: only its Linear,
LayerNorm, Embedding and Dropout modules are swapped, so any BERT- or RoBERTa-style encoder works.

Grouped weights were chosen over `torch.func.vmap(functional_call)`: under vmap every random op
draws from one global stream, so a member could not keep its own dropout masks, and members could
not leave the stack when they stop early.

What stays a member's own: its head initialisation (each member is built under its own seed), its
data order and held-out split (the trainer's), and its dropout masks. Dropout draws from a generator
per member (`DropoutStream`), at a width fixed for the cell (its longest text) and cut to the batch,
so a member's masks do not depend on how long its neighbours' texts are: trained alone (M = 1, plain
modules) or stacked, a member sees the same masks and follows the same trajectory, to float
rounding. Adam's update is elementwise, so stacked parameters are updated exactly as separate ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

ATTENTION = "member_dropout"


class DropoutStream:
    """Each member's dropout masks, from its own generator. Masks are drawn at `width` along the
    sequence axes and cut to the batch's length, so they depend on the member's seed and step only."""

    def __init__(self, seeds: Sequence[int], width: int, device: torch.device):
        self.generators = [torch.Generator(device=device).manual_seed(int(s)) for s in seeds]
        self.width = width
        self.device = device

    def keep(self, members: Sequence[int]) -> None:
        self.generators = [self.generators[i] for i in members]

    def apply(self, x: torch.Tensor, p: float, seq_dims: tuple[int, ...]) -> torch.Tensor:
        m = len(self.generators)
        rows = x.shape[0] // m
        shape = [rows, *x.shape[1:]]
        drawn = list(shape)
        for d in seq_dims:
            drawn[d] = max(self.width, shape[d])
        cut = tuple(slice(0, n) for n in shape)
        masks = [torch.rand(drawn, generator=g, device=self.device)[cut] >= p for g in self.generators]
        mask = masks[0] if m == 1 else torch.cat(masks)
        return x * mask.to(x.dtype) / (1.0 - p)


class StreamDropout(nn.Module):
    """nn.Dropout with masks from the members' own generators (3-D input: [batch, sequence, hidden])."""

    def __init__(self, p: float, stream: DropoutStream):
        super().__init__()
        self.p = p
        self.stream = stream

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        return self.stream.apply(x, self.p, (1,) if x.dim() == 3 else ())


def member_attention(module: nn.Module, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                     attention_mask: torch.Tensor | None, scaling: float | None = None, dropout: float = 0.0,
                     **kwargs: Any) -> tuple[torch.Tensor, None]:
    """Attention whose probability dropout comes from the members' streams (the module's dropout);
    without dropout (evaluation) the fused kernel."""
    scaling = query.size(-1) ** -0.5 if scaling is None else scaling
    if not (dropout > 0 and module.training):
        out = F.scaled_dot_product_attention(query, key, value, attn_mask=attention_mask, scale=scaling)
        return out.transpose(1, 2).contiguous(), None
    scores = torch.matmul(query, key.transpose(2, 3)) * scaling
    if attention_mask is not None:
        scores = scores + attention_mask
    probs = module.dropout.stream.apply(F.softmax(scores, dim=-1), dropout, (2, 3))
    return torch.matmul(probs, value).transpose(1, 2).contiguous(), None


def _register_attention() -> None:
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, eager_mask

    AttentionInterface.register(ATTENTION, member_attention)
    ALL_MASK_ATTENTION_FUNCTIONS.register(ATTENTION, eager_mask)


def use_streams(model: nn.Module, stream: DropoutStream) -> None:
    """Every dropout of `model` (attention included) drawn from `stream`."""
    _register_attention()
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.Dropout):
                setattr(parent, name, StreamDropout(child.p, stream))
    model.config._attn_implementation = ATTENTION
    for module in model.modules():
        if hasattr(module, "config") and module is not model:
            module.config._attn_implementation = ATTENTION


class _Stacked(nn.Module):
    """A module whose parameters carry a leading member axis."""

    def keep(self, members: torch.Tensor) -> None:
        for name, p in list(self._parameters.items()):
            if p is not None:
                self._parameters[name] = nn.Parameter(p.detach().index_select(0, members).clone(),
                                                      requires_grad=p.requires_grad)

    def member_state(self, j: int) -> dict[str, torch.Tensor]:
        return {name: p.detach()[j] for name, p in self._parameters.items() if p is not None}


class StackedLinear(_Stacked):
    def __init__(self, layers: Sequence[nn.Linear]):
        super().__init__()
        self.weight = nn.Parameter(torch.stack([lay.weight.detach().t() for lay in layers]).contiguous())  # [M, in, out]
        self.bias = (nn.Parameter(torch.stack([lay.bias.detach() for lay in layers]).unsqueeze(1))  # [M, 1, out]
                     if layers[0].bias is not None else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self.weight.shape[0]
        folded = x.reshape(m, -1, x.shape[-1])
        out = torch.baddbmm(self.bias, folded, self.weight) if self.bias is not None else torch.bmm(folded, self.weight)
        return out.reshape(*x.shape[:-1], -1)


class StackedLayerNorm(_Stacked):
    def __init__(self, norms: Sequence[nn.LayerNorm]):
        super().__init__()
        self.shape = tuple(norms[0].normalized_shape)
        self.eps = norms[0].eps
        self.weight = nn.Parameter(torch.stack([n.weight.detach() for n in norms]).unsqueeze(1))  # [M, 1, H]
        self.bias = nn.Parameter(torch.stack([n.bias.detach() for n in norms]).unsqueeze(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self.weight.shape[0]
        y = F.layer_norm(x, self.shape, eps=self.eps).reshape(m, -1, self.shape[-1])
        return (y * self.weight + self.bias).reshape(x.shape)


class StackedEmbedding(_Stacked):
    def __init__(self, tables: Sequence[nn.Embedding]):
        super().__init__()
        self.padding_idx = tables[0].padding_idx
        self.weight = nn.Parameter(torch.stack([t.weight.detach() for t in tables]))  # [M, V, H]

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        m, vocab, width = self.weight.shape
        offset = torch.arange(m, device=ids.device).unsqueeze(1) * vocab
        out = F.embedding((ids.reshape(m, -1) + offset).reshape(ids.shape), self.weight.reshape(m * vocab, width))
        if self.padding_idx is not None:  # as nn.Embedding: the padding row gets no gradient
            out = torch.where((ids == self.padding_idx).unsqueeze(-1), out.detach(), out)
        return out


_STACKED = {nn.Linear: StackedLinear, nn.LayerNorm: StackedLayerNorm, nn.Embedding: StackedEmbedding}


def stack(models: Sequence[nn.Module]) -> nn.Module:
    """The first model with every Linear, LayerNorm and Embedding replaced by its stacked version over
    all `models` (same architecture, own weights). A parameter held by another kind of module is refused:
    it would be shared by the members silently."""
    template = models[0]
    others = [dict(m.named_modules()) for m in models]
    for name, module in list(template.named_modules()):
        kind = _STACKED.get(type(module))
        if kind is None:
            if list(module.parameters(recurse=False)):
                raise TypeError(f"cannot stack {type(module).__name__} at {name!r}: only Linear, LayerNorm and "
                                "Embedding carry parameters in a stackable encoder")
            continue
        parent_name, _, attr = name.rpartition(".")
        parent = template.get_submodule(parent_name) if parent_name else template
        setattr(parent, attr, kind([o[name] for o in others]))
    return template


def stacked_modules(model: nn.Module) -> list[_Stacked]:
    return [m for m in model.modules() if isinstance(m, _Stacked)]
