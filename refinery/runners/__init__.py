"""Compute backends for datatrove pipelines: a runner takes (pipeline, tasks, logging_dir), returns when every
task is done and raises when one failed. Local processes are the default; a cluster backend is one of
datatrove's own executors (Ray, Slurm) wrapped the same way, never a home-made scheduler. Each backend lives in
its own module and imports its engine only when it runs; `sagemaker_processing` runs a stage as one SageMaker
Processing job. A runner may return a dict describing the job it started, kept in the stage's metadata."""
from __future__ import annotations


def _raise_if_incomplete(logging_dir, tasks: int) -> None:
    """datatrove logs a failed task and moves on; a stage with a failed task must not be marked done."""
    from datatrove.io import get_datafolder

    folder = get_datafolder(logging_dir)
    done = set(folder.list_files("completions")) if folder.exists("completions") else set()
    missing = [r for r in range(tasks) if f"completions/{r:05d}" not in done]
    if missing:
        raise RuntimeError(f"{len(missing)}/{tasks} datatrove tasks failed (ranks {missing[:10]}); see {folder.path}/logs")


# after _raise_if_incomplete: the backends import it from here
from refinery.runners.local import local_runner
from refinery.runners.ray import ray_runner
from refinery.runners.slurm import slurm_runner

__all__ = ["local_runner", "ray_runner", "slurm_runner"]
