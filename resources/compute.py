"""The compute backend datatrove pipelines run on. Local processes by default; a cluster deployment uses
Dagster's k8s executor for runs and a datatrove executor (Slurm/Ray) for the heavy stages."""
from __future__ import annotations

from typing import Literal

import dagster as dg
from pydantic import Field

from refinery.runners import local_runner
from refinery.stage import PipelineRunner


class ComputeResource(dg.ConfigurableResource):
    # local processes only, for now: a datatrove Ray/Slurm executor comes with its own settings here
    workers: int = Field(2, ge=1)  # datatrove tasks run at once on this machine
    start_method: Literal["forkserver", "spawn", "fork"] = "forkserver"

    def runner(self) -> PipelineRunner:
        return local_runner(self.workers, self.start_method)
