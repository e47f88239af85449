"""A run killed half-way resumes without redoing the datatrove tasks it finished."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from orchestration.cli import main

REPO = Path(__file__).resolve().parent.parent
LINES = 20_000  # per file: one extraction task takes about a second, long enough to kill between tasks


def _make_drop(raw: Path) -> None:
    drop = raw / "2026-01-01"
    drop.mkdir(parents=True)
    for name in ("a", "b"):
        with open(drop / f"{name}.jsonl", "w") as f:
            for i in range(LINES):
                f.write(json.dumps({"text": f"Record {name}-{i}: the maintenance crew inspected pump {i} and "
                                            f"logged the vibration readings for the weekly reliability review."}) + "\n")


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        assert proc.poll() is None, "the run ended before it could be killed"
        assert time.time() < deadline, f"timed out waiting for {path}"
        time.sleep(0.02)


def test_killed_run_resumes_without_redoing_finished_tasks(tmp_path, dagster_home):
    raw, root = tmp_path / "raw", tmp_path / "out"
    _make_drop(raw)
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("execution: {tasks: 2}\nfilters: {language: {enabled: false}}\n")
    args = ["corpus", "--raw", str(raw), "--root", str(root), "--config", str(cfg), "--workers", "1"]
    proc = subprocess.Popen([sys.executable, "-m", "orchestration.cli", *args], cwd=REPO, env=os.environ.copy(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    logs = root / "corpus" / "2026-01-01" / "_state" / "logs" / "extract"
    try:
        deadline = time.time() + 120
        while not list(logs.glob("*/main/completions/00000")):
            assert proc.poll() is None and time.time() < deadline, "extract task 0 never completed"
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)  # like a lost machine: no cleanup at all
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    done = next(logs.glob("*/main/completions/00000"))
    assert not (done.parent / "00001").exists(), "killed too late: task 1 had finished too"
    stats0 = done.parent.parent / "stats" / "00000.json"
    before = stats0.stat().st_mtime_ns

    summary = tmp_path / "summary.json"
    assert main([*args, "--json", str(summary)]) == 0
    assert stats0.stat().st_mtime_ns == before  # task 0 was not run again
    extracted = json.loads(summary.read_text())["drops"]["2026-01-01"]["assets"]["extracted_documents"]
    assert extracted["documents_out"] == 2 * LINES  # nothing lost, nothing doubled
