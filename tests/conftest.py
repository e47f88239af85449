import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples" / "raw"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# datasets' cache of loaded exports stays out of the user's ~/.cache
os.environ.setdefault("HF_DATASETS_CACHE", tempfile.mkdtemp(prefix="refinery-test-hf-datasets-"))
# Fake AWS credentials from the start: datatrove's forkserver workers inherit the environment of the
# moment the forkserver starts, which may be before an S3 test runs. Endpoints are passed explicitly.
for _key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
    os.environ.setdefault(_key, "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def sample_raw(tmp_path) -> Path:
    """A private copy of the bundled sample corpus (two drops), so tests can add files to it."""
    dst = tmp_path / "raw"
    shutil.copytree(SAMPLES, dst)
    return dst


@pytest.fixture
def dagster_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    for var in ("REFINERY_ROOT", "REFINERY_RAW", "REFINERY_CONFIG", "REFINERY_S3_ENDPOINT", "REFINERY_ENV",
                "REFINERY_LLM", "REFINERY_LLM_MODEL", "REFINERY_LLM_BASE_URL", "REFINERY_LLM_ENDPOINT", "REFINERY_LLM_WORKERS",
                "REFINERY_LLM_CONCURRENCY", "REFINERY_LLM_BATCHES", "REFINERY_RETRY_FAILED", "ANTHROPIC_API_KEY", "OPENAI_API_KEY",
                "REFINERY_TRAINING", "REFINERY_SAGEMAKER_API_URL", "REFINERY_SAGEMAKER_ROLE", "REFINERY_TRAINING_SOURCE",
                "REFINERY_EXECUTOR", "REFINERY_MAX_CONCURRENT", "REFINERY_DAGSTER_PG_URL"):
        monkeypatch.delenv(var, raising=False)
    for var in [v for v in os.environ if v == "REFINERY_RUNNER" or v.startswith(("REFINERY_RAY_", "REFINERY_SLURM_"))]:
        monkeypatch.delenv(var)
    return home


@pytest.fixture
def moto_s3(monkeypatch):
    """A moto S3 server on a free loopback port (in-process mock_aws breaks s3fs's async client)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def postgres_server():
    """One real PostgreSQL server for the whole session (tests/pg_server.py); each test makes its own database."""
    from tests.pg_server import PostgresServer, find_bin_dir

    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip("no PostgreSQL binaries (initdb) in PATH or /usr/lib/postgresql/*/bin: scripts/setup.sh "
                    "installs Debian's postgresql package")
    server = PostgresServer(bin_dir).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def moto_server():
    """One moto server (S3 and SageMaker) for the whole session. Tests using it create buckets of their own
    (a fresh name each), so no reset is needed and cached s3fs listings never meet a reset server."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
