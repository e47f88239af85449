"""The compute backend datatrove pipelines run on. Local processes by default; a cluster deployment uses
Dagster's k8s executor for runs and a datatrove executor (Slurm/Ray) for the heavy stages."""
from __future__ import annotations

from typing import Literal

import dagster as dg
from pydantic import Field

from refinery.stage import PipelineRunner
from refinery.runners import local_runner


class ComputeResource(dg.ConfigurableResource):
    backend: Literal["local"] = "local"
    workers: int = Field(2, ge=1)  # datatrove tasks run at once on this machine
    start_method: Literal["forkserver", "spawn", "fork"] = "forkserver"

    def runner(self) -> PipelineRunner:
        return local_runner(self.workers, self.start_method)
