"""datatrove's RayPipelineExecutor: tasks as Ray actors on a cluster (or a local Ray instance).

The storage root and logging dirs must be reachable from every Ray node (S3 or a shared mount): datatrove's
completion markers, which `_raise_if_incomplete` reads, are written by the workers."""
from __future__ import annotations

from refinery.runners import _raise_if_incomplete
from refinery.stage import PipelineRunner


def ray_runner(address: str | None = None, workers: int = -1, cpus_per_task: int = 1, mem_per_cpu_gb: float = 2,
               tasks_per_job: int = 1, time_limit_s: int | None = None) -> PipelineRunner:
    """`address`: a running cluster (`host:6379`, `ray://host:10001`, `auto`); None attaches to the local
    instance if one runs (RAY_ADDRESS, `ray start`), else starts one. `workers`: tasks at once, -1 = as many
    as the cluster's CPUs and memory fit. Memory is reserved per task (cpus_per_task × mem_per_cpu_gb): a task
    asking more than a node has never starts. `tasks_per_job`: ranks one actor runs, in a process pool forked
    inside it (keep 1: at 10 a pool child deadlocked after its ranks completed, see README)."""

    def run(pipeline: list, tasks: int, logging_dir) -> None:
        import ray
        from datatrove.executor import RayPipelineExecutor

        if not ray.is_initialized():  # once per process; later stages reuse the connection
            # a local instance we may start needs no dashboard; its task logs go to logging_dir, not stdout.
            # A given address gets no extra options: Ray Client (ray://) refuses some.
            ray.init(address=address, **({} if address else {"include_dashboard": False, "log_to_driver": False}))
        RayPipelineExecutor(
            pipeline=pipeline, tasks=tasks, workers=workers, logging_dir=logging_dir, skip_completed=True,
            cpus_per_task=cpus_per_task, mem_per_cpu_gb=mem_per_cpu_gb, tasks_per_job=tasks_per_job,
            time=time_limit_s,
        ).run()
        _raise_if_incomplete(logging_dir, tasks)

    return run
