"""The compute backend datatrove pipelines run on: local processes by default, a cluster through datatrove's
own executors (Ray, Slurm), or one SageMaker Processing job per corpus stage. A cluster deployment also uses
Dagster's k8s executor for the runs themselves."""
from __future__ import annotations

from typing import Literal

import dagster as dg
from pydantic import Field

from refinery.runners import local_runner, ray_runner, slurm_runner
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


class RaySettings(dg.Config):
    address: str | None = None  # None: the local instance if one runs (RAY_ADDRESS, `ray start`), else a new one
    workers: int = Field(-1, ge=-1)  # tasks at once; -1: as many as the cluster's free CPUs and memory fit
    cpus_per_task: int = Field(1, ge=1)
    mem_per_cpu_gb: float = Field(2, gt=0)  # reserved, not a cap: a task asking more than a node has never starts
    # ranks one actor runs at once, in a process pool datatrove forks inside the actor: fewer actor start-ups,
    # but at 10 a pool child deadlocked after its ranks completed (README, "Compute runners"); keep 1
    tasks_per_job: int = Field(1, ge=1)
    time_limit_s: int | None = Field(None, gt=0)  # a task running longer is killed (and its stage fails)


class SlurmSettings(dg.Config):
    partition: str | None = None  # required with runner=slurm (config_check says so before a run)
    time_limit: str = "24:00:00"  # per array task, sbatch --time
    workers: int = Field(-1, ge=-1)  # array tasks at once; -1: as many as the scheduler gives
    cpus_per_task: int = Field(1, ge=1)
    mem_per_cpu_gb: int = Field(2, ge=1)
    tasks_per_job: int = Field(1, ge=1)  # ranks one array task runs, one after the other
    qos: str | None = None
    env_command: str | None = None  # sets up Python on the nodes; default: source this interpreter's venv
    sbatch_args: dict[str, str] = Field(default_factory=dict)  # extra #SBATCH lines, e.g. {"account": "data"}
    poll_max_s: float = Field(60, gt=0)  # squeue is asked every 5 s at first, backing off to this
    timeout_s: float = Field(7 * 24 * 3600, gt=0)  # a stage waiting longer fails; the job stays queued


class ComputeResource(dg.ConfigurableResource):
    backend: Literal["local", "ray", "slurm", "sagemaker"] = "local"  # the field `runner` would shadow runner()
    workers: int = Field(2, ge=1)  # local runner: datatrove tasks run at once on this machine
    start_method: Literal["forkserver", "spawn", "fork"] = "forkserver"
    ray: RaySettings = RaySettings()
    slurm: SlurmSettings = SlurmSettings()
    sagemaker: SageMakerProcessingSettings = SageMakerProcessingSettings()

    def runner(self) -> PipelineRunner:
        if self.backend == "sagemaker":
            from refinery.runners.sagemaker_processing import sagemaker_processing_runner

            return sagemaker_processing_runner(**self.sagemaker.model_dump())
        if self.backend == "ray":
            return ray_runner(**self.ray.model_dump())
        if self.backend == "slurm":
            s = self.slurm.model_dump()
            if not s["partition"]:
                raise ValueError("compute.slurm.partition is required with runner=slurm (REFINERY_SLURM_PARTITION)")
            return slurm_runner(**{k: v for k, v in s.items() if k != "poll_max_s"}, max_poll_s=s["poll_max_s"])
        return local_runner(self.workers, self.start_method)
