"""The Ray runner on a real local Ray cluster (started once for the session): the corpus flow gives the same
documents, clusters and tokens as the local runner, and a failed task fails the stage."""
import gzip
import json
import shutil
import tempfile

import pytest
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter

from refinery.runners import ray_runner
from tests.runners.conftest import run_flow

ray = pytest.importorskip("ray")


@pytest.fixture(scope="session")
def ray_cluster():
    # its own temp dir (short: Ray's socket paths are length-limited): never another engineer's cluster
    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, _temp_dir=temp)
    yield
    ray.shutdown()
    shutil.rmtree(temp, ignore_errors=True)


# one actor per rank (the default tasks_per_job=1): with several ranks per actor, datatrove forks a process
# pool inside the actor, and bench/ray_overhead.py --tasks-per-job 10 once hung after every rank completed
RUNNER = {"cpus_per_task": 1, "mem_per_cpu_gb": 0.5}


def test_corpus_flow_on_ray_equals_local(ray_cluster, local_outputs, tmp_path):
    assert run_flow(ray_runner(**RUNNER), tmp_path / "out") == local_outputs


def test_a_failed_ray_task_fails_the_stage(ray_cluster, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    with gzip.open(src / "a.jsonl.gz", "wt") as f:
        f.write(json.dumps({"id": "a", "text": "fine"}) + "\n")
    (src / "b.jsonl.gz").write_bytes(b"not gzip")  # the task reading it raises
    pipeline = [JsonlReader(str(src)), JsonlWriter(str(tmp_path / "out"))]
    with pytest.raises(RuntimeError, match=r"1/2 datatrove tasks failed \(ranks \[1\]\)"):
        ray_runner(**RUNNER)(pipeline, 2, str(tmp_path / "logs"))
    assert (tmp_path / "logs" / "completions" / "00000").exists()  # the other rank did finish
