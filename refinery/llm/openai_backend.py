"""OpenAI-compatible chat servers (vLLM, TGI, llama.cpp's server) through the official `openai` SDK,
which does the retries and backoff. The context goes into the system message (these servers have no
separate cacheable block; vLLM's automatic prefix caching still reuses a shared leading context)."""
from __future__ import annotations

from typing import Any, Iterator

import openai

from refinery import secrets
from refinery.llm.limits import AdaptiveLimit, call_with_limit
from refinery.llm.limits import LeaveThrottlingToTheLimit
from refinery.llm.types import (LLMCallError, LLMRequest, LLMResponse, Usage, chat_messages,
                                optional_sampling, retry_after_seconds, retry_malformed, status_error)


class OpenAICompatibleBackend:
    name = "openai"
    supports_batch = False

    def __init__(self, base_url: str, api_key: str = "EMPTY", max_concurrency: int = 8, max_retries: int = 4,
                 timeout: float = 60.0, continue_final_message: bool = True):
        """`continue_final_message`: with a prefill, ask the server (vLLM's convention) to continue the
        trailing assistant turn rather than open a new one; turn it off for servers that reject unknown
        fields. llama.cpp's server continues a trailing assistant turn by itself."""
        self.max_concurrency = max_concurrency
        self.max_retries = max_retries
        self.limiter = AdaptiveLimit(max_concurrency)  # AIMD: cut on 429/529, grown back slowly
        self.continue_final_message = continue_final_message
        secrets.register(api_key)
        self._client = _OpenAI(base_url=base_url, api_key=api_key, max_retries=max_retries, timeout=timeout)

    def __repr__(self) -> str:  # never the key
        return f"OpenAICompatibleBackend(base_url={str(self._client.base_url)!r})"

    def complete(self, request: LLMRequest) -> LLMResponse:
        """429/529 answers come back here (not retried by the SDK): the in-flight limit is cut and the
        request sent again after the server's Retry-After; the SDK retries the other transient errors."""
        return call_with_limit(self.limiter, lambda: retry_malformed(lambda: self._complete(request)),
                               self.max_retries)

    def _complete(self, request: LLMRequest) -> LLMResponse:
        messages: list[Any] = chat_messages(request)
        kwargs: dict[str, Any] = {"temperature": request.temperature}
        if request.prefill:
            messages.append({"role": "assistant", "content": request.prefill})
            if self.continue_final_message:
                kwargs["extra_body"] = {"continue_final_message": True, "add_generation_prompt": False}
        kwargs.update(optional_sampling(request))
        try:
            completion = self._client.chat.completions.create(
                model=request.model, messages=messages, max_tokens=request.max_tokens, **kwargs)
        except openai.OpenAIError as err:
            raise call_error(err) from None
        except ValueError as err:  # a 200 whose body is not JSON (a proxy's error page)
            raise LLMCallError("malformed_reply", type(err).__name__) from None
        if not getattr(completion, "choices", None):
            raise LLMCallError("malformed_reply", "no choices in the answer")
        choice = completion.choices[0]
        text = choice.message.content or ""
        if request.prefill and text.startswith(request.prefill):  # some servers echo the continued turn
            text = text[len(request.prefill):]
        u = completion.usage
        usage = Usage(input_tokens=u.prompt_tokens, output_tokens=u.completion_tokens) if u else Usage()
        return LLMResponse(text=text, stop_reason=_stop_reason(choice, request),
                           model=completion.model or request.model, usage=usage, backend=self.name)

    def complete_batch(self, requests: list[LLMRequest]) -> Iterator[tuple[int, LLMResponse | LLMCallError]]:
        raise NotImplementedError("OpenAI-compatible servers have no bulk path here (supports_batch=False)")

    def close(self) -> None:
        self._client.close()


def _stop_reason(choice: Any, request: LLMRequest) -> str:
    if choice.finish_reason == "length":
        return "max_tokens"
    # vLLM names the stop string it hit in a non-standard `stop_reason`; other servers cannot tell.
    if request.stop and getattr(choice, "stop_reason", None) in request.stop:
        return "stop_sequence"
    return "end"


def call_error(err: openai.OpenAIError) -> LLMCallError:
    """The SDK's exception (after its own retries) as a stable reason; never the request's headers (a body
    quoting the key back is masked by LLMCallError)."""
    if isinstance(err, openai.APITimeoutError):
        return LLMCallError("timeout", "no answer within the client timeout")
    if isinstance(err, openai.APIConnectionError):
        return LLMCallError("connection_error", type(err).__name__)
    if isinstance(err, openai.APIStatusError):
        return status_error(err.status_code, err.message[:500],  # "Error code: 429 - <the body's message>"
                            retry_after_seconds(getattr(err.response, "headers", None)))
    if isinstance(err, openai.APIResponseValidationError):
        return LLMCallError("malformed_reply", type(err).__name__)
    return LLMCallError("client_error", type(err).__name__)


class _OpenAI(LeaveThrottlingToTheLimit, openai.OpenAI):
    """The SDK client; 429/529 are left to the adaptive limit."""
