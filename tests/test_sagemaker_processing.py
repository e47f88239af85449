"""Corpus stages on SageMaker Processing: the runner (SDK v3 `ProcessingJob`) against a moto server whose
processing jobs really run (tests/fakes/processing.py): each instance is a local process running
`python -m refinery.runners.processing_entry` on the pickled pipeline, reading and writing moto's S3."""
import gzip
import hashlib
import json
import uuid

import boto3
import pytest

from assets.corpus.metadata import stage_metadata
from refinery.catalog.corpus import EXTRACT, TOKENIZE
from refinery.corpus import flow
from refinery.corpus.config import CorpusConfig
from refinery.corpus.dedup_stage import dedup
from refinery.runners import local_runner
from refinery.runners.processing_entry import share
from refinery.runners.sagemaker_processing import ENTRY, sagemaker_processing_runner
from refinery.stage import StageResult
from refinery.storage import Layout, data_folder
from resources import ComputeResource
from tests.fakes.failing_step import FailOnRank
from tests.fakes.processing import FakeProcessing

ROLE = "arn:aws:iam::123456789012:role/refinery-processing"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/llm-refinery:test"
DROP = "2026-11-08"
# both runs alike; the spaCy-backed repetition filter and MinHash's four jobs only add minutes on a shared CI box
CONFIG = {"execution": {"tasks": 2}, "filters": {"gopher_repetition": {"enabled": False}},
          "dedup": {"minhash": {"enabled": False}}}


@pytest.fixture
def processing(moto_server, tmp_path, monkeypatch):
    fake = FakeProcessing(tmp_path / "instances")
    fake.install(monkeypatch)
    return moto_server, fake


def bucket(url: str) -> str:
    name = f"t-{uuid.uuid4().hex[:12]}"  # one moto server per session: every test has buckets of its own
    boto3.client("s3", endpoint_url=url, region_name="us-east-1").create_bucket(Bucket=name)
    return name


def runner(url: str, **kwargs):
    kwargs.setdefault("sleep", lambda s: None)
    return sagemaker_processing_runner(IMAGE, ROLE, region="us-east-1", endpoint=url, poll_s=1, workers=1, **kwargs)


def documents(folder) -> dict[str, str]:
    """{document id: sha256 of its text} of a stage's JSONL.gz output."""
    out = {}
    for name in folder.list_files(glob_pattern="*.jsonl.gz"):
        with folder.open(name, "rb") as f:
            for line in gzip.decompress(f.read()).splitlines():
                doc = json.loads(line)
                out[doc["id"]] = hashlib.sha256(doc["text"].encode()).hexdigest()
    return out


def corpus_flow(url: str, raw: str, run) -> tuple[dict, Layout]:
    """The corpus flow on one drop, storage root on moto's S3: {stage: summary}, layout."""
    layout = Layout(f"s3://{bucket(url)}/refinery", url)
    corpus = flow.Corpus(layout, CorpusConfig.model_validate(CONFIG), run, raw, url)
    return {"extracted": flow.extract(corpus, DROP).summary, "filtered": flow.filter_documents(corpus, DROP).summary,
            "deduplicated": dedup(corpus, DROP, []).summary, "tokenized": flow.tokenize(corpus, DROP).summary}, layout


def shards(folder) -> dict[str, str]:
    return {name: hashlib.sha256(folder.open(name, "rb").read()).hexdigest() for name in folder.list_files()}


def test_corpus_flow_matches_the_local_runner(processing, sample_raw):
    """Extract runs as a processing job of two instances (one rank each), tokenize on one instance (both
    ranks); filter and dedup stay local: more processes would add minutes on a shared 2-core CI box and
    exercise nothing the two stages shown do not."""
    url, fake = processing
    raw = bucket(url)
    s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
    for path in sorted((sample_raw / DROP).rglob("*")):
        if path.is_file():
            s3.upload_file(str(path), raw, f"{DROP}/{path.relative_to(sample_raw / DROP).as_posix()}")
    local = local_runner(1)
    remote = {EXTRACT.name: runner(url, instance_count=2), TOKENIZE.name: runner(url, instance_count=1)}

    def mixed(pipeline, tasks, logging_dir):
        stage = logging_dir.path.split("/logs/", 1)[1].split("/")[0]
        return remote.get(stage, local)(pipeline, tasks, logging_dir)

    (expected, local_layout), (got, layout) = corpus_flow(url, f"s3://{raw}", local), corpus_flow(url, f"s3://{raw}", mixed)

    for stage in ("extracted", "filtered", "deduplicated"):
        docs = documents(data_folder(local_layout.drop(DROP, stage), url))
        assert docs and docs == documents(data_folder(layout.drop(DROP, stage), url)), stage
    assert got["tokenized"]["tokens"] == expected["tokenized"]["tokens"] > 0
    token_shards = shards(data_folder(local_layout.drop(DROP, "tokenized"), url))
    assert token_shards and shards(data_folder(layout.drop(DROP, "tokenized"), url)) == token_shards
    for key in ("files_in", "documents_out", "bytes_out", "quarantine"):
        assert got["extracted"][key] == expected["extracted"][key], key

    # one job per remote stage; the extract job's two instances ran one rank each
    assert [r["ProcessingResources"]["ClusterConfig"]["InstanceCount"] for r in fake.requests] == [2, 1]
    request = fake.requests[0]
    assert request["AppSpecification"]["ContainerEntrypoint"] == ENTRY and request["RoleArn"] == ROLE
    assert request["Environment"] == {"REFINERY_S3_ENDPOINT": url}
    job = got["extracted"]["compute_job"]
    assert job["job_name"] == request["ProcessingJobName"] and job["instances"] == 2
    assert "$252Faws$252Fsagemaker$252FProcessingJobs" in job["logs_url"] and job["job_name"] in job["logs_url"]
    logs = data_folder(request["AppSpecification"]["ContainerArguments"][0].rsplit("/", 1)[0], url)
    assert sorted(logs.list_files("completions")) == ["completions/00000", "completions/00001"]
    assert sorted(logs.list_files("logs")) == ["logs/task_00000.log", "logs/task_00001.log"]
    for rank, host in enumerate(("algo-1", "algo-2")):
        stderr = (fake.workdir / job["job_name"] / host / "stderr.log").read_text()
        assert f"Launching pipeline for rank={rank}" in stderr and f"rank={1 - rank}" not in stderr
    assert "compute_job" not in got["filtered"]
    metadata = stage_metadata(StageResult(EXTRACT.name, DROP, "0" * 64, False, got["extracted"]))
    assert metadata["compute_logs"].value == job["logs_url"]  # what the asset's metadata links to


def test_failed_job_raises_one_line_with_the_reason(processing):
    url, fake = processing
    logging_dir = data_folder(f"s3://{bucket(url)}/logs", url)
    with pytest.raises(RuntimeError) as err:
        runner(url)([FailOnRank(1)], 2, logging_dir)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"SageMaker processing job {fake.requests[0]['ProcessingJobName']} Failed: "
                              "AlgorithmError: 1/2 datatrove tasks failed on instance 1/1 (ranks [1]): "
                              "ValueError: rank 1 fails on purpose (logs: https://us-east-1.console.aws")
    assert logging_dir.list_files("completions") == ["completions/00000"]  # a retry skips rank 0


def test_runner_waits_with_backoff_and_skips_a_finished_stage(processing):
    url, fake = processing
    fake.hold = 4  # the creation's describe and three polls see InProgress
    sleeps = []
    logging_dir = data_folder(f"s3://{bucket(url)}/logs", url)
    run = runner(url, sleep=sleeps.append, max_poll_s=3)
    assert run([FailOnRank(-1)], 1, logging_dir)["instances"] == 1
    assert sleeps == [1, 2, 3, 3]
    assert run([FailOnRank(-1)], 1, logging_dir) is None and len(fake.requests) == 1


def test_timeout_stops_the_job(processing):
    url, fake = processing
    fake.hold = 100
    with pytest.raises(TimeoutError, match=r"still InProgress after 3s: stopped it"):
        runner(url, max_wait_s=3)([FailOnRank(-1)], 1, data_folder(f"s3://{bucket(url)}/logs", url))
    name = fake.requests[0]["ProcessingJobName"]
    client = boto3.client("sagemaker", endpoint_url=url, region_name="us-east-1")
    assert client.describe_processing_job(ProcessingJobName=name)["ProcessingJobStatus"] == "Stopped"


def test_ranks_are_shared_in_contiguous_blocks():
    assert [share(5, i, 2) for i in range(2)] == [(0, 3), (3, 2)]
    assert [share(2, i, 3) for i in range(3)] == [(0, 1), (1, 1), (2, 0)]


def test_resource_settings(tmp_path):
    with pytest.raises(ValueError, match="needs sagemaker.image_uri"):
        ComputeResource(backend="sagemaker").runner()
    with pytest.raises(ValueError, match="storage root on S3"):
        ComputeResource(backend="sagemaker", sagemaker={"image_uri": IMAGE, "role_arn": ROLE}).runner()(
            [], 1, data_folder(str(tmp_path)))
    with pytest.raises(Exception, match="role_arn"):
        ComputeResource(backend="sagemaker", sagemaker={"image_uri": IMAGE, "role_arn": "not-an-arn"})


def test_environment_selects_the_sagemaker_runner(monkeypatch):
    from orchestration.profiles import resources_for

    for var, val in {"REFINERY_RUNNER": "sagemaker", "REFINERY_PROCESSING_IMAGE": IMAGE, "REFINERY_PROCESSING_ROLE": ROLE,
                     "REFINERY_PROCESSING_INSTANCES": "4", "AWS_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(var, val)
    compute = resources_for("local")["compute"]
    assert compute.backend == "sagemaker" and compute.sagemaker.instance_count == 4
    assert (compute.sagemaker.image_uri, compute.sagemaker.role_arn, compute.sagemaker.region) == (IMAGE, ROLE, "eu-west-1")
    monkeypatch.delenv("REFINERY_RUNNER")
    assert resources_for("local")["compute"].backend == "local"
