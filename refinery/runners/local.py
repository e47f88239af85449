"""datatrove's LocalPipelineExecutor: processes on this machine."""
from __future__ import annotations

from refinery.runners import _raise_if_incomplete
from refinery.stage import PipelineRunner

# Imported once by the forkserver, so that each pool's workers fork with it loaded (see the module).
FORKSERVER_PRELOAD = ["refinery.runners.forkserver_preload"]


def local_runner(workers: int = 2, start_method: str = "forkserver") -> PipelineRunner:
    from refinery.runners.local_executor import LocalPipelineExecutor
    from refinery.runners.run_overheads import cache_log_library_dirs, check_distributions_once

    check_distributions_once()  # this process makes the steps (datatrove checks each one's distributions)
    cache_log_library_dirs()  # and runs one-task runs (a loguru handler added for each)
    if start_method == "forkserver":
        import multiprocess  # datatrove's pools come from `multiprocess`; its forkserver reads this once it starts

        multiprocess.set_forkserver_preload(["__main__", *FORKSERVER_PRELOAD])  # __main__: its default

    def run(pipeline: list, tasks: int, logging_dir) -> None:
        LocalPipelineExecutor(
            pipeline=pipeline, tasks=tasks, workers=min(workers, tasks), logging_dir=logging_dir,
            skip_completed=True, start_method=start_method,
        ).run()
        _raise_if_incomplete(logging_dir, tasks)

    return run
