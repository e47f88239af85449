"""N responses per prompt from the deployed policy and any reference models, through the LLM client (cache,
bounded concurrency, cost). Each sample has its own seed, so N samples are N distinct (cached) requests and a
resumed round pays for none of them again."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from refinery.llm.client import LLMClient
from refinery.llm.types import LLMRequest, Message
from refinery.preference.config import SourceSpec
from refinery.preference.prompt_sources import rank
from refinery.preference.records import Candidate, Prompt, stable_id


@dataclass
class Source:
    spec: SourceSpec
    client: LLMClient
    model: str  # the resolved model (or endpoint) name


def request_for(prompt: Prompt, spec: SourceSpec, model: str, seed: int) -> LLMRequest:
    system = "\n\n".join(t.content for t in prompt.messages if t.role == "system") or None
    messages = tuple(Message(role=t.role, content=t.content) for t in prompt.messages if t.role != "system")
    return LLMRequest(model=model, system=system, messages=messages, temperature=spec.temperature, top_p=spec.top_p,
                      max_tokens=spec.max_tokens, seed=seed)


def sample_seed(seed: int, round_key: str, source: str, prompt_id: str, sample: int) -> int:
    return int(rank(seed, round_key, source, prompt_id, sample)[:8], 16)


def generate_candidates(prompts: Sequence[Prompt], sources: Sequence[Source], round_key: str, seed: int
                        ) -> tuple[list[Candidate], list[dict]]:
    """(candidates, failures). A failed or empty answer is recorded with its reason, not kept; a truncated one
    is kept and marked (`params.truncated`): it is what the policy does, a fine rejected answer, never a chosen one."""
    candidates, failures, seen = [], [], set()
    for source in sources:
        spec = source.spec
        keys = [(p, i) for p in prompts for i in range(spec.samples)]
        requests = [request_for(p, spec, source.model, sample_seed(seed, round_key, spec.name, p.id, i))
                    for p, i in keys]
        for (prompt, i), out in zip(keys, source.client.generate(requests, label=f"candidates:{spec.name}")):
            text = out.response.text.strip() if out.ok else ""
            if not out.ok or not text:
                reason = out.error or "empty"
                failures.append({"prompt_id": prompt.id, "source": spec.name, "sample": i, "reason": reason,
                                 "detail": out.detail})
                continue
            if (prompt.id, text) in seen:  # a pair of identical responses teaches nothing
                failures.append({"prompt_id": prompt.id, "source": spec.name, "sample": i, "reason": "duplicate"})
                continue
            seen.add((prompt.id, text))
            params = {"temperature": spec.temperature, "top_p": spec.top_p, "max_tokens": spec.max_tokens,
                      "seed": out.request.seed}
            if out.response.stop_reason == "max_tokens":  # what users of this policy would see; never "chosen"
                params["truncated"] = True
            candidates.append(Candidate(id=stable_id(round_key, prompt.id, spec.name, source.model, i, text),
                                        prompt_id=prompt.id, text=text, source=spec.name, model=source.model,
                                        params=params, sample=i))
    return candidates, failures
