"""EmbeddedBackend with the real SmolLM2-135M model (loaded once for the module; answers kept short)."""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from orchestration.profiles import resources_for
from refinery.config_check import run_problems
from refinery.llm.embedded_backend import MODEL_NAME, EmbeddedBackend, default_model_path, default_workers
from refinery.llm.types import LLMCallError, LLMRequest, user

REPO = Path(__file__).resolve().parents[2]


def req(text: str, **kw) -> LLMRequest:
    kw.setdefault("max_tokens", 16)
    return LLMRequest(model="embedded", messages=(user(text),), **kw)


@pytest.fixture(scope="module")
def backend():
    b = EmbeddedBackend(workers=1)  # in this process: a pool would load the model again in each worker
    b.complete(req("Hi", max_tokens=1))  # load once, outside the timed tests
    return b


def test_default_model_is_installed():
    assert default_model_path().name == "SmolLM2-135M-Instruct.Q4_1.gguf"


def test_seeded_sampling_is_deterministic(backend):
    r = req("Name a colour.", temperature=0.8, top_p=0.95, seed=11, system="Answer in one word.")
    first, second = backend.complete(r), backend.complete(r)
    assert first.text == second.text and first.text.strip()
    assert first.model == MODEL_NAME and first.backend == "embedded"
    assert first.usage.input_tokens > 10 and 0 < first.usage.output_tokens <= 16


def test_batch_returns_one_result_per_request(backend):
    requests = [req("What is 2+2?", temperature=0.0), req("Say hello to Ana and tell her a very long story.",
                                                        temperature=0.0), req("Name a fruit.", temperature=0.0)]
    results = dict(backend.complete_batch(requests))
    assert sorted(results) == [0, 1, 2]
    assert all(not isinstance(r, LLMCallError) and r.text.strip() for r in results.values())
    # greedy decoding in a left-padded batch answers as it does alone (the short prompts are padded)
    assert [results[i].text for i in (0, 2)] == [backend.complete(requests[i]).text for i in (0, 2)]


def test_max_tokens_and_stop_strings(backend):
    long = backend.complete(req("Write a long story about a dragon.", max_tokens=8, temperature=0.0))
    assert long.stop_reason == "max_tokens" and long.usage.output_tokens == 8
    count = req("Count from one to ten in words.", max_tokens=24, temperature=0.0)
    full = backend.complete(count)
    stopped = backend.complete(count.model_copy(update={"stop": ("\n",)}))
    assert "\n" in full.text and stopped.stop_reason == "stop_sequence"
    assert stopped.text == full.text.split("\n")[0] and stopped.usage.output_tokens < full.usage.output_tokens


def test_prefill_is_continued_not_repeated(backend):
    out = backend.complete(req("Give a JSON object with a key named colour.", prefill='{"colour": "', temperature=0.0))
    assert not out.text.startswith('{"colour"')


def _workers(parent: psutil.Process) -> list[psutil.Process]:
    return [p for p in parent.children() if "spawn_main" in " ".join(p.cmdline())]


def test_two_worker_processes_answer_as_this_process_does(backend):
    """Answers are cached: the same batch must give the same answer whichever process runs it."""
    requests = [req("What is 2+2?", temperature=0.0), req("Name a fruit.", temperature=0.0),
                req("Say hello to Ana.", temperature=0.0, stop=("!",)),
                req("Name a colour.", temperature=0.8, top_p=0.9, seed=5), req("Name a tree.", temperature=0.8,
                                                                                top_p=0.9, seed=6)]
    pooled = EmbeddedBackend(workers=2, batch_size=1)  # five batches over two processes
    try:
        started = time.monotonic()
        got = dict(pooled.complete_batch(requests))
        print(f"two workers, model loads included: {time.monotonic() - started:.1f} s")
        assert len(_workers(psutil.Process())) == 2
    finally:
        pooled.close()
    here = dict(EmbeddedBackend(workers=1, batch_size=1).complete_batch(requests))  # the module's loaded model
    assert sorted(got) == list(range(len(requests)))
    assert [got[i].model_dump() for i in range(len(requests))] == [here[i].model_dump() for i in range(len(requests))]
    assert got[2].stop_reason in ("stop_sequence", "end", "max_tokens") and got[0].text.strip()
    assert _workers(psutil.Process()) == []  # close() shut the pool down


def test_workers_exit_when_their_parent_is_killed(tmp_path):
    """SIGKILL leaves the pool no chance to stop its workers: they notice their parent's end themselves."""
    stderr = open(tmp_path / "stderr", "w")  # the resource tracker's warning about the killed pool's semaphores
    parent = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import threading, time
        from refinery.llm.embedded_backend import EmbeddedBackend
        from refinery.llm.types import LLMRequest, user
        requests = [LLMRequest(model="e", messages=(user(q),), max_tokens=64) for q in ("Hi", "Hello")]
        backend = EmbeddedBackend(workers=2, batch_size=1)
        threading.Thread(target=lambda: list(backend.complete_batch(requests)), daemon=True).start()
        time.sleep(600)
    """)], cwd=REPO, stderr=stderr)
    try:
        deadline = time.monotonic() + 60
        while len(workers := _workers(psutil.Process(parent.pid))) < 2:
            assert time.monotonic() < deadline and parent.poll() is None, (tmp_path / "stderr").read_text()
            time.sleep(0.2)
        time.sleep(1)  # their initializers are running (loading the model)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        _, alive = psutil.wait_procs(workers, timeout=20)
        assert alive == [], f"workers outlived their parent: {alive}"
    finally:
        parent.kill()
        stderr.close()


def test_workers_setting_reaches_the_backend(monkeypatch):
    assert 1 <= default_workers() <= min(4, len(os.sched_getaffinity(0)))
    monkeypatch.setenv("REFINERY_LLM_WORKERS", "3")
    llm = resources_for("local")["llm"]
    assert llm.embedded_workers == 3 and llm._backend().workers == 3
    monkeypatch.setenv("REFINERY_LLM_WORKERS", "0")
    assert run_problems("sft", env=dict(os.environ)) == [
        "REFINERY_LLM_WORKERS: must be an integer ≥ 1, the embedded model's generating processes (got '0')"]
