"""Semantic dedup and diversity of SFT records (SemDeDup-style): every record's prompt (or whole conversation)
is embedded; records are visited best-judged first and one is dropped when its cosine similarity to a record
already kept reaches the threshold, so of two rewordings of one question the higher judged stays.

Exact comparison in blocks of rows (n x kept dot products): 20,000 records of 384 floats is seconds. Past
`cluster_above` records the comparison runs inside k-means clusters, as SemDeDup does, trading a few pairs that
straddle two clusters for time linear in the number of clusters.

The report says how diverse what is left is: dropped per method, mean nearest-neighbour distance (1 - cosine
of each record's closest other record), and a k-means clustering's cluster count and largest clusters' share."""
from __future__ import annotations

from collections import Counter

import numpy as np

from refinery.llmdata.records import Dropped, SFTRecord
from refinery.sft.filter_options import SemanticDedupOptions

BLOCK = 2048  # rows per similarity block: 2048 x kept floats at a time


def record_text(record: SFTRecord, field: str) -> str:
    roles = ("user",) if field == "prompt" else ("user", "assistant")
    return "\n".join(t.content for t in record.messages if t.role in roles)


def _score(record: SFTRecord) -> float:
    """What decides which of two duplicates stays: a record a person reviewed, then the judges' score."""
    reviewed = 10.0 if record.review and record.review.get("status") != "rejected" else 0.0
    return reviewed + (record.judgement.score if record.judgement else 0.0)


def _greedy_keep(vectors: np.ndarray, order: np.ndarray, threshold: float) -> dict[int, tuple[int, float]]:
    """{dropped row: (kept row it duplicates, cosine)}: rows visited in `order`, each kept unless it is within
    `threshold` of a row kept before it."""
    kept: list[int] = []
    dropped: dict[int, tuple[int, float]] = {}
    for start in range(0, len(order), BLOCK):
        block = order[start:start + BLOCK]
        # against the rows kept in earlier blocks at once, then one by one inside the block
        earlier = vectors[kept] @ vectors[block].T if kept else np.zeros((0, len(block)), dtype=np.float32)
        inner = vectors[block] @ vectors[block].T
        block_kept: list[int] = []
        for j, row in enumerate(block):
            best, best_sim = -1, -1.0
            if earlier.shape[0]:
                k = int(np.argmax(earlier[:, j]))
                best, best_sim = kept[k], float(earlier[k, j])
            for i in block_kept:
                if inner[i, j] > best_sim:
                    best, best_sim = int(block[i]), float(inner[i, j])
            if best_sim >= threshold:
                dropped[int(row)] = (best, best_sim)
            else:
                block_kept.append(j)
        kept += [int(block[j]) for j in block_kept]
    return dropped


def _clusters(vectors: np.ndarray, k: int, seed: int) -> np.ndarray:
    from sklearn.cluster import MiniBatchKMeans

    if k <= 1 or len(vectors) <= k:
        return np.zeros(len(vectors), dtype=np.int64)
    return MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=4096).fit_predict(vectors)


def find_duplicates(vectors: np.ndarray, scores: list[float], ids: list[str], options: SemanticDedupOptions
                    ) -> dict[int, tuple[int, float]]:
    # best judged first; ties by id so the result does not depend on the records' order
    order = np.array(sorted(range(len(ids)), key=lambda i: (-scores[i], ids[i])), dtype=np.int64)
    if len(ids) <= options.cluster_above:
        return _greedy_keep(vectors, order, options.threshold)
    labels = _clusters(vectors, int(np.ceil(len(ids) / 5000)), options.seed)
    dropped: dict[int, tuple[int, float]] = {}
    for label in np.unique(labels):
        members = set(np.flatnonzero(labels == label).tolist())
        dropped.update(_greedy_keep(vectors, np.array([i for i in order if i in members]), options.threshold))
    return dropped


def diversity(vectors: np.ndarray, methods: list[str], seed: int = 0) -> dict:
    """Mean nearest-neighbour distance and k-means cluster shares (k = sqrt(n/2)), overall and per method."""
    n = len(vectors)
    if n < 2:
        return {"records": n}
    nearest = np.full(n, -1.0, dtype=np.float32)
    for start in range(0, n, BLOCK):
        sims = vectors[start:start + BLOCK] @ vectors.T
        sims[np.arange(len(sims)), np.arange(start, start + len(sims))] = -1.0  # not itself
        nearest[start:start + BLOCK] = sims.max(axis=1)
    k = max(2, int(round(np.sqrt(n / 2))))
    labels = _clusters(vectors, k, seed)

    def summary(rows: np.ndarray) -> dict:
        sizes = sorted(Counter(labels[rows].tolist()).values(), reverse=True)
        return {"records": int(len(rows)), "mean_nn_distance": round(float(np.mean(1 - nearest[rows])), 4),
                "clusters": len(sizes), "largest_cluster_share": round(sizes[0] / len(rows), 4),
                "top3_clusters_share": round(sum(sizes[:3]) / len(rows), 4)}

    by_method = {m: summary(np.flatnonzero(np.array(methods) == m)) for m in sorted(set(methods))}
    return {**summary(np.arange(n)), "k": k, "by_method": by_method}


def semantic_dedup(records: list[SFTRecord], embedder, options: SemanticDedupOptions
                   ) -> tuple[list[SFTRecord], list[Dropped], dict]:
    """(kept records in their order, dropped with the record each duplicates, report for the card)."""
    if not options.enabled or not records:
        return records, [], {"enabled": options.enabled}
    vectors = embedder.embed([record_text(r, options.field) for r in records])
    dup = find_duplicates(vectors, [_score(r) for r in records], [r.id for r in records], options)
    dropped = [Dropped(stage="semantic_dedup", reason="semantic_duplicate",
                       detail=f"of={records[other].id} cosine={sim:.3f}", record=records[i])
               for i, (other, sim) in sorted(dup.items())]
    keep = np.array([i for i in range(len(records)) if i not in dup], dtype=np.int64)
    report = {"enabled": True, "model": embedder.model_id, "field": options.field, "threshold": options.threshold,
              "dropped": len(dup), "dropped_by_method": dict(Counter(records[i].method for i in dup)),
              "diversity": diversity(vectors[keep], [records[i].method for i in keep], options.seed),
              "embedding": embedder.stats.as_dict()}
    return [records[i] for i in keep], dropped, report
