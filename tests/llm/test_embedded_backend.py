"""EmbeddedBackend with the real SmolLM2-135M model (loaded once for the module; answers kept short)."""
import pytest

from refinery.llm.embedded_backend import MODEL_NAME, EmbeddedBackend, default_model_path
from refinery.llm.types import LLMCallError, LLMRequest, user


def req(text: str, **kw) -> LLMRequest:
    kw.setdefault("max_tokens", 16)
    return LLMRequest(model="embedded", messages=(user(text),), **kw)


@pytest.fixture(scope="module")
def backend():
    b = EmbeddedBackend()
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
