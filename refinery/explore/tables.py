"""A target as one table, one row per record: `id`, `text` (what the map's tooltip and record view show), the
columns to colour and filter by (method, judge scores, drop, format, ...) and the record's provenance (source
file, chunk, model, templates, sampling parameters). `embed` holds the text each record is embedded by."""
from __future__ import annotations

import gzip
import json
import posixpath
from dataclasses import dataclass, field

import pandas as pd

from refinery.catalog.corpus import DEDUP
from refinery.catalog.sft import CHUNKS, DATASET
from refinery.explore.targets import DROPPED, RECORDS, SFT_STAGES, Target, corpus_drops, sft_methods
from refinery.llmdata.dataset_files import split_of
from refinery.llmdata.io import read_records
from refinery.llmdata.records import Chunk, Dropped, SFTRecord
from refinery.sft.semantic_dedup import record_text
from refinery.storage import Layout

SHOWN_CHARS = 20_000  # a longer document is shown cut (its full text stays in the corpus files)


@dataclass
class ExploreTable:
    target: str
    frame: pd.DataFrame
    embed: list[str]  # per row, the text its vector is computed from
    notes: list[str] = field(default_factory=list)  # what was left out, and why
    colour: str | None = None  # the column the map is coloured by when it opens
    charts: list[str] = field(default_factory=list)  # columns that get a chart (filters) when the page opens

    def __len__(self) -> int:
        return len(self.frame)


def build_table(layout: Layout, target: Target, config=None, limit: int | None = None, seed: int = 0) -> ExploreTable:
    """The target's records as a table; `limit` keeps a random sample of that many (seeded: the same rows, and
    so the same cached vectors, every time)."""
    rows, notes = (_sft_rows(layout, target, config) if target.kind == "sft" else _corpus_rows(layout, target))
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame({"id": [], "text": []})
    duplicated = frame["id"].duplicated(keep="first")
    if duplicated.any():  # the map needs unique ids: a record kept by one stage and dropped by a later re-run
        notes.append(f"{int(duplicated.sum())} rows with an id seen before were left out")
        frame = frame[~duplicated]
    if limit is not None and len(frame) > limit:
        notes.append(f"a random sample of {limit} of {len(frame)} records (--limit)")
        frame = frame.sample(n=limit, random_state=seed).sort_index()
    frame = frame.reset_index(drop=True)
    embed = frame.pop("_embed").tolist() if "_embed" in frame else []
    charts = [c for c in (SFT_CHARTS if target.kind == "sft" else CORPUS_CHARTS) if c in frame]
    charts += [c for c in frame if c.startswith("judge_") and c not in charts + ["judge_rationale", "judge_band"]]
    colour = "folder" if target.kind == "corpus" else "method" if target.stage == "dataset" else "status"
    return ExploreTable(str(target), frame, embed, notes, colour=colour if colour in frame else None, charts=charts)


# columns worth a chart (to filter and see distributions); ids, texts and JSON provenance are in the record view
SFT_CHARTS = ["method", "status", "split", "judge_score", "judge_agreement", "review", "model", "turns",
              "prompt_chars", "response_chars", "drop", "source"]
CORPUS_CHARTS = ["drop", "folder", "format", "language", "language_score", "chars", "words", "pii_redactions"]


# --- SFT records ---------------------------------------------------------------------------------------

def conversation(record: SFTRecord) -> str:
    return "\n\n".join(f"{t.role.upper()}: {t.content}" for t in record.messages)


def _sft_rows(layout: Layout, target: Target, config) -> tuple[list[dict], list[str]]:
    field_ = config.sft.semantic_dedup.field if config is not None else "prompt"
    chunks = {c.id: c for c in read_records(layout.at(CHUNKS.output_uri(layout)), RECORDS, Chunk)}
    notes: list[str] = []
    if target.stage == "dataset":
        records = list(read_records(layout.at(DATASET.output_uri(layout)), RECORDS, SFTRecord))
        split = {}
        if config is not None:
            export = config.sft.export
            split = split_of([r.id for r in records], export.test_fraction, export.split_salt)
        return [_sft_row(r, "dataset", chunks, field_, split=split.get(r.id)) for r in records], notes
    spec = SFT_STAGES[target.stage]
    rows = []
    for method in [target.part] if target.part else sft_methods(layout, target.stage):
        folder = layout.at(spec.output_uri(layout, method))
        rows += [_sft_row(r, target.stage, chunks, field_) for r in read_records(folder, RECORDS, SFTRecord)]
        failed = 0
        for dropped in read_records(folder, DROPPED, Dropped):
            if dropped.record is None:
                failed += 1  # a failed call: no text to place on the map
                continue
            rows.append(_sft_row(dropped.record, target.stage, chunks, field_, status=f"dropped: {dropped.reason}",
                                 detail=dropped.detail))
        if failed:
            notes.append(f"{method}: {failed} failed generations have no record to show (see {spec.name}/{method}/"
                         f"{DROPPED})")
    return rows, notes


def _sft_row(r: SFTRecord, stage: str, chunks: dict[str, Chunk], field_: str, status: str = "kept",
             detail: str = "", split: str | None = None) -> dict:
    chunk = chunks.get(r.chunk_id or "")
    text = conversation(r)
    judgement = r.judgement
    row = {
        "id": r.id, "text": text, "method": r.method, "stage": stage, "status": status,
        "judge_score": judgement.score if judgement else None,
        # the score to the nearest half as a category: the map colours by categories, not by numbers
        "judge_band": f"{round(judgement.score * 2) / 2:.1f}" if judgement else None,
    }
    if split:
        row["split"] = split
    for aspect, score in (judgement.aspect_scores if judgement else {}).items():
        row[f"judge_{aspect}"] = score
    row.update({
        "judge_agreement": judgement.agreement if judgement else None,
        "judge_rationale": _rationales(r),
        "review": (r.review or {}).get("status"),
        "model": r.model,
        "turns": len(r.messages),
        "prompt_chars": len(r.instruction()),
        "response_chars": len(r.output()),
        "drop": chunk.drop if chunk else None,
        "source": r.source or (chunk.source if chunk else None),
        "doc_id": chunk.doc_id if chunk else None,
        "chunk_id": r.chunk_id,
        "chunk": chunk.text if chunk else None,
        "drop_detail": detail or None,
        "params": _json(r.params),
        "meta": _json(r.meta),
        "templates": _json(r.templates),
        "_embed": record_text(r, field_),  # what sft.semantic_dedup embeds: the same vectors, from the same cache
    })
    return row


def _rationales(r: SFTRecord) -> str | None:
    if not r.judgement:
        return None
    lines = [f"{v.judge} {aspect} {a.rating}: {a.rationale}" for v in r.judgement.verdicts
             for aspect, a in v.aspects.items() if a.rationale]
    return "\n".join(lines) or None


def _json(value) -> str | None:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str) if value else None


# --- corpus documents ----------------------------------------------------------------------------------

def _corpus_rows(layout: Layout, target: Target) -> tuple[list[dict], list[str]]:
    rows: list[dict] = []
    for drop in [target.part] if target.part else corpus_drops(layout):
        folder = layout.at(DEDUP.output_uri(layout, drop))
        for name in sorted(folder.list_files(glob_pattern="*.jsonl.gz")):
            with folder.open(name, "rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        rows.append(_document_row(json.loads(line), drop, f"{drop}/deduplicated/{name}"))
    return rows, []


KNOWN_METADATA = ("source", "format", "title", "language", "language_score", "minhash_cluster_id", "pii_redactions")


def _document_row(doc: dict, drop: str, file: str) -> dict:
    meta = doc.get("metadata") or {}
    text = doc.get("text") or ""
    source = meta.get("source") or doc.get("id") or ""
    relative = source[len(drop) + 1:] if source.startswith(drop + "/") else source
    redactions = meta.get("pii_redactions")
    rest = {k: v for k, v in meta.items() if k not in KNOWN_METADATA}
    return {
        "id": str(doc.get("id")),
        "text": text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + f"\n… [cut here for the view: {len(text):,} chars]",
        "title": meta.get("title"),
        "drop": drop,
        "folder": "/".join(posixpath.dirname(relative).split("/")[:2]) or None,  # a team's or a package's folder
        "format": meta.get("format") or posixpath.splitext(relative)[1].lstrip(".").lower() or None,
        "language": meta.get("language"),
        "language_score": meta.get("language_score"),
        "chars": len(text),
        "words": len(text.split()),
        "pii_redactions": sum(redactions.values()) if isinstance(redactions, dict) else None,
        "minhash_cluster_id": meta.get("minhash_cluster_id"),
        "source": source,
        "file": file,
        "metadata": _json(rest),
        "_embed": text,
    }
