"""A local fake of an OpenAI-compatible chat server (vLLM, TGI, llama.cpp): POST /v1/chat/completions,
with the faults, latency and call records of `FakeLLMServer`. Usage counts whitespace words.

A request ending with an assistant turn is continued (vLLM's `continue_final_message`); with
`echo_prefill=True` the reply repeats that turn first, as some servers do."""
from __future__ import annotations

import uuid
import zlib

from tests.fakes.http_fake import FakeLLMServer


def bag_of_words(text: str, dims: int = 64) -> list[float]:
    vector = [0.0] * dims
    for word in text.lower().split():
        vector[zlib.crc32(word.encode()) % dims] += 1.0
    return vector


class FakeOpenAIServer(FakeLLMServer):
    generation_path = "/v1/chat/completions"

    def __init__(self, *args, echo_prefill: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.echo_prefill = echo_prefill

    def error_body(self, status: int, error_type: str, message: str) -> dict:
        return {"error": {"message": message, "type": error_type, "code": status}}

    def route(self, method: str, path: str, body: dict | None):
        """POST /v1/embeddings: a bag of hashed words per input (64 dimensions), so equal texts get equal
        vectors and texts sharing words are closer; data in reverse order, as the API allows (by `index`)."""
        if method == "POST" and path == "/v1/embeddings":
            inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
            data = [{"object": "embedding", "index": i, "embedding": bag_of_words(text)} for i, text in enumerate(inputs)]
            return 200, {"object": "list", "data": data[::-1], "model": body["model"],
                         "usage": {"prompt_tokens": 0, "total_tokens": 0}}, {}
        return super().route(method, path, body)

    def generate(self, body: dict, malformed: bool) -> dict:
        text = self.reply_text(body, malformed)
        finish_reason, stop_reason = "stop", None
        stops = body.get("stop") or []
        hits = [(text.find(s), s) for s in ([stops] if isinstance(stops, str) else stops) if s in text]
        if hits:
            position, stop_reason = min(hits)
            text = text[:position]
        limit = body.get("max_tokens") or body.get("max_completion_tokens")
        if limit and len(text.split()) > limit:
            text, finish_reason, stop_reason = " ".join(text.split()[:limit]), "length", None
        last = body["messages"][-1]
        if self.echo_prefill and last["role"] == "assistant":
            text = last["content"] + text
        prompt_tokens = sum(self.count_tokens(str(m["content"])) for m in body["messages"])
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion", "created": 1767225600,
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": finish_reason, "stop_reason": stop_reason, "logprobs": None}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": self.count_tokens(text),
                      "total_tokens": prompt_tokens + self.count_tokens(text)},
        }
