"""OpenAICompatibleBackend through the real `openai` SDK against the local fake server."""
from concurrent.futures import ThreadPoolExecutor

import pytest

from refinery.llm.openai_backend import OpenAICompatibleBackend
from refinery.llm.types import LLMCallError, LLMRequest, user
from tests.fakes.http_fake import Reject
from tests.fakes.openai_server import FakeOpenAIServer

KEY = "sk-local-SECRET-42"


def req(text: str, **kw) -> LLMRequest:
    return LLMRequest(model="smol", messages=(user(text),), **kw)


@pytest.fixture
def server():
    with FakeOpenAIServer() as s:
        yield s


def backend(server, **kw) -> OpenAICompatibleBackend:
    kw.setdefault("max_retries", 2)
    kw.setdefault("timeout", 5.0)
    return OpenAICompatibleBackend(f"{server.base_url}/v1", api_key=KEY, **kw)


def test_request_shape_and_reply(server):
    out = backend(server).complete(req("hi", context="DOC", system="Be brief.", temperature=0.2, seed=7))
    assert out.text == "echo: hi" and out.stop_reason == "end" and out.backend == "openai"
    assert out.usage.input_tokens == 4 and out.usage.output_tokens == 2
    sent = server.requests()[-1]
    assert sent["messages"] == [{"role": "system", "content": "DOC\n\nBe brief."}, {"role": "user", "content": "hi"}]
    assert sent["temperature"] == 0.2 and sent["seed"] == 7 and sent["max_tokens"] == 512
    assert "top_p" not in sent and "stop" not in sent and "continue_final_message" not in sent


def test_prefill_continues_the_assistant_turn_and_an_echo_is_stripped(server):
    out = backend(server).complete(req("hi", prefill="Sure:"))
    sent = server.requests()[-1]
    assert sent["messages"][-1] == {"role": "assistant", "content": "Sure:"}
    assert sent["continue_final_message"] is True and sent["add_generation_prompt"] is False
    assert out.text == "echo: hi"
    server.echo_prefill = True
    assert backend(server).complete(req("hi", prefill="Sure:")).text == "echo: hi"
    backend(server, continue_final_message=False).complete(req("hi", prefill="Sure:"))
    assert "continue_final_message" not in server.requests()[-1]


def test_stop_and_length(server):
    server.responder = lambda body: "one two END three"
    b = backend(server)
    stopped = b.complete(req("x", stop=("END",), top_p=0.5))
    assert stopped.text == "one two " and stopped.stop_reason == "stop_sequence"
    assert server.requests()[-1]["stop"] == ["END"] and server.requests()[-1]["top_p"] == 0.5
    truncated = b.complete(req("x", max_tokens=2))
    assert truncated.text == "one two" and truncated.stop_reason == "max_tokens"


@pytest.mark.parametrize("fault", ["429", "500"])
def test_transient_errors_are_retried_by_the_sdk(server, fault):
    server.inject(fault, times=2)
    assert backend(server, max_retries=2).complete(req("hi")).text == "echo: hi"
    assert server.calls == 3


@pytest.mark.parametrize("fault, reason, retryable", [("429", "rate_limited", True), ("500", "server_error", True),
                                                      ("400", "bad_request", False)])
def test_errors_become_call_errors_without_the_key(server, fault, reason, retryable):
    server.inject(fault, times=2)
    with pytest.raises(LLMCallError) as err:
        backend(server, max_retries=1).complete(req("hi"))
    assert (err.value.reason, err.value.retryable) == (reason, retryable)
    assert server.calls == (2 if retryable else 1)
    assert KEY not in str(err.value)


def test_timeout_and_auth(server):
    server.hang_seconds = 1.5
    server.inject("timeout", times=2)
    with pytest.raises(LLMCallError) as err:
        backend(server, max_retries=1, timeout=0.3).complete(req("hi"))
    assert err.value.reason == "timeout" and server.calls == 2
    server.responder = lambda body: (_ for _ in ()).throw(Reject(401, "invalid_api_key", "bad key"))
    with pytest.raises(LLMCallError) as err:
        backend(server).complete(req("hi"))
    assert err.value.reason == "auth_error" and err.value.retryable  # transient: a fixed key succeeds


def test_concurrency_and_latency_are_measurable(server):
    server.latency = 0.2
    b = backend(server, max_concurrency=4)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(b.complete, [req(str(i)) for i in range(4)]))
    assert server.max_in_flight == 4 and server.calls == 4


@pytest.mark.parametrize("payload", ["<html>502 Bad Gateway</html>", {"unexpected": "shape"}])
def test_malformed_reply(payload):
    class Broken(FakeOpenAIServer):
        def generate(self, body, malformed):
            return payload

    with Broken() as server:
        with pytest.raises(LLMCallError) as err:
            backend(server).complete(req("hi"))
        assert server.calls == 3  # retried twice (the SDK never retries a 200), then reported as transient
    assert err.value.reason == "malformed_reply" and err.value.retryable


def test_malformed_content_is_passed_through_as_text(server):
    server.inject("malformed_json")
    assert backend(server).complete(req("json please")).text.startswith('{"answer": "unterminated')
