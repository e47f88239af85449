"""SageMaker Processing as moto 5.2.5 does not run it, patched into the in-process moto server: moto records a
job as Completed at once and keeps neither its ProcessingResources nor its Environment. Here each created job
runs its container command once per instance, as a local process (this interpreter for the image's
`python3`), with the job's environment and a `resourceconfig.json` of its own, as SageMaker starts
`algo-1..N`. Describe answers InProgress while they run, then Completed, or Failed with the reason AWS gives
an algorithm error. Clients still talk to the moto server over HTTP through the SDK."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

REPO = Path(__file__).resolve().parents[2]


@dataclass
class FakeProcessing:
    workdir: Path
    hold: int = 0  # describes answering InProgress before one waits for the instances to finish
    requests: list[dict] = field(default_factory=list)  # CreateProcessingJob requests as received
    procs: dict[str, list[tuple[subprocess.Popen, Path]]] = field(default_factory=dict)
    describes: dict[str, int] = field(default_factory=dict)

    def install(self, mp: pytest.MonkeyPatch) -> None:
        fake, create = self, SageMakerResponse.create_processing_job
        describe, stop = SageMakerModelBackend.describe_processing_job, SageMakerModelBackend.stop_processing_job

        def create_processing_job(response):
            result = create(response)
            request = {k: response._get_param(k) for k in (
                "ProcessingJobName", "AppSpecification", "ProcessingResources", "Environment", "RoleArn",
                "StoppingCondition")}
            fake.requests.append(request)
            job = response.sagemaker_backend.processing_jobs[request["ProcessingJobName"]]
            job.processing_resources, job.environment = request["ProcessingResources"], request["Environment"]
            job.processing_job_status, job.processing_end_time = "InProgress", None
            fake._start(request)
            return result

        def describe_processing_job(backend, processing_job_name):
            job = backend.processing_jobs.get(processing_job_name)
            if job is not None and job.processing_job_status == "InProgress":
                fake._settle(job)
            return describe(backend, processing_job_name)

        def stop_processing_job(backend, processing_job_name):
            for proc, _ in fake.procs.get(processing_job_name, []):
                proc.kill()
                proc.wait()
            return stop(backend, processing_job_name)

        mp.setattr(SageMakerResponse, "create_processing_job", create_processing_job)
        mp.setattr(SageMakerModelBackend, "describe_processing_job", describe_processing_job)
        mp.setattr(SageMakerModelBackend, "stop_processing_job", stop_processing_job)

    def _start(self, request: dict) -> None:
        name, app = request["ProcessingJobName"], request["AppSpecification"]
        hosts = [f"algo-{i + 1}" for i in range(request["ProcessingResources"]["ClusterConfig"]["InstanceCount"])]
        argv = [*app["ContainerEntrypoint"], *app.get("ContainerArguments", [])]
        argv[0] = sys.executable if argv[0] in ("python", "python3") else argv[0]
        self.procs[name] = []
        for host in hosts:
            folder = self.workdir / name / host
            folder.mkdir(parents=True)
            (folder / "resourceconfig.json").write_text(json.dumps({"current_host": host, "hosts": hosts}))
            env = {**os.environ, **(request["Environment"] or {}),
                   "REFINERY_RESOURCE_CONFIG": str(folder / "resourceconfig.json")}
            log = folder / "stderr.log"
            with open(log, "wb") as err:  # a file, not a pipe: datatrove logs a lot and nobody reads a pipe
                proc = subprocess.Popen(argv, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=err)
            self.procs[name].append((proc, log))

    def _settle(self, job) -> None:
        seen = self.describes[job.processing_job_name] = self.describes.get(job.processing_job_name, 0) + 1
        if seen <= self.hold:
            return
        procs = self.procs[job.processing_job_name]
        for proc, _ in procs:
            proc.wait(timeout=120)
        failed = [log for proc, log in procs if proc.returncode != 0]
        if failed:
            lines = [line for line in failed[0].read_text(errors="replace").splitlines() if line.strip()]
            job.processing_job_status = "Failed"
            job.failure_reason = f"AlgorithmError: {lines[-1] if lines else 'exit code 1'}"
        else:
            job.processing_job_status = "Completed"

