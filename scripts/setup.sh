#!/usr/bin/env bash
# Creates .venv with the pinned dependencies (uv resolves them in seconds; pip takes minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
[ -d .venv ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade "uv==0.13.8"
.venv/bin/uv pip install -q --python .venv/bin/python -e '.[test]'
