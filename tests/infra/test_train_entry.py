"""infra/training/train.py, the SageMaker training entry point, on a tiny random model saved to a folder and
the preference export the loop writes, with temporary folders standing in for /opt/ml. DPO runs end to end:
SageMakerTrainer creates the job on moto (the export on moto's S3, the entry point uploaded as
sourcedir.tar.gz) and the job's container command runs here as the framework container would run it (a
subprocess configured by SM_* variables); KTO, ORPO and a bad hyperparameter go through the same main() in
this process, which saves the subprocess start-up."""
import importlib.util
import json
import math
import os
from pathlib import Path

import boto3
import pytest

from refinery.preference.config import PairOptions
from refinery.preference.export import export_preferences
from refinery.preference.pairs import ai_scores, dpo_rows, kto_rows
from refinery.preference.training import SageMakerTrainer, TrainingOptions
from refinery.storage import data_folder
from tests.fakes.sagemaker import run_training_container
from tests.preference.test_pairs_export import PROMPTS, _candidates
from tests.preference.trl_check import _tiny

SCRIPT = Path(__file__).resolve().parents[2] / "infra" / "training" / "train.py"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """(train channel, base model folder): the round's export and a tiny Llama with the bundled tokenizer."""
    root = tmp_path_factory.mktemp("opt_ml")
    cands = _candidates()
    scores = ai_scores(cands, [], "ratings")
    dpo = dpo_rows(PROMPTS, {c.id: c for c in cands}, scores, PairOptions(strategy="all_above_margin"), "round-001")
    kto = kto_rows(PROMPTS, cands, scores, PairOptions(), "round-001")
    channel = root / "input" / "data" / "train"
    export_preferences(dpo, kto, data_folder(str(channel)), 0.2, {"round": "round-001"})
    tok, model = _tiny()
    base = root / "base"
    model.save_pretrained(base)
    tok.save_pretrained(base)
    return channel, base


def _job(tmp_path: Path, base: Path, **hyperparameters) -> dict:
    config = tmp_path / "input" / "config"
    config.mkdir(parents=True)
    # strings, as CreateTrainingJob passes them; the SDK's JSON-encoded form for one of them
    hp = {"base_model": str(base), "max_steps": "1", "batch_size": "2", "sagemaker_program": '"train.py"',
          **{k: str(v) for k, v in hyperparameters.items()}}
    (config / "hyperparameters.json").write_text(json.dumps(hp))
    return {"SM_INPUT_CONFIG_DIR": str(config), "SM_MODEL_DIR": str(tmp_path / "model"),
            "SM_OUTPUT_DIR": str(tmp_path / "output")}


def _saved(model_dir: Path) -> dict:
    from transformers import AutoModelForCausalLM

    assert AutoModelForCausalLM.from_pretrained(model_dir).num_parameters() > 0
    assert (model_dir / "tokenizer.json").is_file()
    return json.loads((model_dir / "training_metrics.json").read_text())


def test_dpo_job_runs_the_entry_point_from_s3(inputs, tmp_path, moto_server):
    channel, base = inputs
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=moto_server)
    s3.create_bucket(Bucket="train-entry")
    data_uri = "s3://train-entry/preference/rounds/round-001/dataset"
    for path in channel.rglob("*"):  # the loop's export, where the loop writes it
        if path.is_file():
            s3.upload_file(str(path), "train-entry", f"preference/rounds/round-001/dataset/{path.relative_to(channel)}")
    options = TrainingOptions(
        role_arn="arn:aws:iam::123456789012:role/refinery-training", base_model=str(base),
        output_s3_uri="s3://train-entry/preference/models", code_s3_uri="s3://train-entry/code/training",
        hyperparameters={"algorithm": "dpo", "beta": 0.1, "learning_rate": 5e-7, "max_steps": 1, "batch_size": 2})
    trainer = SageMakerTrainer(options, region_name="us-east-1", endpoint_url=moto_server, sleep=lambda s: None,
                               storage=data_folder("s3://train-entry", moto_server))
    model = trainer.train("train-entry-round-001", data_uri)

    job = boto3.client("sagemaker", region_name="us-east-1", endpoint_url=moto_server).describe_training_job(
        TrainingJobName=model.job_name)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    done = run_training_container(job, s3, tmp_path, env)
    assert done.returncode == 0, done.stderr[-3000:]
    model_dir = tmp_path / "opt_ml" / "model"
    metrics = _saved(model_dir)
    assert metrics["algorithm"] == "dpo" and metrics["base_model"] == str(base) and metrics["steps"] == 1
    assert metrics["rows"] > 0 and math.isfinite(metrics["training_loss"])
    assert f"training_loss={metrics['training_loss']:.6f}" in done.stdout
    assert not (tmp_path / "opt_ml" / "output" / "failure").exists()
    # the artifact the endpoint is then created from
    bucket, key = model.artifact_uri.removeprefix("s3://").split("/", 1)
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] > 0


def _main(monkeypatch, env: dict) -> int:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    spec = importlib.util.spec_from_file_location("train_entry", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main()


@pytest.mark.parametrize("algorithm", ["kto", "orpo"])
def test_kto_and_orpo(inputs, tmp_path, monkeypatch, algorithm):
    channel, base = inputs
    env = {**_job(tmp_path, base, algorithm=algorithm), "SM_CHANNEL_TRAIN": str(channel)}
    assert _main(monkeypatch, env) == 0
    metrics = _saved(tmp_path / "model")
    assert metrics["algorithm"] == algorithm and math.isfinite(metrics["training_loss"])


def test_a_misspelt_hyperparameter_fails_the_job_with_its_reason(inputs, tmp_path, monkeypatch):
    channel, base = inputs
    env = {**_job(tmp_path, base, algorithm="dpo", betta="0.2"), "SM_CHANNEL_TRAIN": str(channel)}
    assert _main(monkeypatch, env) == 1
    assert (tmp_path / "output" / "failure").read_text() == "ValueError: unknown hyperparameters for dpo: ['betta']"
    assert not (tmp_path / "model" / "training_metrics.json").exists()
