"""The compute backend datatrove pipelines run on. Local processes by default; `backend: sagemaker` runs each
corpus stage as one SageMaker Processing job (settings below). A cluster deployment uses Dagster's k8s
executor for runs."""
from __future__ import annotations

from typing import Literal

import dagster as dg
from pydantic import Field

from refinery.runners import local_runner
from refinery.stage import PipelineRunner


class SageMakerProcessingSettings(dg.Config):
    """One Processing job per stage run; its instances split the stage's datatrove tasks."""

    image_uri: str = ""  # an image with this version of llm-refinery installed (it runs our entry module)
    role_arn: str = Field("", pattern=r"^$|^arn:aws[a-z-]*:iam::\d{12}:role/\S+$")
    instance_type: str = Field("ml.m5.2xlarge", pattern=r"^ml\.")
    instance_count: int = Field(1, ge=1, le=100)
    volume_gb: int = Field(30, ge=1, le=16384)
    workers: int = Field(0, ge=0)  # tasks at once per instance; 0: the instance's CPU count
    region: str | None = None
    endpoint: str | None = None  # SageMaker API endpoint override (VPC endpoint; moto in tests)
    max_wait_s: int = Field(86400, ge=60, le=5 * 86400)  # Processing's own ceiling is 5 days


class ComputeResource(dg.ConfigurableResource):
    backend: Literal["local", "sagemaker"] = "local"
    workers: int = Field(2, ge=1)  # datatrove tasks run at once on this machine (local)
    start_method: Literal["forkserver", "spawn", "fork"] = "forkserver"
    sagemaker: SageMakerProcessingSettings = SageMakerProcessingSettings()

    def runner(self) -> PipelineRunner:
        if self.backend == "sagemaker":
            from refinery.runners.sagemaker_processing import (
                sagemaker_processing_runner,
            )

            return sagemaker_processing_runner(**self.sagemaker.model_dump())
        return local_runner(self.workers, self.start_method)
