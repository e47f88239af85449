"""The Slurm runner against fake sbatch/squeue/sacct/srun/scontrol (tests/fakes/slurm) that run the submitted
job array on this machine, so datatrove's real Slurm path runs end to end: the sbatch script, the pickled
executor, `launch_pickled_pipeline` per array task, the completion markers the runner waits for."""
import gzip
import json
import os
import time
from pathlib import Path

import pytest
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter

from refinery.runners import slurm_runner
from tests.runners.conftest import run_flow

FAKES = Path(__file__).resolve().parents[1] / "fakes" / "slurm"


@pytest.fixture
def fake_slurm(tmp_path, monkeypatch) -> Path:
    state = tmp_path / "slurm"
    monkeypatch.setenv("PATH", f"{FAKES}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SLURM_DIR", str(state))
    yield state
    # the stats-merging job datatrove submits after the array may still run: leave no process behind
    deadline = time.monotonic() + 60
    while any(s.read_text() == "RUNNING" for s in state.glob("*.state")) and time.monotonic() < deadline:
        time.sleep(0.2)


def _runner(**kw):
    return slurm_runner("test", poll_s=0.2, max_poll_s=1, **kw)


def test_corpus_flow_on_slurm_equals_local(fake_slurm, local_outputs, tmp_path):
    # one array task per stage runs both ranks (tasks_per_job=2): each array task starts a Python
    assert run_flow(_runner(tasks_per_job=2), tmp_path / "out") == local_outputs
    submitted = sorted(fake_slurm.glob("*.sh"))
    assert submitted and "launch_pickled_pipeline" in submitted[0].read_text()


def _pipeline(tmp_path, corrupt_second: bool = True) -> list:
    src = tmp_path / "in"
    src.mkdir()
    with gzip.open(src / "a.jsonl.gz", "wt") as f:
        f.write(json.dumps({"id": "a", "text": "fine"}) + "\n")
    if corrupt_second:
        (src / "b.jsonl.gz").write_bytes(b"not gzip")  # the array task reading it fails
    return [JsonlReader(str(src)), JsonlWriter(str(tmp_path / "out"))]


def test_a_failed_array_task_fails_the_stage_in_one_line(fake_slurm, tmp_path):
    with pytest.raises(RuntimeError) as e:
        _runner()(_pipeline(tmp_path), 2, str(tmp_path / "logs"))
    message = str(e.value)
    assert "\n" not in message
    assert message.startswith("slurm job 1000 ended (COMPLETED x1, FAILED x1) with 1/2 tasks incomplete")
    assert (tmp_path / "logs" / "completions" / "00000").exists()


def test_a_job_still_queued_at_the_timeout_fails_and_stays_queued(fake_slurm, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_SLURM_HOLD", "1")  # the scheduler never starts it
    with pytest.raises(RuntimeError, match=r"slurm job 1000 still PENDING after 1s .*scancel 1000"):
        _runner(timeout_s=1)(_pipeline(tmp_path), 2, str(tmp_path / "logs"))
    assert (fake_slurm / "1000.state").read_text() == "PENDING"


def test_submits_even_from_inside_a_slurm_array_task(fake_slurm, tmp_path, monkeypatch):
    # a Dagster run launched by sbatch: datatrove's run() would take this for one of the pipeline's own tasks
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "0")
    _runner()(_pipeline(tmp_path, corrupt_second=False), 1, str(tmp_path / "logs"))
    assert (fake_slurm / "1000.sh").exists() and (tmp_path / "logs" / "completions" / "00000").exists()
