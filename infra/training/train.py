"""SageMaker training entry point of a preference round: TRL's DPO, KTO or ORPO on the round's dataset.

Reads the `train` channel the preference loop exports (`<channel>/README.md`, `<channel>/dpo/…`,
`<channel>/kto/…`; see refinery/preference/export.py) and the job's hyperparameters, and writes the trained
model and tokenizer where SageMaker packs `model.tar.gz` from:

    SM_CHANNEL_TRAIN     /opt/ml/input/data/train
    SM_INPUT_CONFIG_DIR  /opt/ml/input/config          (hyperparameters.json)
    SM_MODEL_DIR         /opt/ml/model
    SM_OUTPUT_DIR        /opt/ml/output                 (`failure` holds the reason a job failed)

Hyperparameters (strings, as the API passes them): algorithm (dpo|kto|orpo), base_model (a hub id or a
path), `epochs`/`batch_size` for num_train_epochs/per_device_train_batch_size, and any other field of TRL's
DPOConfig/KTOConfig/ORPOConfig (beta, learning_rate, max_length, max_steps, ...). `sagemaker_*` keys, which
the SageMaker SDK adds, are ignored.

Self-contained on purpose: it imports only torch, transformers, datasets and trl, so the SageMaker SDK can
ship this folder as `source_dir` into a Hugging Face training container (requirements.txt pins trl)."""
from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import traceback
from pathlib import Path

ALIASES = {"epochs": "num_train_epochs", "batch_size": "per_device_train_batch_size"}
OURS = {"algorithm", "base_model"}
# ORPO's trainer applies the chat template itself and refuses other chat columns (the `messages` of a DPO row)
DROP_COLUMNS = {"orpo": ["messages"]}


def _value(raw):
    """The API passes strings; the SageMaker SDK JSON-encodes them ('"dpo"', '0.1')."""
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def read_hyperparameters(config_dir: Path) -> dict:
    path = config_dir / "hyperparameters.json"
    raw = json.loads(path.read_text()) if path.is_file() else {}
    return {ALIASES.get(k, k): _value(v) for k, v in raw.items() if not k.startswith("sagemaker_")}


def trainer_classes(algorithm: str):
    if algorithm == "dpo":
        from trl import DPOConfig, DPOTrainer
        return DPOConfig, DPOTrainer
    if algorithm == "kto":
        from trl import KTOConfig, KTOTrainer
        return KTOConfig, KTOTrainer
    if algorithm == "orpo":
        os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
        from trl.experimental.orpo import ORPOConfig, ORPOTrainer
        return ORPOConfig, ORPOTrainer
    raise ValueError(f"algorithm {algorithm!r}: expected dpo, kto or orpo")


def load_split(channel: Path, algorithm: str):
    """The export's `dpo` config for DPO and ORPO, `kto` for KTO, train split; a channel that is one
    config's folder (only `train-*.parquet` files) works too."""
    from datasets import load_dataset

    config = "kto" if algorithm == "kto" else "dpo"
    if (channel / config).is_dir():
        dataset = load_dataset(str(channel), config, split="train")
    else:
        files = sorted(str(p) for p in channel.glob("train-*.parquet"))
        if not files:
            raise FileNotFoundError(f"no {config}/ folder and no train-*.parquet in the train channel {channel}")
        dataset = load_dataset("parquet", data_files=files, split="train")
    drop = [c for c in DROP_COLUMNS.get(algorithm, []) if c in dataset.column_names]
    return dataset.remove_columns(drop) if drop else dataset


def train(channel: Path, config_dir: Path, model_dir: Path, work_dir: Path) -> dict:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    hp = read_hyperparameters(config_dir)
    algorithm = str(hp.get("algorithm", "dpo")).lower()
    if "base_model" not in hp:
        raise ValueError("hyperparameter base_model is required (a hub id or a path in the container)")
    config_cls, trainer_cls = trainer_classes(algorithm)
    fields = {f.name for f in dataclasses.fields(config_cls)}
    unknown = sorted(set(hp) - fields - OURS)
    if unknown:  # a typo would otherwise train with the default silently
        raise ValueError(f"unknown hyperparameters for {algorithm}: {unknown}")
    settings = {"output_dir": str(work_dir), "save_strategy": "no", "report_to": [], "logging_steps": 10}
    if not torch.cuda.is_available():  # TRL defaults to bf16 on a GPU and refuses to start without one
        settings["use_cpu"] = True
    settings |= {k: v for k, v in hp.items() if k in fields}
    args = config_cls(**settings)

    dataset = load_split(channel, algorithm)
    base = str(hp["base_model"])
    tokenizer = AutoTokenizer.from_pretrained(base)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(base)
    # the frozen reference, loaded from the same weights; ORPO has none
    ref = {} if algorithm == "orpo" else {"ref_model": AutoModelForCausalLM.from_pretrained(base)}
    trainer = trainer_cls(model=model, args=args, train_dataset=dataset, processing_class=tokenizer, **ref)
    result = trainer.train()
    loss = float(result.training_loss)
    if not math.isfinite(loss):
        raise RuntimeError(f"training loss is {loss}: not saving a diverged model")
    trainer.save_model(str(model_dir))
    tokenizer.save_pretrained(str(model_dir))
    metrics = {"algorithm": algorithm, "base_model": base, "rows": len(dataset), "training_loss": loss,
               "steps": int(result.global_step)}
    (model_dir / "training_metrics.json").write_text(json.dumps(metrics, indent=2))
    return metrics


def main() -> int:
    env = os.environ.get
    output = Path(env("SM_OUTPUT_DIR", "/opt/ml/output"))
    try:
        model_dir = Path(env("SM_MODEL_DIR", "/opt/ml/model"))
        model_dir.mkdir(parents=True, exist_ok=True)
        metrics = train(Path(env("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train")),
                        Path(env("SM_INPUT_CONFIG_DIR", "/opt/ml/input/config")), model_dir, output / "trainer")
    except Exception as err:  # noqa: BLE001 -- any failure must reach SageMaker's FailureReason
        # SageMaker shows the first 1 KB of this file as the job's FailureReason
        output.mkdir(parents=True, exist_ok=True)
        (output / "failure").write_text(f"{type(err).__name__}: {err}"[:1024])
        traceback.print_exc()
        return 1
    # one line per metric: a training job's MetricDefinitions regex can pick it up
    print(f"training_loss={metrics['training_loss']:.6f} rows={metrics['rows']} steps={metrics['steps']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
