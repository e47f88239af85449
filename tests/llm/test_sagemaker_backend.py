"""SageMakerBackend against moto's sagemaker-runtime (canned replies queued through moto's config API),
and botocore's Stubber for the error codes moto cannot produce.

moto hands out queued results in order, but remembers the result per identical request (same body
and headers), so each test sends distinct prompts."""
import json
import socket
import urllib.request

import pytest
from botocore.stub import Stubber

from refinery.llm.sagemaker_backend import SageMakerBackend
from refinery.llm.types import LLMCallError, LLMRequest, user


def req(text: str, **kw) -> LLMRequest:
    return LLMRequest(model="llama-endpoint", messages=(user(text),), **kw)


@pytest.fixture(scope="module")
def moto_url():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def queue_replies(moto_url: str, *bodies) -> None:
    results = [{"Body": b if isinstance(b, str) else json.dumps(b), "ContentType": "application/json"}
               for b in bodies]
    data = json.dumps({"region": "us-east-1", "results": results}).encode()
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/static/sagemaker/endpoint-results",
                                                  data=data, method="POST"))


def chat_reply(text: str, finish_reason: str = "stop") -> dict:
    return {"choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": finish_reason}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 3}, "model": "meta-llama/Llama-3.1-8B-Instruct"}


def backend(moto_url: str, **kw) -> SageMakerBackend:
    return SageMakerBackend("llm-endpoint", region_name="us-east-1", endpoint_url=moto_url, **kw)


def test_messages_format(moto_url):
    queue_replies(moto_url, chat_reply("Paris is the capital."), chat_reply("a b", "length"))
    b = backend(moto_url)
    out = b.complete(req("capital of France?", context="DOC", system="Be brief."))
    assert out.text == "Paris is the capital." and out.stop_reason == "end" and out.backend == "sagemaker"
    assert (out.usage.input_tokens, out.usage.output_tokens) == (11, 3)
    assert out.model == "meta-llama/Llama-3.1-8B-Instruct"
    assert b.complete(req("count", max_tokens=2)).stop_reason == "max_tokens"


def test_prefill_echo_is_stripped(moto_url):
    queue_replies(moto_url, chat_reply('{"answer": 1}'))
    out = backend(moto_url).complete(req("json please", prefill='{"answer":'))
    assert out.text == " 1}"


def test_tgi_format(moto_url):
    queue_replies(moto_url, [{"generated_text": " Paris.STOP",
                              "details": {"finish_reason": "stop_sequence", "generated_tokens": 4}}])
    out = backend(moto_url, payload_format="tgi").complete(req("capital?", system="Be brief.", stop=("STOP",)))
    assert out.text == " Paris." and out.stop_reason == "stop_sequence" and out.usage.output_tokens == 4


def test_malformed_body(moto_url):
    queue_replies(moto_url, "<html>502 Bad Gateway</html>", {"unexpected": "shape"})
    b = backend(moto_url)
    for prompt in ("malformed one", "malformed two"):
        with pytest.raises(LLMCallError) as err:
            b.complete(req(prompt))
        assert err.value.reason == "malformed_reply" and err.value.retryable  # retried, then not cached


def test_bodies_sent():
    b = SageMakerBackend("e", region_name="us-east-1")
    body = b._messages_body(req("hi", context="DOC", prefill="Sure", top_p=0.9, stop=("\n",), seed=3))
    assert body == {"messages": [{"role": "system", "content": "DOC"}, {"role": "user", "content": "hi"},
                                 {"role": "assistant", "content": "Sure"}],
                    "max_tokens": 512, "temperature": 0.7, "top_p": 0.9, "stop": ["\n"], "seed": 3}
    tgi = SageMakerBackend("e", region_name="us-east-1", payload_format="tgi")._tgi_body(
        req("hi", system="Be brief.", prefill="Sure", temperature=0.0, top_p=0.9))
    assert tgi["inputs"] == "System: Be brief.\n\nUser: hi\n\nAssistant: Sure"
    assert tgi["parameters"] == {"max_new_tokens": 512, "do_sample": False, "return_full_text": False,
                                 "details": True}


@pytest.mark.parametrize("code, status, extra, reason, retryable", [
    ("ThrottlingException", 400, {}, "rate_limited", True),
    ("ModelError", 424, {"OriginalStatusCode": 500}, "server_error", True),
    ("ModelError", 424, {"OriginalStatusCode": 422}, "bad_request", False),
    ("ServiceUnavailable", 503, {}, "server_error", True),
    ("ValidationError", 400, {}, "bad_request", False),
    ("AccessDeniedException", 403, {}, "auth_error", True),  # transient: fixed credentials succeed
])
def test_client_errors(code, status, extra, reason, retryable):
    b = SageMakerBackend("e", region_name="us-east-1")
    with Stubber(b._client) as stub:
        stub.add_client_error("invoke_endpoint", service_error_code=code, service_message="nope",
                              http_status_code=status, modeled_fields=extra or None)
        with pytest.raises(LLMCallError) as err:
            b.complete(req("hi"))
    assert (err.value.reason, err.value.retryable) == (reason, retryable)


def test_read_timeout():
    listener = socket.create_server(("127.0.0.1", 0))  # accepts connections, never answers
    try:
        b = SageMakerBackend("e", region_name="us-east-1", max_retries=0, timeout=0.3,
                             endpoint_url=f"http://127.0.0.1:{listener.getsockname()[1]}")
        with pytest.raises(LLMCallError) as err:
            b.complete(req("hi"))
        assert err.value.reason == "timeout" and err.value.retryable
    finally:
        listener.close()
