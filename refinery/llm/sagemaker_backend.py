"""A model on a SageMaker real-time endpoint, through boto3's `sagemaker-runtime` (botocore does the
retries: adaptive mode also slows down client-side under throttling).

Two payload formats:
- "messages" (default): an OpenAI-style chat body, which the TGI, LMI and vLLM containers accept and
  render with the model's own chat template; the reply is a chat completion.
- "tgi": TGI's raw `{"inputs", "parameters"}` body, for containers without a chat route. The prompt is
  a plain role-tagged transcript ("System: ...", "User: ...", "Assistant: ..." separated by blank lines,
  ending with "Assistant: " and the prefill), not the model's chat template: use "messages" for chat
  models whenever the container supports it."""
from __future__ import annotations

import json
from typing import Any, Iterator

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError

from refinery.llm.types import (LLMCallError, LLMRequest, LLMResponse, Usage, chat_messages, optional_sampling,
                                retry_malformed)

_THROTTLING = {"ThrottlingException", "Throttling", "TooManyRequestsException"}
_AUTH = {"AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException",
         "ExpiredTokenException"}
_TGI_FINISH = {"length": "max_tokens", "stop_sequence": "stop_sequence"}


class SageMakerBackend:
    name = "sagemaker"
    supports_batch = False

    def __init__(self, endpoint_name: str, region_name: str | None = None, endpoint_url: str | None = None,
                 max_concurrency: int = 4, max_retries: int = 4, timeout: float = 60.0,
                 payload_format: str = "messages"):
        if payload_format not in ("messages", "tgi"):
            raise ValueError(f"payload_format must be 'messages' or 'tgi', not {payload_format!r}")
        self.endpoint_name = endpoint_name
        self.max_concurrency = max_concurrency
        self.payload_format = payload_format
        config = Config(retries={"max_attempts": max_retries + 1, "mode": "adaptive"}, read_timeout=timeout,
                        max_pool_connections=max(10, max_concurrency))
        self._client = boto3.client("sagemaker-runtime", region_name=region_name, endpoint_url=endpoint_url,
                                    config=config)

    def __repr__(self) -> str:
        return f"SageMakerBackend(endpoint_name={self.endpoint_name!r}, payload_format={self.payload_format!r})"

    def complete(self, request: LLMRequest) -> LLMResponse:
        return retry_malformed(lambda: self._complete(request))

    def _complete(self, request: LLMRequest) -> LLMResponse:
        body = self._messages_body(request) if self.payload_format == "messages" else self._tgi_body(request)
        try:
            reply = self._client.invoke_endpoint(EndpointName=self.endpoint_name, ContentType="application/json",
                                                 Accept="application/json", Body=json.dumps(body))
            raw = reply["Body"].read()
        except (ClientError, BotoCoreError) as err:
            raise call_error(err) from None
        try:
            parsed = json.loads(raw)
            if self.payload_format == "messages":
                return self._parse_messages(parsed, request)
            return self._parse_tgi(parsed, request)
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as err:
            raise LLMCallError("malformed_reply", f"{type(err).__name__}: {raw[:200]!r}") from None

    def _messages_body(self, request: LLMRequest) -> dict[str, Any]:
        messages = chat_messages(request)
        if request.prefill:
            messages.append({"role": "assistant", "content": request.prefill})
        body: dict[str, Any] = {"messages": messages, "max_tokens": request.max_tokens,
                                "temperature": request.temperature}
        return body | optional_sampling(request)

    def _parse_messages(self, reply: dict, request: LLMRequest) -> LLMResponse:
        choice = reply["choices"][0]
        text = _strip_echo(choice["message"]["content"] or "", request.prefill)
        stop_reason = "max_tokens" if choice.get("finish_reason") == "length" else "end"
        usage = reply.get("usage") or {}
        return LLMResponse(text=text, stop_reason=stop_reason, model=reply.get("model") or request.model,
                           usage=Usage(input_tokens=usage.get("prompt_tokens", 0),
                                       output_tokens=usage.get("completion_tokens", 0)), backend=self.name)

    def _tgi_body(self, request: LLMRequest) -> dict[str, Any]:
        turns = [f"{m['role'].capitalize()}: {m['content']}" for m in chat_messages(request)]
        prompt = "\n\n".join([*turns, f"Assistant: {request.prefill or ''}"])
        # TGI rejects temperature 0: greedy decoding is do_sample=False instead.
        parameters: dict[str, Any] = {"max_new_tokens": request.max_tokens, "do_sample": request.temperature > 0,
                                      "return_full_text": False, "details": True}
        if request.temperature > 0:
            parameters["temperature"] = request.temperature
            if request.top_p is not None:
                parameters["top_p"] = request.top_p
        if request.stop:
            parameters["stop"] = list(request.stop)
        if request.seed is not None:
            parameters["seed"] = request.seed
        return {"inputs": prompt, "parameters": parameters}

    def _parse_tgi(self, reply: list | dict, request: LLMRequest) -> LLMResponse:
        item = reply[0] if isinstance(reply, list) else reply
        text = item["generated_text"]
        details = item.get("details") or {}
        for stop in request.stop:  # TGI leaves the stop sequence in the text
            if text.endswith(stop):
                text = text[: -len(stop)]
        return LLMResponse(text=_strip_echo(text, request.prefill),
                           stop_reason=_TGI_FINISH.get(details.get("finish_reason"), "end"), model=request.model,
                           usage=Usage(output_tokens=details.get("generated_tokens", 0)), backend=self.name)

    def complete_batch(self, requests: list[LLMRequest]) -> Iterator[tuple[int, LLMResponse | LLMCallError]]:
        raise NotImplementedError("SageMaker real-time endpoints have no bulk path (supports_batch=False)")

    def close(self) -> None:
        self._client.close()


def _strip_echo(text: str, prefill: str | None) -> str:
    return text[len(prefill):] if prefill and text.startswith(prefill) else text


def call_error(err: ClientError | BotoCoreError) -> LLMCallError:
    """botocore's exception (after its own retries) as a stable reason."""
    if isinstance(err, (ReadTimeoutError, ConnectTimeoutError)):
        return LLMCallError("timeout", type(err).__name__)
    if isinstance(err, BotoCoreError):  # endpoint unreachable, connection closed, no credentials...
        return LLMCallError("connection_error", type(err).__name__)
    error = err.response.get("Error", {})
    code = error.get("Code", "")
    status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    detail = f"{code}: {error.get('Message', '')}"[:500]
    if code in _THROTTLING or status == 429:
        return LLMCallError("rate_limited", detail)
    if code in _AUTH or status in (401, 403):
        return LLMCallError("auth_error", detail)  # transient: fixed credentials make it succeed
    if code == "ModelError":  # the container answered with an error: its own 4xx means a bad request
        original = int(err.response.get("OriginalStatusCode") or 0)
        if 400 <= original < 500 and original != 429:
            return LLMCallError("bad_request", detail, retryable=False)
        return LLMCallError("server_error", detail)
    if code == "ValidationError" or 400 <= status < 500:
        return LLMCallError("bad_request", detail, retryable=False)
    return LLMCallError("server_error", detail)
