"""Two full preference rounds through Dagster, offline: the policy is a SageMaker endpoint on a moto server
(canned replies), a reference model and the judges are the real anthropic SDK against the fake Anthropic
server, training jobs and the endpoint update run against moto (made to behave like AWS by FakeSageMaker),
annotations come back with control records, and the loop sensor decides each next step."""
import json
import urllib.request

import boto3
import dagster as dg
import pytest
import yaml
from datasets import load_dataset

import assets.preference.assets
import assets.preference.checks
import assets.sft.assets
from assets.preference.jobs import preference_round_job, preference_train_job
from assets.preference.sensor import next_step, preference_loop_sensor
from refinery.catalog.preference import DATASET
from refinery.llmdata.records import SFTRecord, Turn
from refinery.stage import run_once
from resources import (
    ComputeResource,
    EmbeddingsResource,
    HubResource,
    LLMResource,
    SettingsResource,
    StorageResource,
    TrainingResource,
)
from tests.fakes.anthropic_server import FakeAnthropicServer
from tests.fakes.plausible import anthropic_request
from tests.fakes.sagemaker import FakeSageMaker

ROLE = "arn:aws:iam::123456789012:role/refinery-training"
ROOT = "s3://acme-out/refinery"
TOPICS = ["billing"] * 4 + ["hr"] * 4


def judge(body: dict) -> str:
    """Rates and prefers answers marked GOOD; answers candidate requests as the reference model."""
    req = anthropic_request(body)
    text = req.messages[-1].content
    if req.prefill == "Rating:":
        response = text.split("Response:\n", 1)[1]
        return " 5\nRationale: specific." if "GOOD" in response else " 2\nRationale: vague."
    if (req.prefill or "").startswith("Better:"):
        a = text.split("Response A:\n", 1)[1].split("\n\nResponse B:", 1)[0]
        b = text.split("Response B:\n", 1)[1].split("\n\nWhich response", 1)[0]
        return " tie\nRationale: alike." if ("GOOD" in a) == ("GOOD" in b) else \
            (" A" if "GOOD" in a else " B") + "\nRationale: specific."
    return f"Reference answer GOOD: {text[:40]}"


def queue_policy_replies(moto: str, n: int = 120) -> None:
    """Canned replies of the policy endpoint, in order: every third one is a good answer."""
    replies = [{"choices": [{"index": 0, "finish_reason": "stop", "message": {
        "role": "assistant", "content": f"Policy answer {i}: {'GOOD, with the details' if i % 3 == 0 else 'vague'}"}}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 6}} for i in range(n)]
    results = [{"Body": json.dumps(r), "ContentType": "application/json"} for r in replies]
    urllib.request.urlopen(urllib.request.Request(
        f"{moto}/moto-api/static/sagemaker/endpoint-results", method="POST",
        data=json.dumps({"region": "us-east-1", "results": results}).encode()))


@pytest.fixture
def world(tmp_path, dagster_home, moto_s3, monkeypatch):
    urllib.request.urlopen(urllib.request.Request(f"{moto_s3}/moto-api/reset", method="POST"))
    fake = FakeSageMaker()
    fake.install(monkeypatch)
    boto3.client("s3", endpoint_url=moto_s3).create_bucket(Bucket="acme-out")
    queue_policy_replies(moto_s3)
    storage = StorageResource(root=ROOT, raw_root=str(tmp_path / "raw"), endpoint_url=moto_s3)
    layout = storage.layout()
    # what the SFT flow leaves behind: its records (the test split gives held-out prompts) and its marker
    records = [SFTRecord(id=f"sft-{i}", method="grounded_qa", messages=[
        Turn(role="user", content=f"How much notice does policy {i} require?"),
        Turn(role="assistant", content=f"Policy {i} requires {i + 1} weeks of notice.")]) for i in range(20)]

    def write_sft() -> dict:
        with layout.at(layout.sft("dataset")).open("records.jsonl", "wt") as f:
            f.writelines(r.model_dump_json() + "\n" for r in records)
        return {"records": len(records)}

    run_once(layout, "dataset", "sft-fp", write_sft)
    collection = tmp_path / "prompts.jsonl"
    collection.write_text("".join(json.dumps({"prompt": f"Collection question {i} about {t}?", "topic": t}) + "\n"
                                  for i, t in enumerate(TOPICS)))
    with layout.at(layout.preference("logs")).open("2026-11-20.jsonl", "wt") as f:
        f.write(json.dumps({"prompt": "Can I expense a taxi?", "response": "Yes, with a receipt.", "thumbs": "up"}) + "\n")
        f.write(json.dumps({"prompt": "Where do I file leave? Answer to jane.doe@acme-corp.com", "response": "No idea.",
                            "thumbs": "down"}) + "\n")
    config = tmp_path / "refinery.yaml"
    config.write_text(yaml.safe_dump({"preference": {
        "prompts": {"collection": str(collection), "per_round": 4, "eval_prompts": 2, "topic_quotas": {"billing": 2}},
        "candidates": {"policy": {"name": "policy", "backend": "sagemaker", "endpoint_name": "base-policy"},
                       "references": [{"name": "claude", "backend": "anthropic", "model": "claude-haiku-4-5",
                                       "samples": 1}]},
        "ai_feedback": {"mode": "both", "ratings": {"aspects": ["helpfulness", "honesty"]}},
        "training": {"role_arn": ROLE, "endpoint_instance_type": "ml.g4dn.xlarge", "poll_seconds": 0.01}}}))
    with FakeAnthropicServer(responder=judge) as server:
        llm = LLMResource(backend="anthropic", api_key="sk-test", base_url=server.base_url, region_name="us-east-1",
                          aws_endpoint_url=moto_s3, timeout=5.0, max_retries=1)
        resources = {"storage": storage, "llm": llm, "settings": SettingsResource(config_file=str(config)),
                     "training": TrainingResource(backend="sagemaker", region_name="us-east-1", endpoint_url=moto_s3),
                     "compute": ComputeResource(), "hub": HubResource(),
                     "embeddings": EmbeddingsResource()}
        defs = dg.Definitions(assets=dg.load_assets_from_modules([assets.sft.assets, assets.preference.assets]),
                              asset_checks=dg.load_asset_checks_from_modules([assets.preference.checks]),
                              jobs=[preference_round_job, preference_train_job], resources=resources,
                              sensors=[preference_loop_sensor], executor=dg.in_process_executor)
        yield {"defs": defs, "layout": layout, "fake": fake, "server": server, "moto": moto_s3,
               "resources": resources, "sm": boto3.client("sagemaker", region_name="us-east-1", endpoint_url=moto_s3)}


def _run(world, job: str, key: str, **kw) -> dict:
    result = world["defs"].resolve_job_def(job).execute_in_process(
        partition_key=key, instance=dg.DagsterInstance.get(), raise_on_error=False, **kw)
    out = {"success": result.success, "checks": {e.check_name: e.passed for e in result.get_asset_check_evaluations()}}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        out[mat.asset_key.to_user_string()] = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
    return out


def _sensor_step(world):
    context = dg.build_sensor_context(instance=dg.DagsterInstance.get(),
                                      resources={k: world["resources"][k] for k in ("storage", "settings")})
    result = preference_loop_sensor(context)
    if isinstance(result, dg.SkipReason):
        return None
    for request in result.dynamic_partitions_requests:
        dg.DagsterInstance.get().add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    (request,) = result.run_requests
    return request.job_name, request.partition_key, request.asset_selection


def _annotate(world, key: str) -> list[dict]:
    """alice ranks the GOOD answers first and gets the controls right; bob does the opposite."""
    layout = world["layout"]
    export = layout.at(layout.preference("rounds", key, "annotation", "export"))
    with export.open("mapping.json", "rt") as f:
        mapping = json.load(f)
    with export.open("annotation.jsonl", "rt") as f:
        rows = [json.loads(line) for line in f]
    filled = []
    for row in rows:
        slots = sorted(k for k in row if k.startswith("response_") and row[k])
        control = mapping["controls"].get(row["record_id"])
        good = [control["best"]] if control else [s for s in slots if "GOOD" in row[s]]
        best_first = good + [s for s in slots if s not in good]
        for annotator, order in (("alice", best_first), ("bob", best_first[::-1])):
            filled.append({**row, "annotator": annotator, "status": "submitted", "ranking": " > ".join(order),
                           "acceptable": ",".join(order[:1])})
    first_real = next(r for r in filled if r["annotator"] == "alice" and r["record_id"] not in mapping["controls"])
    first_real["edited_response"] = "An edited answer, GOOD and complete."
    return filled


def _write_returned(world, key: str, name: str, rows: list[dict]) -> None:
    layout = world["layout"]
    with layout.at(layout.preference("rounds", key, "annotation", "returned")).open(name, "wt") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)


def test_two_rounds_end_to_end_with_annotations_training_and_endpoint_update(world, tmp_path):
    layout, sm, server = world["layout"], world["sm"], world["server"]
    assert _sensor_step(world) == ("preference_round_job", "round-001", None)  # an SFT dataset exists
    r1 = _run(world, "preference_round_job", "round-001")
    assert r1["success"], r1
    # 8 collection + 1 SFT test prompt, 2 of them held out for evaluation; 2 from the production log
    assert r1["preference_prompts"]["by_source"] == {"collection": 3, "sft_test": 1, "logs": 2}
    assert r1["preference_prompts"]["eval_prompts"] == 2 and r1["preference_prompts"]["log_responses"] == 2
    cands = r1["preference_candidates"]["by_source"]
    assert cands["policy"] == 12 and cands["claude"] == 6 and cands["log"] == 2
    assert r1["preference_dataset"]["pairs"] >= 1
    assert r1["preference_prompts"]["pii_redacted"] and "jane.doe@acme-corp.com" not in json.dumps(server.records)
    assert r1["checks"] == {"preference_dataset_trainer_layout": True, "preference_dataset_no_eval_leak": True,
                            "preference_ai_feedback_llm_failures": True}

    # annotations come back: the sensor re-runs feedback -> dataset; bob fails the controls and is not used
    rows = _annotate(world, "round-001")
    _write_returned(world, "round-001", "batch-1.jsonl", rows)
    job, key, selection = _sensor_step(world)
    assert (job, key) == ("preference_round_job", "round-001")
    assert {k.to_user_string() for k in selection} == {"preference_feedback", "preference_dataset"}
    r1b = _run(world, "preference_round_job", "round-001", asset_selection=selection)
    feedback = r1b["preference_feedback"]
    assert feedback["flagged_annotators"] == ["bob"] and feedback["by_origin"]["human"] >= 4
    assert r1b["preference_dataset"]["dpo_by_origin"].get("edited") == 1
    scores = layout.at(layout.preference("rounds", "round-001", "feedback")).open("scores.jsonl", "rt").read()

    # the same annotations imported again (another file name) change nothing
    _write_returned(world, "round-001", "batch-1-again.jsonl", rows)
    assert _sensor_step(world)[0] == "preference_round_job"
    assert _run(world, "preference_round_job", "round-001", asset_selection=selection)["success"]
    assert layout.at(layout.preference("rounds", "round-001", "feedback")).open("scores.jsonl", "rt").read() == scores

    # enough pairs: training job, endpoint created, win rate on the held-out prompts
    assert _sensor_step(world)[:2] == ("preference_train_job", "round-001")
    t1 = _run(world, "preference_train_job", "round-001")
    assert t1["success"], t1
    assert t1["preference_policy"]["endpoint"] == "refinery-policy"
    assert sm.describe_endpoint(EndpointName="refinery-policy")["EndpointStatus"] == "InService"
    job = sm.describe_training_job(TrainingJobName=t1["preference_policy"]["training_job"])
    assert job["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"].startswith(f"{ROOT}/preference/rounds/")
    assert job["HyperParameters"]["algorithm"] == "dpo"
    # the entry point, uploaded under the storage root (the training role reads code/*)
    assert job["HyperParameters"]["sagemaker_program"] == '"train.py"'
    assert json.loads(job["HyperParameters"]["sagemaker_submit_directory"]).startswith(f"{ROOT}/code/training/")
    assert t1["preference_eval"]["compared"] == 2 and 0 <= t1["preference_eval"]["win_rate"] <= 1

    # round 2: opened by the sensor, candidates from the new endpoint, the endpoint updated in place
    assert _sensor_step(world) == ("preference_round_job", "round-002", None)
    r2 = _run(world, "preference_round_job", "round-002")
    assert r2["success"], r2
    assert r2["preference_candidates"]["policy"]["endpoint_name"] == "refinery-policy"
    assert r2["preference_prompts"]["log_responses"] == 0  # round 1 consumed the log file
    # 9 pooled prompts - 2 held out - 4 answered in round 1: the 3 fresh ones first, then one again
    assert r2["preference_prompts"]["fresh"] == 3 and r2["preference_prompts"]["prompts"] == 4
    assert _sensor_step(world)[:2] == ("preference_train_job", "round-002")
    t2 = _run(world, "preference_train_job", "round-002")
    assert t2["success"], t2
    assert len(world["fake"].updates) == 1
    assert world["fake"].updates == [t2["preference_policy"]["model_name"]]  # updated, not re-created
    assert sm.describe_endpoint(EndpointName="refinery-policy")["EndpointConfigName"] == world["fake"].updates[0]
    plot = t2["preference_eval"]["win_rate_by_round"]
    assert "| round-001 |" in plot and "| round-002 |" in plot

    # exports load with datasets, in TRL's layouts
    local = tmp_path / "round-002"
    layout.at(layout.preference("rounds", "round-002")).get("dataset", str(local), recursive=True)
    dpo, kto = load_dataset(str(local), "dpo"), load_dataset(str(local), "kto")
    assert {"prompt", "chosen", "rejected", "score_chosen", "score_rejected", "messages"} <= \
        set(next(iter(dpo.values())).column_names)
    assert {"prompt", "completion", "label"} <= set(next(iter(kto.values())).column_names)

    # a resumed round pays for nothing twice
    calls = server.calls
    again = _run(world, "preference_round_job", "round-002")
    assert again["success"] and server.calls == calls
    assert again["preference_candidates"]["reused_previous_output"]


def test_a_failed_training_job_leaves_the_round_unpublished_and_retryable(world):
    layout, fake = world["layout"], world["fake"]
    dg.DagsterInstance.get().add_dynamic_partitions("rounds", ["round-001"])
    assert _run(world, "preference_round_job", "round-001")["success"]
    name = f"refinery-round-001-{DATASET.fingerprint_in(layout, 'round-001')[:8]}"
    fake.jobs[f"{name}-a1"] = ("Failed", "AlgorithmError: CUDA out of memory")
    failed = _run(world, "preference_train_job", "round-001")
    assert not failed["success"]
    assert layout.read_json(layout.preference("rounds", "round-001", "policy", "policy.json")) is None
    assert next_step(layout, ["round-001"], 1)[0] == "train"  # still the next thing to do
    retried = _run(world, "preference_train_job", "round-001")
    assert retried["success"] and retried["preference_policy"]["training_job"] == f"{name}-a2"
