"""Issue 10: a `refinery sft` run killed with SIGKILL in the middle of an LLM stage (generation, judging) never
blocks the next run, which produces what an uninterrupted run produces (same record ids and text hashes)
and sends no request again whose answer had already arrived before the kill.

`refinery corpus` runs once for the module (its filter workers make it the slow part); each scenario gets a
copy of that root. The fake OpenAI-compatible server answers like a model would (grounded Q&A pairs, judge
ratings) and can be told to stop answering after the N-th answer of one kind: the run is then frozen
mid-stage with requests in flight, every answer it got has had time to reach the request cache, and the test
kills its process group, so which requests were answered before the kill is known exactly."""
from __future__ import annotations

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
from tests.fakes.openai_server import FakeOpenAIServer

REPO = Path(__file__).resolve().parents[2]
DROP = "2026-01-01"
METHOD = "grounded_qa"
CONFIG = (
    # language ID and bad words load models in every filter worker; Gopher repetition would drop the synthetic text
    "execution: {tasks: 1}\n"
    "filters: {language: {enabled: false}, bad_words: {enabled: false}, gopher_repetition: {enabled: false}}\n"
    "sft:\n"
    f"  methods: [{METHOD}]\n"
    f"  generation: {{{METHOD}: {{max_chunks: 8}}}}\n"
    "  filters: {language: {enabled: false}}\n"  # a language-ID model would load in the subprocess
)
# the test's environment must not leak into the CLI runs (conftest's dagster_home clears the same variables)
CLEARED = ("REFINERY_ROOT", "REFINERY_RAW", "REFINERY_CONFIG", "REFINERY_S3_ENDPOINT", "REFINERY_ENV", "REFINERY_LLM",
           "REFINERY_LLM_MODEL", "REFINERY_LLM_BASE_URL", "REFINERY_LLM_ENDPOINT", "REFINERY_LLM_CONCURRENCY",
           "REFINERY_LLM_WORKERS", "REFINERY_LLM_BATCHES", "REFINERY_RETRY_FAILED", "ANTHROPIC_API_KEY", "OPENAI_API_KEY")
LATENCY = 0.1  # per request, with 2 in flight: a stage takes a few seconds and is caught with requests in flight


# --- the fake model --------------------------------------------------------------------------------

def _kind(body: dict) -> str:
    prefill = body["messages"][-1]
    if prefill["role"] == "assistant" and prefill["content"] == "Rating:":  # refinery/llmdata/judge.py's templates
        return "judge"
    if prefill["role"] == "assistant" and prefill["content"] == "Question:":  # grounded_qa's template
        return "generate"
    raise AssertionError(f"unexpected request: {json.dumps(body)[:300]}")


def _key(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


class Model:
    """The responder: deterministic answers keyed on the request. `hold(kind, n)`: after the n-th answer of
    that kind, no request is answered any more (each waits) until `release()`. `answered` holds the keys of
    the requests answered while not held."""

    def __init__(self):
        self.answered: list[str] = []
        self.counts = {"generate": 0, "judge": 0}
        self.held = threading.Event()
        self._released = threading.Event()
        self._released.set()
        self._hold: tuple[str, int] | None = None
        self._lock = threading.Lock()

    def hold(self, kind: str, n: int) -> None:
        self._hold = (kind, n)
        self._released.clear()

    def release(self) -> None:
        self._hold = None
        self._released.set()

    def __call__(self, body: dict) -> str:
        kind = _kind(body)
        with self._lock:
            if self._hold and self.counts[self._hold[0]] >= self._hold[1]:
                self.held.set()
                wait = True
            else:
                wait = False
                self.counts[kind] += 1
                self.answered.append(_key(body))
        if wait:
            self._released.wait(timeout=300)
            return " 3\nRationale: too late." if kind == "judge" else " Too late?\nAnswer: nobody reads this."
        digest = int(_key(body), 16)
        if kind == "judge":  # some records fall under the default threshold (3.0): the judge's output matters
            return f" {[2, 3, 4, 5, 4][digest % 5]}\nRationale: Rated from the reference, case {digest % 97}."
        text = " ".join(body["messages"][0]["content"].split())  # the chunk (context first), then the instructions
        return (f" What did the team record in case {digest % 9973} of this report?\n"
                f"Answer: The report says: {text[:160]}.")


# --- CLI runs ----------------------------------------------------------------------------------------

def _env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    return {**env, "DAGSTER_HOME": str(home), "REFINERY_LLM_CONCURRENCY": "2"}


def _sft_args(setup: dict, root: Path, server: FakeOpenAIServer) -> list[str]:
    return ["sft", "--llm", "openai", "--llm-base-url", f"{server.base_url}/v1", "--model", "local-model",
            "--root", str(root), "--raw", setup["raw"], "--config", setup["config"], "--method", METHOD]


def _cli(setup: dict, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "orchestration.cli", *args], cwd=REPO, capture_output=True,
                          text=True, env=_env(setup["home"]), timeout=timeout)


def _outputs(root: Path) -> dict[str, list[tuple[str, str]]]:
    """Per SFT stage, the sorted (record id, hash of its messages) pairs, and a hash of each whole record."""
    out = {}
    for stage in ("generated", "filtered", "judged", "dataset"):
        folder = root / "sft" / stage / (METHOD if stage != "dataset" else "")
        lines = (folder / "records.jsonl").read_text().splitlines()
        records = [json.loads(line) for line in lines if line.strip()]
        out[stage] = sorted((r["id"], hashlib.sha256(json.dumps(r["messages"]).encode()).hexdigest()) for r in records)
        out[f"{stage} (whole records)"] = sorted(hashlib.sha256(line.encode()).hexdigest() for line in lines)
    return out


def _cache_entries(root: Path) -> int:
    return len(list((root / "llm_cache").rglob("*.json"))) if (root / "llm_cache").exists() else 0


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> dict:
    """One drop of distinct prose documents, run through `refinery corpus` once; then an uninterrupted SFT
    run on a copy of that root: the reference."""
    tmp = tmp_path_factory.mktemp("kill_llm")
    home = tmp / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    builders.prose_drop(tmp / "raw" / DROP, seed=11)
    (tmp / "config.yaml").write_text(CONFIG)
    setup = {"raw": str(tmp / "raw"), "config": str(tmp / "config.yaml"), "home": home, "tmp": tmp,
             "corpus": tmp / "corpus-root"}
    started = time.monotonic()
    done = _cli(setup, "corpus", "--raw", setup["raw"], "--root", str(setup["corpus"]), "--config", setup["config"],
                "--workers", "1")
    print(f"corpus: {time.monotonic() - started:.1f} s")
    assert done.returncode == 0, done.stderr[-3000:]

    reference = _copy_corpus(setup, "reference")
    with FakeOpenAIServer(responder=Model()) as server:
        started = time.monotonic()
        done = _cli(setup, *_sft_args(setup, reference, server))
        print(f"uninterrupted sft: {time.monotonic() - started:.1f} s")
        assert done.returncode == 0, done.stderr[-3000:]
        bodies = [_key(b) for b in server.requests()]
    setup["reference"] = {"outputs": _outputs(reference), "requests": bodies,
                          "kinds": {k: sum(_kind(b) == k for b in server.requests()) for k in ("generate", "judge")}}
    assert len(bodies) == len(set(bodies)), "the uninterrupted run sent a request twice"
    return setup


def _copy_corpus(setup: dict, name: str) -> Path:
    root = setup["tmp"] / name
    shutil.copytree(setup["corpus"], root)
    return root


def test_the_reference_run_exercises_every_stage(setup):
    ref = setup["reference"]
    print(f"reference: {ref['kinds']}, " + ", ".join(f"{k}={len(v)}" for k, v in ref["outputs"].items()))
    assert ref["kinds"]["generate"] == 8 and ref["kinds"]["judge"] == 4 * len(ref["outputs"]["filtered"])
    assert ref["outputs"]["dataset"] and len(ref["outputs"]["judged"]) < len(ref["outputs"]["filtered"])


@pytest.mark.parametrize("kind, answers", [("generate", 3), ("judge", 10)], ids=["mid-generation", "mid-judging"])
def test_sigkill_mid_llm_stage_then_the_next_run_starts_at_once_matches_and_pays_nothing_twice(setup, kind, answers):
    root = _copy_corpus(setup, f"killed-{kind}")
    model = Model()
    model.hold(kind, answers)
    with FakeOpenAIServer(responder=model, latency=LATENCY) as server:
        args = _sft_args(setup, root, server)
        proc = subprocess.Popen([sys.executable, "-m", "orchestration.cli", *args], cwd=REPO,
                                env=_env(setup["home"]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            deadline = time.monotonic() + 180
            while not model.held.is_set():
                assert proc.poll() is None, f"the run ended before its {answers}th {kind} answer"
                assert time.monotonic() < deadline, f"never got to {answers} {kind} answers"
                time.sleep(0.05)
            # every answer that arrived is in the request cache before the kill (persisted on arrival)
            while _cache_entries(root) < len(model.answered):
                assert time.monotonic() < deadline, f"{_cache_entries(root)} cached of {len(model.answered)} answers"
                time.sleep(0.05)
            time.sleep(0.3)  # the requests in flight when the answers stopped have all arrived (2 at a time)
            os.killpg(proc.pid, signal.SIGKILL)  # a lost machine / the OOM killer: no cleanup at all
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                model.release()
        before = list(model.answered)
        sent_before = len(server.records)
        in_flight = {_key(r["json"]) for r in server.records} - set(before)
        assert model.counts[kind] == answers and _cache_entries(root) == len(before)
        assert in_flight, "no request was in flight at the kill"
        killed_stage = "judged" if kind == "judge" else "generated"
        assert not (root / "sft" / killed_stage / METHOD / "records.jsonl").exists(), "killed too late"
        model.release()  # the server answers again (the requests of the dead run go to closed sockets)

        started = time.monotonic()
        resumed = _cli(setup, *args, timeout=240)
        took = time.monotonic() - started
        print(f"killed after {answers} {kind} answers ({len(in_flight)} in flight); the next run took {took:.1f} s")
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        after = [_key(r["json"]) for r in server.records[sent_before:]]

    # it started at once: the dead run's lock and `llm` pool slot were taken over, not waited for
    assert "taking over the lock of a run that is gone" in resumed.stderr, resumed.stderr[-3000:]
    assert "was left STARTED by a process that is gone" in resumed.stderr, resumed.stderr[-3000:]
    assert "waiting for pool" not in resumed.stderr
    # the same outputs as the uninterrupted run
    assert _outputs(root) == setup["reference"]["outputs"]
    # nothing answered before the kill was sent again; the rest was sent once; together: the reference's requests
    repeated = set(before) & set(after)
    assert not repeated, f"{len(repeated)} requests answered before the kill were sent (and paid) again"
    assert len(after) == len(set(after))
    assert sorted(before + after) == sorted(setup["reference"]["requests"])
    assert in_flight <= set(after)  # the unanswered ones were sent again
