"""A seeded sample of deduplicated documents, stratified by source format: one streaming pass that keeps,
per format, the documents with the smallest hash priorities (bounded heaps), then takes each format's share.
A document's priority depends only on the seed, its drop and its id, never on file order, so the same drops
give the same sample and a new drop changes it only by its share."""
from __future__ import annotations

import hashlib
import heapq
from dataclasses import dataclass

from refinery.corpus.report import iter_jsonl
from refinery.storage import Layout


@dataclass(frozen=True)
class SampledDoc:
    id: str
    drop: str
    source: str
    format: str
    text: str  # the excerpt the LLM reads and the embedding sees


def excerpt(text: str, max_chars: int) -> str:
    """The beginning of a document, cut at a line end when one is near the limit."""
    if len(text) <= max_chars:
        return text
    cut = text.rfind("\n", max_chars // 2, max_chars)
    return text[:cut if cut > 0 else max_chars]


def _priority(seed: int, drop: str, doc_id: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}\0{drop}\0{doc_id}".encode()).digest()[:8], "big")


def _quotas(counts: dict[str, int], n: int) -> dict[str, int]:
    """`n` split across strata in proportion to their sizes (largest remainder), never more than a stratum has."""
    total = sum(counts.values())
    if total <= n:
        return dict(counts)
    exact = {k: n * c / total for k, c in counts.items()}
    quotas = {k: int(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: (quotas[k] - exact[k], k))[:n - sum(quotas.values())]:
        quotas[k] += 1
    return quotas


def sample_documents(layout: Layout, drops: dict[str, str], size: int, seed: int = 0, stratify_by: str = "format",
                     max_chars: int = 3000) -> tuple[list[SampledDoc], dict]:
    """`drops`: drop -> URI of its deduplicated documents. Returns the sample (ordered by priority) and
    {"documents": seen, "by_stratum": {stratum: [seen, sampled]}}. Empty texts are skipped."""
    heaps: dict[str, list] = {}
    counts: dict[str, int] = {}
    for drop, uri in sorted(drops.items()):
        for doc in iter_jsonl(layout.at(uri)):
            text = doc.get("text") or ""
            if not text.strip():
                continue
            meta = doc.get("metadata") or {}
            stratum = str(meta.get("format") or "unknown") if stratify_by == "format" else "all"
            counts[stratum] = counts.get(stratum, 0) + 1
            item = (-_priority(seed, drop, str(doc["id"])), str(doc["id"]), drop)
            heap = heaps.setdefault(stratum, [])
            if len(heap) < size:
                heapq.heappush(heap, (*item, SampledDoc(str(doc["id"]), drop, str(meta.get("source", "")),
                                                        str(meta.get("format", "")), excerpt(text, max_chars))))
            elif item > heap[0][:3]:
                heapq.heapreplace(heap, (*item, SampledDoc(str(doc["id"]), drop, str(meta.get("source", "")),
                                                           str(meta.get("format", "")), excerpt(text, max_chars))))
    quotas = _quotas(counts, size)
    picked = []
    for stratum, heap in heaps.items():
        picked += sorted(heap, reverse=True)[:quotas[stratum]]  # smallest priorities first
    picked.sort(key=lambda row: (-row[0], row[1], row[2]))
    return [row[3] for row in picked], {
        "documents": sum(counts.values()),
        "by_stratum": {k: [counts[k], quotas[k]] for k in sorted(counts)}}
