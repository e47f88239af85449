"""One worker: the tasks run in this process without datatrove's multiprocess.Manager, with datatrove's
completions, stats and skipping of completed tasks."""
from __future__ import annotations

import json

import pytest
from datatrove.data import Document
from datatrove.executor import local as datatrove_local
from datatrove.pipeline.base import PipelineStep

from refinery.runners.local_executor import LocalPipelineExecutor


class Emit(PipelineStep):
    """Writes one file per task, named by rank, and yields one document."""

    name = "emit"

    def __init__(self, folder: str):
        super().__init__()
        self.folder = folder

    def run(self, data, rank: int = 0, world_size: int = 1):
        with open(f"{self.folder}/{rank}.json", "w") as f:
            json.dump({"rank": rank, "world_size": world_size}, f)
        self.stat_update("emitted")
        yield Document(text=f"rank {rank}", id=str(rank))


def test_one_worker_runs_every_task_without_a_manager(tmp_path, monkeypatch):
    def no_manager():
        raise AssertionError("a multiprocess.Manager was started")

    monkeypatch.setattr(datatrove_local.multiprocess, "Manager", no_manager)
    out, logs = tmp_path / "out", tmp_path / "logs"
    out.mkdir()
    executor = LocalPipelineExecutor(pipeline=[Emit(str(out))], tasks=3, workers=1, logging_dir=str(logs))
    stats = executor.run()
    assert sorted(p.name for p in out.iterdir()) == ["0.json", "1.json", "2.json"]
    assert json.loads((out / "2.json").read_text()) == {"rank": 2, "world_size": 3}
    assert all(executor.is_rank_completed(rank) for rank in range(3))
    assert stats.stats[0].stats["emitted"].total == 3
    assert json.loads((logs / "stats.json").read_text())  # the merged stats, as datatrove writes them

    (out / "1.json").unlink()
    (logs / "completions" / "00001").unlink()  # one task lost: only it runs again
    (out / "0.json").unlink()
    LocalPipelineExecutor(pipeline=[Emit(str(out))], tasks=3, workers=1, logging_dir=str(logs)).run()
    assert sorted(p.name for p in out.iterdir()) == ["1.json", "2.json"]


def test_more_workers_is_datatrove_run(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(datatrove_local.LocalPipelineExecutor, "run", lambda self: calls.append(self.workers))
    LocalPipelineExecutor(pipeline=[Emit(str(tmp_path))], tasks=2, workers=2, logging_dir=str(tmp_path / "l")).run()
    assert calls == [2]


def test_a_failing_task_raises(tmp_path):
    class Fail(PipelineStep):
        name = "fail"

        def run(self, data, rank: int = 0, world_size: int = 1):
            raise ValueError("broken input")
            yield

    with pytest.raises(ValueError, match="broken input"):
        LocalPipelineExecutor(pipeline=[Fail()], tasks=1, workers=1, logging_dir=str(tmp_path / "logs")).run()
