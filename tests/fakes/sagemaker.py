"""What AWS SageMaker does and moto 5.2.5 does not, patched into the in-process moto server (a
ThreadedMotoServer shares this process's moto backends): moto completes every training job and endpoint
at once, lets names be created twice, has no UpdateEndpoint and describes unset structures as `{}` (which the
SDK's resources refuse). Clients (the SDK) still talk to it over HTTP. `run_training_container` plays the
training container of a created job on this machine, against the server's S3."""
import io
import json
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from moto.core.responses import ActionResult
from moto.sagemaker.exceptions import ResourceInUseException, ValidationError
from moto.sagemaker.models import SageMakerModelBackend, sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse


@dataclass
class FakeSageMaker:
    """What AWS does and moto does not, injected per test."""

    jobs: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # job -> (status, FailureReason)
    failing_models: dict[str, str] = field(default_factory=dict)  # model -> FailureReason of its endpoint
    updates: list[str] = field(default_factory=list)  # endpoint configs passed to UpdateEndpoint
    pending: dict[str, dict] = field(default_factory=dict)  # endpoint -> update applied on its 2nd describe

    def backend(self) -> SageMakerModelBackend:
        return sagemaker_backends["123456789012"]["us-east-1"]

    def set_job(self, name: str, status: str) -> None:
        self.backend().training_jobs[name].training_job_status = status

    def install(self, mp: pytest.MonkeyPatch) -> None:
        fake = self
        create_job, create_model = SageMakerModelBackend.create_training_job, SageMakerModelBackend.create_model
        create_config, create_endpoint = (SageMakerModelBackend.create_endpoint_config,
                                          SageMakerModelBackend.create_endpoint)
        describe_endpoint = SageMakerModelBackend.describe_endpoint

        def without_empty(description: dict) -> dict:
            return {k: v for k, v in description.items() if v != {}}

        def refuse_existing(kind: str, name: str, existing) -> None:
            if name in existing:
                raise ValidationError(f'Cannot create already existing {kind} "{name}".')

        def create_training_job(self, **kw):
            if kw["training_job_name"] in self.training_jobs:
                raise ResourceInUseException("a training job with this name already exists")
            job = create_job(self, **kw)
            if kw["training_job_name"] in fake.jobs:
                job.training_job_status, reason = fake.jobs[kw["training_job_name"]]
                if reason:
                    job.failure_reason = reason
            return job

        def create_model_(self, model_name, **kw):
            refuse_existing("model", model_name, self._models)
            # moto describes a model created without a VPC with `VpcConfig: {}`, which AWS omits and the SDK's
            # Model refuses (a VpcConfig has subnets and security groups)
            model = create_model(self, model_name, **kw)
            model.vpc_config = model.vpc_config or None
            return model

        def create_endpoint_config(self, endpoint_config_name, **kw):
            refuse_existing("endpoint configuration", endpoint_config_name, self.endpoint_configs)
            return create_config(self, endpoint_config_name, **kw)

        def describe_endpoint_config(response):  # DataCaptureConfig: {}, as VpcConfig above
            name = response._get_param("EndpointConfigName")
            return ActionResult(without_empty(response.sagemaker_backend.describe_endpoint_config(name)))

        def create_endpoint_(self, endpoint_name, endpoint_config_name, tags):
            refuse_existing("endpoint", endpoint_name, self.endpoints)
            endpoint = create_endpoint(self, endpoint_name, endpoint_config_name, tags)
            model = self.endpoint_configs[endpoint_config_name].production_variants[0]["ModelName"]
            if model in fake.failing_models:
                endpoint.endpoint_status, endpoint.failure_reason = "Failed", fake.failing_models[model]
            return endpoint

        def describe_endpoint_(self, endpoint_name):
            update = fake.pending.get(endpoint_name)
            if update and update["polls"]:
                update["polls"] -= 1  # the first describe after UpdateEndpoint still says Updating
            elif update:
                endpoint, variants = self.endpoints[endpoint_name], update["variants"]
                reason = fake.failing_models.get(variants[0]["ModelName"])
                if reason:  # AWS rolls back: previous config, InService again, FailureReason set
                    endpoint.failure_reason = reason
                else:
                    endpoint.endpoint_config_name, endpoint.failure_reason = update["config"], None
                    endpoint.production_variants = endpoint._process_production_variants(variants)
                endpoint.endpoint_status = "InService"
                del fake.pending[endpoint_name]
            return without_empty(describe_endpoint(self, endpoint_name))

        def update_endpoint(response):  # an action of the server's response class
            backend = response.sagemaker_backend
            name, config = response._get_param("EndpointName"), response._get_param("EndpointConfigName")
            endpoint = backend.endpoints.get(name)
            if endpoint is None or endpoint.endpoint_status != "InService":
                raise ValidationError(f"Cannot update endpoint {name}")
            variants = backend.describe_endpoint_config(config)["ProductionVariants"]
            endpoint.endpoint_status = "Updating"
            fake.pending[name] = {"config": config, "variants": variants, "polls": 1}
            fake.updates.append(config)
            return ActionResult({"EndpointArn": endpoint.arn})

        for name, fn in [("create_training_job", create_training_job), ("create_model", create_model_),
                         ("create_endpoint_config", create_endpoint_config), ("create_endpoint", create_endpoint_),
                         ("describe_endpoint", describe_endpoint_)]:
            mp.setattr(SageMakerModelBackend, name, fn)
        mp.setattr(SageMakerResponse, "update_endpoint", update_endpoint, raising=False)
        mp.setattr(SageMakerResponse, "describe_endpoint_config", describe_endpoint_config)


def run_training_container(job: dict, s3, workdir: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """What a framework training container (the Hugging Face DLC's training toolkit) does with a described
    training job, on this machine: the `train` channel and hyperparameters under a stand-in for /opt/ml, the
    `sagemaker_submit_directory` tarball unpacked into the code folder, `python <sagemaker_program>` with the
    toolkit's SM_* variables and the other hyperparameters as `--name value` arguments, then the model folder
    packed as `<S3OutputPath>/<job>/output/model.tar.gz`. `s3`: a boto3 client on the same server."""
    def split(uri: str) -> tuple[str, str]:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        return bucket, key

    ml, hp = workdir / "opt_ml", job["HyperParameters"]
    config, code, model, output = (ml / "input" / "config", ml / "code", ml / "model", ml / "output")
    for folder in (config, code, model, output):
        folder.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps(hp))
    env = {**env, "SM_INPUT_CONFIG_DIR": str(config), "SM_MODEL_DIR": str(model), "SM_OUTPUT_DIR": str(output)}
    for channel in job["InputDataConfig"]:
        bucket, prefix = split(channel["DataSource"]["S3DataSource"]["S3Uri"])
        target = ml / "input" / "data" / channel["ChannelName"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                local = target / obj["Key"][len(prefix):].lstrip("/")
                local.parent.mkdir(parents=True, exist_ok=True)
                s3.download_file(bucket, obj["Key"], str(local))
        env[f"SM_CHANNEL_{channel['ChannelName'].upper()}"] = str(target)
    bucket, key = split(json.loads(hp["sagemaker_submit_directory"]))
    with tarfile.open(fileobj=io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read())) as tar:
        tar.extractall(code, filter="data")
    args = [a for k, v in hp.items() if not k.startswith("sagemaker_") for a in (f"--{k}", v)]
    done = subprocess.run([sys.executable, json.loads(hp["sagemaker_program"]), *args], cwd=code, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    if done.returncode == 0:
        packed = io.BytesIO()
        with tarfile.open(fileobj=packed, mode="w:gz") as tar:
            tar.add(model, arcname=".")
        bucket, key = split(job["OutputDataConfig"]["S3OutputPath"])
        s3.put_object(Bucket=bucket, Key=f"{key.rstrip('/')}/{job['TrainingJobName']}/output/model.tar.gz",
                      Body=packed.getvalue())
    return done
