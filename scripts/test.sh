#!/usr/bin/env bash
# The test command of the README: installs if needed, checks the import boundaries, runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
.venv/bin/lint-imports
.venv/bin/python -m pytest -q "$@"
