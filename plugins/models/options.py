"""What the vLLM and OpenAI-compatible engines read from their suite tables beyond the common
options (harness.api.COMMON_OPTIONS): declared with their engines, not in the core."""

from __future__ import annotations

from harness.api import COMMON_OPTIONS, Option

_SECONDS = Option((int, float), "a number of seconds, more than 0", 0, exclusive=True)


def common(*names: str) -> dict[str, Option]:
    return {n: COMMON_OPTIONS[n] for n in names}


VLLM_OWN = {
    "max_num_seqs": Option(int, "a positive integer", 1),
    "gpu_memory_utilization": Option((int, float), "a fraction between 0 and 1", 0, exclusive=True, maximum=1),
    "kv_cache_memory_bytes": Option(int, "a positive integer", 1),
    "enforce_eager": Option(bool, "true or false"),
}
#: how a server is reached and how hard it is pushed never changes what it answers (connect_timeout
#: and max_retries were part of cell identity before this declaration and stay so)
OPENAI_OWN = {
    "chat": Option(bool, "true or false"),
    "concurrency": Option(int, "a positive integer", 1, identity=False),
    "timeout": Option((int, float), "a number of seconds, more than 0", 0, exclusive=True, identity=False),
    "connect_timeout": _SECONDS,
    "max_retries": Option(int, "an integer, 0 or more", 0),
    "api_key_env": Option(str, "a string", identity=False),
}

HF_OPTIONS = common("batch_size", "device", "dtype", "revision", "max_model_len", "plain_prompts")
VLLM_OPTIONS = {**common("batch_size", "dtype", "seed", "max_model_len", "tensor_parallel_size", "revision",
                         "quantization", "plain_prompts"), **VLLM_OWN}
OPENAI_OPTIONS = {**common("batch_size", "revision", "dtype", "quantization"), **OPENAI_OWN}
