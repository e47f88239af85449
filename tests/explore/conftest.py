"""One real root for the explore tests, built once per session: the corpus flow on the committed slice of the
real-document benchmark (tests/data/realdocs, one drop), then the SFT flow on its deduplicated documents through
the fake Anthropic server (the real SDK over HTTP, plausible answers), so every table comes from what the flows
actually write. Tests that change files work on a copy."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

SLICE = Path(__file__).resolve().parents[1] / "data" / "realdocs"
DROP = "2026-01-b"
METHODS = ["grounded_qa", "self_instruct"]


@pytest.fixture(scope="session")
def explore_root(tmp_path_factory) -> Path:
    import dagster as dg

    from bench.realdocs_metrics import run_flow
    from orchestration.cli import run_sft_jobs
    from orchestration.definitions import build_definitions
    from tests.fakes.anthropic_server import FakeAnthropicServer
    from tests.fakes.plausible import plausible_anthropic

    tmp = tmp_path_factory.mktemp("explore")
    raw = tmp / "raw"
    shutil.copytree(SLICE / "raw" / DROP, raw / DROP)
    root = tmp / "root"
    with pytest.MonkeyPatch.context() as mp:  # what the dagster_home fixture does, once for the session
        (tmp / "dagster_home").mkdir()
        mp.setenv("DAGSTER_HOME", str(tmp / "dagster_home"))
        for var in ("REFINERY_ROOT", "REFINERY_RAW", "REFINERY_CONFIG", "REFINERY_S3_ENDPOINT", "REFINERY_ENV",
                    "REFINERY_LLM", "REFINERY_LLM_BASE_URL", "REFINERY_LLM_MODEL"):
            mp.setenv(var, "")  # recorded, so what the CLI sets in os.environ is undone afterwards
            mp.delenv(var)
        summary = run_flow(raw, root, in_process=True)
        assert summary["returncode"] == 0, summary
        with FakeAnthropicServer(responder=plausible_anthropic) as server:
            defs = build_definitions(overrides={"root": str(root), "raw": str(raw), "llm": "anthropic",
                                                "llm_base_url": server.base_url})
            mp.setenv("ANTHROPIC_API_KEY", "sk-test")
            runs = run_sft_jobs(defs, dg.DagsterInstance.get(), methods=METHODS)
        assert all(r.success for r in runs.values()), {k: r.success for k, r in runs.items()}
    return root


@pytest.fixture
def root_copy(explore_root, tmp_path) -> Path:
    """A private copy of the session's root (without its caches), for tests that plant records."""
    dst = tmp_path / "root"
    shutil.copytree(explore_root, dst, ignore=shutil.ignore_patterns("dagster_home", "embedding_cache", "explore_cache"))
    return dst
