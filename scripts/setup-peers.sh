#!/usr/bin/env bash
# The Python peer engines (python/peer.py) in a project-local virtual environment, pinned:
# numpy, torch's CPU build and onnxruntime at the version of onnxruntime-node, so ort-python and
# ort-cpu run the same ONNX Runtime. Idempotent: an environment that already imports all three is kept.
#   bash scripts/setup-peers.sh          (npm test runs it; select it with: run --python .cache/peers-venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.cache/peers-venv
python="${PEERS_PYTHON:-python3}"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import numpy, torch, onnxruntime' 2>/dev/null; then
  exit 0
fi
rm -rf "$venv"
"$python" -m venv "$venv"
# a package index that cannot be reached fails fast instead of pip's long default retries
"$venv/bin/pip" install --quiet --disable-pip-version-check --retries 1 --timeout 20 \
  'numpy==2.4.6' 'torch==2.13.0+cpu' 'onnxruntime==1.30.0'
"$venv/bin/python" -c 'import numpy, torch, onnxruntime; print("peers:", "numpy", numpy.__version__, "torch", torch.__version__, "onnxruntime", onnxruntime.__version__)'
