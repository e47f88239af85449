import pytest
from pydantic import BaseModel

from refinery.llm.cache import ResponseCache
from refinery.llm.client import LLMClient, extract_json, json_parser
from refinery.llm.pricing import Pricing
from refinery.llm.types import LLMCallError, LLMRequest, user
from refinery.storage import data_folder
from tests.fakes.scripted import ScriptedBackend


class Answer(BaseModel):
    answer: str
    score: int


def req(text: str, model: str = "claude-haiku-4-5", **kw) -> LLMRequest:
    return LLMRequest(model=model, messages=(user(text),), **kw)


@pytest.fixture
def cache(tmp_path):
    return ResponseCache(data_folder(str(tmp_path / "cache")))


def test_cache_makes_rerun_free_and_dedupes_identical_requests(cache):
    backend = ScriptedBackend(lambda r: "echo " + r.messages[-1].content)
    client = LLMClient(backend, cache)
    out = client.generate([req("a"), req("b"), req("a")], label="qa")
    assert [o.response.text for o in out] == ["echo a", "echo b", "echo a"]
    assert len(backend.calls) == 2
    again = LLMClient(backend, cache).generate([req("a"), req("b")], label="qa")
    assert len(backend.calls) == 2 and all(o.response.cached for o in again)
    # a different parameter is a different request
    LLMClient(backend, cache).generate([req("a", temperature=0.1)])
    assert len(backend.calls) == 3


def test_transient_failures_are_recorded_but_never_cached(cache):
    backend = ScriptedBackend(lambda r: LLMCallError("server_error", "503"))
    client = LLMClient(backend, cache)
    [out] = client.generate([req("x")], label="j")
    assert out.error == "server_error" and client.usage_summary()["j"]["failures"] == {"server_error": 1}
    assert client.usage_summary()["j"]["retry_pending"] == 1
    LLMClient(backend, cache).generate([req("x")])
    assert len(backend.calls) == 2  # not cached: the next run sends it again
    assert not list(cache.folder.glob("**/*.json"))


def test_terminal_failures_cached_and_resent_only_when_asked(cache):
    backend = ScriptedBackend(lambda r: LLMCallError("bad_request", "prompt is too long", retryable=False))
    LLMClient(backend, cache).generate([req("x")])
    again = LLMClient(backend, cache)
    [out] = again.generate([req("x")], label="j")
    assert len(backend.calls) == 1 and out.error == "bad_request"
    assert again.usage_summary()["j"]["failures"] == {"bad_request": 1}  # a cached failure still counts
    LLMClient(backend, cache, retry_failed=True).generate([req("x")])
    assert len(backend.calls) == 2


@pytest.mark.parametrize("reason, retryable", [("server_error", True), ("auth_error", False),
                                               ("malformed_reply", False)])
def test_transient_failures_cached_by_older_versions_are_misses_and_removed(cache, reason, retryable):
    """Older versions cached every failure, auth errors and malformed replies as terminal."""
    key = req("x").cache_key()
    cache.put(key, LLMCallError("bad_request", "placeholder", retryable=False))
    name = f"{key[:2]}/{key}.json"
    with cache.folder.open(name, "wt") as f:
        f.write('{"error": {"reason": "%s", "detail": "HTTP 401 sk-old", "retryable": %s}}'
                % (reason, str(retryable).lower()))
    backend = ScriptedBackend(lambda r: "fine")
    [out] = LLMClient(backend, cache).generate([req("x")])
    assert out.ok and len(backend.calls) == 1
    assert "sk-old" not in cache.folder.open(name, "rt").read()


def test_structured_output_repaired_once_then_dropped(cache):
    def responder(r):
        if "could not be used" in r.messages[-1].content:
            return '{"answer": "fixed", "score": 4}' if "good" in r.messages[0].content else "still bad"
        return "not json at all"

    client = LLMClient(ScriptedBackend(responder), cache)
    good, bad = client.generate_structured([req("good"), req("bad")], json_parser(Answer), label="s")
    assert good.ok and good.repaired and good.value == Answer(answer="fixed", score=4)
    assert good.request.messages[0].content == "good"  # the original request is kept for provenance
    assert bad.error == "invalid_output" and "JSON" in bad.detail
    summary = client.usage_summary()["s"]
    assert summary["repaired"] == 1 and summary["invalid_outputs"] == 1


def test_prefill_is_part_of_parsed_text(cache):
    client = LLMClient(ScriptedBackend(lambda r: '"answer": "x", "score": 2}'), cache)
    [out] = client.generate_structured([req("q", prefill="{")], json_parser(Answer))
    assert out.value.score == 2


def test_extract_json_variants():
    assert extract_json('Sure!\n```json\n{"a": 1}\n```') == {"a": 1}
    assert extract_json('prefix {"a": [1, 2]} suffix') == {"a": [1, 2]}
    with pytest.raises(ValueError):
        extract_json("nothing here")


def test_cost_counts_tokens_with_cache_and_batch_prices():
    from refinery.llm.types import Usage
    p = Pricing()
    u = Usage(input_tokens=1_000_000, output_tokens=1_000_000, cache_read_input_tokens=1_000_000)
    assert p.cost("claude-haiku-4-5-20251001", u) == pytest.approx(1.0 + 5.0 + 0.1)
    assert p.cost("claude-haiku-4-5", u, batch=True) == pytest.approx(3.05)
    assert p.cost("smollm2-135m-instruct", u) == 0.0


def test_concurrency_is_bounded_by_backend(cache):
    import threading
    import time
    live, peak, lock = [0], [0], threading.Lock()

    def slow(r):
        with lock:
            live[0] += 1
            peak[0] = max(peak[0], live[0])
        time.sleep(0.05)
        with lock:
            live[0] -= 1
        return "ok"

    LLMClient(ScriptedBackend(slow, max_concurrency=3), cache).generate([req(str(i)) for i in range(12)])
    assert peak[0] == 3
