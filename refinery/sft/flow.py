"""The SFT flow's stages: chunks -> generations (per method) -> filtered -> judged -> dataset.

Each stage reads its input from storage, writes JSONL records plus `dropped.jsonl` (with reasons), and
is skipped when its fingerprint (inputs, settings, model, prompt templates) is unchanged. LLM calls go
through one `LLMClient` per stage, whose ledger becomes the stage's usage/cost summary.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from refinery.catalog.corpus import DEDUP
from refinery.catalog.sft import CHUNKS, FILTERED, GENERATED, JUDGED
from refinery.corpus.report import iter_jsonl
from refinery.llm.client import LLMClient
from refinery.llm.failures import check_llm_stage, stage_llm_summary
from refinery.llm.limits import stage_budget
from refinery.llm.provider import LLMProvider
from refinery.llmdata.io import read_records, write_records
from refinery.llmdata.judge import judge_records, judge_summary
from refinery.llmdata.records import Chunk, Dropped, SFTRecord
from refinery.sft import chunking, methods
from refinery.sft.config import SFTConfig, templates_fingerprint
from refinery.sft.filters import filter_records
from refinery.stage import StageSpec, fingerprint, run_once
from refinery.storage import Layout

RECORDS, DROPPED = "records.jsonl", "dropped.jsonl"


@dataclass
class SFT:
    layout: Layout
    config: SFTConfig
    llm: LLMProvider

    def client(self, stage: str = "") -> LLMClient:
        """A fresh client (ledger, progress line) per stage, under the flow's budget."""
        client = self.llm.client(self.layout, self.config.pricing)
        client.add_budget(stage_budget(self.llm, self.config.llm.budget_usd, "sft"))
        client.progress.name = stage
        return client

    @property
    def default_model(self) -> str:
        return self.llm.default_model()

    @property
    def external_llm(self) -> bool:
        """Text leaves the organisation: chunks are PII-redacted under "auto"."""
        return self.llm.is_external()

    def folder(self, *parts: str):
        return self.layout.at(self.layout.sft(*parts))

    def chunks(self) -> list[Chunk]:
        return list(read_records(self.layout.at(CHUNKS.output_uri(self.layout)), RECORDS, Chunk))

    def output(self, spec: StageSpec, method: str | None = None):
        return self.layout.at(spec.output_uri(self.layout, method))

    def marker(self, spec: StageSpec, method: str | None = None) -> str | None:
        """The fingerprint of a completed stage (None: not completed)."""
        return spec.fingerprint_in(self.layout, method)


def _reasons(dropped: list[Dropped]) -> dict[str, int]:
    return dict(Counter(d.reason for d in dropped))


def deduplicated_drops(layout: Layout, drops: list[str]) -> dict[str, str]:
    """drop -> URI of its deduplicated documents, for the drops whose dedup stage has completed."""
    return {d: DEDUP.output_uri(layout, d) for d in drops if DEDUP.fingerprint_in(layout, d)}


def build_chunks(sft: SFT, documents: dict[str, str]) -> dict:
    """`documents`: drop -> URI of its deduplicated documents (drops whose dedup is complete)."""
    opts = sft.config.chunking
    redact = opts.pii_redaction == "always" or (opts.pii_redaction == "auto" and sft.external_llm)
    fp = fingerprint({d: DEDUP.fingerprint_in(sft.layout, d) for d in documents}, opts.model_dump(), redact)

    def body() -> dict:
        chunks = [c for drop, uri in sorted(documents.items())
                  for c in chunking.chunk_documents(iter_jsonl(sft.layout.at(uri)), opts, redact, drop)]
        write_records(sft.output(CHUNKS), RECORDS, chunks)
        return {"chunks": len(chunks), "documents": len({c.doc_id for c in chunks}), "drops": sorted(documents),
                "pii_redacted": redact, "chars": sum(len(c.text) for c in chunks)}

    return run_once(sft.layout, CHUNKS.marker(), fp, body)


def _llm_stage(sft: SFT, spec: StageSpec, method: str, upstream: str | None, section: dict,
               work: Callable[[LLMClient], tuple[list[SFTRecord], list[Dropped], dict]], label: str) -> dict:
    """Outputs are written whatever failed; a reached budget then raises BudgetExceededError, a failure share
    over the bound LLMFailureError.
    `upstream`: the fingerprint of the stage it reads."""
    bound = sft.config.llm.max_failure_share
    fp = fingerprint(upstream, section, sft.default_model, templates_fingerprint(), sft.config.seed)

    def body() -> dict:
        client = sft.client(label)
        records, dropped, extra = work(client)
        out = sft.output(spec, method)
        write_records(out, RECORDS, records)
        write_records(out, DROPPED, dropped)
        return {"records": len(records), "dropped": len(dropped), "dropped_by_reason": _reasons(dropped),
                **stage_llm_summary([client], bound), **extra}

    summary = run_once(sft.layout, spec.marker(method), fp, body)
    check_llm_stage(label, summary)
    return summary


def generate(sft: SFT, method: str) -> dict:
    options = sft.config.generation.for_method(method)

    def work(client: LLMClient):
        result = methods.run(method, sft.chunks(), client, options, sft.default_model, sft.config.seed)
        templates = sorted({ref for r in result.records for ref in r.templates.values()})
        return result.records, result.dropped, {"templates": templates}

    return _llm_stage(sft, GENERATED, method, sft.marker(CHUNKS), options.model_dump(), work, label=method)


def _records(sft: SFT, spec: StageSpec, method: str) -> list[SFTRecord]:
    return list(read_records(sft.output(spec, method), RECORDS, SFTRecord))


def filter_records_of(sft: SFT, method: str) -> dict:
    options = sft.config.filters
    fp = fingerprint(sft.marker(GENERATED, method), options.model_dump())

    def body() -> dict:
        records = _records(sft, GENERATED, method)
        kept, dropped = filter_records(records, options)
        out = sft.output(FILTERED, method)
        write_records(out, RECORDS, kept)
        write_records(out, DROPPED, dropped)
        return {"records_in": len(records), "records": len(kept), "dropped": len(dropped),
                "dropped_by_reason": _reasons(dropped)}

    return run_once(sft.layout, FILTERED.marker(method), fp, body)


def judge(sft: SFT, method: str) -> dict:
    options = sft.config.judge

    def work(client: LLMClient):
        chunks = {c.id: c for c in sft.chunks()}
        judged, dropped = judge_records(_records(sft, FILTERED, method), client, options, sft.default_model, chunks)
        return judged, dropped, {"judge": judge_summary(judged, dropped)}

    return _llm_stage(sft, JUDGED, method, sft.marker(FILTERED, method), options.model_dump(), work,
                      label=f"{method} judge")
