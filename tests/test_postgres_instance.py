"""Dagster for a team: the instance's runs, events and schedules in a real PostgreSQL server (conftest's
`postgres_server`), reached by the CLI and by the webserver's GraphQL layer, with the local run queue, pools
and run monitoring; an instance that cannot be reached stops a command before anything runs."""
import json
import os
import shutil

import dagster as dg
import psycopg2
import pytest
import yaml
from dagster._core.definitions.reconstruct import ReconstructableRepository
from dagster._core.events import DagsterEventType
from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext
from dagster._core.remote_origin import RegisteredCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin
from dagster._core.storage.dagster_run import DagsterRunStatus
from dagster._core.test_utils import create_run_for_test
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import EmptyWorkspaceTarget
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import QueuedRunCoordinatorDaemon
from dagster_graphql.test.utils import execute_dagster_graphql
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage

from orchestration.cli import main
from orchestration.instance import LOCAL_YAML, PG_URL_VAR, TEAM_YAML, masked, prepare_home
from orchestration.instance import pg_url as url_from_config
from orchestration.profiles import executor_for
from tests.conftest import REPO, SAMPLES
from tests.pg_server import free_port

DROP = "2026-12-01"
ASSETS = ["extracted_documents", "filtered_documents", "deduplicated_documents", "tokenized_shards"]
UI_QUERY = """
query {
  runsOrError { ... on Runs { results { runId jobName status tags { key value } } } }
  assetOrError(assetKey: {path: ["tokenized_shards"]}) {
    ... on Asset { assetMaterializations { runId partition } }
  }
}"""


@pytest.fixture
def pg_url(postgres_server, dagster_home, monkeypatch, request) -> str:
    """A database of its own for this test, and the environment of a team member pointing at it."""
    url = postgres_server.create_database(request.node.name.lower()[:60])
    monkeypatch.setenv(PG_URL_VAR, url)
    return url


# What is under test is where the runs go, not the text processing (tests/test_corpus_cli.py): the filters that
# load spaCy, fastText and the MinHash pass are off and one task runs in-process, so a run takes seconds.
LIGHT = """
filters:
  language: {enabled: false}
  gopher_quality: {enabled: false}
  gopher_repetition: {enabled: false}
  fineweb_quality: {enabled: false}
  bad_words: {enabled: false}
  pii: {enabled: false}
dedup:
  paragraphs: false
  minhash: {enabled: false}
execution:
  tasks: 1
"""


def _small_corpus(tmp_path) -> list[str]:
    """`refinery corpus` arguments: one drop of two sample documents, the light configuration above."""
    drop = tmp_path / "raw" / DROP
    drop.mkdir(parents=True)
    for src in ("handbook/onboarding.md", "notes/release-process.txt"):
        shutil.copy(SAMPLES / "2026-11-01" / src, drop)
    (tmp_path / "light.yaml").write_text(LIGHT)
    return ["--raw", str(drop.parent), "--root", str(tmp_path / "out"), "--config", str(tmp_path / "light.yaml"),
            "--workers", "1"]


def _origin(job_name: str) -> RemoteJobOrigin:
    """Where a queued run says its job lives (the daemon needs one to dequeue it)."""
    location = RegisteredCodeLocationOrigin(location_name="llm_refinery")
    return RemoteJobOrigin(repository_origin=RemoteRepositoryOrigin(code_location_origin=location,
                                                                    repository_name="__repository__"),
                           job_name=job_name)


def test_cli_runs_are_stored_in_postgresql_and_the_ui_sees_them(pg_url, dagster_home, tmp_path):
    summary = tmp_path / "summary.json"
    rc = main(["corpus", *_small_corpus(tmp_path), "--json", str(summary)])
    assert rc == 0
    run_id = json.loads(summary.read_text())["drops"][DROP]["run_id"]
    assert yaml.safe_load((dagster_home / "dagster.yaml").read_text()) == yaml.safe_load(TEAM_YAML.read_text())
    assert not (dagster_home / "history").exists()  # where a SQLite instance would have put its runs.db

    instance = dg.DagsterInstance.from_config(str(dagster_home))
    assert isinstance(instance.run_storage, PostgresRunStorage)
    assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
    [run] = instance.get_runs()
    assert (run.run_id, run.job_name, run.status) == (run_id, "corpus_job", DagsterRunStatus.SUCCESS)
    assert run.tags["dagster/partition"] == DROP and run.tags["refinery/flow"] == "corpus"

    with psycopg2.connect(pg_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT run_id, pipeline_name, status FROM runs")
        assert cur.fetchall() == [(run_id, "corpus_job", "SUCCESS")]
        cur.execute("SELECT DISTINCT asset_key FROM event_logs WHERE run_id = %s "
                    "AND dagster_event_type = 'ASSET_MATERIALIZATION'", (run_id,))
        assert sorted(json.loads(key)[0] for (key,) in cur.fetchall()) == sorted(ASSETS)

    # what the webserver answers: its GraphQL schema over the same instance (runs and assets come from storage)
    with WorkspaceProcessContext(instance, EmptyWorkspaceTarget()) as process_context:
        result = execute_dagster_graphql(process_context.create_request_context(), UI_QUERY)
    assert not result.errors
    [ui_run] = result.data["runsOrError"]["results"]
    assert (ui_run["runId"], ui_run["jobName"], ui_run["status"]) == (run_id, "corpus_job", "SUCCESS")
    assert {"key": "dagster/partition", "value": DROP} in ui_run["tags"]
    assert result.data["assetOrError"]["assetMaterializations"] == [{"runId": run_id, "partition": DROP}]


def test_refinery_ui_starts_dagster_dev_on_the_postgresql_instance(pg_url, dagster_home, monkeypatch):
    """`refinery ui` checks the instance, then replaces itself with `dagster dev`, which reads DAGSTER_HOME
    (started for real by hand: its GraphQL listed the CLI's run and all daemons healthy, ~60 s here)."""
    started = []
    monkeypatch.setattr("os.execv", lambda path, cmd: started.append((cmd, dict(os.environ))))
    main(["ui", "--port", "3999"])
    [(cmd, env)] = started
    assert cmd[1:5] == ["-m", "dagster", "dev", "-m"] and env["DAGSTER_HOME"] == str(dagster_home)
    assert env[PG_URL_VAR] == pg_url and "postgres" in (dagster_home / "dagster.yaml").read_text()


def test_run_queue_pools_and_run_monitoring_hold_on_the_postgresql_instance(pg_url, dagster_home):
    home, problems = prepare_home()
    assert (home, problems) == (dagster_home, [])
    instance = dg.DagsterInstance.get()
    assert isinstance(instance.run_storage, PostgresRunStorage)

    # run monitoring: the daemon that `refinery ui` / dagster-daemon starts watches the runs
    assert instance.run_monitoring_enabled and "MONITORING" in instance.get_required_daemon_types()
    assert (instance.run_monitoring_start_timeout_seconds, instance.run_monitoring_cancel_timeout_seconds) == (300, 180)

    # the run queue: while one corpus run is in progress a second one waits; a run of another flow does not
    corpus = {"refinery/flow": "corpus"}
    holder = create_run_for_test(instance, job_name="corpus_job", status=DagsterRunStatus.STARTED, tags=corpus)
    waiting = create_run_for_test(instance, job_name="corpus_job", status=DagsterRunStatus.QUEUED, tags=corpus,
                                  remote_job_origin=_origin("corpus_job"))
    other = create_run_for_test(instance, job_name="sft_method_job", status=DagsterRunStatus.QUEUED,
                                tags={"refinery/flow": "sft"}, remote_job_origin=_origin("sft_method_job"))
    daemon = QueuedRunCoordinatorDaemon(interval_seconds=1)
    with WorkspaceProcessContext(instance, EmptyWorkspaceTarget()) as context:
        list(daemon.run_iteration(context))
        assert instance.get_run_by_id(waiting.run_id).status == DagsterRunStatus.QUEUED
        # dequeued (its launch then fails: these test runs belong to no loaded code location)
        assert instance.get_run_by_id(other.run_id).status != DagsterRunStatus.QUEUED
        instance.report_run_failed(holder)
        list(daemon.run_iteration(context))
        assert instance.get_run_by_id(waiting.run_id).status != DagsterRunStatus.QUEUED

    # pools (default_limit 1): a second run's dedup step waits for the slot the first one holds
    first, second = (create_run_for_test(instance, job_name="corpus_job") for _ in range(2))
    with InstanceConcurrencyContext(instance, first) as a, InstanceConcurrencyContext(instance, second) as b:
        assert a.claim("corpus_dedup", "deduplicated_documents")
        assert not b.claim("corpus_dedup", "deduplicated_documents")
        storage = instance.event_log_storage
        assert {pool.name: pool.limit for pool in storage.get_pool_limits()} == {"corpus_dedup": 1}
        storage.free_concurrency_slots_for_run(first.run_id)  # the first run's step ends
        assert storage.claim_concurrency_slot("corpus_dedup", second.run_id, "deduplicated_documents").is_claimed


def test_an_unreachable_or_unset_postgresql_stops_the_command_in_one_line(dagster_home, tmp_path, monkeypatch,
                                                                          capsys):
    args = ["corpus", "--raw", str(SAMPLES), "--root", str(tmp_path / "out")]
    monkeypatch.setenv(PG_URL_VAR, f"postgresql://refinery:s3cret@127.0.0.1:{free_port()}/dagster")
    assert main(args) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: Dagster instance storage postgresql://refinery:***@127.0.0.1:")
    assert "unreachable" in line and PG_URL_VAR in line and "s3cret" not in line
    assert not (tmp_path / "out").exists()

    monkeypatch.delenv(PG_URL_VAR)  # the home now holds the team config, whose URL comes from the variable
    assert main(args) == 2
    assert f"but {PG_URL_VAR} is not set" in capsys.readouterr().err

    local_home = tmp_path / "local"
    local_home.mkdir()
    shutil.copy(LOCAL_YAML, local_home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(local_home))
    monkeypatch.setenv(PG_URL_VAR, "postgresql://refinery@127.0.0.1:5432/dagster")
    assert main(args) == 2
    assert "does not store runs in PostgreSQL" in capsys.readouterr().err

    monkeypatch.setenv("REFINERY_EXECUTOR", "threads")
    assert main(args) == 2
    assert "REFINERY_EXECUTOR: unknown executor 'threads'" in capsys.readouterr().err


def test_the_url_from_the_helm_style_postgres_db_block(monkeypatch):
    """Dagster's Helm chart writes `postgres_db` with the password from the environment; it is checked the same."""
    monkeypatch.setenv("PG_PASSWORD", "p@ss:word")
    db = {"username": "dagster", "password": {"env": "PG_PASSWORD"}, "hostname": "db", "db_name": "dagster",
          "port": 5432}
    url = url_from_config({"postgres_db": db})
    assert url == "postgresql://dagster:p%40ss%3Aword@db:5432/dagster"
    assert masked(url) == "postgresql://dagster:***@db:5432/dagster"


def test_team_config_keeps_the_local_queue_and_a_team_runs_steps_in_processes(monkeypatch):
    team, local = (yaml.safe_load(p.read_text()) for p in (TEAM_YAML, LOCAL_YAML))
    assert team.pop("storage") == {"postgres": {"postgres_url": {"env": PG_URL_VAR}}}
    assert team == local  # queue, tag limits, pools, run monitoring, logs

    assert executor_for("local") is dg.in_process_executor
    prod = executor_for("prod")
    assert prod.name == "multiprocess"
    assert prod.config_schema.resolve_config({}).value["config"]["max_concurrent"] == 2
    monkeypatch.setenv("REFINERY_EXECUTOR", "multiprocess")
    monkeypatch.setenv("REFINERY_MAX_CONCURRENT", "3")
    assert executor_for("local").config_schema.resolve_config({}).value["config"]["max_concurrent"] == 3


def test_a_team_run_executes_its_steps_in_processes_of_their_own(pg_url, dagster_home, tmp_path, monkeypatch):
    """REFINERY_EXECUTOR=multiprocess, as the prod profile has it: a run launched the way the daemon's run
    worker executes it (a reconstructable job, not execute_in_process) on the PostgreSQL instance; each step
    (the first stage and its check: a spawned process starts in ~5-10 s here) runs in a process of its own."""
    flags = _small_corpus(tmp_path)
    for flag, value in zip(flags[::2], flags[1::2]):
        monkeypatch.setenv(f"REFINERY_{flag.removeprefix('--').upper()}", value)
    monkeypatch.setenv("REFINERY_EXECUTOR", "multiprocess")
    monkeypatch.setenv("REFINERY_MAX_CONCURRENT", "2")
    home, problems = prepare_home()
    assert problems == []
    instance = dg.DagsterInstance.from_config(str(home))
    instance.add_dynamic_partitions("drops", [DROP])
    job = ReconstructableRepository.for_module("tests.team_location", "team_definitions",
                                               working_directory=str(REPO)).get_reconstructable_job("corpus_job")
    selection = [dg.AssetKey("extracted_documents")]
    with dg.execute_job(job, instance, tags={"dagster/partition": DROP}, asset_selection=selection) as result:
        assert result.success
        run_id = result.run_id
    records = instance.all_logs(run_id)
    events = [r.dagster_event for r in records if r.dagster_event]
    started = {e.step_key: e.pid for e in events if e.event_type == DagsterEventType.STEP_START}
    assert set(started) == {"extracted_documents", "extracted_documents_extracted_ids_unique"}
    assert os.getpid() not in started.values() and len(set(started.values())) == len(started)
    workers = [e for e in events if e.event_type == DagsterEventType.STEP_WORKER_STARTED]
    assert len(workers) == len(started)
    assert "multiprocess executor" in next(r.user_message for r in records if r.dagster_event
                                          and r.dagster_event.event_type == DagsterEventType.ENGINE_EVENT)
    materialized = {e.asset_key.path[0] for e in events if e.event_type == DagsterEventType.ASSET_MATERIALIZATION}
    assert materialized == {"extracted_documents"}
    assert instance.get_run_by_id(run_id).status == DagsterRunStatus.SUCCESS
