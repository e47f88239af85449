"""Run control of the CLI (issue 10: findings 2, 5, 7, 8): a configuration is refused before any run, a
killed run never blocks the next one, two runs never share a root, a failure is one line."""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests import builders

REPO = Path(__file__).resolve().parents[2]
DROP = "2026-01-01"
# language ID and bad words load models in every filter worker; Gopher repetition would drop the synthetic text
TINY_CONFIG = ("execution: {tasks: 1}\n"
               "filters: {language: {enabled: false}, bad_words: {enabled: false}, gopher_repetition: {enabled: false}}\n")


def _cli(*args: str, env: dict | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "orchestration.cli", *args], cwd=REPO, capture_output=True,
                          text=True, env=env or os.environ.copy(), timeout=timeout)


def _popen(*args: str, stderr: list[str] | None = None) -> subprocess.Popen:
    """A CLI run in its own process group; its stderr lines go to `stderr` (drained by a thread, so a full
    pipe never blocks the run)."""
    proc = subprocess.Popen([sys.executable, "-m", "orchestration.cli", *args], cwd=REPO, env=os.environ.copy(),
                            stdout=subprocess.DEVNULL, text=True, start_new_session=True,
                            stderr=subprocess.DEVNULL if stderr is None else subprocess.PIPE)
    if stderr is not None:
        threading.Thread(target=lambda: stderr.extend(proc.stderr), daemon=True).start()
    return proc


@pytest.fixture
def tiny(tmp_path, dagster_home) -> dict:
    """One small drop of distinct prose documents and a config without the model-loading filters."""
    builders.prose_drop(tmp_path / "raw" / DROP, seed=7)
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY_CONFIG)
    shutil.copy(REPO / "dagster.yaml", dagster_home / "dagster.yaml")  # the pools' limits, as the CLI sets up
    return {"raw": str(tmp_path / "raw"), "config": str(config), "home": dagster_home, "tmp": tmp_path}


def _corpus_args(tiny: dict, root: Path) -> list[str]:
    return ["corpus", "--raw", tiny["raw"], "--root", str(root), "--config", tiny["config"], "--workers", "1"]


def _outputs(root: Path) -> dict[str, list[tuple[str, str]]]:
    """Per stage, the sorted (document id, text hash) pairs."""
    out = {}
    for stage in ("extracted", "filtered", "deduplicated"):
        pairs = []
        for path in sorted((root / "corpus" / DROP / stage).rglob("*.jsonl.gz")):
            with gzip.open(path, "rt") as f:
                pairs += [(d["id"], hashlib.sha256(d["text"].encode()).hexdigest()) for d in map(json.loads, f)]
        out[stage] = sorted(pairs)
    return out


# --- finding 5: configuration checked before any run ------------------------------------------------

BAD = [  # (config YAML or None, extra CLI arguments, command, the one expected line)
    ("execution: {tasks: -1}\n", [], "corpus", "execution.tasks: must be ≥ 1 (got -1)"),
    ("execution: {tasks: 0}\n", [], "corpus", "execution.tasks: must be ≥ 1 (got 0)"),
    ("sample_documents: -3\n", [], "corpus", "sample_documents: must be ≥ 0 (got -3)"),
    ("sft: {judge: {threshold: 9}}\n", [], "corpus", "sft.judge.threshold: must be ≤ 5.0 (got 9)"),
    ("sft: {methods: [grounded_qa, nope]}\n", [], "sft", "sft.methods: unknown method 'nope'"),
    ("execution: {taks: 2}\n", [], "corpus", "execution.taks: unknown key"),
    (None, ["--workers", "0"], "corpus", "--workers: must be ≥ 1 (got 0)"),
    (None, ["--config", "missing.yaml"], "corpus", "config missing.yaml: no such file"),
    (None, ["--raw", "no/such/raw"], "corpus", "--raw no/such/raw: no such folder"),
    (None, ["--llm", "openai", "--llm-base-url", "http://127.0.0.1:9/v1"], "sft", "--llm openai needs --model"),
    (None, ["--llm", "anthropic"], "sft", "--llm anthropic needs the ANTHROPIC_API_KEY environment variable"),
]


@pytest.mark.parametrize("config, extra, command, expected", BAD, ids=[b[3][:40] for b in BAD])
def test_a_bad_configuration_is_refused_in_one_line_before_any_run(tmp_path, dagster_home, config, extra, command,
                                                                   expected):
    args = [command, "--root", str(tmp_path / "out"), *extra]
    if command == "corpus" and "--raw" not in extra:
        args += ["--raw", str(REPO / "samples" / "raw")]
    if config is not None:
        (tmp_path / "c.yaml").write_text(config)
        args += ["--config", str(tmp_path / "c.yaml")]
    started = time.monotonic()
    done = _cli(*args)
    print(f"{expected}: {time.monotonic() - started:.2f} s")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], done.stderr
    assert not (tmp_path / "out").exists() and not any(dagster_home.iterdir())  # nothing ran, no instance made


def test_validation_runs_before_dagster_is_imported(tmp_path):
    (tmp_path / "c.yaml").write_text("execution: {tasks: -1}\n")
    probe = ("import sys, time\nt = time.monotonic()\nfrom orchestration.cli import main\n"
             f"rc = main(['corpus', '--config', {str(tmp_path / 'c.yaml')!r}, '--raw', 'samples/raw'])\n"
             "heavy = [m for m in ('dagster', 'torch', 'datatrove.pipeline.filters', 'boto3', 'pyarrow') "
             "if m in sys.modules]\nprint(rc, heavy, round(time.monotonic() - t, 2))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60)
    rc, heavy, seconds = done.stdout.split(" ", 1)[0], done.stdout.split("[")[1].split("]")[0], done.stdout.split()[-1]
    print(f"validation in-process: {seconds} s")
    assert rc == "2" and heavy == "", done.stdout + done.stderr


# --- finding 2: a dead run never blocks the next one ------------------------------------------------

def _fake_run_holding(instance, pool: str, pid: int) -> str:
    """A STARTED corpus run of process `pid` on this host that holds `pool`'s only slot."""
    import dagster as dg

    from refinery.run_lock import Owner, process_start

    run = instance.add_run(dg.DagsterRun(job_name="corpus_job", status=dg.DagsterRunStatus.STARTED, tags={
        "refinery/pid": str(pid), "refinery/host": Owner().host, "refinery/process_start": process_start(pid)}))
    storage = instance.event_log_storage
    storage.initialize_concurrency_limit_to_default(pool)
    assert storage.claim_concurrency_slot(pool, run.run_id, "deduplicated_documents").is_claimed
    return run.run_id


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_a_dead_run_holding_a_pool_slot_is_failed_and_freed_by_the_next_run(tiny):
    import dagster as dg

    instance = dg.DagsterInstance.get()
    dead = _fake_run_holding(instance, "corpus_dedup", _dead_pid())
    done = _cli(*_corpus_args(tiny, tiny["tmp"] / "out"), timeout=180)  # would wait forever on the slot before
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"run {dead[:8]} (corpus_job) was left STARTED by a process that is gone" in done.stderr
    assert instance.get_run_by_id(dead).status == dg.DagsterRunStatus.FAILURE
    assert not instance.event_log_storage.get_concurrency_info("corpus_dedup").claimed_slots


def test_a_run_waiting_for_a_pool_names_the_holder_and_stops_on_sigterm(tiny):
    import dagster as dg

    instance = dg.DagsterInstance.get()
    holder = _fake_run_holding(instance, "corpus_dedup", os.getpid())  # alive: this test process
    lines: list[str] = []
    proc = _popen(*_corpus_args(tiny, tiny["tmp"] / "out"), stderr=lines)
    try:
        deadline, seen = time.monotonic() + 150, ""
        while f"held by run {holder[:8]}" not in seen:
            assert proc.poll() is None and time.monotonic() < deadline, seen[-3000:]
            time.sleep(0.2)
            seen = "".join(lines)
        assert "INFO refinery: waiting for pool 'corpus_dedup' (limit 1): held by run" in seen
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 130
        print(f"stopped {time.monotonic() - sent:.1f} s after SIGTERM")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    waiting = [r for r in instance.get_runs() if r.run_id != holder]
    assert waiting and waiting[0].status in (dg.DagsterRunStatus.CANCELED, dg.DagsterRunStatus.FAILURE)
    assert not (tiny["tmp"] / "out" / "corpus" / DROP / "_state" / "run.lock").exists()  # its lock released


def test_sigkill_mid_dedup_then_the_next_run_starts_at_once_and_matches_an_uninterrupted_run(tiny):
    """Also finding 7: while the first run lives, a second one on the same root and drop is refused."""
    reference = tiny["tmp"] / "reference"
    assert _cli(*_corpus_args(tiny, reference), timeout=180).returncode == 0

    root = tiny["tmp"] / "out"
    proc = _popen(*_corpus_args(tiny, root))
    marker = root / "corpus" / DROP / "_state" / "markers" / "dedup.started.json"
    try:
        deadline = time.monotonic() + 150
        while not marker.exists():
            assert proc.poll() is None, "the run ended before it reached dedup"
            assert time.monotonic() < deadline, "dedup never started"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGSTOP)  # frozen inside dedup, holding the corpus_dedup slot and the lock
        second = _cli(*_corpus_args(tiny, root), timeout=120)
        assert second.returncode == 75, second.stderr
        assert f"is in use by another run: pid {proc.pid} on" in second.stderr
        assert "refinery corpus" in second.stderr and "Wait for it to finish" in second.stderr
        os.killpg(proc.pid, signal.SIGKILL)  # a lost machine / the OOM killer: no cleanup at all
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)

    started = time.monotonic()
    resumed = _cli(*_corpus_args(tiny, root), timeout=180)
    print(f"the run after the killed one took {time.monotonic() - started:.1f} s")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "taking over the lock of a run that is gone" in resumed.stderr
    assert "was left STARTED by a process that is gone" in resumed.stderr
    assert _outputs(root) == _outputs(reference) and _outputs(root)["deduplicated"]


@pytest.mark.parametrize("command", ["sft", "preference"])
def test_a_second_sft_or_preference_run_on_one_root_is_refused(tmp_path, dagster_home, command):
    from refinery.run_lock import Owner, RunLock

    root = tmp_path / "out"
    with RunLock(str(root / command), Owner(command=f"refinery {command}")):  # held by this (live) process
        done = _cli(command, "--root", str(root), timeout=120)
    assert done.returncode == 75, done.stderr[-2000:]
    assert f"{root / command} is in use by another run: pid {os.getpid()} on" in done.stderr


# --- finding 8: a failure is one line -----------------------------------------------------------------

def test_storage_endpoint_gone_is_one_line(tiny):
    env = {**os.environ, "AWS_MAX_ATTEMPTS": "1"}  # botocore's retries would only make the test slower
    done = _cli(*_corpus_args(tiny, "s3://bucket/x"), "--s3-endpoint", "http://127.0.0.1:9", env=env)  # type: ignore[arg-type]
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: storage s3://bucket/x unreachable at http://127.0.0.1:9: EndpointConnectionError")


def test_a_failed_step_is_summed_up_by_its_root_cause():
    from dagster._utils.error import SerializableErrorInfo

    from orchestration.cli import status_lines
    from orchestration.run_control import failure_line

    root = SerializableErrorInfo("botocore.exceptions.EndpointConnectionError: Could not connect to the endpoint "
                                 'URL: "http://127.0.0.1:9/bucket"\n', [], "EndpointConnectionError")
    wrapped = SerializableErrorInfo("Error occurred while executing op", ["..."] * 700, "DagsterExecutionStepExecutionError",
                                    cause=root)

    class Event:
        step_key, event_specific_data = "extracted_documents", type("Data", (), {"error": wrapped})()

    class Result:
        all_events = ()

        def get_step_failure_events(self):
            return [Event()]

    line = failure_line(Result(), "s3://bucket/x", "http://127.0.0.1:9")
    assert line == ('step extracted_documents: storage s3://bucket/x unreachable at http://127.0.0.1:9: '
                    'EndpointConnectionError: Could not connect to the endpoint URL: "http://127.0.0.1:9/bucket"')
    assert status_lines({"error": line, "checks": {}}) == [f"  FAILED: {line}"]
