"""Where a preference round's policy is trained and deployed: recorded locally by default (nothing is
trained), or SageMaker training jobs and a real-time endpoint."""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import dagster as dg
from datatrove.io import DataFolder

if TYPE_CHECKING:
    from refinery.preference.training import Trainer, TrainingOptions


class TrainingResource(dg.ConfigurableResource):
    backend: Literal["local", "sagemaker"] = "local"
    region_name: str | None = None
    endpoint_url: str | None = None  # SageMaker API endpoint override (VPC endpoint, moto)
    role_arn: str | None = None  # overrides training.role_arn, e.g. per environment
    source_dir: str | None = None  # overrides training.source_dir: the folder with train.py (the image's copy)

    def trainer(self, options: TrainingOptions, folder: DataFolder) -> Trainer:
        """`folder`: where the local backend records its jobs; SageMaker keeps its own records."""
        # imported here: boto3 loads only when training is used
        from refinery.preference.training import LocalTrainer, SageMakerTrainer
        if self.backend == "local":
            return LocalTrainer(options, folder)
        override = {k: v for k, v in (("role_arn", self.role_arn), ("source_dir", self.source_dir)) if v}
        if override:
            options = type(options).model_validate({**options.model_dump(), **override})
        return SageMakerTrainer(options, region_name=self.region_name, endpoint_url=self.endpoint_url, storage=folder)
