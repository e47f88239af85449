"""What LLM stages will cost, before paying: the stage's own code runs against a backend that sends nothing.

`estimating_client` answers every request from the real response cache (a hit costs nothing) and records the
others without sending them (they come back as failed, so nothing is cached and no follow-up is built on an
answer). Counted per stage and model: the requests that would be sent, input tokens from the rendered prompt
(characters / 4), output tokens at most `max_tokens` each, and USD at list price (batch discount when the
backend uses batches). A stage whose later requests depend on earlier answers (the rounds of self_instruct,
evol_instruct, topic_tree, conversation; a judge whose records do not exist yet) is estimated from what is
known now and marked `exact: false`.
"""
from __future__ import annotations

import io
import math
import threading
from collections import defaultdict
from typing import Iterator

from refinery.llm.cache import ResponseCache
from refinery.llm.client import LLMClient
from refinery.llm.pricing import Pricing
from refinery.llm.progress import Progress
from refinery.llm.types import LLMCallError, LLMRequest, LLMResponse, Usage

CHARS_PER_TOKEN = 4.0  # English prose, Claude's and Llama's tokenizers: about 4 characters a token


def input_tokens(request: LLMRequest) -> int:
    chars = sum(len(t or "") for t in (request.system, request.context, request.prefill))
    chars += sum(len(m.content) for m in request.messages)
    return math.ceil(chars / CHARS_PER_TOKEN)


class EstimateBackend:
    """Records the requests a stage would send; sends none."""

    name = "estimate"
    supports_batch = False
    max_concurrency = 1

    def __init__(self) -> None:
        self.requests: list[LLMRequest] = []
        self._lock = threading.Lock()

    def complete(self, request: LLMRequest) -> LLMResponse:
        with self._lock:
            self.requests.append(request)
        raise LLMCallError("not_sent", "estimate only")

    def complete_batch(self, requests: list[LLMRequest]) -> Iterator[tuple[int, LLMResponse | LLMCallError]]:
        raise NotImplementedError("EstimateBackend has no bulk path")

    def close(self) -> None:
        pass


class EstimatingClient(LLMClient):
    """Remembers every request a stage asks for, so cache hits can be told apart per model."""

    def __init__(self, cache: ResponseCache | None, pricing: Pricing | None = None):
        super().__init__(EstimateBackend(), cache, pricing)
        self.asked: dict[str, LLMRequest] = {}
        self.progress = Progress(stream=io.StringIO(), interval=math.inf)  # no bar, no lines: nothing runs

    def generate(self, requests, label: str = ""):
        self.asked.update((r.cache_key(), r) for r in requests)
        return super().generate(requests, label)


def estimating_client(cache: ResponseCache | None, pricing: Pricing | None = None) -> EstimatingClient:
    return EstimatingClient(cache, pricing)


def stage_estimate(client: LLMClient, pricing: Pricing, batch: bool = False, exact: bool = True,
                   scale: float = 1.0) -> dict[str, dict]:
    """model -> calls, cache_hits, input_tokens, output_tokens_max, usd_max, exact. `scale` multiplies what a
    formula stands for (a judge over records that do not exist yet)."""
    backend: EstimateBackend = client.backend  # type: ignore[assignment]
    by_model: dict[str, dict] = defaultdict(lambda: {"calls": 0, "cache_hits": 0, "input_tokens": 0,
                                                     "output_tokens_max": 0, "usd_max": 0.0, "exact": exact})
    for req in backend.requests:
        row = by_model[req.model]
        tokens_in, tokens_out = input_tokens(req), req.max_tokens
        row["calls"] += 1
        row["input_tokens"] += tokens_in
        row["output_tokens_max"] += tokens_out
        row["usd_max"] += pricing.cost(req.model, Usage(input_tokens=tokens_in, output_tokens=tokens_out), batch=batch)
    sent = {r.cache_key() for r in backend.requests}
    for key, req in getattr(client, "asked", {}).items():
        if key not in sent:
            by_model[req.model]["cache_hits"] += 1
    for row in by_model.values():
        if scale != 1.0:
            for key in ("calls", "cache_hits", "input_tokens", "output_tokens_max"):
                row[key] = round(row[key] * scale)
            row["usd_max"] *= scale
        row["usd_max"] = round(row["usd_max"], 6)
    return dict(by_model)


def totals(stages: dict[str, dict[str, dict]]) -> dict:
    rows = [row for by_model in stages.values() for row in by_model.values()]
    return {"calls": sum(r["calls"] for r in rows), "cache_hits": sum(r["cache_hits"] for r in rows),
            "input_tokens": sum(r["input_tokens"] for r in rows),
            "output_tokens_max": sum(r["output_tokens_max"] for r in rows),
            "usd_max": round(sum(r["usd_max"] for r in rows), 6), "exact": all(r["exact"] for r in rows)}


def estimate_lines(title: str, estimate: dict) -> list[str]:
    """The printed table: one line per stage and model, then the total."""
    lines = [title]
    for stage, by_model in estimate["stages"].items():
        for model, r in by_model.items():
            lines.append(f"  {stage:<28} {model:<26} calls {r['calls']:>6}  cache hits {r['cache_hits']:>6}  "
                         f"input ~{r['input_tokens']:>9,} tok  output <= {r['output_tokens_max']:>9,} tok  "
                         f"<= ${r['usd_max']:.4f}{'' if r['exact'] else '  (approximate: depends on answers)'}")
    t = estimate["total"]
    lines.append(f"  {'total':<28} {'':<26} calls {t['calls']:>6}  cache hits {t['cache_hits']:>6}  "
                 f"input ~{t['input_tokens']:>9,} tok  output <= {t['output_tokens_max']:>9,} tok  "
                 f"<= ${t['usd_max']:.4f}")
    lines.append("  no request was sent; USD at list price with every answer at max_tokens (an upper bound on "
                 "output), cached answers free")
    return lines
