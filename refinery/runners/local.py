"""datatrove's LocalPipelineExecutor: processes on this machine."""
from __future__ import annotations

from refinery.runners import _raise_if_incomplete
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
