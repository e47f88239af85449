"""datatrove's SlurmPipelineExecutor, waited on: datatrove submits a job array with `sbatch` and returns at
once; this runner returns only when every task's completion marker exists, and raises as soon as the job has
left the queue without them (failed, timed out, cancelled) or after `timeout_s`.

The storage root must be on a filesystem the compute nodes share (or S3), and the nodes must run this same
environment: by default the job sources the submitting interpreter's venv."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from datatrove.executor import SlurmPipelineExecutor
from datatrove.pipeline.base import PipelineStep
from datatrove.utils.stats import Stats

from refinery.runners import _raise_if_incomplete
from refinery.stage import PipelineRunner

# squeue states of a job that may still produce markers; QUERY_FAILED: slurmctld did not answer, ask again
ACTIVE = {"QUERY_FAILED", "PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "REQUEUED", "RESIZING", "SUSPENDED",
          "STAGE_OUT"}


def slurm_runner(partition: str, time_limit: str = "24:00:00", workers: int = -1, cpus_per_task: int = 1,
                 mem_per_cpu_gb: int = 2, tasks_per_job: int = 1, qos: str | None = None, job_name: str = "refinery",
                 env_command: str | None = None, sbatch_args: dict | None = None, poll_s: float = 5,
                 max_poll_s: float = 60, timeout_s: float = 7 * 24 * 3600) -> PipelineRunner:
    """`workers`: array tasks at once (-1: no limit). `env_command`: shell line that sets up Python on the
    nodes (default: `source` this interpreter's venv). Polls squeue every `poll_s`, backing off to `max_poll_s`."""
    if env_command is None and sys.prefix != sys.base_prefix and Path(sys.prefix, "bin", "activate").is_file():
        env_command = f"source {Path(sys.prefix, 'bin', 'activate')}"

    def run(pipeline: list, tasks: int, logging_dir) -> None:
        executor = _Executor(
            pipeline=pipeline, tasks=tasks, time=time_limit, partition=partition, workers=workers,
            cpus_per_task=cpus_per_task, mem_per_cpu_gb=mem_per_cpu_gb, tasks_per_job=tasks_per_job, qos=qos,
            job_name=job_name, env_command=env_command, sbatch_args=sbatch_args, logging_dir=logging_dir,
            skip_completed=True,
        )
        # launch_job, not run(): run() inside any Slurm array task (a Dagster run launched by sbatch) would
        # execute one of this pipeline's ranks itself instead of submitting. job_id -1: all tasks were complete
        executor.launch_job()
        if executor.job_id not in (None, -1):
            _wait(executor, str(executor.job_id), poll_s, max_poll_s, timeout_s)
        _raise_if_incomplete(logging_dir, tasks)

    return run


class _Executor(SlurmPipelineExecutor):
    """An array task runs its `tasks_per_job` ranks one after the other on the same step objects, whose stats
    datatrove never resets: each rank's stats file would include the ranks before it (stage summaries count
    documents twice). Each rank starts from zero here. Module-level: the nodes unpickle it by reference."""

    def _run_for_rank(self, rank: int, local_rank: int = 0, node_rank: int = -1):
        for step in self.pipeline:
            if isinstance(step, PipelineStep):
                step.stats = Stats(str(step))
        return super()._run_for_rank(rank, local_rank, node_rank)


def _wait(executor, job_id: str, poll_s: float, max_poll_s: float, timeout_s: float) -> None:
    """Until every completion marker exists; raises one line when the job left the queue without them."""
    start, delay = time.monotonic(), poll_s
    while executor.get_incomplete_ranks(skip_completed=True):
        states = _queue_states(job_id)
        if not states & ACTIVE:
            if not executor.get_incomplete_ranks(skip_completed=True):  # finished between the two looks
                return
            ended = _final_states(job_id) or "left the queue"
            raise RuntimeError(
                f"slurm job {job_id} ended ({ended}) with {len(executor.get_incomplete_ranks(skip_completed=True))}"
                f"/{executor.world_size} tasks incomplete; see {executor.logging_dir.path}/logs and "
                f"{executor.slurm_logs_folder}, then run again to redo only those tasks")
        if time.monotonic() - start > timeout_s:
            raise RuntimeError(
                f"slurm job {job_id} still {'/'.join(sorted(states))} after {timeout_s:.0f}s (compute.slurm.timeout_s); "
                f"it was left in the queue: `squeue -j {job_id}`, or `scancel {job_id}` and run again")
        time.sleep(delay)
        delay = min(delay * 1.5, max_poll_s)


def _queue_states(job_id: str) -> set[str]:
    """States of the job's array tasks still in the queue (empty once all have ended)."""
    try:
        out = subprocess.run(["squeue", "-h", "-j", job_id, "-o", "%T"], check=False, capture_output=True,
                             text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return {"QUERY_FAILED"}
    if out.returncode != 0 and "Invalid job id" not in out.stderr:  # invalid: purged after it ended
        return {"QUERY_FAILED"}
    return {line.strip() for line in out.stdout.splitlines() if line.strip()}


def _final_states(job_id: str) -> str:
    """'FAILED x2, COMPLETED x3' from sacct (empty when accounting is not enabled)."""
    try:
        out = subprocess.run(["sacct", "-n", "-X", "-P", "-j", job_id, "-o", "State"], check=False,
                             capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""
    counts: dict[str, int] = {}
    for line in out.splitlines():  # "CANCELLED by 1234" -> CANCELLED
        if line.strip():
            counts[line.split()[0]] = counts.get(line.split()[0], 0) + 1
    return ", ".join(f"{state} x{n}" for state, n in sorted(counts.items()))
