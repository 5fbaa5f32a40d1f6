"""The vLLM engine (`vllm:<hub id or local path>`): one `vllm.LLM` per model, kept for all its cells;
every batch of requests goes to the engine in one `generate` call, with `n` samples and a seed per
request (vLLM seeds each request separately, so results do not depend on what else is in the batch).
Prompts go to vLLM as token ids (harness/kits/engines/prompt_ids.py): given text, vLLM would add a BOS in
front of the one a chat template already renders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness._builtin_kit import (
    context_overflow,
    device_kind,
    engine_identity,
    identity_label,
    prompt_ids,
    quantization_of,
    weights_identity,
)
from harness.api import BenchError, Completion, Engine, GenerationRequest


def vllm_identity(name_or_path: str, options: Mapping[str, Any], vllm_version: str, dtype: str, device: str,
                  quantization: Any = None, weights: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The vLLM engine's identity (harness/kits/engines/identity.py), from what the loaded engine settled on
    (`dtype`, `device`, `quantization`: its model config's) and the weights. Needs no vLLM, so it is
    tested without one. A quantization vLLM does not report is read from the model's config."""
    if weights is None:
        weights = weights_identity(name_or_path, options.get("revision"))
    if quantization is not None and not isinstance(quantization, (str, dict)):
        quantization = str(quantization)
    quant = quantization_of(name_or_path) if Path(name_or_path).is_dir() else None
    if quantization and not quant:
        quant = {"quant_method": quantization}
    return engine_identity("vllm", vllm_version, str(dtype).replace("torch.", ""), device_kind(device), quant, weights)


class VLLMEngine(Engine):
    def __init__(self, name_or_path: str, options: Mapping[str, Any] | None = None,
                 weights: Mapping[str, Any] | None = None):
        try:
            import vllm
        except ImportError:
            raise BenchError("vllm is not installed: scripts/setup-vllm.sh builds an environment with its CPU build, "
                             "or pip install vllm on a GPU machine") from None
        options = dict(options or {})
        self._vllm = vllm
        kwargs: dict[str, Any] = {
            "model": name_or_path,
            "dtype": options.get("dtype", "auto"),
            "seed": int(options.get("seed", 0)),
            "max_model_len": int(options.get("max_model_len", 4096)),
            "tensor_parallel_size": int(options.get("tensor_parallel_size", 1)),
            "enforce_eager": bool(options.get("enforce_eager", False)),
        }
        for key in ("revision", "gpu_memory_utilization", "quantization", "max_num_seqs", "kv_cache_memory_bytes"):
            if key in options:
                kwargs[key] = options[key]
        try:
            self.llm = vllm.LLM(**kwargs)
        except Exception as exc:  # vLLM raises many types for a model it cannot load
            raise BenchError(f"vLLM cannot load {name_or_path!r}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
        self.tokenizer = self.llm.get_tokenizer()
        try:  # what vLLM settled on (the option, or less where the model's config says less)
            self.max_context = int(self.llm.llm_engine.model_config.max_model_len)
        except AttributeError:
            self.max_context = kwargs["max_model_len"]
        self.is_chat = bool(getattr(self.tokenizer, "chat_template", None)) and not options.get("plain_prompts", False)
        self.batch_size = int(options.get("batch_size", 256))
        model_config = getattr(getattr(self.llm, "llm_engine", None), "model_config", None)
        try:
            device = str(vllm.platforms.current_platform.device_type)
        except AttributeError:
            device = "cuda"
        self.identity = vllm_identity(name_or_path, options, vllm.__version__,
                                      getattr(model_config, "dtype", kwargs["dtype"]), device,
                                      getattr(model_config, "quantization", options.get("quantization")), weights)
        self.fingerprint = identity_label(self.identity)

    def info(self) -> dict[str, Any]:
        return {"fingerprint": self.fingerprint, "identity": self.identity, "engine": f"vllm {self._vllm.__version__}", "chat": self.is_chat,
                "batch_size": self.batch_size, "max_context": self.max_context}

    def prompt_ids(self, r: GenerationRequest) -> list[int]:
        return prompt_ids(self.tokenizer, r, self.is_chat)

    def context_overflow(self, r: GenerationRequest) -> str | None:
        return context_overflow(len(self.prompt_ids(r)), r.params.max_new_tokens, self.max_context)

    def generate(self, requests: Sequence[GenerationRequest]) -> list[list[Completion]]:
        sp = self._vllm.SamplingParams
        params = [sp(n=r.n, temperature=r.params.temperature, top_p=r.params.top_p,
                     repetition_penalty=r.params.repetition_penalty, max_tokens=r.params.max_new_tokens,
                     seed=r.seed, stop=list(r.stop) or None) for r in requests]
        prompts = [{"prompt_token_ids": self.prompt_ids(r)} for r in requests]  # a vllm.inputs.TokensPrompt
        outputs = self.llm.generate(prompts, params, use_tqdm=False)
        result = []
        for out in outputs:
            n_prompt = len(out.prompt_token_ids or [])
            comps = sorted(out.outputs, key=lambda o: o.index)
            result.append([Completion(o.text, n_prompt if k == 0 else 0, len(o.token_ids),
                                      truncated=o.finish_reason == "length") for k, o in enumerate(comps)])
        return result

    def close(self) -> None:
        """Stop vLLM's engine process now: left to the garbage collector it lives on while anything
        still refers to the LLM, holding its memory, and is killed only at interpreter exit."""
        core = getattr(getattr(self.llm, "llm_engine", None), "engine_core", None)
        if hasattr(core, "shutdown"):
            core.shutdown()
        del self.llm
        import gc

        gc.collect()
