"""The Ray runner on a real local Ray cluster (started once for the session): `refinery corpus --runner ray`
gives the same documents, clusters and tokens as the local runner, and a failed task fails the stage."""
import gzip
import json
import shutil
import tempfile

import pytest
import yaml
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter

from orchestration.cli import main
from refinery.runners import ray_runner
from tests.conftest import SAMPLES
from tests.runners.conftest import CONFIG, DROP, outputs

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


def test_refinery_corpus_on_ray_equals_local(ray_cluster, local_outputs, dagster_home, tmp_path, monkeypatch):
    """The command a user runs, through Dagster and the compute resource to datatrove's Ray executor (the CLI
    attaches to the session's cluster: Ray is already initialised in this process)."""
    for name, value in RUNNER.items():
        monkeypatch.setenv(f"REFINERY_RAY_{name.upper()}", str(value))
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(CONFIG))
    report = tmp_path / "report.json"
    rc = main(["corpus", "--runner", "ray", "--raw", str(SAMPLES), "--drop", DROP, "--root", str(tmp_path / "out"),
               "--config", str(tmp_path / "config.yaml"), "--json", str(report)])
    assert rc == 0
    run = json.loads(report.read_text())["drops"][DROP]
    assert run["success"] and run["checks"] and all(run["checks"].values()), run
    expected = {k: v for k, v in local_outputs.items() if k != "summaries"}
    assert outputs(tmp_path / "out") == expected


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
