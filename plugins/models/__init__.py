"""Built-in model engines: transformers (`hf:<id or path>`), the offline default `gemma-3-270m`, and
OpenAI-compatible servers (`openai:<model>@<url>`)."""

from __future__ import annotations

from harness.api import ModelSpec, hookimpl
from plugins.models.options import HF_OPTIONS, OPENAI_OPTIONS, VLLM_OPTIONS

#: the Gemma models' terms bind what they generate, whichever engine serves them
GEMMA_TERMS = ("gemma", "Gemma Terms of Use (https://ai.google.dev/gemma/terms): generated output is yours, "
                        "subject to the prohibited use policy")
#: completion tokens per second of the offline Gemma 3 270M, batched, where this machine has measured
#: nothing yet: 31.5 tok/s on 2 CPU cores over the CI suite's 5,760 tokens, 330 tok/s on an H100
#: (benchmarks/README.md)
GEMMA_270M_RATES = {"cpu": 31.5, "cuda": 330.0}


def gemma_terms(model, identity):
    """Gemma's terms for a model whose name or engine identity says it is a Gemma, else None (not known)."""
    return GEMMA_TERMS if "gemma" in f"{model} {identity or ''}".lower() else None


def _gemma_weights(sha):
    """The offline model's weights: the GGUF file of its package, dequantized to bfloat16."""
    return {"source": "package", "name": "gemma-3-270m-q4_k_m", "sha256": sha[:16]}


def _load_hf(arg, options):
    from harness.api import TransformersEngine

    return TransformersEngine(arg, options)


def _load_gemma_270m(arg, options):
    from harness.api import TransformersEngine
    from plugins.models.offline import gemma_270m_dir

    path, sha = gemma_270m_dir()
    return TransformersEngine(str(path), options, weights=_gemma_weights(sha))


def _load_vllm(arg, options):
    from plugins.models.vllm_engine import VLLMEngine

    if arg == "gemma-3-270m":  # the offline model, converted once into the cache
        from plugins.models.offline import gemma_270m_dir

        path, sha = gemma_270m_dir()
        return VLLMEngine(str(path), options, weights=_gemma_weights(sha))
    return VLLMEngine(arg, options)


def _check_openai(arg):
    from plugins.models.openai_http import parse_target

    parse_target(arg)


def _load_openai(arg, options):
    from plugins.models.openai_http import OpenAIEngine

    return OpenAIEngine(arg, options)


@hookimpl
def bench_register_models(register):
    register(ModelSpec("vllm", _load_vllm, "vLLM engine: vllm:<hub id or local path> (GPU, or its CPU build); "
                       "vllm:gemma-3-270m serves the offline model", prefix=True, options=VLLM_OPTIONS,
                       terms=gemma_terms))
    register(ModelSpec("openai", _load_openai,
                       "OpenAI-compatible server (vLLM serve, ...): openai:<model>@http://host:port/v1", prefix=True,
                       options=OPENAI_OPTIONS, check=_check_openai, terms=gemma_terms))
    register(ModelSpec("hf", _load_hf, "transformers engine: hf:<hub id or local path> (CPU, or CUDA when present)",
                       prefix=True, options=HF_OPTIONS, terms=gemma_terms))
    register(ModelSpec("gemma-3-270m", _load_gemma_270m,
                       "Gemma 3 270M base model, offline from PyPI (converted once into the cache)",
                       options=HF_OPTIONS, rates=GEMMA_270M_RATES, terms=gemma_terms))
