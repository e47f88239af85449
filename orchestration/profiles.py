"""One resource set per environment, picked by REFINERY_ENV (local by default). Values come from EnvVar
so the UI, the CLI and a deployment read the same settings."""
from __future__ import annotations

import os

import dagster as dg

from resources import ComputeResource, CorpusSettings, StorageResource


def _storage() -> StorageResource:
    return StorageResource(
        root=os.environ.get("REFINERY_ROOT", "data"),
        raw_root=os.environ.get("REFINERY_RAW", "samples/raw"),
        endpoint_url=os.environ.get("REFINERY_S3_ENDPOINT") or None,
    )


def resources_for(env: str | None = None) -> dict:
    env = env or os.environ.get("REFINERY_ENV", "local")
    settings = CorpusSettings(config_file=os.environ.get("REFINERY_CONFIG") or None)
    if env in ("local", "ci"):
        return {"storage": _storage(), "compute": ComputeResource(workers=int(os.environ.get("REFINERY_WORKERS", "2"))),
                "settings": settings}
    if env == "prod":
        # production roots are mandatory: fail at load time rather than write to a local folder by accident
        return {
            "storage": StorageResource(root=dg.EnvVar("REFINERY_ROOT"), raw_root=dg.EnvVar("REFINERY_RAW"),
                                       endpoint_url=os.environ.get("REFINERY_S3_ENDPOINT") or None),
            "compute": ComputeResource(workers=int(os.environ.get("REFINERY_WORKERS", "8"))),
            "settings": settings,
        }
    raise ValueError(f"unknown REFINERY_ENV {env!r}: expected local, ci or prod")
