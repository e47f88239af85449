"""datatrove's LocalPipelineExecutor, without its multiprocess.Manager when there is one worker."""
from __future__ import annotations

import queue
from copy import deepcopy

from datatrove.executor import local
from datatrove.utils.logging import logger
from datatrove.utils.stats import PipelineStats


class LocalPipelineExecutor(local.LocalPipelineExecutor):
    """With one worker datatrove runs the tasks in this process, one after the other, yet starts a
    multiprocess.Manager first (a fork of the whole CLI process and a server process: 0.02-0.04 CPU-s; 14 of the
    realdocs flow's 27 runs have one task) only to hand that worker its local rank through a queue. Here that
    queue is a plain one; the rest is datatrove's own loop: completed tasks skipped, stats.json, the summary.
    More workers, or a dependency: datatrove's run as it is."""

    def run(self):
        if self.workers != 1 or self.depends:
            return super().run()
        self._launched = True
        ranks = range(self.local_rank_offset, self.local_rank_offset + self.local_tasks)
        if all(map(self.is_rank_completed, ranks)):
            logger.info(f"Not doing anything as all {self.local_tasks} tasks have already been completed.")
            return
        self.save_executor_as_json()
        ranks_q = queue.SimpleQueue()
        ranks_q.put(0)
        ranks_to_run = self.get_incomplete_ranks(ranks)
        if (skipped := self.local_tasks - len(ranks_to_run)) > 0:
            logger.info(f"Skipping {skipped} already completed tasks")
        pipeline, stats = self.pipeline, []
        for rank in ranks_to_run:
            self.pipeline = deepcopy(pipeline)
            stats.append(self._launch_run_for_rank(rank, ranks_q))
        stats = sum(stats, start=PipelineStats())
        with self.logging_dir.open("stats.json", "wt") as statsfile:
            stats.save_to_disk(statsfile)
        logger.success(stats.get_repr(f"All {self.local_tasks} tasks"))
        return stats
