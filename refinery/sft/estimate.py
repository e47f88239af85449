"""`refinery sft --estimate`: each SFT stage's LLM requests, tokens and USD, with no request sent.

Generation runs each method's own code over the chunks (those `sft_chunks` wrote, else the deduplicated drops
chunked in memory) against `refinery.llm.estimate`'s client: grounded_qa's requests are exactly those the run
will send; methods that go by rounds are counted up to their first answers. The judge runs over the method's
filtered records when they exist (exact), else it is `aspects x judges` calls per record grounded_qa's
generation can make (other methods: one record per generation call).
"""
from __future__ import annotations

from refinery.catalog.sft import CHUNKS, FILTERED
from refinery.corpus.report import iter_jsonl
from refinery.llm.cache import ResponseCache
from refinery.llm.estimate import estimating_client, stage_estimate, totals
from refinery.llmdata.judge import judge_records
from refinery.llmdata.records import Chunk, SFTRecord, Turn
from refinery.sft import chunking, methods
from refinery.sft.flow import RECORDS, SFT, _records

EXACT_METHODS = {"grounded_qa"}  # every request is known before any answer


def _chunks(sft: SFT, documents: dict[str, str]) -> list[Chunk]:
    if sft.marker(CHUNKS) or sft.output(CHUNKS).isfile(RECORDS):
        return sft.chunks()
    opts = sft.config.chunking
    redact = opts.pii_redaction == "always" or (opts.pii_redaction == "auto" and sft.external_llm)
    return [c for drop, uri in sorted(documents.items())
            for c in chunking.chunk_documents(iter_jsonl(sft.layout.at(uri)), opts, redact, drop)]


def estimate_sft(sft: SFT, documents: dict[str, str], method_names: list[str] | None = None,
                 batch: bool = False) -> dict:
    cache = ResponseCache(sft.layout.at(sft.layout.llm_cache()))
    pricing = sft.config.pricing
    chunks = _chunks(sft, documents)
    by_id = {c.id: c for c in chunks}
    stages: dict[str, dict] = {}
    for method in method_names or sft.config.methods:
        options = sft.config.generation.for_method(method)
        client = estimating_client(cache, pricing)
        methods.run(method, chunks, client, options, sft.default_model, sft.config.seed)
        stages[f"{method} generate"] = stage_estimate(client, pricing, batch, exact=method in EXACT_METHODS)
        judge = estimating_client(cache, pricing)
        if sft.marker(FILTERED, method):
            judge_records(_records(sft, FILTERED, method), judge, sft.config.judge, sft.default_model, by_id)
            stages[f"{method} judge"] = stage_estimate(judge, pricing, batch)
            continue
        # no records yet: one judged record per record the generation can make, judged like this sample
        generated = sum(r["calls"] + r["cache_hits"] for r in stages[f"{method} generate"].values())
        per_call = getattr(options, "questions_per_chunk", 1)
        sample = _sample_record(method, by_id)
        if sample is None or not generated:
            continue
        judge_records([sample], judge, sft.config.judge, sft.default_model, by_id)
        stages[f"{method} judge"] = stage_estimate(judge, pricing, batch, exact=False, scale=generated * per_call)
    return {"stages": stages, "total": totals(stages), "chunks": len(chunks)}


def _sample_record(method: str, chunks: dict[str, Chunk]):
    """A stand-in record (a chunk-sized question and answer) to render the judge's prompts once."""
    chunk = next(iter(chunks.values()), None)
    text = chunk.text if chunk else "a typical office question"
    return SFTRecord(id="estimate", method=method, chunk_id=chunk.id if chunk else None,
                     messages=[Turn(role="user", content=text[:200]), Turn(role="assistant", content=text[:400])])
