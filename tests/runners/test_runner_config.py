"""Choosing the runner: --runner/--ray-address/--slurm-partition and REFINERY_RUNNER/REFINERY_RAY_*/
REFINERY_SLURM_* reach ComputeResource; an engine that cannot run from here is refused before any run."""
import argparse
import importlib.util
import os

import pytest

from orchestration.cli import main
from orchestration.cli.session import FLAGS, overrides
from orchestration.profiles import resources_for
from refinery.config_check import ConfigError
from tests.conftest import SAMPLES
from tests.runners.test_slurm_runner import FAKES


def _refused(capsys, tmp_path, *extra) -> list[str]:
    rc = main(["corpus", "--raw", str(SAMPLES), "--root", str(tmp_path / "out"), *extra])
    lines = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and not (tmp_path / "out").exists()  # nothing ran
    return lines


def test_slurm_without_sbatch_on_path_is_refused(dagster_home, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert _refused(capsys, tmp_path, "--runner", "slurm", "--slurm-partition", "cpu") == [
        "error: --runner slurm: sbatch and squeue not on PATH; run from a Slurm login node"]


def test_slurm_without_partition_is_refused(dagster_home, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("REFINERY_RUNNER", "slurm")
    assert "error: --runner slurm needs --slurm-partition or REFINERY_SLURM_PARTITION" in _refused(capsys, tmp_path)


def test_ray_not_installed_is_refused(dagster_home, tmp_path, capsys, monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else find_spec(name, *a))
    assert _refused(capsys, tmp_path, "--runner", "ray") == [
        "error: --runner ray: the ray package is not installed in this environment (see pyproject.toml)"]


@pytest.mark.parametrize("env, expected", [
    ({"REFINERY_RUNNER": "k8s"}, "error: REFINERY_RUNNER: unknown runner 'k8s'; known: local, ray, slurm, sagemaker"),
    ({"REFINERY_RUNNER": "ray", "REFINERY_RAY_CPUS_PER_TASK": "two"},
     "error: REFINERY_RAY_CPUS_PER_TASK: must be an integer ≥ 1 (got 'two')"),
    ({"REFINERY_RUNNER": "sagemaker", "REFINERY_PROCESSING_IMAGE": "img:1"},
     "error: --runner sagemaker needs REFINERY_PROCESSING_ROLE (the image with this version installed, the "
     "processing jobs' IAM role)"),
])
def test_bad_runner_environment_is_refused(dagster_home, tmp_path, capsys, monkeypatch, env, expected):
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    assert _refused(capsys, tmp_path) == [expected]


def test_flags_and_environment_reach_the_compute_resource(dagster_home, monkeypatch):
    assert {"runner", "ray_address", "slurm_partition"} <= set(FLAGS)
    monkeypatch.setenv("PATH", f"{FAKES}{os.pathsep}{os.environ['PATH']}")  # sbatch, squeue
    monkeypatch.setenv("REFINERY_RUNNER", "slurm")  # the command line wins over it
    monkeypatch.setenv("REFINERY_RAY_TASKS_PER_JOB", "4")
    monkeypatch.setenv("REFINERY_SLURM_PARTITION", "cpu")
    args = argparse.Namespace(runner="ray", ray_address="ray://head:10001")
    compute = resources_for("local", overrides(args))["compute"]
    assert compute.backend == "ray"
    assert (compute.ray.address, compute.ray.tasks_per_job, compute.slurm.partition) == ("ray://head:10001", 4, "cpu")
    assert compute.runner().__qualname__.startswith("ray_runner")
    assert resources_for("local")["compute"].runner().__qualname__.startswith("slurm_runner")
    monkeypatch.delenv("REFINERY_RUNNER")
    assert resources_for("local")["compute"].runner().__qualname__.startswith("local_runner")


def test_the_ui_refuses_an_unusable_runner_when_it_loads(dagster_home, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    with pytest.raises(ConfigError, match="--runner slurm: sbatch and squeue not on PATH"):
        resources_for("local", {"runner": "slurm", "slurm_partition": "cpu"})
