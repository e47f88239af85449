"""`refinery preference` as a user runs it: the local trainer (records its inputs), rounds opened with --next,
a repeated command reuses everything and pays for nothing twice."""
import collections
import json
import threading

import yaml

from orchestration.cli import main
from refinery.llmdata.records import SFTRecord, Turn
from refinery.stage import run_once
from refinery.storage import Layout
from tests.fakes.anthropic_server import FakeAnthropicServer
from tests.fakes.plausible import anthropic_request


def _responder():
    seen: collections.Counter = collections.Counter()
    lock = threading.Lock()

    def respond(body: dict) -> str:
        req = anthropic_request(body)
        if req.prefill == "Rating:":
            return " 5\nRationale: specific." if "GOOD" in req.messages[-1].content.split("Response:")[1] \
                else " 1\nRationale: vague."
        if (req.prefill or "").startswith("Better:"):
            return " tie\nRationale: alike."
        # the SDK sends no seed, so a prompt's samples are identical requests: the first answer is good, the
        # next vague, whatever order the threads send them in
        prompt = req.messages[-1].content
        with lock:
            seen[prompt] += 1
            n = seen[prompt]
        return f"Answer {n} to {prompt}: " + ("GOOD and specific." if n == 1 else "vague.")

    return respond


def _root(tmp_path):
    layout = Layout(str(tmp_path / "data"))
    records = [SFTRecord(id=f"s{i}", method="grounded_qa", messages=[Turn(role="user", content=f"Rule {i}?"),
                                                                      Turn(role="assistant", content=f"Rule {i}.")])
               for i in range(10)]

    def write() -> dict:
        (tmp_path / "data" / "sft" / "dataset").mkdir(parents=True)
        (tmp_path / "data" / "sft" / "dataset" / "records.jsonl").write_text(
            "".join(r.model_dump_json() + "\n" for r in records))
        return {}

    run_once(layout, "dataset", "sft-fp", write)
    collection = tmp_path / "prompts.jsonl"
    collection.write_text("".join(json.dumps({"prompt": f"Question {i}?"}) + "\n" for i in range(8)))
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"preference": {
        "prompts": {"collection": str(collection), "per_round": 3, "eval_prompts": 1},
        "ai_feedback": {"ratings": {"aspects": ["helpfulness"]}}}}))
    return tmp_path / "data", config


def test_preference_command_rounds_with_the_local_trainer(tmp_path, dagster_home, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    root, config = _root(tmp_path)
    args = ["preference", "--root", str(root), "--config", str(config), "--llm", "anthropic"]
    with FakeAnthropicServer(responder=_responder()) as server:
        args += ["--llm-base-url", server.base_url]
        assert main([*args, "--json", str(tmp_path / "r1.json")]) == 0
        r1 = json.loads((tmp_path / "r1.json").read_text())["rounds"]["round-001"]
        assert r1["data"]["success"] and r1["train"]["success"]
        policy = r1["train"]["assets"]["preference_policy"]
        assert policy["local_trainer"] is True and policy["endpoint"] == "refinery-policy"
        job = json.loads((root / "preference" / "training" / policy["training_job"] / "job.json").read_text())
        recorded = json.dumps(job)
        assert "dpo/train-" in recorded and "sha256" in recorded  # what it would have trained on
        record = json.loads((root / "preference" / "rounds" / "round-001" / "policy" / "policy.json").read_text())
        assert record["next_policy"] == {}  # the local trainer trains nothing: the policy stays the configured one

        assert main([*args, "--next", "--json", str(tmp_path / "r2.json")]) == 0
        assert list(json.loads((tmp_path / "r2.json").read_text())["rounds"]) == ["round-002"]
        calls = server.calls
        assert main([*args, "--json", str(tmp_path / "again.json")]) == 0  # finish the latest: all done already
        again = json.loads((tmp_path / "again.json").read_text())["rounds"]["round-002"]
        assert server.calls == calls
        assert all(md["reused_previous_output"] for run in again.values() for md in run["assets"].values())


def test_a_round_without_any_prompt_source_fails_clearly(tmp_path, dagster_home, capsys):
    rc = main(["preference", "--root", str(tmp_path / "empty"), "--json", str(tmp_path / "r.json")])
    assert rc == 1
    report = json.loads((tmp_path / "r.json").read_text())["rounds"]["round-001"]
    assert not report["data"]["success"] and "train" not in report
    captured = capsys.readouterr()
    assert "round-001 has no prompts" in captured.out + captured.err


def test_a_configured_prompt_collection_that_is_missing_is_an_error(tmp_path, dagster_home, capsys):
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"preference": {"prompts": {"collection": str(tmp_path / "nope.jsonl")}}}))
    assert main(["preference", "--root", str(tmp_path / "data"), "--config", str(config)]) == 1
    captured = capsys.readouterr()
    assert "preference.prompts.collection: no .jsonl or .csv file at" in captured.out + captured.err


def test_sagemaker_training_without_a_role_or_entry_point_is_refused_before_a_run(tmp_path, dagster_home, capsys,
                                                                                  monkeypatch):
    monkeypatch.setenv("REFINERY_TRAINING", "sagemaker")
    monkeypatch.setenv("REFINERY_TRAINING_SOURCE", str(tmp_path))
    assert main(["preference", "--root", str(tmp_path / "data")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == ["error: REFINERY_TRAINING=sagemaker needs REFINERY_SAGEMAKER_ROLE (or preference.training.role_arn): "
                   "the training job's IAM role",
                   f"error: REFINERY_TRAINING=sagemaker: no train.py in {tmp_path}: set REFINERY_TRAINING_SOURCE (or "
                   "preference.training.source_dir) to the folder holding infra/training/train.py"]
    assert not (tmp_path / "data").exists()
    monkeypatch.setenv("REFINERY_SAGEMAKER_ROLE", "arn:aws:iam::123456789012:role/refinery-training")
    monkeypatch.delenv("REFINERY_TRAINING_SOURCE")  # the checkout's infra/training
    from orchestration.profiles import resources_for
    assert resources_for("local")["training"].backend == "sagemaker"  # the code location loads too
