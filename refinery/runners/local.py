"""Compute backends for datatrove pipelines: a runner takes (pipeline, tasks, logging_dir) and returns when
every task is done. Local is the default; a cluster backend must be one of datatrove's own
executors (Slurm, Ray) wrapped the same way, never a home-made scheduler."""
from __future__ import annotations

from refinery.stage import PipelineRunner


def local_runner(workers: int = 2, start_method: str = "forkserver") -> PipelineRunner:
    from datatrove.executor import LocalPipelineExecutor

    def run(pipeline: list, tasks: int, logging_dir) -> None:
        LocalPipelineExecutor(
            pipeline=pipeline, tasks=tasks, workers=min(workers, tasks), logging_dir=logging_dir,
            skip_completed=True, start_method=start_method,
        ).run()
        _raise_if_incomplete(logging_dir, tasks)

    return run


def _raise_if_incomplete(logging_dir, tasks: int) -> None:
    """datatrove logs a failed task and moves on; a stage with a failed task must not be marked done."""
    from datatrove.io import get_datafolder

    folder = get_datafolder(logging_dir)
    done = set(folder.list_files("completions")) if folder.exists("completions") else set()
    missing = [r for r in range(tasks) if f"completions/{r:05d}" not in done]
    if missing:
        raise RuntimeError(f"{len(missing)}/{tasks} datatrove tasks failed (ranks {missing[:10]}); see {folder.path}/logs")
