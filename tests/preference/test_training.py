"""Training and deployment of a preference round: SageMakerTrainer against a moto server, LocalTrainer on
local and S3 folders.

moto 5.2.5 completes every training job and endpoint at once, lets names be created twice and has no
UpdateEndpoint. `FakeSageMaker` patches the in-process server (the ThreadedMotoServer shares this
process's moto backends) so that it answers as AWS does: failed or running jobs, failed endpoints, a
rolled-back update. The trainer still talks to it over HTTP through botocore."""
import hashlib
import json
import urllib.request
from dataclasses import dataclass, field

import boto3
import pytest
from moto.core.responses import ActionResult
from moto.sagemaker.exceptions import ResourceInUseException, ValidationError
from moto.sagemaker.models import SageMakerModelBackend, sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse
from pydantic import ValidationError as OptionsError

from refinery.preference.training import (Deployment, DeploymentFailed, LocalTrainer, SageMakerTrainer,
                                          TrainedModel, TrainingFailed, TrainingOptions)
from refinery.storage import data_folder
from resources import TrainingResource

ROLE = "arn:aws:iam::123456789012:role/refinery-training"
NAME, NAME2 = "refinery-round-001-0123abcd", "refinery-round-002-4567ef01"
DATA, DATA2 = "s3://refinery/preference/rounds/001/dpo/", "s3://refinery/preference/rounds/002/dpo/"


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
            return create_model(self, model_name, **kw)

        def create_endpoint_config(self, endpoint_config_name, **kw):
            refuse_existing("endpoint configuration", endpoint_config_name, self.endpoint_configs)
            return create_config(self, endpoint_config_name, **kw)

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
            return describe_endpoint(self, endpoint_name)

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


@pytest.fixture
def sm(moto_s3, monkeypatch):
    """(moto URL, FakeSageMaker, a boto3 client to inspect what was created)."""
    # moto's backends are process-wide: start every test from an empty account
    urllib.request.urlopen(urllib.request.Request(f"{moto_s3}/moto-api/reset", method="POST"))
    fake = FakeSageMaker()
    fake.install(monkeypatch)
    return moto_s3, fake, boto3.client("sagemaker", region_name="us-east-1", endpoint_url=moto_s3)


def sagemaker_trainer(url: str, sleep=lambda s: None, **options) -> SageMakerTrainer:
    # moto's endpoint-config validation knows no g5 instances
    opts = TrainingOptions(role_arn=ROLE, output_s3_uri="s3://refinery-models/jobs",
                           endpoint_instance_type="ml.g4dn.xlarge", **options)
    return SageMakerTrainer(opts, region_name="us-east-1", endpoint_url=url, sleep=sleep)


def job_names(client) -> list[str]:
    return sorted(j["TrainingJobName"] for j in client.list_training_jobs()["TrainingJobSummaries"])


def test_train_creates_a_job_on_the_round_data(sm):
    url, _, client = sm
    model = sagemaker_trainer(url).train(NAME, DATA, {"epochs": 2})
    job = client.describe_training_job(TrainingJobName=f"{NAME}-a1")
    assert job["InputDataConfig"][0]["ChannelName"] == "train"
    assert job["InputDataConfig"][0]["DataSource"]["S3DataSource"] == {
        "S3DataType": "S3Prefix", "S3Uri": DATA, "S3DataDistributionType": "FullyReplicated"}
    assert job["HyperParameters"] == {"algorithm": "dpo", "beta": "0.1", "epochs": "2", "learning_rate": "5e-07",
                                      "base_model": "HuggingFaceTB/SmolLM2-135M-Instruct"}
    assert job["AlgorithmSpecification"]["TrainingInputMode"] == "File" and job["RoleArn"] == ROLE
    assert model.job_name == f"{NAME}-a1" and model.status == "Completed"
    assert model.artifact_uri == f"s3://refinery-models/jobs/{NAME}-a1/output/model.tar.gz"
    assert TrainedModel.from_dict(json.loads(json.dumps(model.to_dict()))) == model


def test_retry_reuses_the_completed_job(sm):
    url, _, client = sm
    first = sagemaker_trainer(url).train(NAME, DATA)
    assert sagemaker_trainer(url).train(NAME, DATA) == first
    assert job_names(client) == [f"{NAME}-a1"]


def test_failed_attempt_leads_to_the_next(sm):
    url, fake, client = sm
    fake.jobs[f"{NAME}-a1"] = ("Failed", "AlgorithmError: CUDA out of memory")
    with pytest.raises(TrainingFailed, match=f"{NAME}-a1 Failed: AlgorithmError: CUDA out of memory"):
        sagemaker_trainer(url).train(NAME, DATA)
    assert sagemaker_trainer(url).train(NAME, DATA).job_name == f"{NAME}-a2"
    assert sagemaker_trainer(url).train(NAME, DATA).job_name == f"{NAME}-a2"  # completed: reused
    assert job_names(client) == [f"{NAME}-a1", f"{NAME}-a2"]


def test_running_job_is_awaited_not_duplicated(sm):
    url, fake, client = sm
    fake.jobs[f"{NAME}-a1"] = ("InProgress", None)
    with pytest.raises(TrainingFailed, match="still InProgress after 60s"):
        sagemaker_trainer(url, poll_seconds=30, timeout_seconds=60).train(NAME, DATA)
    sleeps = []

    def sleep(seconds):  # the job finishes while the retried run waits
        sleeps.append(seconds)
        fake.set_job(f"{NAME}-a1", "Completed")

    assert sagemaker_trainer(url, sleep=sleep).train(NAME, DATA).job_name == f"{NAME}-a1"
    assert sleeps == [30.0] and job_names(client) == [f"{NAME}-a1"]


def test_train_refuses_bad_inputs(sm, tmp_path):
    url, _, client = sm
    with pytest.raises(ValueError, match="put the storage root on S3"):
        sagemaker_trainer(url).train(NAME, str(tmp_path))
    with pytest.raises(ValueError, match="execution role"):
        SageMakerTrainer(TrainingOptions(output_s3_uri="s3://m/j"), region_name="us-east-1",
                         endpoint_url=url).train(NAME, DATA)
    with pytest.raises(ValueError, match="at most"):
        sagemaker_trainer(url).train("x" * 60, DATA)
    sagemaker_trainer(url).train(NAME, DATA)
    with pytest.raises(ValueError, match="must stay with one dataset"):
        sagemaker_trainer(url).train(NAME, DATA2)
    assert job_names(client) == [f"{NAME}-a1"]


def test_deploy_creates_then_updates_the_endpoint(sm):
    url, fake, client = sm
    trainer = sagemaker_trainer(url)
    first = trainer.deploy(trainer.train(NAME, DATA))
    endpoint = client.describe_endpoint(EndpointName="refinery-policy")
    assert (endpoint["EndpointStatus"], endpoint["EndpointConfigName"]) == ("InService", f"{NAME}-a1")
    container = client.describe_model(ModelName=f"{NAME}-a1")["PrimaryContainer"]
    assert container["ModelDataUrl"] == first.artifact_uri
    assert container["Image"] == trainer.options.inference_image_uri
    assert first == Deployment("refinery-policy", f"{NAME}-a1", f"{NAME}-a1", "InService", first.artifact_uri)

    second = trainer.deploy(trainer.train(NAME2, DATA2))
    endpoint = client.describe_endpoint(EndpointName="refinery-policy")
    assert (endpoint["EndpointStatus"], endpoint["EndpointConfigName"]) == ("InService", f"{NAME2}-a1")
    assert second.endpoint_name == "refinery-policy" and fake.updates == [f"{NAME2}-a1"]
    assert Deployment.from_dict(json.loads(json.dumps(second.to_dict()))) == second

    model = TrainedModel.from_dict(trainer.train(NAME2, DATA2).to_dict())
    assert sagemaker_trainer(url).deploy(model) == second  # a retried run: already serving, no update
    assert fake.updates == [f"{NAME2}-a1"]


def test_rolled_back_update_raises(sm):
    url, fake, client = sm
    trainer = sagemaker_trainer(url)
    trainer.deploy(trainer.train(NAME, DATA))
    fake.failing_models[f"{NAME2}-a1"] = "The primary container did not pass the ping health check"
    with pytest.raises(DeploymentFailed, match="update rolled back: .*did not pass the ping health check"):
        trainer.deploy(trainer.train(NAME2, DATA2))
    assert client.describe_endpoint(EndpointName="refinery-policy")["EndpointConfigName"] == f"{NAME}-a1"


def test_failed_endpoint_is_replaced_on_retry(sm):
    url, fake, client = sm
    trainer = sagemaker_trainer(url)
    model = trainer.train(NAME, DATA)
    fake.failing_models[f"{NAME}-a1"] = "CannotStartContainerError"
    with pytest.raises(DeploymentFailed, match="Failed with config .*: CannotStartContainerError"):
        trainer.deploy(model)
    del fake.failing_models[f"{NAME}-a1"]
    assert trainer.deploy(model).status == "InService"  # model and config reused ("already existing")
    assert [m["ModelName"] for m in client.list_models()["Models"]] == [f"{NAME}-a1"]
    assert client.describe_endpoint(EndpointName="refinery-policy")["EndpointStatus"] == "InService"


def write_data(folder, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        with folder.open(name, "wb") as f:
            f.write(content)


def check_local_trainer(folder, data, data_uri: str, files: dict[str, bytes]) -> None:
    trainer = LocalTrainer(TrainingOptions(), folder)
    model = trainer.train(NAME, data_uri, {"beta": 0.2})
    assert model.status == "Completed" and model.artifact_uri == folder.resolve_paths(f"{NAME}/job.json")
    assert model.inputs["files"] == [{"name": n, "size": len(c), "sha256": hashlib.sha256(c).hexdigest()}
                                     for n, c in sorted(files.items())]
    assert model.inputs["hyperparameters"]["beta"] == "0.2"
    assert model.inputs["base_model"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    write_data(data, {"late.jsonl": b"{}\n"})
    assert LocalTrainer(TrainingOptions(), folder).train(NAME, data_uri) == model  # the recorded job, as is
    deployment = trainer.deploy(model)
    assert deployment == Deployment("refinery-policy", NAME, NAME, "InService", model.artifact_uri)
    with folder.open(f"{NAME}/endpoint.json", "rt") as f:
        assert json.load(f)["deployment"] == deployment.to_dict()


def test_local_trainer_records_inputs(tmp_path):
    files = {"dpo-00000.jsonl": b'{"prompt": "a"}\n', "shards/dpo-00001.jsonl": b'{"prompt": "b"}\n'}
    data = tmp_path / "rounds" / "001" / "dpo"
    write_data(data_folder(str(data)), files)
    check_local_trainer(data_folder(str(tmp_path / "training")), data_folder(str(data)), str(data), files)
    with pytest.raises(ValueError, match="no training data"):
        LocalTrainer(TrainingOptions(), data_folder(str(tmp_path / "training"))).train(NAME2, str(tmp_path / "no"))


def test_local_trainer_on_s3(moto_s3):
    boto3.client("s3", endpoint_url=moto_s3, region_name="us-east-1").create_bucket(Bucket="local-training")
    files = {"dpo-00000.jsonl": b'{"prompt": "c"}\n'}
    data = data_folder("s3://local-training/rounds/001/dpo", moto_s3)
    write_data(data, files)
    # the data folder is read with the training folder's filesystem, so the moto endpoint carries over
    check_local_trainer(data_folder("s3://local-training/training", moto_s3), data,
                        "s3://local-training/rounds/001/dpo", files)


def test_resource_and_options(tmp_path):
    folder = data_folder(str(tmp_path))
    assert isinstance(TrainingResource().trainer(TrainingOptions(), folder), LocalTrainer)
    trainer = TrainingResource(backend="sagemaker", region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                               role_arn=ROLE).trainer(TrainingOptions(), folder)
    assert isinstance(trainer, SageMakerTrainer) and trainer.options.role_arn == ROLE
    with pytest.raises(OptionsError):
        TrainingResource(backend="sagemaker", role_arn="not-an-arn").trainer(TrainingOptions(), folder)
    for bad in ({"instance_count": 0}, {"poll_seconds": 0}, {"min_pairs": 0}, {"endpoint_name": "a_b"},
                {"unknown": 1}):
        with pytest.raises(OptionsError):
            TrainingOptions(**bad)
