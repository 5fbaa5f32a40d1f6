#!/usr/bin/env bash
# Creates .venv with the CPU build of torch, the harness (editable), its offline assets and dev tools.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip
# CPU torch first, so nothing below pulls the multi-GB CUDA build
if ! python -c "import torch" 2>/dev/null; then
  extra=()
  [ -d /opt/wheels ] && extra=(--find-links /opt/wheels)   # a local wheel directory, where the machine has one
  python -m pip install -q "${extra[@]}" "torch==${TORCH_VERSION:-2.13.0}"
fi
python -m pip install -q -e ".[offline,ray,dev,tracking]"
echo "ready: . .venv/bin/activate && bench --help"
