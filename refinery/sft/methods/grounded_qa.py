"""Grounded QA: question-answer pairs written from document chunks, each answer supported by its chunk.

The chunk travels in the request's `context` (prompt-cached where the provider supports it), the
instructions in system/user. The record holds the question alone, so the data teaches the
organisation's knowledge rather than reading comprehension, unless `include_context_in_prompt` asks
for RAG-style records with the chunk in the user turn.
"""
from __future__ import annotations

import re

from pydantic import BaseModel, Field

from refinery.llm.client import LLMClient
from refinery.llmdata.prompts import load_template
from refinery.llmdata.records import Chunk
from refinery.sft.methods.base import (
    MethodResult,
    SamplingOptions,
    build_request,
    derive_seed,
    drop,
    failed,
    parse_fields,
    record,
    spread,
)

METHOD = "grounded_qa"


class GroundedQAOptions(SamplingOptions):
    max_tokens: int = Field(256, gt=0)  # per question-answer pair
    max_chunks: int = Field(8, ge=1)
    questions_per_chunk: int = Field(1, ge=1, le=20)
    include_context_in_prompt: bool = False


class QAPair(BaseModel):
    question: str = Field(min_length=3)
    answer: str = Field(min_length=1)


def parse_pairs(text: str) -> list[QAPair]:
    return [QAPair(question=b["Question"], answer=b["Answer"]) for b in parse_fields(text, ("Question", "Answer"))]


_SOURCE = r"(?:reference |provided |given |above )?(?:text|document|passage|context|excerpt|source)"
# The model saying its own question is not answered by the chunk (the prompt asks for "NOT IN TEXT").
_UNSUPPORTED = re.compile(
    rf"\bNOT IN (?:THE )?TEXT\b"
    rf"|\b(?:the|this) {_SOURCE} (?:does not|doesn't|did not|do not) "
    r"(?:contain|mention|provide|say|specify|include|state|give|cover)"
    rf"|\bnot (?:mentioned|specified|provided|stated|covered|given|included|found|answered) in the {_SOURCE}"
    rf"|\bcannot be (?:answered|determined|found) (?:from|in|with|based on) the {_SOURCE}"
    rf"|\bno information\b.{{0,80}}\b(?:in|from) the {_SOURCE}", re.I)


def run(chunks: list[Chunk], client: LLMClient, options: GroundedQAOptions, model: str, seed: int) -> MethodResult:
    template = load_template("grounded_qa")
    picked = spread([c for c in chunks if c.text.strip()], options.max_chunks)
    n = options.questions_per_chunk
    sampling = options.model_copy(update={"max_tokens": options.max_tokens * n})
    # seeded by chunk id rather than position: a chunk keeps its cached answer when others come and go
    requests = [build_request(template, sampling, model, derive_seed(seed, METHOD, c.id), context=c.text, n=n)
                for c in picked]
    if n == 1:  # one pair asked for: a model that starts a second one is done with the first
        requests = [r.model_copy(update={"stop": ("\nQuestion:",)}) for r in requests]
    result = MethodResult()
    for chunk, out in zip(picked, client.generate_structured(requests, parse_pairs, label=METHOD)):
        if (bad := failed(out, template, chunk_id=chunk.id)) is not None:
            result.dropped.append(bad)
            continue
        pairs = out.value[:n]
        seen: set[str] = set()
        for i, pair in enumerate(pairs):
            reason = ("truncated" if out.response.truncated and i == len(out.value) - 1
                      else "unsupported" if _UNSUPPORTED.search(pair.answer)
                      else "duplicate" if pair.question.casefold() in seen else None)
            seen.add(pair.question.casefold())
            if reason:
                result.dropped.append(drop(reason, out.request, template, f"Q: {pair.question}\nA: {pair.answer}",
                                           chunk_id=chunk.id))
                continue
            prompt = (f"Reference text:\n{chunk.text}\n\n{pair.question}" if options.include_context_in_prompt
                      else pair.question)
            result.records.append(record(
                METHOD, [("user", prompt), ("assistant", pair.answer)], model, [template], options,
                {"question_index": i, "include_context": options.include_context_in_prompt}, chunk))
    return result
