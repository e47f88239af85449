"""An in-process Backend whose answers come from a function: for testing generation methods and
judges without a server. Counts calls like the HTTP fakes do."""
from __future__ import annotations

import threading
from typing import Callable, Iterator

from refinery.llm.types import LLMCallError, LLMRequest, LLMResponse, Usage


class ScriptedBackend:
    name = "scripted"
    supports_batch = False

    def __init__(self, responder: Callable[[LLMRequest], str | LLMCallError], max_concurrency: int = 4):
        self.responder = responder
        self.max_concurrency = max_concurrency
        self.calls: list[LLMRequest] = []
        self._lock = threading.Lock()

    def complete(self, request: LLMRequest) -> LLMResponse:
        with self._lock:
            self.calls.append(request)
        answer = self.responder(request)
        if isinstance(answer, LLMCallError):
            raise answer
        prompt_words = sum(len(m.content.split()) for m in request.messages)
        return LLMResponse(text=answer, stop_reason="end", model=request.model, backend=self.name,
                           usage=Usage(input_tokens=prompt_words, output_tokens=len(answer.split())))

    def complete_batch(self, requests: list[LLMRequest]) -> Iterator[tuple[int, LLMResponse | LLMCallError]]:
        raise NotImplementedError("ScriptedBackend has no bulk path (supports_batch=False)")

    def close(self) -> None:
        pass
