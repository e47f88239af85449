"""`refinery explain`: the path of one document (or of every document of one raw file) through the stages.

Everything is read back from what the stages wrote (quarantine manifest, stage outputs, `_dropped/` folders,
MinHash clusters, token shards); only the per-filter verdicts and scores are recomputed, by running the drop's
configured filter steps on the extracted document, so a person sees every rule it passes or fails, not only
the first one that dropped it. Reads whole stage folders: meant for one document at a time.
"""
from __future__ import annotations

import copy

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter, get_filter_result

from refinery.catalog.corpus import DEDUP, EXTRACT, FILTER, TOKENIZE
from refinery.corpus.flow import Corpus
from refinery.corpus.report import iter_jsonl, iter_jsonl_files
from refinery.dedup.ccnet import sha1_64
from refinery.dedup.minhash import WhitespaceTokenizer
from refinery.filters.build import build_filter_steps
from refinery.filters.prose_quality import quality_scores


def _matches(doc: dict, key: str) -> bool:
    return doc.get("id") == key or (doc.get("metadata") or {}).get("source") == key


def _find(corpus: Corpus, uri: str, key: str) -> list[dict]:
    return [d for d in iter_jsonl(corpus.folder(uri)) if _matches(d, key)]


def _first(corpus: Corpus, uri: str, key: str) -> tuple[str, dict] | tuple[None, None]:
    """(file, document) of the first document with this id or source; the scan stops there."""
    return next(((name, d) for name, d in iter_jsonl_files(corpus.folder(uri)) if _matches(d, key)), (None, None))


def _drops(corpus: Corpus) -> list[str]:
    folder = corpus.folder(corpus.layout.uri("corpus"))
    if not folder.exists(""):
        return []
    return sorted(p.rstrip("/").rsplit("/", 1)[-1] for p in folder.ls("", detail=False)
                  if not p.rstrip("/").rsplit("/", 1)[-1].startswith("_"))


def _sub_folders(corpus: Corpus, uri: str) -> list[str]:
    folder = corpus.folder(uri)
    return sorted(p.rstrip("/").rsplit("/", 1)[-1] for p in folder.ls("", detail=False)) if folder.exists("") else []


def _filters(corpus: Corpus, drop: str, doc: dict) -> list[dict]:
    """Each configured filter's verdict on the extracted document, in pipeline order (filters that rewrite
    the text, like C4's line rules, pass their output on as in the real run)."""
    d = Document(text=doc["text"], id=doc["id"], metadata=copy.deepcopy(doc.get("metadata") or {}))
    rows = []
    for step in build_filter_steps(corpus.config.filters.for_drop(drop)):
        if not isinstance(step, BaseFilter):
            continue
        keep, reason = get_filter_result(step.filter(d))
        row = {"filter": getattr(step, "short_name", step.name), "verdict": "pass" if keep else "drop"}
        if not keep:
            row["reason"] = reason or getattr(step, "default_reason", "filtered")
        if row["filter"] == "language":
            row["scores"] = {"language": d.metadata.get("language"),
                             "score": round(d.metadata.get("language_score", 0), 4)}
        elif row["filter"] == "gopher_quality":
            row["scores"] = quality_scores(d.text)
        rows.append(row)
    return rows


def _shingles(text: str, n: int = 5) -> set:
    w = text.lower().split()
    return {tuple(w[i:i + n]) for i in range(max(len(w) - n + 1, 1))}


def jaccard(a: str, b: str, normalised: bool = False) -> float:
    """Word 5-gram Jaccard on the lower-cased words, or (`normalised`) on the words MinHash shingles: datatrove's
    simplify_text, then WhitespaceTokenizer. The second is what the clustering estimated; across formats the
    first can be far lower (SQLite's 3.19.2 notes as PPTX against 3.19.1's page: 0.47 raw, 0.81 normalised)."""
    if normalised:
        from datatrove.utils.text import simplify_text

        a, b = (" ".join(WhitespaceTokenizer().word_tokenize(simplify_text(t))) for t in (a, b))
    x, y = _shingles(a), _shingles(b)
    return round(len(x & y) / len(x | y), 4) if x | y else 1.0


def _exact_original(corpus: Corpus, drop: str, doc: dict) -> dict | None:
    """The first earlier document (earlier drops, then this drop in order) with the same text."""
    h = sha1_64(doc["text"].strip())
    for d in [x for x in _drops(corpus) if x <= drop]:
        for other in iter_jsonl(corpus.folder(FILTER.output_uri(corpus.layout, d))):
            if other["id"] != doc["id"] and sha1_64(other["text"].strip()) == h:
                return {"id": other["id"], "drop": d}
            if d == drop and other["id"] == doc["id"]:
                break
    return None


def _near_original(corpus: Corpus, drop: str, doc: dict) -> dict | None:
    import polars as pl

    path = corpus.layout.drop(drop, "minhash_clusters")
    folder = corpus.folder(path)
    if folder.isfile("clusters.parquet"):
        with folder.open("clusters.parquet", "rb") as f:
            clusters = pl.read_parquet(f)
        mine = clusters.filter(pl.col("id") == doc["id"])
        if mine.height:
            kept = clusters.filter((pl.col("cluster") == mine["cluster"][0]) & pl.col("kept"))
            if kept.height:
                other = next((d for d in iter_jsonl(corpus.folder(FILTER.output_uri(corpus.layout, drop)))
                              if d["id"] == kept["id"][0]), None)
                return {"id": kept["id"][0], "drop": drop, "cluster": mine["cluster"][0],
                        "jaccard_5gram": jaccard(doc["text"], other["text"]) if other else None,
                        "jaccard_5gram_normalised": jaccard(doc["text"], other["text"], True) if other else None}
    best, text = None, ""  # the earlier drops' copy won: the kept document there most similar by MinHash's words
    for d in [x for x in _drops(corpus) if x < drop]:
        for other in iter_jsonl(corpus.folder(DEDUP.output_uri(corpus.layout, d))):
            j = jaccard(doc["text"], other["text"], True)
            if best is None or j > best["jaccard_5gram_normalised"]:
                best, text = {"id": other["id"], "drop": d, "jaccard_5gram_normalised": j}, other["text"]
    return best and {**best, "jaccard_5gram": jaccard(doc["text"], text)}


def _shard(corpus: Corpus, drop: str, name: str) -> dict:
    """Which token shards hold the documents of deduplicated file `name`: the tokenizer's task `r` reads the
    r-th deduplicated file (of `tasks`, datatrove's file sharding) and writes shards named `<drop>_<r>`."""
    files = sorted(corpus.folder(DEDUP.output_uri(corpus.layout, drop)).list_files(glob_pattern="*.jsonl.gz"))
    rank = files.index(name) % corpus.config.execution.tasks
    out = corpus.folder(TOKENIZE.output_uri(corpus.layout, drop))
    shards = [s for s in (out.list_files(glob_pattern="*.ds") if out.exists("") else [])
              if s.rsplit("/", 1)[-1].startswith(f"{drop}_{rank:05d}_")]
    return {"deduplicated_file": name, "shards": shards}


def explain(corpus: Corpus, key: str) -> dict:
    """{"key", "documents": [...], "quarantine": [...]}: one entry per document whose id or source is `key`."""
    lay = corpus.layout
    out: dict = {"key": key, "documents": [], "quarantine": []}
    for drop in _drops(corpus):
        out["quarantine"] += [{"drop": drop, **row} for row in iter_jsonl(corpus.folder(lay.quarantine(drop)))
                              if row.get("source") == key or key.startswith(f"{row.get('source')}#")]
        for doc in _find(corpus, EXTRACT.output_uri(lay, drop), key):
            out["documents"].append(_path(corpus, drop, doc))
    return out


def _path(corpus: Corpus, drop: str, doc: dict) -> dict:
    lay, doc_id = corpus.layout, doc["id"]
    entry: dict = {"id": doc_id, "drop": drop, "source": (doc.get("metadata") or {}).get("source"),
                   "extracted": {"chars": len(doc["text"]), "format": (doc.get("metadata") or {}).get("format")},
                   "filters": _filters(corpus, drop, doc)}
    _, kept = _first(corpus, FILTER.output_uri(lay, drop), doc_id)
    if kept is None:
        for name in _sub_folders(corpus, lay.dropped(drop, FILTER.name)):
            _, hit = _first(corpus, lay.dropped(drop, FILTER.name, name), doc_id)
            if hit:
                entry["outcome"] = {"stage": FILTER.name, "filter": name, "reason": hit["metadata"].get("filter_reason")}
                return entry
        entry["outcome"] = {"stage": FILTER.name, "reason": "not in the filter stage's output (not run yet?)"}
        return entry
    entry["pii_redactions"] = {k: v for k, v in (kept["metadata"].get("pii_redactions") or {}).items() if v}
    final_file, final = _first(corpus, DEDUP.output_uri(lay, drop), doc_id)
    if final is None:
        for name in _sub_folders(corpus, lay.dropped(drop, DEDUP.name)):
            _, hit = _first(corpus, lay.dropped(drop, DEDUP.name, name), doc_id)
            if hit:
                outcome = {"stage": DEDUP.name, "pass": name, "reason": hit["metadata"].get("filter_reason", name)}
                if name == "exact":
                    outcome["duplicate_of"] = _exact_original(corpus, drop, kept)
                elif name == "minhash":
                    outcome["duplicate_of"] = _near_original(corpus, drop, kept)
                elif name == "semantic":
                    outcome["duplicate_of"] = hit["metadata"].get("semantic_duplicate_of")
                    outcome["similarity"] = hit["metadata"].get("semantic_similarity")
                entry["outcome"] = outcome
                return entry
        entry["outcome"] = {"stage": DEDUP.name, "reason": "not in the dedup stage's output (not run yet?)"}
        return entry
    entry["dedup"] = {"paragraphs_removed": final["metadata"].get("duplicate_paragraphs_removed", 0)}
    entry["outcome"] = {"stage": TOKENIZE.name, "kept": True, **_shard(corpus, drop, final_file)}
    return entry


def format_explanation(result: dict) -> str:
    lines = [f"{result['key']}:"]
    for row in result["quarantine"]:
        where = f" line {row['line']}" if "line" in row else ""
        lines.append(f"  [{row['drop']}] quarantined at extraction{where}: {row['reason']} ({row.get('error', '')})")
    for e in result["documents"]:
        lines.append(f"  document {e['id']} (drop {e['drop']}, {e['extracted']['format']}, "
                     f"{e['extracted']['chars']} chars extracted)")
        for f in e["filters"]:
            scores = ", ".join(f"{k}={v}" for k, v in (f.get("scores") or {}).items())
            reason = f" ({f['reason']})" if "reason" in f else ""
            lines.append(f"    filter {f['filter']:<18} {f['verdict']}{reason}{'  ' + scores if scores else ''}")
        o = e["outcome"]
        if o.get("kept"):
            lines.append(f"    dedup: kept, {e['dedup']['paragraphs_removed']} paragraph(s) that earlier documents "
                         "had were removed")
            if e.get("pii_redactions"):
                lines.append(f"    PII redacted: {e['pii_redactions']}")
            lines.append(f"    tokenized: {', '.join(o.get('shards') or []) or 'no shard found'}"
                         f"{' (from ' + o['deduplicated_file'] + ')' if o.get('deduplicated_file') else ''}")
        elif o["stage"] == "filter":
            lines.append(f"    DROPPED by filter {o.get('filter', '?')}: {o['reason']}")
        else:
            dup = o.get("duplicate_of")
            detail = f" of {dup['id']} (drop {dup['drop']}" + (
                f", 5-gram Jaccard {dup['jaccard_5gram']}, {dup['jaccard_5gram_normalised']} on the normalised "
                "words MinHash compares" if dup.get("jaccard_5gram") is not None else "") + ")" if dup else ""
            lines.append(f"    DROPPED by dedup ({o.get('pass', '?')}): {o['reason']}{detail}")
    if not result["documents"] and not result["quarantine"]:
        lines.append("  no extracted document or quarantined file has this id or source "
                     "(keys are relative to the raw root, e.g. 2026-11-01/reports/q3.pdf)")
    return "\n".join(lines)
