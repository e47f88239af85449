"""infra/training/train.py, the SageMaker training entry point, on a tiny random model saved to a folder and
the preference export the loop writes, with temporary folders standing in for /opt/ml. DPO runs as the
container would run it (a subprocess configured by SM_* variables); KTO, ORPO and a bad hyperparameter go
through the same main() in this process, which saves the subprocess start-up."""
import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from refinery.preference.config import PairOptions
from refinery.preference.export import export_preferences
from refinery.preference.pairs import ai_scores, dpo_rows, kto_rows
from refinery.storage import data_folder
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


def test_dpo_as_the_container_runs_it(inputs, tmp_path):
    channel, base = inputs
    env = {**os.environ, **_job(tmp_path, base, algorithm="dpo", beta="0.1", learning_rate="5e-07"),
           "SM_CHANNEL_TRAIN": str(channel), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "HF_HOME": str(tmp_path / "hf")}
    done = subprocess.run([sys.executable, str(SCRIPT)], check=False, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = _saved(tmp_path / "model")
    assert metrics["algorithm"] == "dpo" and metrics["steps"] == 1 and math.isfinite(metrics["training_loss"])
    assert metrics["rows"] > 0 and f"training_loss={metrics['training_loss']:.6f}" in done.stdout
    assert not (tmp_path / "output" / "failure").exists()


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
