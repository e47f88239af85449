"""The SFT flow through Dagster against the fake Anthropic server (the real SDK over HTTP): faults are
recorded and survived, a resumed run pays for nothing twice, exports load with `datasets`."""
import gzip
import json

import dagster as dg
import pytest
from datasets import load_dataset

import assets.corpus.assets
import assets.sft.assets
import assets.sft.checks
from assets.sft.jobs import sft_chunks_job, sft_dataset_job, sft_method_job
from orchestration.cli import main, run_sft_jobs
from refinery.sft.methods import METHODS
from refinery.storage import Layout
from resources import ComputeResource, EmbeddingsResource, HubResource, LLMResource, SettingsResource, StorageResource
from tests.fakes.anthropic_server import FakeAnthropicServer
from tests.fakes.plausible import plausible_anthropic

DOCS = {
    "2026-11-01": [("hr-1", "hr/leave.md", "Leave policy\n\nEmployees give four weeks' notice before taking more than "
                    "ten days of leave. Requests go through the HR portal and the line manager approves them. " * 3
                    + "Questions: write to leave.desk@acme-corp.com.")],
    "2026-11-08": [("fin-1", "finance/expenses.md", "Expense claims\n\nReceipts are required for every expense above "
                    "25 EUR. Claims are filed within 30 days of the purchase in the finance system. " * 3)],
}


def _write_deduplicated(root) -> None:
    """What the corpus flow leaves behind: deduplicated JSONL.gz and a completed dedup marker per drop."""
    layout = Layout(str(root))
    for drop, docs in DOCS.items():
        out = root / "corpus" / drop / "deduplicated"
        out.mkdir(parents=True)
        with gzip.open(out / "00000.jsonl.gz", "wt") as f:
            for doc_id, source, text in docs:
                f.write(json.dumps({"id": doc_id, "text": text, "metadata": {"source": f"{drop}/{source}"}}) + "\n")
        layout.write_json(layout.state(drop, "markers", "dedup.json"), {"fingerprint": f"fp-{drop}", "summary": {}})
        (root.parent / "raw" / drop).mkdir(parents=True, exist_ok=True)
        (root.parent / "raw" / drop / "x.txt").write_text("raw")


def _defs(root, llm: LLMResource, config=None, hub_token=None) -> dg.Definitions:
    return dg.Definitions(
        assets=dg.load_assets_from_modules([assets.corpus.assets, assets.sft.assets]),
        asset_checks=dg.load_asset_checks_from_modules([assets.sft.checks]),
        jobs=[sft_chunks_job, sft_method_job, sft_dataset_job],
        resources={"storage": StorageResource(root=str(root), raw_root=str(root.parent / "raw")),
                   "compute": ComputeResource(), "settings": SettingsResource(config_file=config), "llm": llm,
                   "hub": HubResource(token=hub_token), "embeddings": EmbeddingsResource()},
        executor=dg.in_process_executor,
    )


def _llm(server, **kw) -> LLMResource:
    kw = {"timeout": 1.0, "max_retries": 2, "max_concurrency": 4, **kw}
    return LLMResource(backend="anthropic", api_key="sk-test-secret", base_url=server.base_url, **kw)


def _materialized(runs) -> dict:
    out = {}
    for result in runs.values():
        for event in result.get_asset_materialization_events():
            mat = event.event_specific_data.materialization
            key = mat.asset_key.to_user_string() + (f"[{mat.partition}]" if mat.partition else "")
            out[key] = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
    return out


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "data"
    _write_deduplicated(root)
    return root


def test_faults_are_survived_or_recorded_and_a_resumed_run_pays_nothing_twice(root, dagster_home):
    instance = dg.DagsterInstance.get()
    # one 400 among a method's three requests is a third of them: over the default 10% failure bound
    config = str(root.parent / "refinery.yaml")
    (root.parent / "refinery.yaml").write_text("sft:\n  llm: {max_failure_share: 0.5}\n")
    with FakeAnthropicServer(responder=plausible_anthropic, hang_seconds=3.0) as server:
        # consumed in order by whichever request comes next: the first answer is broken JSON (repaired by
        # showing it back), then transient faults the SDK retries, then one non-retryable 400
        server.inject("malformed_json")
        server.inject("429", times=2)
        server.inject("500")
        server.inject("overloaded")
        server.inject("timeout")
        server.inject("400")
        runs = run_sft_jobs(_defs(root, _llm(server, max_retries=5), config), instance)
        assert all(r.success for r in runs.values()), {k: r.success for k, r in runs.items()}
        md = _materialized(runs)
        calls_first = server.calls
        assert calls_first > 0 and md["sft_dataset"]["records"] > 0
        generated = [md[f"sft_generated[{m}]"] for m in METHODS]
        reasons = {k: v for g in generated for k, v in g.get("dropped_by_reason", {}).items()}
        assert reasons.get("bad_request") == 1, reasons
        # the SDK retried the transient faults; the ledger counts billed calls and tokens
        assert sum(g["llm_calls"] for g in generated) > 0 and all(g["llm_cost_usd"] >= 0 for g in generated)
        repaired = sum(g["llm_usage"][m]["repaired"] for g, m in zip(generated, METHODS))
        assert repaired >= 1, json.dumps([g["llm_usage"] for g in generated])  # malformed answer shown back, fixed
        assert all(r.get_asset_check_evaluations() == [] or all(e.passed for e in r.get_asset_check_evaluations())
                   for r in runs.values())

        # unchanged re-run: every stage is reused
        again = _materialized(run_sft_jobs(_defs(root, _llm(server), config), instance))
        assert server.calls == calls_first and all(m["reused_previous_output"] for m in again.values())

        # a run killed half-way: stage markers and outputs gone, only the request cache left -> zero calls
        for stage in ("_state", "generated", "filtered", "judged", "dataset"):
            Layout(str(root)).remove(Layout(str(root)).sft(stage))
        resumed = _materialized(run_sft_jobs(_defs(root, _llm(server), config), instance))
        assert server.calls == calls_first, "a resumed run sent requests again"
        assert sum(resumed[f"sft_generated[{m}]"]["llm_cache_hits"] for m in METHODS) > 0
        assert resumed["sft_dataset"]["records"] == md["sft_dataset"]["records"]

        # an external API never saw the PII of the documents: chunks were redacted first
        assert md["sft_chunks"]["chunks"] > 0
        sent = json.dumps(server.requests())
        assert "leave.desk@acme-corp.com" not in sent and "<EMAIL>" in sent

    # the API key never reaches metadata or the stored outputs
    blob = json.dumps(md) + "".join(p.read_text(errors="ignore") for p in root.rglob("*.json*") if p.is_file())
    assert "sk-test-secret" not in blob


def test_exports_load_with_datasets_in_trl_layout(root, dagster_home, tmp_path):
    with FakeAnthropicServer(responder=plausible_anthropic) as server:
        runs = run_sft_jobs(_defs(root, _llm(server)), dg.DagsterInstance.get())
    assert all(r.success for r in runs.values())
    out = root / "sft" / "dataset"
    messages = load_dataset(str(out))
    rows = list(messages["train"]) + list(messages.get("test", []))
    assert rows and all(set(t) == {"role", "content"} for r in rows for t in r["messages"])
    assert all(r["messages"][-1]["role"] == "assistant" for r in rows)
    methods = {r["method"] for r in rows}
    assert {"grounded_qa", "self_instruct", "evol_instruct", "topic_tree", "conversation"} <= methods
    alpaca = load_dataset(str(out), "alpaca")
    assert set(alpaca["train"].column_names) >= {"instruction", "input", "output"}
    card = (out / "README.md").read_text()
    assert card.startswith("---") and "grounded_qa@v1:" in card
    grounded = [r for r in rows if r["method"] == "grounded_qa"]
    assert grounded and all(r["chunk_id"] for r in grounded)
    # human review round trip: reject one record through the plain review file, the dataset drops it
    review = (root / "sft" / "review" / "export" / "review.jsonl").read_text().splitlines()
    first = json.loads(review[0])
    reviewed = root / "sft" / "review" / "reviewed"
    reviewed.mkdir(parents=True)
    (reviewed / "batch-1.jsonl").write_text(json.dumps({"id": first["id"], "status": "rejected"}) + "\n")
    with FakeAnthropicServer(responder=plausible_anthropic) as server:
        again = _materialized(run_sft_jobs(_defs(root, _llm(server)), dg.DagsterInstance.get()))
        assert server.calls == 0  # only the dataset stage re-ran
    assert again["sft_dataset"]["records"] == len(rows) - 1


def test_message_batches_backend_end_to_end(root, dagster_home):
    with FakeAnthropicServer(responder=plausible_anthropic) as server:
        llm = _llm(server, use_batches=True, batch_poll_seconds=0.01)
        runs = run_sft_jobs(_defs(root, llm), dg.DagsterInstance.get(), methods=["grounded_qa"])
        assert all(r.success for r in runs.values())
        assert server.batch_calls > 0 and server.calls == 0  # everything went through the Batches API
    md = _materialized(runs)
    assert md["sft_dataset"]["records"] > 0


def test_cli_run_with_anthropic_backend_reads_the_key_from_the_environment(sample_raw, dagster_home, tmp_path,
                                                                            monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-env-secret")
    with FakeAnthropicServer(responder=plausible_anthropic) as server:
        rc = main(["run", "--raw", str(sample_raw), "--root", str(tmp_path / "out"), "--llm", "anthropic",
                   "--llm-base-url", server.base_url, "--method", "grounded_qa", "--json", str(tmp_path / "s.json")])
        assert rc == 0 and server.calls > 0
        auth = [r for r in server.records if r["path"] == "/v1/messages"]
        assert auth
    assert load_dataset(str(tmp_path / "out" / "sft" / "dataset"))["train"].num_rows > 0
    summary = json.loads((tmp_path / "s.json").read_text())
    assert set(summary["drops"]) == {"2026-11-01", "2026-11-08"} and summary["sft"]["llm"] == "anthropic"
    assert summary["sft"]["runs"]["dataset"]["success"]
    assert summary["preference"]["rounds"]["round-001"]["data"]["success"]  # the main job ends with a round


def test_dataset_is_pushed_to_the_hub_when_configured(root, dagster_home, tmp_path, monkeypatch):
    import huggingface_hub

    pushed = []

    class FakeHfApi:  # the Hub is not reachable here; the client class is the seam
        def __init__(self, token):
            pushed.append(token)

        def create_repo(self, repo_id, **kw):
            pushed.append(repo_id)

        def upload_folder(self, folder_path, **kw):
            pushed.append(sorted(p.name for p in (tmp_path / "data" / "sft" / "dataset").rglob("*.parquet")))
            return type("Commit", (), {"commit_url": "https://huggingface.co/datasets/acme/sft/commit/1"})()

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeHfApi)
    config = tmp_path / "refinery.yaml"
    config.write_text("sft:\n  methods: [grounded_qa]\n  export: {hub_repo_id: acme/sft}\n")
    with FakeAnthropicServer(responder=plausible_anthropic) as server:
        runs = run_sft_jobs(_defs(root, _llm(server), str(config), hub_token="hf_token"), dg.DagsterInstance.get())
    assert all(r.success for r in runs.values())
    assert pushed[:2] == ["hf_token", "acme/sft"] and any(n.startswith("train-") for n in pushed[2])
    assert _materialized(runs)["sft_dataset"]["hub_commit"].endswith("/commit/1")


def test_sft_flow_with_the_storage_root_on_s3(tmp_path, dagster_home, moto_s3):
    """Production layout: corpus output, request cache and exports all under s3://; a second run after the
    stage markers are gone is answered from the S3 request cache."""
    import boto3

    local = tmp_path / "data"
    _write_deduplicated(local)
    s3 = boto3.client("s3", endpoint_url=moto_s3)
    s3.create_bucket(Bucket="acme-out")
    for path in local.rglob("*"):
        if path.is_file():
            s3.upload_file(str(path), "acme-out", f"refinery/{path.relative_to(local).as_posix()}")
    storage = StorageResource(root="s3://acme-out/refinery", raw_root=str(tmp_path / "raw"), endpoint_url=moto_s3)

    def defs(server):
        d = _defs(local, _llm(server))
        return dg.Definitions(assets=d.assets, asset_checks=d.asset_checks, jobs=d.jobs, executor=d.executor,
                              resources={**d.resources, "storage": storage})

    with FakeAnthropicServer(responder=plausible_anthropic) as server:
        runs = run_sft_jobs(defs(server), dg.DagsterInstance.get(), methods=["grounded_qa", "conversation"])
        assert all(r.success for r in runs.values())
        calls = server.calls
        keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket="acme-out")
                for o in page.get("Contents", [])]
        assert "refinery/sft/dataset/README.md" in keys
        assert any(k.startswith("refinery/sft/dataset/messages/train-") and k.endswith(".parquet") for k in keys)
        assert any(k.startswith("refinery/llm_cache/") for k in keys)
        storage.layout().remove(storage.layout().sft("_state"))
        again = run_sft_jobs(defs(server), dg.DagsterInstance.get(), methods=["grounded_qa", "conversation"])
        assert all(r.success for r in again.values()) and server.calls == calls
