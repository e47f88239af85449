"""AnthropicBackend through the real SDK against the local fake server: request shape, prompt caching,
the SDK's retries, error reasons, Message Batches."""
import urllib.error
import urllib.request

import pytest

from refinery.llm.anthropic_backend import AnthropicBackend
from refinery.llm.types import LLMCallError, LLMRequest, user
from tests.fakes.anthropic_server import FakeAnthropicServer
from tests.fakes.http_fake import Reject, default_responder

KEY = "sk-ant-test-SECRET-0123456789"
MODEL = "claude-haiku-4-5"


def req(text: str, **kw) -> LLMRequest:
    return LLMRequest(model=MODEL, messages=(user(text),), **kw)


@pytest.fixture
def server():
    with FakeAnthropicServer() as s:
        yield s


def backend(server, **kw) -> AnthropicBackend:
    kw.setdefault("max_retries", 2)
    kw.setdefault("timeout", 5.0)
    return AnthropicBackend(api_key=KEY, base_url=server.base_url, **kw)


def test_text_prefill_stop_and_request_shape(server):
    b = backend(server)
    out = b.complete(req("hello there", system="Be brief.", prefill='{"a":', stop=("END",), top_p=0.9))
    assert out.text == "echo: hello there" and out.stop_reason == "end" and out.backend == "anthropic"
    assert out.model == MODEL and out.usage.output_tokens == 3
    sent = server.requests()[-1]
    assert sent["messages"][-1] == {"role": "assistant", "content": '{"a":'}
    assert sent["system"] == [{"type": "text", "text": "Be brief."}]
    assert sent["stop_sequences"] == ["END"]
    # API version 2026-10-21 rejects sampling parameters, so none are sent
    assert not {"temperature", "top_p", "top_k"} & set(sent)

    server.responder = lambda body: "one two END three"
    assert b.complete(req("x", stop=("END",))).stop_reason == "stop_sequence"
    truncated = b.complete(req("x", max_tokens=2))
    assert truncated.text == "one two" and truncated.stop_reason == "max_tokens"


def test_context_is_a_cached_system_block(server):
    b = backend(server)
    context = "a long shared document " * 50
    first = b.complete(req("q1", context=context, system="Answer from the document."))
    second = b.complete(req("q2", context=context, system="Answer from the document."))
    system = server.requests()[0]["system"]
    assert system[0] == {"type": "text", "text": context, "cache_control": {"type": "ephemeral"}}
    assert system[1] == {"type": "text", "text": "Answer from the document."}
    assert first.usage.cache_creation_input_tokens == 200 and first.usage.cache_read_input_tokens == 0
    assert second.usage.cache_read_input_tokens == 200 and second.usage.cache_creation_input_tokens == 0
    backend(server, prompt_caching=False).complete(req("q3", context=context))
    assert "cache_control" not in server.requests()[-1]["system"][0]


@pytest.mark.parametrize("fault", ["429", "500", "overloaded"])
def test_transient_errors_are_retried_by_the_sdk(server, fault):
    server.inject(fault, times=2)
    assert backend(server, max_retries=2).complete(req("hi")).text == "echo: hi"
    assert server.calls == 3


@pytest.mark.parametrize("fault, reason", [("429", "rate_limited"), ("500", "server_error"),
                                           ("overloaded", "server_error")])
def test_persistent_transient_errors_become_retryable_call_errors(server, fault, reason):
    server.inject(fault, times=2)
    with pytest.raises(LLMCallError) as err:
        backend(server, max_retries=1).complete(req("hi"))
    assert err.value.reason == reason and err.value.retryable
    assert server.calls == 2


def test_timeouts_are_retried_then_reported(server):
    server.hang_seconds = 1.5
    server.inject("timeout")
    assert backend(server, max_retries=1, timeout=0.3).complete(req("hi")).text == "echo: hi"
    server.inject("timeout", times=2)
    with pytest.raises(LLMCallError) as err:
        backend(server, max_retries=1, timeout=0.3).complete(req("hi"))
    assert err.value.reason == "timeout" and err.value.retryable
    assert server.calls == 4


def test_client_errors_are_not_retried_and_never_show_the_key(server):
    server.inject("400")
    b = backend(server)
    with pytest.raises(LLMCallError) as err:
        b.complete(req("hi"))
    assert err.value.reason == "bad_request" and not err.value.retryable and server.calls == 1
    assert KEY not in str(err.value) and KEY not in err.value.detail and KEY not in repr(b)

    server.responder = lambda body: (_ for _ in ()).throw(Reject(401, "authentication_error", "invalid x-api-key"))
    with pytest.raises(LLMCallError) as err:
        b.complete(req("hi"))
    # transient (a fixed key succeeds), so it is never cached; the SDK does not retry a 401 itself
    assert err.value.reason == "auth_error" and err.value.retryable and KEY not in str(err.value)


def test_malformed_content_is_passed_through_as_text(server):
    server.inject("malformed_json")
    out = backend(server).complete(req("give me json"))
    assert out.text.startswith('{"answer": "unterminated') and out.stop_reason == "end"


@pytest.mark.parametrize("payload", ["<html>502 Bad Gateway</html>", {"unexpected": "shape"}])
def test_malformed_reply(payload):
    class Broken(FakeAnthropicServer):
        def generate(self, body, malformed):
            return payload

    with Broken() as server:
        with pytest.raises(LLMCallError) as err:
            backend(server).complete(req("hi"))
        assert server.calls == 3  # retried twice (the SDK never retries a 200), then reported as transient
    assert err.value.reason == "malformed_reply" and err.value.retryable


def test_message_batches_end_to_end_with_an_errored_item(server):
    def responder(body):
        if "poison" in body["messages"][0]["content"]:
            raise Reject(400, "invalid_request_error", "prompt is too long")
        return default_responder(body)

    server.responder = responder
    server.batch_polls = 2
    b = backend(server, use_batches=True, batch_poll_seconds=0.01)
    assert b.supports_batch
    requests = [req("a"), req("poison"), req("c", context="doc")]
    results = dict(b.complete_batch(requests))
    assert sorted(results) == [0, 1, 2] and server.batch_calls == 1 and server.calls == 0
    assert results[0].text == "echo: a" and results[2].text == "echo: c"
    assert results[2].usage.cache_creation_input_tokens == 1
    assert isinstance(results[1], LLMCallError) and results[1].reason == "batch_errored"
    assert not results[1].retryable and "prompt is too long" in results[1].detail
    sent = server.requests("/v1/messages/batches")[0]["requests"]
    assert [item["custom_id"] for item in sent] == ["0", "1", "2"]
    assert sent[2]["params"]["system"][0]["cache_control"] == {"type": "ephemeral"}


def test_batch_chunks_and_a_failed_submission(server, monkeypatch):
    monkeypatch.setattr("refinery.llm.anthropic_backend.BATCH_LIMIT", 2)
    server.batch_polls = 0
    results = dict(backend(server, use_batches=True, batch_poll_seconds=0.01).complete_batch(
        [req(str(i)) for i in range(5)]))
    assert server.batch_calls == 3 and [results[i].text for i in range(5)] == [f"echo: {i}" for i in range(5)]

    # a submission that fails fails each of its requests
    unreachable = AnthropicBackend(api_key=KEY, base_url="http://127.0.0.1:9", max_retries=0, use_batches=True)
    results = dict(unreachable.complete_batch([req("a"), req("b")]))
    assert sorted(results) == [0, 1] and {r.reason for r in results.values()} == {"connection_error"}


def test_fake_rejects_requests_without_a_key(server):
    request = urllib.request.Request(f"{server.base_url}/v1/messages", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request)
    assert err.value.code == 401
