"""Corpus stages on SageMaker Processing, through the SageMaker Python SDK v3 (`sagemaker-core`'s
`ProcessingJob` resource): one job per stage run, its instances splitting the datatrove ranks.

The pipeline is pickled with dill (as datatrove's Slurm executor pickles itself) into the stage's logging
dir on S3; every instance runs `python -m refinery.runners.processing_entry <pickle>`, which runs its share
of the ranks with datatrove's LocalPipelineExecutor. Completions, stats and task logs therefore land in the
logging dir exactly as with the local runner, and a retried stage skips the ranks that finished. Documents
are read and written on S3 by the pipeline itself (no ProcessingInputs/Outputs: nothing is copied to the
instances' volumes, which would have to hold a whole drop)."""
from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

from refinery.runners.local import _raise_if_incomplete
from refinery.sagemaker_sdk import sdk_session, value

log = logging.getLogger(__name__)

ENTRY = ["python3", "-m", "refinery.runners.processing_entry"]
PICKLE = "executor.pik"
_BUSY = {"InProgress", "Stopping"}


def logs_url(region: str, job_name: str) -> str:
    """The CloudWatch console page of the job's log streams (one per instance, named `<job>/algo-N-...`)."""
    return (f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#logsV2:log-groups/log-group/"
            f"$252Faws$252Fsagemaker$252FProcessingJobs$3FlogStreamNameFilter$3D{job_name}")


def sagemaker_processing_runner(
    image_uri: str, role_arn: str, instance_type: str = "ml.m5.2xlarge", instance_count: int = 1,
    volume_gb: int = 30, workers: int = 0, region: str | None = None, endpoint: str | None = None,
    max_wait_s: float = 86400, poll_s: float = 5.0, max_poll_s: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
):
    """A PipelineRunner. `workers`: ranks run at once on each instance (0: its CPU count). Polls
    DescribeProcessingJob every `poll_s`, doubling up to `max_poll_s`; after `max_wait_s` the job is stopped."""
    if not image_uri or not role_arn:
        raise ValueError("the sagemaker runner needs sagemaker.image_uri (an image with llm-refinery installed) "
                         "and sagemaker.role_arn")
    session = sdk_session(region, endpoint)  # one per runner: the SDK caches its clients per session

    def run(pipeline: list, tasks: int, logging_dir) -> dict[str, Any] | None:
        import dill
        from datatrove.io import get_datafolder

        folder = get_datafolder(logging_dir)
        if "s3" not in folder.fs.protocol:
            raise ValueError(f"the sagemaker runner needs the storage root on S3 (logging dir {folder.path})")
        if _all_complete(folder, tasks):
            return None  # a rerun of a finished stage: nothing to pay for
        with folder.open(PICKLE, "wb") as f:
            dill.dump({"pipeline": pipeline, "tasks": tasks, "logging_dir": folder}, f)
        name = _job_name(folder.path)
        job = _create(name, folder, tasks)
        info = {"job_name": name, "job_arn": job.processing_job_arn, "instances": min(instance_count, tasks),
                "logs_url": logs_url(session.region_name, name)}
        log.info("SageMaker processing job %s: %d tasks on %d x %s; logs: %s", name, tasks, info["instances"],
                 instance_type, info["logs_url"])
        status = _wait(job)
        if status != "Completed":
            reason = " ".join(str(value(job.failure_reason, "no reason given")).split())
            raise RuntimeError(f"SageMaker processing job {name} {status}: {reason} (logs: {info['logs_url']})")
        _raise_if_incomplete(folder, tasks)
        return info

    def _create(name: str, folder, tasks: int):
        from sagemaker.core.resources import ProcessingJob
        from sagemaker.core.shapes import (
            AppSpecification,
            ProcessingClusterConfig,
            ProcessingResources,
            ProcessingStoppingCondition,
        )

        # the container reads the pickle with the same S3 endpoint as ours (only set against MinIO/moto)
        s3_endpoint = (folder.fs.storage_options.get("client_kwargs") or {}).get("endpoint_url")
        return ProcessingJob.create(
            processing_job_name=name, role_arn=role_arn, session=session, region=session.region_name,
            app_specification=AppSpecification(
                image_uri=image_uri, container_entrypoint=ENTRY,
                container_arguments=[folder.resolve_paths(PICKLE), "--workers", str(workers)]),
            processing_resources=ProcessingResources(cluster_config=ProcessingClusterConfig(
                instance_count=min(instance_count, tasks), instance_type=instance_type,
                volume_size_in_gb=volume_gb)),
            stopping_condition=ProcessingStoppingCondition(max_runtime_in_seconds=int(max_wait_s)),
            environment={"REFINERY_S3_ENDPOINT": s3_endpoint} if s3_endpoint else None)

    def _wait(job) -> str:
        delay, waited = poll_s, 0.0
        while job.processing_job_status in _BUSY:
            if waited >= max_wait_s:
                job.stop()
                raise TimeoutError(f"SageMaker processing job {job.processing_job_name} still "
                                   f"{job.processing_job_status} after {waited:.0f}s: stopped it")
            sleep(delay)
            waited += delay
            delay = min(delay * 2, max_poll_s)
            job.refresh()
        return job.processing_job_status

    return run


def _all_complete(folder, tasks: int) -> bool:
    done = set(folder.list_files("completions")) if folder.exists("completions") else set()
    return all(f"completions/{r:05d}" in done for r in range(tasks))


def _job_name(path: str) -> str:
    """Unique per stage run (names cannot be reused) and within SageMaker's 63 characters."""
    return f"refinery-{hashlib.sha256(path.encode()).hexdigest()[:12]}-{time.time_ns() // 1_000_000}"
