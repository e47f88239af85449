"""The request/response types every backend speaks. Backends translate them to their provider's API;
nothing above the backends knows which provider answered."""
from __future__ import annotations

import hashlib
import json
import time
from typing import Callable, Iterable, Iterator, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from refinery.secrets import mask

T = TypeVar("T")


class Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    role: Literal["user", "assistant"]
    content: str


class LLMRequest(BaseModel):
    """One call. `context` is the shared document text placed before the messages: providers with prompt
    caching (Anthropic) mark it cacheable, the others prepend it to the system prompt. `prefill` is the
    start of the assistant's answer, which the answer continues (it is not repeated in `text`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    model: str
    messages: tuple[Message, ...]
    system: str | None = None
    context: str | None = None
    temperature: float = 0.7
    top_p: float | None = None
    max_tokens: int = 512
    stop: tuple[str, ...] = ()
    prefill: str | None = None
    seed: int | None = None

    def cache_key(self) -> str:
        """sha256 of everything that changes the answer; the same request never pays twice."""
        payload = self.model_dump(mode="json")
        return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def system_with_context(self) -> str | None:
        """For backends without a separate cacheable block: context first, then the instructions."""
        parts = [p for p in (self.context, self.system) if p]
        return "\n\n".join(parts) or None


class Usage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(**{k: getattr(self, k) + getattr(other, k) for k in Usage.model_fields})


StopReason = Literal["end", "max_tokens", "stop_sequence"]


class LLMResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str
    stop_reason: StopReason
    model: str
    usage: Usage = Field(default_factory=Usage)
    backend: str = ""
    cached: bool = False  # set by the client when the answer came from the request cache

    @property
    def truncated(self) -> bool:
        return self.stop_reason == "max_tokens"


class LLMCallError(Exception):
    """A call that failed after the backend's own retries. `reason` is short and stable (it is counted
    in metadata). `retryable` (transient) failures say nothing about the request itself (server down,
    rate limit, bad key, garbled reply): they are never cached, so the next run sends the request again.
    The others (a 400, a refusal) are terminal answers, cached like any other. `detail` is masked here,
    where every error text is built, so a key a server echoes back reaches no log, cache or file."""

    def __init__(self, reason: str, detail: str = "", retryable: bool = True, throttled: bool = False,
                 retry_after: float | None = None):
        detail = mask(detail)
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.retryable = retryable
        self.throttled = throttled  # a 429 or an overload (529): send fewer at once (limits.AdaptiveLimit)
        self.retry_after = retry_after  # seconds the server asked to wait, when it said


# Transient whatever an older version stored for them: auth errors and malformed replies used to be
# cached as terminal (issue 10), and a cache written then must not keep serving them.
TRANSIENT_REASONS = frozenset({"connection_error", "timeout", "server_error", "rate_limited", "auth_error",
                               "malformed_reply", "client_error", "batch_missing_result", "batch_expired",
                               "batch_canceled", "budget_exhausted"})
THROTTLE_STATUSES = frozenset({429, 529})  # rate limited, overloaded: the in-flight limit is cut
MALFORMED_RETRIES = 2  # extra attempts after a garbled 200 reply, which the SDKs never retry themselves


def status_error(status: int, detail: str, retry_after: float | None = None) -> LLMCallError:
    """An HTTP error status the provider's SDK gave up on, as a stable reason. Only a 4xx other than
    auth/rate limits is terminal: the request itself is wrong and sending it again cannot help."""
    throttled = status in THROTTLE_STATUSES
    if status == 429:
        return LLMCallError("rate_limited", detail, throttled=True, retry_after=retry_after)
    if status >= 500 or status in (408, 409):
        return LLMCallError("server_error", detail, throttled=throttled, retry_after=retry_after if throttled else None)
    if status in (401, 403):
        return LLMCallError("auth_error", detail)  # a fixed key makes the same request succeed
    return LLMCallError("bad_request", detail, retryable=False)


def retry_after_seconds(headers) -> float | None:
    """The server's `retry-after-ms` / `retry-after` (seconds or an HTTP date), None when absent or unreadable."""
    if headers is None:
        return None
    try:
        if headers.get("retry-after-ms"):
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
        value = headers.get("retry-after")
        if not value:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            from email.utils import parsedate_to_datetime
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, AttributeError):
        return None


def retry_malformed(call: Callable[[], T], attempts: int = MALFORMED_RETRIES) -> T:
    """`call()` again (after a short pause) while it fails with a malformed reply, like the SDKs do for
    5xx: a proxy's error page or a truncated body is usually a passing fault."""
    for attempt in range(attempts + 1):
        try:
            return call()
        except LLMCallError as err:
            if err.reason != "malformed_reply" or attempt == attempts:
                raise
            time.sleep(0.05 * 2 ** attempt)
    raise AssertionError("unreachable")


def optional_sampling(request: LLMRequest) -> dict:
    """The OpenAI-style optional parameters a request sets (servers reject some of them as null)."""
    extra: dict = {}
    if request.top_p is not None:
        extra["top_p"] = request.top_p
    if request.stop:
        extra["stop"] = list(request.stop)
    if request.seed is not None:
        extra["seed"] = request.seed
    return extra


class Backend(Protocol):
    """What a provider implements. `complete` is one call with the provider's own retry/backoff;
    `complete_batch` sends many at once where the provider has a cheaper bulk path (Anthropic's
    Message Batches, batched generation on the embedded model) and yields results as they finish,
    in any order, as (index into `requests`, response or error)."""

    name: str
    max_concurrency: int
    supports_batch: bool

    def complete(self, request: LLMRequest) -> LLMResponse: ...

    def complete_batch(self, requests: list[LLMRequest]) -> Iterator[tuple[int, LLMResponse | LLMCallError]]: ...

    def close(self) -> None: ...


def chat_messages(request: LLMRequest) -> list[dict[str, str]]:
    """OpenAI-style chat turns for backends without a separate cacheable block: one system message
    (context, then instructions), then the conversation. The prefill is left to each backend."""
    system = request.system_with_context()
    head = [{"role": "system", "content": system}] if system else []
    return head + [{"role": m.role, "content": m.content} for m in request.messages]


def user(content: str) -> Message:
    return Message(role="user", content=content)


def assistant(content: str) -> Message:
    return Message(role="assistant", content=content)


def conversation(turns: Iterable[tuple[str, str]]) -> tuple[Message, ...]:
    return tuple(Message(role=r, content=c) for r, c in turns)
