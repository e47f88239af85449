"""Anthropic's Messages API through the official SDK, which does the retries and backoff (429, 5xx,
timeouts, honouring retry-after). The shared document context goes in its own cacheable system block;
bulk work can go through Message Batches (half price, results within 24 h).

SDK 2.x speaks API version 2026-10-21, which rejects `temperature`, `top_p` and `top_k` (400, even at
their defaults), so the request's sampling parameters are not sent: they still key the cache."""
from __future__ import annotations

import time
from typing import Any, Iterator

import anthropic

from refinery import secrets
from refinery.llm.limits import AdaptiveLimit, call_with_limit
from refinery.llm.limits import LeaveThrottlingToTheLimit
from refinery.llm.types import LLMCallError, LLMRequest, LLMResponse, Usage, retry_after_seconds, retry_malformed, status_error

BATCH_LIMIT = 10_000  # requests per Message Batch (the API's limit)

_STOP_REASONS = {"max_tokens": "max_tokens", "model_context_window_exceeded": "max_tokens",
                 "stop_sequence": "stop_sequence"}  # end_turn, tool_use, pause_turn: "end"


class AnthropicBackend:
    name = "anthropic"

    def __init__(self, api_key: str, base_url: str | None = None, max_concurrency: int = 8, max_retries: int = 4,
                 timeout: float = 60.0, use_batches: bool = False, batch_poll_seconds: float = 5.0,
                 prompt_caching: bool = True):
        self.max_concurrency = max_concurrency
        self.max_retries = max_retries
        self.limiter = AdaptiveLimit(max_concurrency)  # AIMD: cut on 429/529, grown back slowly
        self.supports_batch = use_batches
        self.batch_poll_seconds = batch_poll_seconds
        self.prompt_caching = prompt_caching
        secrets.register(api_key)
        self._client = _Anthropic(api_key=api_key, base_url=base_url, max_retries=max_retries,
                                           timeout=timeout)

    def __repr__(self) -> str:  # never the key
        return f"AnthropicBackend(base_url={str(self._client.base_url)!r}, batches={self.supports_batch})"

    def params(self, request: LLMRequest) -> dict[str, Any]:
        """The Messages API body for one request (also a Message Batch item's `params`)."""
        messages: list[dict[str, Any]] = [{"role": m.role, "content": m.content} for m in request.messages]
        if request.prefill:
            messages.append({"role": "assistant", "content": request.prefill})
        params: dict[str, Any] = {"model": request.model, "max_tokens": request.max_tokens, "messages": messages}
        system: list[dict[str, Any]] = []
        if request.context:
            block: dict[str, Any] = {"type": "text", "text": request.context}
            if self.prompt_caching:
                block["cache_control"] = {"type": "ephemeral"}
            system.append(block)
        if request.system:
            system.append({"type": "text", "text": request.system})
        if system:
            params["system"] = system
        if request.stop:
            params["stop_sequences"] = list(request.stop)
        return params

    def complete(self, request: LLMRequest) -> LLMResponse:
        """429/529 answers come back here (not retried by the SDK): the in-flight limit is cut and the
        request sent again after the server's Retry-After; the SDK retries the other transient errors."""
        return call_with_limit(self.limiter, lambda: retry_malformed(lambda: self._complete(request)),
                               self.max_retries)

    def _complete(self, request: LLMRequest) -> LLMResponse:
        try:
            message = self._client.messages.create(**self.params(request))
        except anthropic.AnthropicError as err:
            raise call_error(err) from None
        except ValueError as err:  # a 200 whose body is not JSON (a proxy's error page)
            raise LLMCallError("malformed_reply", type(err).__name__) from None
        return self._response(message)

    def complete_batch(self, requests: list[LLMRequest]) -> Iterator[tuple[int, LLMResponse | LLMCallError]]:
        """All chunks are submitted first so they process side by side, then collected in turn."""
        submitted: list[tuple[int, int, str | LLMCallError]] = []
        for start in range(0, len(requests), BATCH_LIMIT):
            chunk = requests[start:start + BATCH_LIMIT]
            items = [{"custom_id": str(i), "params": self.params(r)} for i, r in enumerate(chunk)]
            try:
                submitted.append((start, len(chunk), self._client.messages.batches.create(requests=items).id))
            except anthropic.AnthropicError as err:
                submitted.append((start, len(chunk), call_error(err)))
        for start, size, batch in submitted:
            yield from self._collect(start, size, batch)

    def _collect(self, start: int, size: int,
                 batch: str | LLMCallError) -> Iterator[tuple[int, LLMResponse | LLMCallError]]:
        pending = set(range(size))
        failure = batch if isinstance(batch, LLMCallError) else None
        if failure is None:
            try:
                while self._client.messages.batches.retrieve(batch).processing_status != "ended":
                    time.sleep(self.batch_poll_seconds)
                for item in self._client.messages.batches.results(batch):
                    index = int(item.custom_id)
                    pending.discard(index)
                    yield start + index, self._batch_result(item.result)
            except anthropic.AnthropicError as err:
                failure = call_error(err)
        for index in sorted(pending):  # the whole chunk failed, or the API left items out
            yield start + index, failure or LLMCallError("batch_missing_result")

    def _batch_result(self, result: Any) -> LLMResponse | LLMCallError:
        if result.type == "succeeded":
            try:
                return self._response(result.message)
            except LLMCallError as err:
                return err
        if result.type == "errored":
            error = result.error.error
            retryable = error.type != "invalid_request_error"  # a bad key is fixed, a bad request is not
            return LLMCallError("batch_errored", f"{error.type}: {error.message}", retryable=retryable)
        return LLMCallError(f"batch_{result.type}", retryable=True)  # expired, canceled

    def _response(self, message: Any) -> LLMResponse:
        if message.stop_reason == "refusal":
            raise LLMCallError("refusal", "the model declined to answer", retryable=False)
        try:
            u = message.usage
            usage = Usage(input_tokens=u.input_tokens, output_tokens=u.output_tokens,
                          cache_creation_input_tokens=u.cache_creation_input_tokens or 0,
                          cache_read_input_tokens=u.cache_read_input_tokens or 0)
            text = "".join(block.text for block in message.content if block.type == "text")
            return LLMResponse(text=text, stop_reason=_STOP_REASONS.get(message.stop_reason, "end"),
                               model=message.model, usage=usage, backend=self.name)
        except (AttributeError, TypeError, ValueError) as err:  # the SDK does not validate replies
            raise LLMCallError("malformed_reply", type(err).__name__) from None

    def close(self) -> None:
        self._client.close()


def call_error(err: anthropic.AnthropicError) -> LLMCallError:
    """The SDK's exception (after its own retries) as a stable reason. Details come from the response
    body, which may quote the key back: LLMCallError masks it."""
    if isinstance(err, anthropic.APITimeoutError):
        return LLMCallError("timeout", "no answer within the client timeout")
    if isinstance(err, anthropic.APIConnectionError):
        return LLMCallError("connection_error", type(err).__name__)
    if isinstance(err, anthropic.APIStatusError):
        return status_error(err.status_code, f"HTTP {err.status_code}: {err.api_message or type(err).__name__}"[:500],
                            retry_after_seconds(getattr(err.response, "headers", None)))
    return LLMCallError("client_error", type(err).__name__)


class _Anthropic(LeaveThrottlingToTheLimit, anthropic.Anthropic):
    """The SDK client; 429/529 are left to the adaptive limit."""
