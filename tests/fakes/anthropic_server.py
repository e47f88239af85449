"""A local fake of Anthropic's Messages API and Message Batches API, enough for the real SDK.

    with FakeAnthropicServer() as server:
        backend = AnthropicBackend(api_key="test", base_url=server.base_url)
        server.inject("429", times=2)   # the next two POST /v1/messages answer 429

Usage counts whitespace words as tokens. Prompt caching is simulated: the system prefix up to the last
block with `cache_control` is written to the cache on its first appearance (cache_creation_input_tokens)
and read on later ones (cache_read_input_tokens). Batches run through the same responder (no faults or
latency), stay `in_progress` for `batch_polls` retrievals, then end with results at `results_url`."""
from __future__ import annotations

import json
import uuid
from typing import Any

from tests.fakes.http_fake import FakeLLMServer, Reject, words

_TIME = "2026-01-01T00:00:00Z"


class FakeAnthropicServer(FakeLLMServer):
    generation_path = "/v1/messages"

    def __init__(self, *args, batch_polls: int = 1, **kwargs):
        super().__init__(*args, **kwargs)
        self.batch_polls = batch_polls
        self.batch_calls = 0
        self._cached_prefixes: set[str] = set()
        self._batches: dict[str, dict] = {}

    def error_body(self, status: int, error_type: str, message: str) -> dict:
        return {"type": "error", "error": {"type": error_type, "message": message}, "request_id": "req_fake"}

    def generate(self, body: dict, malformed: bool) -> dict:
        text = self.reply_text(body, malformed)
        stop_reason, stop_sequence = "end_turn", None
        hits = [(text.find(s), s) for s in body.get("stop_sequences", []) if s in text]
        if hits:
            position, stop_sequence = min(hits)
            text, stop_reason = text[:position], "stop_sequence"
        if len(text.split()) > body["max_tokens"]:
            text, stop_reason, stop_sequence = " ".join(text.split()[: body["max_tokens"]]), "max_tokens", None
        return {
            "id": f"msg_{uuid.uuid4().hex[:24]}", "type": "message", "role": "assistant", "model": body["model"],
            "content": [{"type": "text", "text": text}], "stop_reason": stop_reason, "stop_sequence": stop_sequence,
            "usage": {**self._input_usage(body), "output_tokens": words(text)},
        }

    def _input_usage(self, body: dict) -> dict[str, int]:
        system = body.get("system") or []
        if isinstance(system, str):
            system = [{"type": "text", "text": system}]
        marked = [i for i, block in enumerate(system) if block.get("cache_control")]
        cut = marked[-1] + 1 if marked else 0
        prefix = json.dumps([body["model"], system[:cut]], sort_keys=True)
        prefix_tokens = sum(words(block["text"]) for block in system[:cut])
        rest = [b["text"] for b in system[cut:]] + [json.dumps(m["content"]) for m in body["messages"]]
        usage = {"input_tokens": sum(words(t) for t in rest), "cache_creation_input_tokens": 0,
                 "cache_read_input_tokens": 0}
        if cut:
            with self._lock:
                hit = prefix in self._cached_prefixes
                self._cached_prefixes.add(prefix)
            usage["cache_read_input_tokens" if hit else "cache_creation_input_tokens"] = prefix_tokens
        return usage

    # -- Message Batches ----------------------------------------------------------------------------------
    def route(self, method: str, path: str, body: dict | None) -> tuple[int, Any, dict[str, str]]:
        parts = path.strip("/").split("/")  # v1 messages batches [id [results]]
        if parts[:3] != ["v1", "messages", "batches"]:
            return super().route(method, path, body)
        if method == "POST" and len(parts) == 3:
            return 200, self._create_batch(body["requests"]), {}
        batch = self._batches.get(parts[3]) if len(parts) > 3 else None
        if batch is None:
            return 404, self.error_body(404, "not_found_error", "no such batch"), {}
        if method == "GET" and len(parts) == 4:
            return 200, self._batch_object(batch, poll=True), {}
        if method == "GET" and parts[4:] == ["results"] and batch["polls_left"] == 0:
            lines = "".join(json.dumps(r) + "\n" for r in batch["results"])
            return 200, lines, {"content-type": "application/x-jsonl"}
        return super().route(method, path, body)

    def _create_batch(self, requests: list[dict]) -> dict:
        results = []
        for item in requests:
            try:
                result = {"type": "succeeded", "message": self.generate(item["params"], malformed=False)}
            except Reject as err:
                result = {"type": "errored", "error": self.error_body(err.status, err.error_type, err.message)}
            results.append({"custom_id": item["custom_id"], "result": result})
        batch = {"id": f"msgbatch_{uuid.uuid4().hex[:24]}", "results": results, "polls_left": self.batch_polls}
        with self._lock:
            self.batch_calls += 1
            self._batches[batch["id"]] = batch
        return self._batch_object(batch, poll=False)

    def _batch_object(self, batch: dict, poll: bool) -> dict:
        with self._lock:
            ended = batch["polls_left"] == 0
            if poll and not ended:
                batch["polls_left"] -= 1
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        for r in batch["results"]:
            counts[r["result"]["type"] if ended else "processing"] += 1
        return {
            "id": batch["id"], "type": "message_batch", "processing_status": "ended" if ended else "in_progress",
            "request_counts": counts, "created_at": _TIME, "expires_at": _TIME, "archived_at": None,
            "cancel_initiated_at": None, "ended_at": _TIME if ended else None,
            "results_url": f"{self.base_url}/v1/messages/batches/{batch['id']}/results" if ended else None,
        }
