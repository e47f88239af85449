"""Issue 10 (1, 4): failed LLM calls are never cached, a stage with too many of them fails the run in one
line, and an API key a server echoes back reaches no file, exception or log.

The SFT generation stage (refinery.sft.flow.generate: the real method, client, cache and SDK backends)
runs against the fake HTTP servers on 127.0.0.1, without Dagster except for the last test."""
import gzip
import json
import logging
import re

import dagster as dg
import pytest

from orchestration.cli import run_sft_jobs
from refinery import secrets
from refinery.catalog.sft import GENERATED
from refinery.llm.failures import LLMFailureError
from refinery.llmdata.checks import llm_failures
from refinery.llmdata.io import read_records, write_records
from refinery.llmdata.records import Chunk, Dropped
from refinery.sft import flow
from refinery.sft.config import SFTConfig
from refinery.storage import Layout
from resources import LLMResource
from tests.fakes.anthropic_server import FakeAnthropicServer
from tests.fakes.http_fake import seeded_faults
from tests.fakes.openai_server import FakeOpenAIServer
from tests.test_sft_flow import _defs, _write_deduplicated

KEY = "sk-live-3f9a7c1e5b2d4f6a8c0e"
FAULT_RATES = {"500": 0.20, "429": 0.10, "slow": 0.05, "malformed_reply": 0.05}
FAILING = {"500", "429", "malformed_reply"}  # "slow" still answers within the timeout


def answer(body: dict) -> str:
    """A grounded_qa answer (the request's prefill is "Question:") naming the chunk it was asked about."""
    system = body["messages"][0]["content"]
    return f" What does section {system.split()[0]} require?\nAnswer: It requires what {system[:40]} says."


def _chunks(layout: Layout, n: int) -> None:
    chunks = [Chunk(id=f"c{i:02d}", doc_id=f"d{i}", text=f"S{i:02d} Policy text number {i}: rules apply here.")
              for i in range(n)]
    write_records(layout.at(layout.sft("chunks")), flow.RECORDS, chunks)


def _sft(layout: Layout, llm: LLMResource, config: dict | None = None) -> flow.SFT:
    cfg = SFTConfig.model_validate({"methods": ["grounded_qa"], **(config or {})})
    return flow.SFT(layout, cfg, llm)


def _openai(url: str, **kw) -> LLMResource:
    kw = {"max_retries": 1, "timeout": 2.0, "max_concurrency": 4, **kw}
    return LLMResource(backend="openai", model="local-model", api_key=KEY, base_url=f"{url}/v1", **kw)


def _cache_files(root) -> list:
    return [p for p in (root / "llm_cache").rglob("*.json")] if (root / "llm_cache").exists() else []


def _dropped(layout: Layout) -> list[Dropped]:
    return list(read_records(layout.at(layout.sft("generated", "grounded_qa")), flow.DROPPED, Dropped))


def _failed_bodies(records: list[dict]) -> set[str]:
    """Requests whose last attempt got a failing fault: nobody retried after it, so the request failed."""
    last = {}
    for r in records:
        if r["path"] == "/v1/chat/completions":
            last[json.dumps(r["json"], sort_keys=True)] = r["fault"]
    return {body for body, fault in last.items() if fault in FAILING}


def test_only_failed_requests_are_sent_again_and_a_resumed_run_is_identical(tmp_path):
    layout = Layout(str(tmp_path))
    _chunks(layout, 16)
    config = {"generation": {"grounded_qa": {"max_chunks": 16}}, "llm": {"max_failure_share": 0.5}}
    # faults on a request's first two attempts only: the second run finds the server recovered
    with FakeOpenAIServer(responder=answer, fault_plan=seeded_faults(FAULT_RATES, seed=5, flaky_attempts=2),
                          slow_seconds=0.2) as server:
        first = flow.generate(_sft(layout, _openai(server.base_url), config), "grounded_qa")
        served = list(server.records)
        failed = _failed_bodies(served)
        assert {r["fault"] for r in served} >= {"500", "429", "slow", "malformed_reply"}, "the faults were not exercised"
        assert failed and first["records"] == 16 - len(failed)
        assert first["llm_failures"]["retry_pending"] == len(failed)
        reasons = {d.reason for d in _dropped(layout)}
        assert reasons and reasons <= {"server_error", "rate_limited", "malformed_reply"}
        # failures were recorded but not cached: only the answers are
        cached = [json.loads(p.read_text()) for p in _cache_files(tmp_path)]
        assert len(cached) == 16 - len(failed) and all("response" in c for c in cached)

        second = flow.generate(_sft(layout, _openai(server.base_url), config), "grounded_qa")
        resent = server.records[len(served):]
        assert sorted(json.dumps(r["json"], sort_keys=True) for r in resent) == sorted(failed)
        assert second["records"] == 16 and not second["reused_previous_output"] and not _dropped(layout)
        assert second["llm_failures"]["failed"] == 0

        third = flow.generate(_sft(layout, _openai(server.base_url), config), "grounded_qa")
        assert len(server.records) == len(served) + len(resent) and third["reused_previous_output"]

        # a run killed after the calls: outputs and markers gone, the cache answers everything identically
        out = tmp_path / "sft" / "generated" / "grounded_qa" / flow.RECORDS
        before = out.read_bytes()
        layout.remove(layout.sft("generated"))
        layout.remove(layout.sft("_state"))
        resumed = flow.generate(_sft(layout, _openai(server.base_url), config), "grounded_qa")
        assert len(server.records) == len(served) + len(resent) and resumed["llm"]["grounded_qa"]["cache_hits"] == 16
        assert out.read_bytes() == before


def test_server_down_fails_the_stage_in_one_line_and_caches_nothing(tmp_path):
    layout = Layout(str(tmp_path))
    _chunks(layout, 8)
    with FakeOpenAIServer() as dead:
        url = dead.base_url  # closed on exit: connections are refused
    with pytest.raises(LLMFailureError) as err:
        flow.generate(_sft(layout, _openai(url)), "grounded_qa")
    assert str(err.value) == ("grounded_qa: 8/8 LLM requests failed (connection_error=8) \u2014 over the 10% bound; "
                              "fix the server and rerun (failed requests are not cached)")
    assert [d.reason for d in _dropped(layout)] == ["connection_error"] * 8  # what it could, recorded
    assert not _cache_files(tmp_path)
    passed, report = llm_failures(layout, [(GENERATED, "grounded_qa")])  # what the asset checks report
    assert not passed and report["failure_share"] == 1.0
    assert report["by_stage"]["generated-grounded_qa"]["by_reason"] == {"connection_error": 8}

    with FakeOpenAIServer(responder=answer) as server:
        summary = flow.generate(_sft(layout, _openai(server.base_url)), "grounded_qa")
        assert server.calls == 8 and summary["records"] == 8 and not _dropped(layout)
    assert llm_failures(layout, [(GENERATED, "grounded_qa")]) == (True, {
        "llm_requests": 8, "llm_failed": 0, "failure_share": 0.0, "by_stage": {}})


@pytest.mark.parametrize("fake, backend", [(FakeOpenAIServer, "openai"), (FakeAnthropicServer, "anthropic")])
def test_a_key_echoed_in_a_401_is_stored_nowhere(tmp_path, caplog, fake, backend):
    layout = Layout(str(tmp_path))
    _chunks(layout, 4)
    caplog.set_level(logging.DEBUG)
    with fake() as server:
        server.echo_key_in_401 = True
        url = f"{server.base_url}/v1" if backend == "openai" else server.base_url
        llm = LLMResource(backend=backend, model="m", api_key=KEY, base_url=url, max_retries=1, timeout=2.0)
        with pytest.raises(LLMFailureError) as err:
            flow.generate(_sft(layout, llm), "grounded_qa")
        assert server.calls == 4  # the SDKs do not retry a 401
    assert "auth_error=4" in str(err.value) and KEY not in str(err.value)
    details = [d.detail for d in _dropped(layout)]
    assert len(details) == 4 and all("Incorrect API key provided: [masked]" in d for d in details)
    assert not _cache_files(tmp_path)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
            assert KEY.encode() not in data, path
    assert KEY not in caplog.text


def test_secrets_from_the_environment_are_masked(monkeypatch):
    monkeypatch.setenv("ACME_SERVICE_TOKEN", "tok-0123456789abcdef")
    monkeypatch.setenv("DB_PASSWORD", "hunter2-but-longer")
    monkeypatch.setenv("SHORT_API_KEY", "EMPTY")  # placeholders are too short to be masked
    text = "auth failed for tok-0123456789abcdef / hunter2-but-longer; key EMPTY"
    assert secrets.mask(text) == "auth failed for [masked] / [masked]; key EMPTY"


def test_the_dagster_step_fails_with_the_one_line_message(tmp_path, dagster_home):
    root = tmp_path / "data"
    _write_deduplicated(root)
    with FakeOpenAIServer() as dead:
        url = dead.base_url
    runs = run_sft_jobs(_defs(root, _openai(url, max_retries=0)), dg.DagsterInstance.get(), methods=["grounded_qa"])
    assert runs["chunks"].success and not runs["grounded_qa"].success
    [failure] = [e for e in runs["grounded_qa"].all_events if e.event_type_value == "STEP_FAILURE"]
    error = failure.event_specific_data.error
    message = error.cause.message  # Dagster wraps the asset's exception: its cause is ours, unchanged
    assert error.cause.cls_name == "LLMFailureError" and len(message.strip().splitlines()) == 1
    assert re.search(r"grounded_qa: (\d+)/\1 LLM requests failed \(connection_error=\1\)", message)
    assert KEY not in message
    assert "over the 10% bound; fix the server and rerun (failed requests are not cached)" in message


def test_a_key_echoed_in_a_401_reaches_no_file_of_a_dagster_run(tmp_path, dagster_home):
    """The same through Dagster: its event log (sqlite under DAGSTER_HOME) and run storage stay clean too."""
    root = tmp_path / "data"
    _write_deduplicated(root)
    with FakeOpenAIServer() as server:
        server.echo_key_in_401 = True
        runs = run_sft_jobs(_defs(root, _openai(server.base_url, max_retries=0)), dg.DagsterInstance.get(),
                            methods=["grounded_qa"])
    assert not runs["grounded_qa"].success
    for folder in (root, dagster_home):
        for path in folder.rglob("*"):
            if path.is_file():
                data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
                assert KEY.encode() not in data, path
