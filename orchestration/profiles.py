"""One resource set per environment, picked by REFINERY_ENV (local by default). Values come from EnvVar
so the UI, the CLI and a deployment read the same settings."""
from __future__ import annotations

import os

import dagster as dg

from refinery.config_check import ConfigError, config_problems
from resources import ComputeResource, CorpusSettings, HubResource, LLMResource, StorageResource, TrainingResource


def _storage() -> StorageResource:
    return StorageResource(
        root=os.environ.get("REFINERY_ROOT", "data"),
        raw_root=os.environ.get("REFINERY_RAW", "samples/raw"),
        endpoint_url=os.environ.get("REFINERY_S3_ENDPOINT") or None,
    )


def _llm() -> LLMResource:
    """REFINERY_LLM picks the backend (embedded by default). Keys only ever come from EnvVar."""
    backend = os.environ.get("REFINERY_LLM", "embedded")
    keys = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}
    key_var = keys.get(backend)
    api_key = dg.EnvVar(key_var) if key_var and (backend == "anthropic" or os.environ.get(key_var)) else None
    optional = {field: os.environ[var] for field, var in (
        ("model", "REFINERY_LLM_MODEL"), ("base_url", "REFINERY_LLM_BASE_URL"),
        ("endpoint_name", "REFINERY_LLM_ENDPOINT"), ("region_name", "AWS_REGION"),
        ("aws_endpoint_url", "REFINERY_SAGEMAKER_ENDPOINT_URL")) if os.environ.get(var)}
    if os.environ.get("REFINERY_LLM_CONCURRENCY"):
        optional["max_concurrency"] = int(os.environ["REFINERY_LLM_CONCURRENCY"])
    if os.environ.get("REFINERY_RETRY_FAILED"):
        optional["retry_failed"] = os.environ["REFINERY_RETRY_FAILED"] == "1"
    if os.environ.get("REFINERY_LLM_BATCHES"):
        optional["use_batches"] = os.environ["REFINERY_LLM_BATCHES"] == "1"
    return LLMResource(backend=backend, api_key=api_key, **optional)


def _hub() -> HubResource:
    return HubResource(token=dg.EnvVar("HF_TOKEN") if os.environ.get("HF_TOKEN") else None)


def _training() -> TrainingResource:
    """REFINERY_TRAINING=sagemaker runs real training jobs and endpoints; local (default) records them."""
    optional = {field: os.environ[var] for field, var in (
        ("region_name", "AWS_REGION"), ("endpoint_url", "REFINERY_SAGEMAKER_API_URL"),
        ("role_arn", "REFINERY_SAGEMAKER_ROLE")) if os.environ.get(var)}
    return TrainingResource(backend=os.environ.get("REFINERY_TRAINING", "local"), **optional)


def resources_for(env: str | None = None) -> dict:
    env = env or os.environ.get("REFINERY_ENV", "local")
    config_file = os.environ.get("REFINERY_CONFIG") or None
    if problems := config_problems(config_file):
        raise ConfigError(problems)  # the UI shows these lines when it loads the code location, before any run
    settings = CorpusSettings(config_file=config_file)
    if env in ("local", "ci"):
        return {"storage": _storage(), "compute": ComputeResource(workers=int(os.environ.get("REFINERY_WORKERS", "2"))),
                "settings": settings, "llm": _llm(), "hub": _hub(), "training": _training()}
    if env == "prod":
        # production roots are mandatory: fail at load time rather than write to a local folder by accident
        return {
            "storage": StorageResource(root=dg.EnvVar("REFINERY_ROOT"), raw_root=dg.EnvVar("REFINERY_RAW"),
                                       endpoint_url=os.environ.get("REFINERY_S3_ENDPOINT") or None),
            "compute": ComputeResource(workers=int(os.environ.get("REFINERY_WORKERS", "8"))),
            "settings": settings,
            "llm": _llm(),
            "hub": _hub(),
            "training": _training(),
        }
    raise ValueError(f"unknown REFINERY_ENV {env!r}: expected local, ci or prod")
