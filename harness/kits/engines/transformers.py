"""The transformers engine: batched, left-padded generation on CPU (bf16 where the CPU has it) or CUDA."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.contracts import Completion, Engine, GenerationRequest
from harness.errors import BenchError
from harness.kits.engines.identity import (
    device_kind,
    engine_identity,
    identity_label,
    quantization_of,
    weights_identity,
)
from harness.kits.engines.prompt_ids import context_overflow, prompt_ids


def quiet_transformers() -> None:
    """Silence transformers' advisory warnings and progress bars (errors still show), so a run's log
    holds the harness's lines; call it before loading a model through transformers yourself."""
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    logging.getLogger("transformers").setLevel(logging.ERROR)


def nucleus_processor(temperature: float, top_p: float, top_k: int = 256):
    """Top-p sampling restricted to the `top_k` most likely tokens.

    transformers' top-p warper sorts the whole vocabulary at every step, which for Gemma's 262k
    tokens costs more than the forward pass of a small model on a CPU. Taking the top 256 first
    (a partial selection) and the nucleus inside it gives the same distribution whenever the
    nucleus has at most 256 tokens, as it practically always does at the temperatures used here.
    """
    import torch
    from transformers import LogitsProcessor

    class _Nucleus(LogitsProcessor):
        def __call__(self, input_ids, scores):
            scores = scores / temperature  # custom processors run before transformers' own warpers
            k = min(top_k, scores.shape[-1])
            vals, idx = torch.topk(scores, k, dim=-1)
            probs = torch.softmax(vals, dim=-1)
            cum = probs.cumsum(dim=-1)
            drop = (cum - probs) > top_p  # keep the smallest prefix whose mass reaches top_p
            vals = vals.masked_fill(drop, float("-inf"))
            out = torch.full_like(scores, float("-inf"))
            return out.scatter(-1, idx, vals)

    return _Nucleus()


def max_context(config: Any, options: Mapping[str, Any]) -> int | None:
    """The model's context in tokens: the `max_model_len` option, else the (text) config's
    `max_position_embeddings`; None when neither says."""
    if options.get("max_model_len"):
        return int(options["max_model_len"])
    text_config = config.get_text_config() if hasattr(config, "get_text_config") else config
    value = getattr(text_config, "max_position_embeddings", None)
    return int(value) if value else None


def hf_identity(name_or_path: str, options: Mapping[str, Any], dtype: str, device: str, config: Any = None,
                weights: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The transformers engine's identity (harness/kits/engines/identity.py): `weights` when the loader
    knows them (a provisioned model), else resolved from the path or hub id and the config's commit."""
    import transformers

    if weights is None:
        weights = weights_identity(name_or_path, options.get("revision"), getattr(config, "_commit_hash", None))
    quant = quantization_of(config) if config is not None else quantization_of(name_or_path)
    return engine_identity("transformers", transformers.__version__, dtype, device_kind(device), quant, weights)


class TransformersEngine(Engine):
    """The transformers engine (`hf:` and the offline Gemma): batched, left-padded generation of a
    local directory or hub model, chat template when the model has one. `options` are a model's
    `[models."<name>"]` table (`batch_size`, `dtype`, `device`, `revision`, `plain_prompts`,
    `max_model_len`: `COMMON_OPTIONS`); build on it to serve a model under a name of your own:

        ModelSpec("my-gemma", lambda arg, options: TransformersEngine("/models/my-gemma", options))
    """

    def __init__(self, name_or_path: str, options: Mapping[str, Any] | None = None,
                 weights: Mapping[str, Any] | None = None):
        quiet_transformers()
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        options = dict(options or {})
        self.device = options.get("device") or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype_name = options.get("dtype", "auto")
        if dtype_name == "auto":
            # bf16 on GPUs; on CPUs float32, measured about 2x faster than bf16 for small models
            # here even with AVX-512 bf16 (benchmarks/README.md); `dtype = "bfloat16"` opts in
            dtype = torch.bfloat16 if self.device.startswith("cuda") else torch.float32
        else:
            try:
                dtype = getattr(torch, dtype_name)
            except AttributeError:
                raise BenchError(f"model option dtype {dtype_name!r} is not a torch dtype (use bfloat16, float16 or float32)") from None
        self.batch_size = int(options.get("batch_size", 64 if self.device.startswith("cuda") else 16))
        local = Path(name_or_path)
        offline = os.environ.get("HF_HUB_OFFLINE") == "1"
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(name_or_path, revision=options.get("revision"))
            self.model = AutoModelForCausalLM.from_pretrained(name_or_path, dtype=dtype, revision=options.get("revision"))
        except OSError as exc:
            hint = "" if local.exists() or not offline else " (HF_HUB_OFFLINE=1: only local paths and cached models load)"
            raise BenchError(f"cannot load model {name_or_path!r}: {str(exc).splitlines()[0]}{hint}") from None
        self.model.to(self.device).eval()
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.is_chat = bool(getattr(self.tokenizer, "chat_template", None)) and not options.get("plain_prompts", False)
        self.dtype = str(dtype).replace("torch.", "")
        self.identity = hf_identity(name_or_path, options, self.dtype, self.device, self.model.config, weights)
        self.fingerprint = identity_label(self.identity)
        self.max_context = max_context(self.model.config, options)
        self._torch = torch

    def info(self) -> dict[str, Any]:
        return {"fingerprint": self.fingerprint, "identity": self.identity, "device": self.device, "dtype": self.dtype, "batch_size": self.batch_size,
                "chat": self.is_chat, "max_context": self.max_context}

    def prompt_ids(self, req: GenerationRequest) -> list[int]:
        return prompt_ids(self.tokenizer, req, self.is_chat)

    def context_overflow(self, req: GenerationRequest) -> str | None:
        return context_overflow(len(self.prompt_ids(req)), req.params.max_new_tokens, self.max_context)

    def generate(self, requests: Sequence[GenerationRequest]) -> list[list[Completion]]:
        """Requests sharing sampling parameters go through one `generate` call; the seed of the
        call derives from the seeds of its requests, so a batch always yields the same text."""
        out: list[list[Completion]] = [[] for _ in requests]
        groups: dict[tuple, list[int]] = {}
        for i, r in enumerate(requests):
            groups.setdefault((json.dumps(r.params.as_dict(), sort_keys=True), r.stop), []).append(i)
        for (_, stop), idx in groups.items():
            for i, comps in zip(idx, self._generate_group([requests[i] for i in idx], stop)):
                out[i] = comps
        return out

    def _generate_group(self, reqs: Sequence[GenerationRequest], stop: tuple[str, ...]) -> list[list[Completion]]:
        torch = self._torch
        params = reqs[0].params
        ids = [self.prompt_ids(r) for r in reqs]
        enc = self._left_padded([row for row, r in zip(ids, reqs) for _ in range(r.n)])
        seed = int(hashlib.sha256(json.dumps([r.seed for r in reqs]).encode()).hexdigest()[:8], 16)
        torch.manual_seed(seed)
        kwargs: dict[str, Any] = dict(max_new_tokens=params.max_new_tokens, repetition_penalty=params.repetition_penalty,
                                      pad_token_id=self.tokenizer.pad_token_id)
        if params.temperature > 0:
            kwargs.update(do_sample=True, temperature=1.0, top_p=1.0, top_k=0,
                          logits_processor=[nucleus_processor(params.temperature, params.top_p)])
        else:
            kwargs.update(do_sample=False)
        if stop:
            kwargs.update(stop_strings=list(stop), tokenizer=self.tokenizer)
        with torch.inference_mode():
            gen = self.model.generate(**enc, **kwargs)
        new = gen[:, enc["input_ids"].shape[1]:].cpu()
        prompt_lens = enc["attention_mask"].sum(dim=1).cpu().tolist()
        eos = self.model.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        eos_ids.add(self.tokenizer.pad_token_id)
        rows: list[Completion] = []
        for row, plen in zip(new.tolist(), prompt_lens):
            n = len(row)
            for j, tok in enumerate(row):
                if tok in eos_ids:
                    n = j
                    break
            text = self.tokenizer.decode(row[:n], skip_special_tokens=True)
            for s in stop:
                if s in text:
                    text = text[: text.index(s)]
            rows.append(Completion(text, int(plen), n, truncated=n == len(row) and n >= params.max_new_tokens))
        out, pos = [], 0
        for r in reqs:
            comps = rows[pos : pos + r.n]
            # the prompt is counted once per request, not once per sample
            out.append([comps[0]] + [Completion(c.text, 0, c.completion_tokens, c.truncated) for c in comps[1:]])
            pos += r.n
        return out

    def _left_padded(self, rows: list[list[int]]) -> dict[str, Any]:
        """A batch of prompt ids, padded on the left, with its attention mask, on the device."""
        torch = self._torch
        width = max(len(r) for r in rows)
        input_ids = torch.full((len(rows), width), self.tokenizer.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            if row:
                input_ids[i, width - len(row):] = torch.tensor(row, dtype=torch.long)
                mask[i, width - len(row):] = 1
        return {"input_ids": input_ids.to(self.device), "attention_mask": mask.to(self.device)}

    def close(self) -> None:
        del self.model
        import gc

        gc.collect()
        if self._torch.cuda.is_available():
            self._torch.cuda.empty_cache()
