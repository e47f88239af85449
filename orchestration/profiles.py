"""One resource set per environment (REFINERY_ENV: local by default, ci, prod), each described by one dict.

A setting's value comes from, in order: the command line (the CLI passes its flags here as `overrides`, the
resources' own config), the environment variable named in `ENV_VARS` (what the UI and a deployment use), the
environment's profile. Keys only ever come from EnvVar, so Dagster masks them."""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import dagster as dg

from refinery.config_check import ConfigError, check_file, runner_problems, training_problems
from refinery.embed.embedder import API_KEY_ENV as EMBEDDINGS_KEY_ENV
from resources import (
    ComputeResource,
    EmbeddingsResource,
    HubResource,
    LLMResource,
    SettingsResource,
    StorageResource,
    TrainingResource,
)

REQUIRED = object()  # no default: the environment must say (production roots)

PROFILES: dict[str, dict[str, Any]] = {
    "local": {"root": "data", "raw": "samples/raw", "workers": 2, "runner": "local", "llm": "embedded",
              "training": "local", "executor": "in_process"},
    "ci": {"root": "data", "raw": "samples/raw", "workers": 2, "runner": "local", "llm": "embedded",
           "training": "local", "executor": "in_process"},
    # production roots are mandatory: fail at load time rather than write to a local folder by accident
    "prod": {"root": REQUIRED, "raw": REQUIRED, "workers": 8, "runner": "local", "llm": "embedded",
             "training": "local", "executor": "multiprocess", "max_concurrent": 2},
}

ENV_VARS = {  # setting -> the environment variable that stands in for it when the command line is silent
    "root": "REFINERY_ROOT", "raw": "REFINERY_RAW", "config": "REFINERY_CONFIG", "s3_endpoint": "REFINERY_S3_ENDPOINT",
    "workers": "REFINERY_WORKERS", "llm": "REFINERY_LLM", "model": "REFINERY_LLM_MODEL",
    "llm_base_url": "REFINERY_LLM_BASE_URL", "llm_endpoint": "REFINERY_LLM_ENDPOINT",
    "llm_concurrency": "REFINERY_LLM_CONCURRENCY", "llm_workers": "REFINERY_LLM_WORKERS", "retry_failed": "REFINERY_RETRY_FAILED",
    "llm_batches": "REFINERY_LLM_BATCHES", "budget": "REFINERY_LLM_BUDGET_USD", "region": "AWS_REGION",
    "sagemaker_runtime_url": "REFINERY_SAGEMAKER_ENDPOINT_URL", "training": "REFINERY_TRAINING",
    "sagemaker_api_url": "REFINERY_SAGEMAKER_API_URL", "sagemaker_role": "REFINERY_SAGEMAKER_ROLE",
    "training_source": "REFINERY_TRAINING_SOURCE",
    "executor": "REFINERY_EXECUTOR", "max_concurrent": "REFINERY_MAX_CONCURRENT", "runner": "REFINERY_RUNNER",
    "processing_image": "REFINERY_PROCESSING_IMAGE", "processing_role": "REFINERY_PROCESSING_ROLE",
    "processing_instance_type": "REFINERY_PROCESSING_INSTANCE_TYPE", "processing_instances": "REFINERY_PROCESSING_INSTANCES",
}
# the runners' own settings (resources.compute.RaySettings/SlurmSettings): setting ray_address is
# compute.ray.address, from REFINERY_RAY_ADDRESS
RUNNER_SETTINGS = {"ray": ("address", "workers", "cpus_per_task", "mem_per_cpu_gb", "tasks_per_job", "time_limit_s"),
                   "slurm": ("partition", "time_limit", "workers", "cpus_per_task", "mem_per_cpu_gb", "tasks_per_job",
                             "qos", "env_command", "timeout_s")}
ENV_VARS.update({f"{engine}_{name}": f"REFINERY_{engine.upper()}_{name.upper()}"
                 for engine, names in RUNNER_SETTINGS.items() for name in names})
KEYS = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}


# Run pod size on Kubernetes per job kind, (CPU, GiB): what a job's `dagster-k8s/config` tag asks the
# K8sRunLauncher for (k8s_tags). The corpus pod does the work itself with the local runner (a CPU and 3 GiB per
# datatrove worker: docs/scaling.md's 2 GiB a worker plus the serial passes; at least 8 GiB) and only
# coordinates with ray/slurm/sagemaker. sft: chunking, the dataset; llm: generation against a remote LLM or the
# 135M embedded one; train: SageMaker trains, the pod polls.
POD_SIZES: dict[str, tuple[int, int]] = {"corpus_remote": (2, 4), "sft": (2, 8), "llm": (2, 8), "train": (1, 2)}
GIB_PER_WORKER = 3


def pod_resources(kind: str, env: str | None = None) -> dict[str, dict[str, str]]:
    """Kubernetes resource requirements of a `kind` run pod under environment `env`'s runner and workers.
    Memory limit = request: a pod over budget is OOM-killed instead of starving its node; no CPU limit, so
    datatrove's workers are never throttled."""
    if kind == "corpus":
        s = settings_for(env or os.environ.get("REFINERY_ENV", "local"))
        workers = int(s["workers"])
        cpu, gib = (workers, max(8, GIB_PER_WORKER * workers)) if s["runner"] == "local" else POD_SIZES["corpus_remote"]
    else:
        cpu, gib = POD_SIZES[kind]
    return {"requests": {"cpu": str(cpu), "memory": f"{gib}Gi"}, "limits": {"memory": f"{gib}Gi"}}


def k8s_tags(kind: str, env: str | None = None) -> dict[str, str]:
    """The `dagster-k8s/config` tag of a job (JSON, as dagster-k8s reads a run's string tags)."""
    return {"dagster-k8s/config": json.dumps({"container_config": {"resources": pod_resources(kind, env)}})}


def settings_for(env: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every setting's value: the command line, else its environment variable, else the profile's."""
    if env not in PROFILES:
        raise ValueError(f"unknown REFINERY_ENV {env!r}: expected {', '.join(PROFILES)}")
    values = dict(PROFILES[env])
    values.update({name: os.environ[var] for name, var in ENV_VARS.items() if os.environ.get(var)})
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return values


def _flag(value: Any) -> bool:
    return value is True or value == "1"


def _llm(s: dict[str, Any]) -> LLMResource:
    backend = s["llm"]
    key_var = KEYS.get(backend)
    api_key = dg.EnvVar(key_var) if key_var and (backend == "anthropic" or os.environ.get(key_var)) else None
    optional = {field: s[name] for field, name in (
        ("model", "model"), ("base_url", "llm_base_url"), ("endpoint_name", "llm_endpoint"), ("region_name", "region"),
        ("aws_endpoint_url", "sagemaker_runtime_url")) if s.get(name)}
    if s.get("llm_concurrency"):
        optional["max_concurrency"] = int(s["llm_concurrency"])
    if s.get("llm_workers"):
        optional["embedded_workers"] = int(s["llm_workers"])
    if "retry_failed" in s:
        optional["retry_failed"] = _flag(s["retry_failed"])
    if s.get("budget") is not None:
        optional["budget_usd"] = float(s["budget"])
    if "llm_batches" in s:
        optional["use_batches"] = _flag(s["llm_batches"])
    return LLMResource(backend=backend, api_key=api_key, **optional)


def _embeddings(s: dict[str, Any]) -> EmbeddingsResource:
    key = dg.EnvVar(EMBEDDINGS_KEY_ENV) if os.environ.get(EMBEDDINGS_KEY_ENV) else None
    return EmbeddingsResource(api_key=key, aws_endpoint_url=s.get("sagemaker_runtime_url") or None)


def _training(s: dict[str, Any]) -> TrainingResource:
    """training=sagemaker runs real training jobs and endpoints; local (default) records them."""
    optional = {field: s[name] for field, name in (("region_name", "region"), ("endpoint_url", "sagemaker_api_url"),
                                                   ("role_arn", "sagemaker_role"),
                                                   ("source_dir", "training_source")) if s.get(name)}
    return TrainingResource(backend=s["training"], **optional)


def _compute(s: dict[str, Any]) -> ComputeResource:
    """runner: local (default) runs datatrove here; ray and slurm through datatrove's executors; sagemaker runs
    each corpus stage as one SageMaker Processing job."""
    nested = {engine: {name: s[f"{engine}_{name}"] for name in names if s.get(f"{engine}_{name}") not in (None, "")}
              for engine, names in RUNNER_SETTINGS.items()}
    processing = {field: s[name] for field, name in (
        ("image_uri", "processing_image"), ("role_arn", "processing_role"), ("instance_type", "processing_instance_type"),
        ("region", "region"), ("endpoint", "sagemaker_api_url")) if s.get(name)}
    if s.get("processing_instances"):
        processing["instance_count"] = int(s["processing_instances"])
    return ComputeResource(backend=s["runner"], workers=int(s["workers"]), sagemaker=processing, **nested)


def _storage(s: dict[str, Any]) -> StorageResource:
    root, raw = (dg.EnvVar(ENV_VARS[k]) if s[k] is REQUIRED else s[k] for k in ("root", "raw"))
    return StorageResource(root=root, raw_root=raw, endpoint_url=s.get("s3_endpoint") or None)


def executor_for(env: str | None = None, overrides: Mapping[str, Any] | None = None) -> dg.ExecutorDefinition:
    """How the steps of a run launched by the webserver/daemon execute (the CLI's execute_in_process always
    runs them in its own process). in_process (local): one process per run, datatrove parallelises inside a
    step. multiprocess (prod, a team instance): each step in a process of its own, so a step killed by the
    OOM killer fails that step and the run is still recorded, and independent steps (the asset checks beside
    the next stage) run side by side, at most `max_concurrent` at once, each with `workers` datatrove tasks.
    Partitions run in parallel as separate runs, bounded by the instance's run queue (dagster.yaml)."""
    s = settings_for(env or os.environ.get("REFINERY_ENV", "local"), overrides)
    if s["executor"] == "in_process":
        return dg.in_process_executor
    if s["executor"] != "multiprocess":
        raise ConfigError([f"REFINERY_EXECUTOR: unknown executor {s['executor']!r}; known: in_process, multiprocess"])
    return dg.multiprocess_executor.configured({"max_concurrent": int(s.get("max_concurrent") or 2)})


def resources_for(env: str | None = None, overrides: Mapping[str, Any] | None = None) -> dict:
    """The resources of environment `env` (default: REFINERY_ENV, else local). `overrides`: the CLI's values."""
    s = settings_for(env or os.environ.get("REFINERY_ENV", "local"), overrides)
    config_file = s.get("config") or None
    problems, loaded = check_file(config_file)
    problems += runner_problems(s["runner"], s.get("slurm_partition"), os.environ)
    if loaded is not None:
        problems += training_problems(loaded.preference.training, s["training"], s.get("sagemaker_role"),
                                      s.get("training_source"))
    if problems:
        raise ConfigError(problems)  # the UI shows these lines when it loads the code location, before any run
    return {"storage": _storage(s), "compute": _compute(s),
            "settings": SettingsResource(config_file=config_file), "llm": _llm(s),
            "hub": HubResource(token=dg.EnvVar("HF_TOKEN") if os.environ.get("HF_TOKEN") else None),
            "training": _training(s), "embeddings": _embeddings(s)}
