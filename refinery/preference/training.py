"""The training + deployment step of a preference round: a DPO job on the round's dataset, then the
policy endpoint (one stable name across rounds) is pointed at the new model.

SageMakerTrainer runs the real thing (SageMaker Python SDK v3 resources): the training image runs the repository's
entry point, infra/training/train.py, shipped the way SageMaker's framework containers (the Hugging Face DLC's
training toolkit) take a script: `sourcedir.tar.gz` on S3 named by the `sagemaker_submit_directory` and
`sagemaker_program` hyperparameters. LocalTrainer records what it was given and trains nothing.
Both are idempotent per name, because a retried Dagster run must not pay for training twice."""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
import posixpath
import re
import tarfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol

from botocore.exceptions import ClientError
from pydantic import Field, field_validator

from refinery.options import StrictOptions
from refinery.sagemaker_sdk import sdk_session, value
from refinery.storage import data_folder

if TYPE_CHECKING:
    from datatrove.io import DataFolder

log = logging.getLogger(__name__)

_SM_NAME = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"  # job, model, endpoint(-config) names
_MAX_ATTEMPT_SUFFIX = len("-a99")
_JOB_BUSY = {"InProgress", "Stopping"}
_ENDPOINT_BUSY = {"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"}
ALGORITHMS = ("dpo", "kto", "orpo")  # what infra/training/train.py trains
# the entry point's folder in a checkout (the image copies it and sets REFINERY_TRAINING_SOURCE)
REPO_SOURCE_DIR = Path(__file__).resolve().parents[2] / "infra" / "training"
ENTRY_POINT = "train.py"
METRICS = {"train:loss": r"training_loss=([0-9.eE+-]+)"}


class TrainingOptions(StrictOptions):
    # Hugging Face DLCs: the training image runs TRL's DPO script; the inference image is TGI
    image_uri: str = Field("763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-training:"
                           "2.5.1-transformers4.49.0-gpu-py311-cu124-ubuntu22.04", min_length=1)
    inference_image_uri: str = Field("763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-"
                                     "inference:2.4.0-tgi3.0.1-gpu-py311-cu124-ubuntu22.04", min_length=1)
    instance_type: str = Field("ml.g5.2xlarge", pattern=r"^ml\.")
    instance_count: int = Field(1, ge=1, le=64)
    volume_gb: int = Field(100, ge=1, le=16384)
    max_runtime_seconds: int = Field(86400, ge=60, le=28 * 86400)  # SageMaker's own ceiling is 28 days
    hyperparameters: dict[str, str | int | float] = Field(
        default_factory=lambda: {"algorithm": "dpo", "beta": 0.1, "epochs": 1, "learning_rate": 5e-7})
    base_model: str = Field("HuggingFaceTB/SmolLM2-135M-Instruct", min_length=1)
    role_arn: str | None = Field(None, pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/\S+$")
    output_s3_uri: str | None = Field(None, pattern=r"^s3://[^/]+")  # model artifacts; the caller derives it
    # the folder with train.py (+ requirements.txt, which the container installs); None: the checkout's
    # infra/training. Packed and uploaded under code_s3_uri, content-addressed (a retry uploads nothing)
    source_dir: str | None = Field(None, min_length=1)
    code_s3_uri: str | None = Field(None, pattern=r"^s3://[^/]+")  # the caller derives it (<root>/code/training)
    endpoint_name: str = Field("refinery-policy", pattern=_SM_NAME)
    endpoint_instance_type: str = Field("ml.g5.xlarge", pattern=r"^ml\.")
    endpoint_instance_count: int = Field(1, ge=1, le=64)
    poll_seconds: float = Field(30.0, gt=0, le=3600)
    timeout_seconds: float = Field(6 * 3600, gt=0, le=30 * 86400)
    min_pairs: int = Field(1, ge=1)  # a round with fewer DPO pairs does not train (checked by the caller)

    @field_validator("hyperparameters")
    @classmethod
    def _known_algorithm(cls, hp: dict) -> dict:
        # checked when the config loads, not hours later inside the training container
        if str(hp.get("algorithm", "dpo")).lower() not in ALGORITHMS:
            raise ValueError(f"hyperparameters.algorithm {hp['algorithm']!r}: expected one of {', '.join(ALGORITHMS)}")
        return hp


@dataclass(frozen=True)
class TrainedModel:
    job_name: str
    artifact_uri: str
    status: str
    inputs: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainedModel:
        return cls(**data)


@dataclass(frozen=True)
class Deployment:
    endpoint_name: str
    endpoint_config_name: str
    model_name: str
    status: str
    artifact_uri: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Deployment:
        return cls(**data)


class TrainingFailed(RuntimeError):
    pass


class DeploymentFailed(RuntimeError):
    pass


class Trainer(Protocol):
    def train(self, name: str, data_uri: str,
              extra_hyperparameters: dict[str, Any] | None = None) -> TrainedModel: ...

    def deploy(self, model: TrainedModel) -> Deployment: ...


def _check_name(name: str) -> None:
    if not re.match(_SM_NAME, name) or len(name) > 63 - _MAX_ATTEMPT_SUFFIX:
        raise ValueError(f"training name {name!r}: letters, digits and '-', at most {63 - _MAX_ATTEMPT_SUFFIX} "
                         "characters (SageMaker names are 63 at most and attempts add '-aN')")


def _hyperparameters(options: TrainingOptions, extra: dict[str, Any] | None) -> dict[str, str]:
    merged = {**options.hyperparameters, **(extra or {}), "base_model": options.base_model}
    return {k: str(v) for k, v in merged.items()}  # the API takes strings only


def source_dir(options: TrainingOptions) -> Path:
    folder = Path(options.source_dir) if options.source_dir else REPO_SOURCE_DIR
    if not (folder / ENTRY_POINT).is_file():
        raise ValueError(f"no {ENTRY_POINT} in {folder}: set training.source_dir (or REFINERY_TRAINING_SOURCE) to "
                         "the folder holding infra/training/train.py")
    return folder


def pack_source(folder: Path) -> bytes:
    """`sourcedir.tar.gz` of `folder`, byte-identical for identical files (no times, owners or caches), so
    its digest names the upload."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            info = tarfile.TarInfo(path.relative_to(folder).as_posix())
            info.size, info.mode = path.stat().st_size, 0o644
            with path.open("rb") as f:
                tar.addfile(info, f)
    return buf.getvalue()


def _error(err: ClientError) -> tuple[str, str]:
    e = err.response.get("Error", {})
    return e.get("Code", ""), e.get("Message", "")


class SageMakerTrainer:
    """Training jobs and the policy endpoint on SageMaker, through the SDK's resources (`TrainingJob`, `Model`,
    `EndpointConfig`, `Endpoint`). Job names cannot be reused, so each name gets numbered attempts
    (`<name>-a1`, `-a2`, ...): a completed attempt is reused, a running one awaited, a failed or stopped one
    followed by the next. Model and endpoint config are named after the job."""

    def __init__(self, options: TrainingOptions, region_name: str | None = None, endpoint_url: str | None = None,
                 sleep: Callable[[float], None] = time.sleep, storage: DataFolder | None = None):
        """`storage`: a folder on the storage root's filesystem, so the code upload uses its S3 endpoint and
        credentials."""
        self.options = options
        self._sleep = sleep
        self._storage = storage
        # the SDK (and boto3) load here, not at the top: loading the config (TrainingOptions) must stay cheap
        from sagemaker.core import resources

        self._sm = resources
        session = sdk_session(region_name, endpoint_url)  # the SDK's client retries throttling (standard mode)
        self._where = {"session": session, "region": session.region_name}

    # --- training -------------------------------------------------------------------------------
    def train(self, name: str, data_uri: str, extra_hyperparameters: dict[str, Any] | None = None) -> TrainedModel:
        _check_name(name)
        if not data_uri.startswith("s3://"):
            raise ValueError(f"data_uri {data_uri!r}: SageMaker training reads its data from S3: "
                             "put the storage root on S3")
        latest = self._latest_attempt(name)
        if latest is not None:
            job, n = self._describe_job(latest), int(latest.rsplit("-a", 1)[1])
            self._check_same_data(job, data_uri)
            if job.training_job_status in {"Completed", *_JOB_BUSY}:
                log.info("training job %s is %s: not starting another", latest, job.training_job_status)
                return self._finish(latest)
            log.info("training job %s is %s (%s): starting attempt %d", latest, job.training_job_status,
                     value(job.failure_reason, "no reason given"), n + 1)
        else:
            n = 0
        job_name = f"{name}-a{n + 1}"
        self._create_job(job_name, data_uri, extra_hyperparameters)
        return self._finish(job_name)

    def _create_job(self, job_name: str, data_uri: str, extra: dict[str, Any] | None) -> None:
        from sagemaker.core import shapes

        o = self.options
        if not o.role_arn:
            raise ValueError("SageMaker training needs an execution role: set training.role_arn")
        if not o.output_s3_uri:
            raise ValueError("SageMaker training needs training.output_s3_uri (where model artifacts go)")
        hyperparameters = {**_hyperparameters(o, extra), **self._upload_source()}
        try:
            self._sm.TrainingJob.create(
                training_job_name=job_name, role_arn=o.role_arn,
                algorithm_specification=shapes.AlgorithmSpecification(
                    training_image=o.image_uri, training_input_mode="File",
                    # the line train.py prints at the end becomes a CloudWatch metric of the job
                    metric_definitions=[shapes.MetricDefinition(name=n, regex=r) for n, r in METRICS.items()]),
                input_data_config=[shapes.Channel(channel_name="train", data_source=shapes.DataSource(
                    s3_data_source=shapes.S3DataSource(s3_data_type="S3Prefix", s3_uri=data_uri,
                                                       s3_data_distribution_type="FullyReplicated")))],
                output_data_config=shapes.OutputDataConfig(s3_output_path=o.output_s3_uri),
                resource_config=shapes.ResourceConfig(instance_type=o.instance_type, instance_count=o.instance_count,
                                                      volume_size_in_gb=o.volume_gb),
                stopping_condition=shapes.StoppingCondition(max_runtime_in_seconds=o.max_runtime_seconds),
                hyper_parameters=hyperparameters, **self._where)
        except ClientError as err:
            # ListTrainingJobs is eventually consistent: a concurrent or just-started run may own the name
            if _error(err)[0] != "ResourceInUse":
                raise
            log.info("training job %s already exists: following it", job_name)

    def _upload_source(self) -> dict[str, str]:
        """The entry point's folder as `<code_s3_uri>/<digest>/sourcedir.tar.gz`, and the two hyperparameters
        with which the container's training toolkit downloads it and runs `python train.py`."""
        from sagemaker.core.constants import DIR_PARAM_NAME, SCRIPT_PARAM_NAME

        if not self.options.code_s3_uri:
            raise ValueError("SageMaker training needs training.code_s3_uri (where the entry point is uploaded)")
        tarball = pack_source(source_dir(self.options))
        folder = _sibling(posixpath.join(self.options.code_s3_uri, hashlib.sha256(tarball).hexdigest()[:16]),
                          self._storage)
        if not folder.isfile("sourcedir.tar.gz"):
            with folder.open("sourcedir.tar.gz", "wb") as f:
                f.write(tarball)
        # JSON-encoded, as the SDK's framework estimators pass them (the toolkit json-decodes every value)
        return {SCRIPT_PARAM_NAME: json.dumps(ENTRY_POINT),
                DIR_PARAM_NAME: json.dumps(folder.resolve_paths("sourcedir.tar.gz"))}

    def _latest_attempt(self, name: str) -> str | None:
        attempt = re.compile(rf"^{re.escape(name)}-a(\d+)$")
        found: dict[int, str] = {}
        for job in self._sm.TrainingJob.get_all(name_contains=name, **self._where):
            if m := attempt.match(job.training_job_name):
                found[int(m.group(1))] = job.training_job_name
        return found[max(found)] if found else None

    def _describe_job(self, job_name: str):
        return self._sm.TrainingJob.get(training_job_name=job_name, **self._where)

    @staticmethod
    def _check_same_data(job, data_uri: str) -> None:
        used = [c.data_source.s3_data_source.s3_uri for c in value(job.input_data_config, [])
                if c.channel_name == "train"]
        if used and used[0].rstrip("/") != data_uri.rstrip("/"):
            raise ValueError(f"training job {job.training_job_name} trained on {used[0]}, not {data_uri}: "
                             "a training name must stay with one dataset")

    def _finish(self, job_name: str) -> TrainedModel:
        job, settled = self._poll(lambda: self._describe_job(job_name), "training_job_status", _JOB_BUSY)
        status = job.training_job_status
        if not settled:
            raise TrainingFailed(f"training job {job_name} still {status} after {self.options.timeout_seconds:.0f}s; "
                                 "it keeps running in SageMaker and a retry waits for it")
        if status != "Completed":
            raise TrainingFailed(f"training job {job_name} {status}: {value(job.failure_reason, 'no reason given')}")
        inputs = {"data_uri": job.input_data_config[0].data_source.s3_data_source.s3_uri,
                  "hyperparameters": value(job.hyper_parameters, {}),
                  "image_uri": job.algorithm_specification.training_image,
                  "instance_type": job.resource_config.instance_type}
        return TrainedModel(job_name, job.model_artifacts.s3_model_artifacts, status, inputs)

    # --- deployment -----------------------------------------------------------------------------
    def deploy(self, model: TrainedModel) -> Deployment:
        from sagemaker.core import shapes

        o, name = self.options, model.job_name  # models, configs and jobs have separate namespaces
        endpoint = self._settled_endpoint()
        if endpoint and endpoint.endpoint_status == "InService" and endpoint.endpoint_config_name == name:
            return self._deployment(model)
        if not o.role_arn:
            raise ValueError("SageMaker deployment needs an execution role: set training.role_arn")
        self._create_once("model", lambda: self._sm.Model.create(
            model_name=name, execution_role_arn=o.role_arn, primary_container=shapes.ContainerDefinition(
                image=o.inference_image_uri, model_data_url=model.artifact_uri,
                environment={"HF_MODEL_ID": "/opt/ml/model"}), **self._where))
        self._create_once("endpoint config", lambda: self._sm.EndpointConfig.create(
            endpoint_config_name=name, production_variants=[shapes.ProductionVariant(
                variant_name="AllTraffic", model_name=name, initial_variant_weight=1.0,
                instance_type=o.endpoint_instance_type, initial_instance_count=o.endpoint_instance_count)],
            **self._where))
        if endpoint and endpoint.endpoint_status == "Failed":
            # a failed endpoint serves nothing and cannot be updated: replace it
            log.info("endpoint %s is Failed (%s): deleting it", o.endpoint_name, value(endpoint.failure_reason))
            endpoint.delete()
            endpoint = self._settled_endpoint()
        if endpoint is None:
            self._sm.Endpoint.create(endpoint_name=o.endpoint_name, endpoint_config_name=name, **self._where)
        else:
            endpoint.endpoint_config_name = name  # what Endpoint.update sends
            endpoint.update()
        after = self._settled_endpoint()
        if after is None:
            raise DeploymentFailed(f"endpoint {o.endpoint_name} disappeared while deploying config {name}")
        reason = value(after.failure_reason, "no reason given")
        if after.endpoint_status != "InService":
            raise DeploymentFailed(f"endpoint {o.endpoint_name} {after.endpoint_status} with config {name}: {reason}")
        if after.endpoint_config_name != name:  # SageMaker rolled back to the previous config
            raise DeploymentFailed(f"endpoint {o.endpoint_name} update rolled back: still serving "
                                   f"{after.endpoint_config_name}, not {name}: {reason}")
        return self._deployment(model)

    def _deployment(self, model: TrainedModel) -> Deployment:
        return Deployment(self.options.endpoint_name, model.job_name, model.job_name, "InService", model.artifact_uri)

    def _create_once(self, what: str, create: Callable[[], Any]) -> None:
        try:
            create()
        except ClientError as err:
            code, message = _error(err)
            if code != "ValidationException" or "already exist" not in message.lower():
                raise
            log.info("reusing the existing %s: %s", what, message)

    def _describe_endpoint(self):
        try:
            return self._sm.Endpoint.get(endpoint_name=self.options.endpoint_name, **self._where)
        except ClientError as err:
            code, message = _error(err)
            if code == "ValidationException" and "could not find" in message.lower():
                return None
            raise

    def _settled_endpoint(self):
        """The endpoint once it is not Creating/Updating/Deleting (None if it does not exist)."""
        desc, settled = self._poll(self._describe_endpoint, "endpoint_status", _ENDPOINT_BUSY)
        if not settled:
            raise DeploymentFailed(f"endpoint {self.options.endpoint_name} still {desc.endpoint_status} "
                                   f"after {self.options.timeout_seconds:.0f}s")
        return desc

    def _poll(self, describe: Callable[[], Any], status: str, busy: set[str]) -> tuple[Any, bool]:
        """(last description, settled?). Time is counted in sleeps so tests with a no-op sleep still end."""
        waited = 0.0
        while True:
            desc = describe()
            if desc is None or getattr(desc, status) not in busy:
                return desc, True
            if waited >= self.options.timeout_seconds:
                return desc, False
            self._sleep(self.options.poll_seconds)
            waited += self.options.poll_seconds


def _sibling(uri: str, like: DataFolder | None) -> DataFolder:
    """A folder on `like`'s filesystem when the protocol matches, so an S3 endpoint carries over."""
    if like is None:
        return data_folder(uri)
    protocol = uri.split("://", 1)[0] if "://" in uri else "file"
    protocols = like.fs.protocol
    same = protocol in (protocols if isinstance(protocols, tuple) else (protocols,))
    from datatrove.io import DataFolder

    return DataFolder(uri, fs=like.fs) if same else data_folder(uri)


class LocalTrainer:
    """Records the inputs of each training and deployment under `folder`; trains nothing and deploys
    nothing, so the policy endpoint stays the configured model. For development and tests."""

    def __init__(self, options: TrainingOptions, folder: DataFolder):
        self.options = options
        self.folder = folder

    def train(self, name: str, data_uri: str, extra_hyperparameters: dict[str, Any] | None = None) -> TrainedModel:
        _check_name(name)
        job_file = f"{name}/job.json"
        if self.folder.isfile(job_file):  # a retry returns what was recorded
            with self.folder.open(job_file, "rt") as f:
                return TrainedModel.from_dict(json.load(f)["model"])
        data = _sibling(data_uri, self.folder)
        files = [self._describe_file(data, path) for path in data.list_files()] if data.exists("") else []
        if not files:
            raise ValueError(f"no training data under {data_uri}")
        inputs = {"data_uri": data_uri, "files": files, "hyperparameters": _hyperparameters(self.options,
                  extra_hyperparameters), "base_model": self.options.base_model, "image_uri": self.options.image_uri}
        model = TrainedModel(name, self.folder.resolve_paths(job_file), "Completed", inputs)
        with self.folder.open(job_file, "wt") as f:
            json.dump({"backend": "local", "model": model.to_dict()}, f, indent=2, sort_keys=True)
        return model

    def deploy(self, model: TrainedModel) -> Deployment:
        deployment = Deployment(self.options.endpoint_name, model.job_name, model.job_name, "InService",
                                model.artifact_uri)
        with self.folder.open(f"{model.job_name}/endpoint.json", "wt") as f:
            json.dump({"backend": "local", "deployment": deployment.to_dict(),
                       "inference_image_uri": self.options.inference_image_uri}, f, indent=2, sort_keys=True)
        return deployment

    @staticmethod
    def _describe_file(folder: DataFolder, path: str) -> dict[str, Any]:
        digest, size = hashlib.sha256(), 0
        with folder.open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
        return {"name": posixpath.normpath(path), "size": size, "sha256": digest.hexdigest()}
