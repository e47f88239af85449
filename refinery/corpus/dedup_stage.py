"""The deduplication stage of one drop: exact documents, MinHash near-duplicate documents, CCNet paragraphs,
then (optionally) sentence spans, each pass reading the previous pass's output. Whole-document passes go
first so a near-duplicate document is removed whole instead of being cut down to the few paragraphs that
differ. Earlier drops' indexes make every pass incremental."""
from __future__ import annotations

import time
from functools import partial

from datatrove.pipeline.dedup.sentence_dedup import (
    SentDedupConfig,
    SentenceDedupBuildIndex,
    SentenceDedupFilter,
    SentenceDedupSignature,
    SentenceFindDedups,
)
from datatrove.pipeline.writers import JsonlWriter

from refinery.catalog.corpus import DEDUP, FILTER
from refinery.corpus import report
from refinery.corpus.flow import JSONL, Corpus, _io_summary, upstream
from refinery.dedup.ccnet import ExactParagraphDedup
from refinery.dedup.minhash import (
    EarlierDropsIndex,
    minhash_config,
    minhash_index_owner,
    minhash_steps,
    sentence_index_owner,
)
from refinery.dedup.minhash_fast import SCHEME
from refinery.dedup.minhash_scheme import check_earlier_schemes, write_scheme
from refinery.dedup.semantic import SemanticDocumentDedup
from refinery.embed.options import EmbeddingOptions
from refinery.stage import Stage, StageResult, fingerprint
from refinery.storage import storage_options


class EarlierDropsNotReady(RuntimeError):
    """An earlier drop is not deduplicated yet; running now would let this drop win ties it must lose."""


def dedup_fingerprint(corpus: Corpus, drop: str, earlier_drops: list[str]) -> str:
    """Depends on the earlier drops' dedup markers: their indexes decide what this drop keeps."""
    markers = {d: DEDUP.fingerprint_in(corpus.layout, d) for d in earlier_drops}
    missing = [d for d, m in markers.items() if not m]
    if missing:
        raise EarlierDropsNotReady(
            f"drop '{drop}' is deduplicated against earlier drops, but {missing} are not deduplicated yet: "
            "materialise drops in order (a backfill over all drops does)"
        )
    # the MinHash signature scheme too: a new scheme makes every drop's index stale (minhash_scheme.py)
    scheme = [("minhash_scheme", SCHEME)] if corpus.config.dedup.minhash.enabled else []
    if corpus.config.dedup.semantic.enabled:  # and the embedding model, which lives in its own section
        scheme.append(("embeddings", (corpus.embeddings or EmbeddingOptions()).model_dump_json()))
    return fingerprint(DEDUP.name, upstream(corpus, drop, FILTER), corpus.config.section_hash(DEDUP.config),
                       [(d, markers[d]) for d in earlier_drops] + scheme)


def dedup(corpus: Corpus, drop: str, earlier_drops: list[str]) -> StageResult:
    """`earlier_drops` are the drops ordered before this one; each must already be deduplicated, so the
    earliest copy of a document wins whatever order drops are materialised in."""
    lay, opts = corpus.layout, corpus.config.dedup
    fp = dedup_fingerprint(corpus, drop, earlier_drops)
    if opts.minhash.enabled:  # before any pass runs: earlier drops indexed with another scheme stop it here
        check_earlier_schemes(_minhash_index(corpus, drop, earlier_drops), earlier_drops, minhash_index_owner)
    src, out, dropped = FILTER.output_uri(lay, drop), DEDUP.output_uri(lay, drop), lay.dropped(drop, DEDUP.name)
    clusters_uri = lay.drop(drop, "minhash_clusters")

    def body(stage: Stage) -> dict:
        passes = [p for p, on in (("exact", opts.exact), ("minhash", opts.minhash.enabled),
                                  ("semantic", opts.semantic.enabled), ("paragraphs", opts.paragraphs),
                                  ("sentences", opts.sentences.enabled)) if on]
        steps, outputs, current, seconds = {}, {}, src, {}
        for i, name in enumerate(passes):
            outputs[name] = out if i == len(passes) - 1 else stage.scratch(f"after_{name}")
            t0 = time.perf_counter()
            steps[name] = _PASSES[name](corpus, stage, drop, earlier_drops, current, outputs[name], dropped)
            seconds[name] = round(time.perf_counter() - t0, 3)
            current = outputs[name]
        if not passes:  # dedup switched off entirely: the filtered documents pass through
            steps["copy"] = corpus.run(stage, "copy", [corpus.reader(src), corpus.writer(out)])
        summary = {"passes": steps, "drops_by_reason": {}, "steps": {}, "step_seconds": seconds}
        for s in steps.values():
            for reason, n in s.get("drops_by_reason", {}).items():
                summary["drops_by_reason"][reason] = summary["drops_by_reason"].get(reason, 0) + n
        if opts.minhash.enabled:  # the MinHash pass's own output: later passes may still drop documents
            summary["clusters"] = _write_clusters(corpus, outputs["minhash"], lay.dropped(drop, DEDUP.name, "minhash"),
                                                  clusters_uri, drop)
        ordered = list(steps.values())
        summary["documents_in"] = ordered[0].get("documents_in", 0)
        summary["documents_out"] = ordered[-1].get("documents_out", 0)
        summary |= _io_summary(corpus, None, report.folder_bytes(corpus.folder(src)), out)
        summary["samples"] = report.samples(corpus.folder(out), corpus.config.sample_documents)
        summary["outputs"] = {"documents": out, "dropped": dropped, "clusters": clusters_uri}
        return summary

    # the drop's index entries are outputs too: a re-run must not find its own earlier self
    own_index = [lay.index("exact") + f"/{drop}.npy", lay.index("paragraph") + f"/{drop}.npy",
                 lay.index("semantic") + f"/{drop}.npz"]
    return Stage(lay, drop, DEDUP, fp, [out, dropped, clusters_uri],
                 on_fresh_start=lambda: _clear(corpus, own_index, drop)).run(body)


def _clear(corpus: Corpus, files: list[str], drop: str) -> None:
    for uri in files:
        corpus.layout.remove_file(uri)
    for kind, owner in (("minhash", minhash_index_owner), ("sentences", sentence_index_owner)):
        index = corpus.folder(corpus.layout.index(kind))
        if index.exists(""):
            for f in index.list_files():
                if owner(f) == drop:
                    index.rm(f)


def _hashes(corpus: Corpus, stage: Stage, drop, earlier, src, target, dropped, kind: str) -> dict:
    # one task reads the drop in order; its output is cut into about `tasks` files (at most
    # split_output_bytes each) so that the next passes can run `tasks` ways again
    ex = corpus.config.execution
    part = min(ex.split_output_bytes, max(1 << 20, report.folder_bytes(corpus.folder(src)) // ex.tasks + 1))
    step = ExactParagraphDedup(
        corpus.folder(corpus.layout.index("")), drop, earlier, exact=kind == "exact", paragraphs=kind == "paragraphs",
        min_paragraph_chars=corpus.config.dedup.min_paragraph_chars, exclusion_writer=corpus.writer(f"{dropped}/{kind}"),
    )
    # one task: document order decides which copy is first (see ccnet.py)
    writer = JsonlWriter(corpus.folder(target), output_filename=JSONL, max_file_size=part)
    return corpus.run(stage, kind, [corpus.reader(src), step, writer], tasks=1)


def _input_tasks(corpus: Corpus, src: str) -> int:
    """Tasks a multi-task pass can use on `src`: one per input file at most; 0 when `src` is empty."""
    folder = corpus.folder(src)
    files = folder.list_files(glob_pattern="*.jsonl.gz") if folder.exists("") else []
    return min(len(files), corpus.config.execution.tasks)


def _minhash(corpus: Corpus, stage: Stage, drop, earlier, src, target, dropped) -> dict:
    o = corpus.config.dedup.minhash
    if not (tasks := _input_tasks(corpus, src)):
        return corpus.run(stage, "minhash_copy", [corpus.reader(src), corpus.writer(target)], tasks=1)
    index = _minhash_index(corpus, drop, earlier)
    write_scheme(index, drop)
    steps = minhash_steps(minhash_config(o.n_grams, o.num_buckets, o.hashes_per_bucket, o.seed),
                          lambda name: corpus.folder(stage.scratch("minhash", name)), index, drop,
                          exclusion_writer=corpus.writer(f"{dropped}/minhash"), language=o.tokenizer,
                          threshold=o.verify_threshold)
    corpus.run(stage, "minhash_signatures", [corpus.reader(src), steps["signatures"]], tasks=tasks)
    corpus.run(stage, "minhash_buckets", [steps["buckets"]], tasks=_bucket_tasks(corpus, stage, o.num_buckets))
    corpus.run(stage, "minhash_cluster", [steps["cluster"]], tasks=1)
    summary = corpus.run(stage, "minhash_filter", [corpus.reader(src), steps["filter"], corpus.writer(target)], tasks=tasks)
    removed = sum(int(m.get("dropped", 0)) for name, m in summary["steps"].items() if "MinHash" in name)
    summary["drops_by_reason"] = {"near_duplicate": removed} if removed else {}
    return summary


# Stage 2 merges the signature files at ~8 MB/CPU-s (the realdocs benchmark's 0.8 MB in 0.09 CPU-s): below this
# one task does every bucket, in this process with the local runner, instead of a pool started for a moment.
ONE_TASK_SIGNATURE_BYTES = 32 << 20


def _bucket_tasks(corpus: Corpus, stage: Stage, buckets: int) -> int:
    signatures = report.folder_bytes(corpus.folder(stage.scratch("minhash", "signatures")))
    return 1 if signatures < ONE_TASK_SIGNATURE_BYTES else min(buckets, corpus.config.execution.tasks)


def _minhash_index(corpus: Corpus, drop: str, earlier: list[str]) -> EarlierDropsIndex:
    uri = corpus.layout.index("minhash")
    return EarlierDropsIndex(uri, earlier, drop, **storage_options(uri, corpus.layout.endpoint_url))


def _sentences(corpus: Corpus, stage: Stage, drop, earlier, src, target, dropped) -> dict:
    o = corpus.config.dedup.sentences
    # only_dedup_in_index=False: repeats within this drop count as well as repeats of earlier drops
    cfg = SentDedupConfig(n_sentences=o.n_sentences, min_doc_words=o.min_doc_words, only_dedup_in_index=False)
    sigs, dups = corpus.folder(stage.scratch("sent", "sigs")), corpus.folder(stage.scratch("sent", "dups"))
    index_uri = corpus.layout.index("sentences")
    index = EarlierDropsIndex(index_uri, earlier, drop, owner=sentence_index_owner,
                              **storage_options(index_uri, corpus.layout.endpoint_url))
    if not (tasks := _input_tasks(corpus, src)):
        return corpus.run(stage, "sent_copy", [corpus.reader(src), corpus.writer(target)], tasks=1)
    corpus.run(stage, "sent_signatures", [corpus.reader(src), SentenceDedupSignature(sigs, config=cfg)], tasks=tasks)
    corpus.run(stage, "sent_find", [SentenceFindDedups(sigs, dups, index_folder=index, config=cfg)], tasks=1)
    summary = corpus.run(stage, "sent_filter", [corpus.reader(src), SentenceDedupFilter(
        dups, config=cfg, exclusion_writer=corpus.writer(f"{dropped}/sentences")), corpus.writer(target)], tasks=tasks)
    # this drop's spans join the index only once it is fully deduplicated
    corpus.run(stage, "sent_index", [SentenceDedupBuildIndex(sigs, index, index_name=drop, config=cfg)], tasks=1)
    return summary


def _semantic(corpus: Corpus, stage: Stage, drop, earlier, src, target, dropped) -> dict:
    step = SemanticDocumentDedup(corpus.folder(corpus.layout.index("semantic")), drop, earlier,
                                 corpus.config.dedup.semantic, corpus.layout.root, corpus.layout.endpoint_url,
                                 exclusion_writer=corpus.writer(f"{dropped}/semantic"), embeddings=corpus.embeddings)
    summary = corpus.run(stage, "semantic", [corpus.reader(src), step, corpus.writer(target)], tasks=1)
    removed = sum(int(m.get("dropped", 0)) for name, m in summary["steps"].items() if "semantic" in name)
    summary["drops_by_reason"] = {"semantic_duplicate": removed} if removed else {}
    return summary


_PASSES = {"exact": partial(_hashes, kind="exact"), "minhash": _minhash, "semantic": _semantic,
           "paragraphs": partial(_hashes, kind="paragraphs"), "sentences": _sentences}


def _write_clusters(corpus: Corpus, kept_uri: str, removed_uri: str, target: str, drop: str) -> dict:
    """`id, source, cluster, kept` for every document MinHash put in a cluster. A cluster without a kept
    member matched an earlier drop's index (the earlier copy won)."""
    import polars as pl  # here: loading the code location (CLI, UI) should not pay for it

    rows = []
    for uri, kept in ((kept_uri, True), (removed_uri, False)):
        for d in report.iter_jsonl(corpus.folder(uri)):
            cid = (d.get("metadata") or {}).get("minhash_cluster_id", -1)
            if cid is not None and cid >= 0:
                rows.append({"id": d["id"], "source": d["metadata"].get("source"), "cluster": f"{drop}:{cid}", "kept": kept})
    df = pl.DataFrame(rows, schema={"id": pl.String, "source": pl.String, "cluster": pl.String, "kept": pl.Boolean})
    df = df.with_columns(earlier_drop=~pl.col("kept").any().over("cluster")).sort("cluster", "id")
    with corpus.folder(target).open("clusters.parquet", "wb") as f:
        df.write_parquet(f)
    return {"documents_in_clusters": df.height, "clusters": df["cluster"].n_unique(),
            "matched_earlier_drops": int(df.filter(pl.col("earlier_drop")).height)}
