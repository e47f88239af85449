"""Training and deployment of a preference round: SageMakerTrainer against a moto server, LocalTrainer on
local and S3 folders.

`FakeSageMaker` (tests/fakes/sagemaker.py) makes the moto server answer as AWS does: failed or running jobs,
failed endpoints, a rolled-back update. The trainer still talks to it over HTTP through botocore."""
import hashlib
import io
import json
import tarfile
import urllib.request

import boto3
import pytest
from pydantic import ValidationError as OptionsError

from refinery.preference.training import (REPO_SOURCE_DIR, Deployment, DeploymentFailed, LocalTrainer,
                                          SageMakerTrainer, TrainedModel, TrainingFailed, TrainingOptions)
from refinery.storage import data_folder
from resources import TrainingResource
from tests.fakes.sagemaker import FakeSageMaker

ROLE = "arn:aws:iam::123456789012:role/refinery-training"
NAME, NAME2 = "refinery-round-001-0123abcd", "refinery-round-002-4567ef01"
DATA, DATA2 = "s3://refinery/preference/rounds/001/dpo/", "s3://refinery/preference/rounds/002/dpo/"
CODE = "s3://refinery-code/code/training"


@pytest.fixture
def sm(moto_server, monkeypatch):
    """(moto URL, FakeSageMaker, a boto3 client to inspect what was created)."""
    # moto's backends are process-wide: start every test from an empty account
    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST"))
    fake = FakeSageMaker()
    fake.install(monkeypatch)
    boto3.client("s3", region_name="us-east-1", endpoint_url=moto_server).create_bucket(Bucket="refinery-code")
    return moto_server, fake, boto3.client("sagemaker", region_name="us-east-1", endpoint_url=moto_server)


def sagemaker_trainer(url: str, sleep=lambda s: None, **options) -> SageMakerTrainer:
    # moto's endpoint-config validation knows no g5 instances
    opts = TrainingOptions(role_arn=ROLE, output_s3_uri="s3://refinery-models/jobs", code_s3_uri=CODE,
                           endpoint_instance_type="ml.g4dn.xlarge", **options)
    return SageMakerTrainer(opts, region_name="us-east-1", endpoint_url=url, sleep=sleep,
                            storage=data_folder("s3://refinery-code", url))


def job_names(client) -> list[str]:
    return sorted(j["TrainingJobName"] for j in client.list_training_jobs()["TrainingJobSummaries"])


def test_train_creates_a_job_on_the_round_data(sm):
    url, _, client = sm
    model = sagemaker_trainer(url).train(NAME, DATA, {"epochs": 2})
    job = client.describe_training_job(TrainingJobName=f"{NAME}-a1")
    assert job["InputDataConfig"][0]["ChannelName"] == "train"
    assert job["InputDataConfig"][0]["DataSource"]["S3DataSource"] == {
        "S3DataType": "S3Prefix", "S3Uri": DATA, "S3DataDistributionType": "FullyReplicated"}
    hp = job["HyperParameters"]
    submitted = json.loads(hp.pop("sagemaker_submit_directory"))
    assert hp == {"algorithm": "dpo", "beta": "0.1", "epochs": "2", "learning_rate": "5e-07",
                  "base_model": "HuggingFaceTB/SmolLM2-135M-Instruct", "sagemaker_program": '"train.py"'}
    spec = job["AlgorithmSpecification"]  # (moto describes MetricDefinitions of its own)
    assert (spec["TrainingImage"], spec["TrainingInputMode"]) == (TrainingOptions().image_uri, "File")
    assert job["RoleArn"] == ROLE
    assert job["OutputDataConfig"]["S3OutputPath"] == "s3://refinery-models/jobs"
    # the entry point: infra/training as it is, at a content-addressed key
    assert submitted.startswith(f"{CODE}/") and submitted.endswith("/sourcedir.tar.gz")
    body = boto3.client("s3", region_name="us-east-1", endpoint_url=url).get_object(
        Bucket="refinery-code", Key=submitted.removeprefix("s3://refinery-code/"))["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        assert tar.extractfile("train.py").read() == (REPO_SOURCE_DIR / "train.py").read_bytes()
        assert "requirements.txt" in tar.getnames()
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
    with pytest.raises(ValueError, match="no train.py in"):
        sagemaker_trainer(url, source_dir=str(tmp_path)).train(NAME, DATA)
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
                {"unknown": 1}, {"hyperparameters": {"algorithm": "ppo"}}):
        with pytest.raises(OptionsError):
            TrainingOptions(**bad)
