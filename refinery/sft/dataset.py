"""The dataset stage: every method's judged records, human reviews applied, exported for trainers
(chat `messages` and Alpaca, Parquet and JSONL, train/test, dataset card) and for the next review round.

Reviews are files a reviewer drops into `sft/review/reviewed/` (Argilla record exports or the plain
review JSONL), applied in name order on top of the judged records; the stage is recomputed from those
inputs each time, so importing the same file twice changes nothing.
"""
from __future__ import annotations

from collections import Counter

from refinery.catalog.sft import DATASET, FILTERED, GENERATED, JUDGED
from refinery.llmdata.io import data_files, file_digest, numbered_rows, read_records, write_records
from refinery.llmdata.judge import judge_summary
from refinery.llmdata.records import Dropped, SFTRecord
from refinery.sft.export import export_dataset
from refinery.sft.flow import DROPPED, RECORDS, SFT
from refinery.sft.review import export_for_review, import_reviews
from refinery.sft.semantic_dedup import semantic_dedup
from refinery.stage import fingerprint, run_once

REVIEWED = ("review", "reviewed")


def _review_files(sft: SFT) -> list[tuple[str, str]]:
    """(name, content sha256) of the reviewed files, in name order."""
    folder = sft.folder(*REVIEWED)
    return [(name, file_digest(folder, name)) for name in data_files(folder, (".jsonl",))]



def build_dataset(sft: SFT, methods: list[str], embedder=None) -> dict:
    """`embedder` (refinery.embed.Embedder) for the semantic dedup; needed when `sft.semantic_dedup` is enabled."""
    ready = [m for m in methods if m in sft.config.methods and sft.marker(JUDGED, m)]
    if not ready:
        raise RuntimeError(f"no judged records yet for any of {sft.config.methods}: materialise sft_judged first")
    reviews = _review_files(sft)
    semantic = sft.config.semantic_dedup
    if semantic.enabled and embedder is None:
        raise ValueError("sft.semantic_dedup is enabled: build_dataset needs an embedder")
    fp = fingerprint({m: sft.marker(JUDGED, m) for m in ready}, reviews,
                     sft.config.export.model_dump(), sft.config.filters.model_dump(), sft.config.judge.model_dump(),
                     semantic.model_dump(), embedder.model_id if semantic.enabled else None)

    def body() -> dict:
        records: list[SFTRecord] = []
        dropped: list[Dropped] = []
        for method in ready:
            records += read_records(sft.output(JUDGED, method), RECORDS, SFTRecord)
            for stage in (GENERATED, FILTERED, JUDGED):
                dropped += read_records(sft.output(stage, method), DROPPED, Dropped)
        review_stats = {}
        for name, _ in reviews:
            rows = [row for _, row in numbered_rows(sft.folder(*REVIEWED), name)]
            records, rejected, review_stats[name] = import_reviews(records, rows)
            dropped += rejected
        records, duplicates, semantic_report = semantic_dedup(records, embedder, semantic)
        dropped += duplicates
        out = sft.output(DATASET)
        if out.exists(""):
            out.rm("", recursive=True)  # a split that became empty must not survive from the last export
        generation = {m: sft.config.generation.for_method(m).model_dump() for m in ready}
        generation["default_model"] = sft.default_model
        counts = export_dataset(records, out, sft.config.export, dropped=dropped, filter_options=sft.config.filters,
                                judge_options=sft.config.judge, generation=generation,
                                semantic_dedup=semantic_report)
        write_records(out, RECORDS, records)  # full provenance (judgements, reviews) for checks and the DPO flow
        chunks = {c.id: c for c in sft.chunks()}
        export_for_review(records, sft.folder("review", "export"), chunks)
        with out.open("README.md", "rt") as f:
            card = f.read()
        splits = counts["splits"]["messages"]
        return {"records": len(records), "train": splits.get("train", 0), "test": splits.get("test", 0),
                "by_method": dict(Counter(r.method for r in records)), "alpaca_skipped": counts["alpaca_skipped"],
                "missing_methods": [m for m in sft.config.methods if m not in ready],
                "judge": judge_summary(records), "review": review_stats, "semantic_dedup": semantic_report, "card": card[:20000]}

    return run_once(sft.layout, DATASET.marker(), fp, body)
