"""Near-duplicate detection quality of the MinHash+LSH dedup on generated documents with known edit rates.

Targets (issue 2): recall >= 0.95 on pairs whose true word-5-gram Jaccard is >= 0.8; precision >= 0.99
on distinct documents. True Jaccard uses the same shingles the signature step hashes (datatrove's
normalisation + word tokenizer), so the numbers measure LSH, not a different similarity.

    python bench/near_dup.py [--bases 300] [--out bench/out/near_dup]
"""
from __future__ import annotations

import argparse
import random
import shutil
import time
from itertools import combinations
from pathlib import Path

from datatrove.data import Document
from datatrove.io import get_datafolder
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter

from refinery.dedup.options import MinhashOptions
from refinery.corpus.report import iter_jsonl
from refinery.dedup.minhash import EarlierDropsIndex, minhash_config, minhash_steps
from refinery.runners import local_runner

EDIT_RATES = (0.005, 0.01, 0.02, 0.03, 0.05, 0.08, 0.12, 0.2, 0.35)


def make_docs(bases: int, seed: int = 0) -> tuple[list[Document], dict[str, str]]:
    rng = random.Random(seed)
    # letters only: datatrove's normalisation maps digits to 0, so "w12" and "w34" would be one word
    vocab = sorted({"".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9)))
                    for _ in range(20000)})
    docs, origin = [], {}
    for b in range(bases):
        words = [rng.choice(vocab) for _ in range(rng.randint(200, 600))]
        docs.append(Document(text=" ".join(words), id=f"b{b}", metadata={}))
        origin[f"b{b}"] = f"b{b}"
        for rate in rng.sample(EDIT_RATES, 3):  # three variants per base at different edit rates
            edited = list(words)
            for _ in range(max(1, int(rate * len(words)))):
                op, pos = rng.random(), rng.randrange(len(edited))
                if op < 0.6:
                    edited[pos] = rng.choice(vocab)  # substitute
                elif op < 0.8:
                    edited.insert(pos, rng.choice(vocab))  # insert
                elif len(edited) > 10:
                    del edited[pos]  # delete
            vid = f"b{b}_e{rate}"
            docs.append(Document(text=" ".join(edited), id=vid, metadata={}))
            origin[vid] = f"b{b}"
    rng.shuffle(docs)
    return docs, origin


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bases", type=int, default=300)
    ap.add_argument("--out", default="bench/out/near_dup")
    ap.add_argument("--threshold", type=float, default=MinhashOptions().verify_threshold,
                    help="estimated Jaccard a candidate pair needs to be clustered (0: every LSH candidate)")
    args = ap.parse_args()
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    o = MinhashOptions()
    cfg = minhash_config(o.n_grams, o.num_buckets, o.hashes_per_bucket, o.seed)
    docs, origin = make_docs(args.bases)
    with JsonlWriter(str(out / "in"), output_filename="${rank}.jsonl.gz") as w:
        for d in docs:
            w.write(d, 0)
    steps = minhash_steps(cfg, lambda n: get_datafolder(str(out / "work" / n)),
                          EarlierDropsIndex(str(out / "index"), [], "bench"), "bench",
                          exclusion_writer=JsonlWriter(str(out / "removed")), threshold=args.threshold)
    run, logs = local_runner(workers=2), (lambda s: get_datafolder(str(out / "logs" / s)))
    t0 = time.perf_counter()
    run([JsonlReader(str(out / "in")), steps["signatures"]], 1, logs("sig"))
    run([steps["buckets"]], o.num_buckets, logs("buckets"))
    run([steps["cluster"]], 1, logs("cluster"))
    run([JsonlReader(str(out / "in")), steps["filter"], JsonlWriter(str(out / "kept"))], 1, logs("filter"))
    seconds = time.perf_counter() - t0

    cluster = {}
    for folder in ("kept", "removed"):
        for d in iter_jsonl(get_datafolder(str(out / folder))):
            cid = d["metadata"].get("minhash_cluster_id", -1)
            cluster[d["id"]] = cid if cid >= 0 else f"single:{d['id']}"

    shingle = steps["signatures"].get_shingles
    shingles = {d.id: set(shingle(d.text).ravel().tolist()) for d in docs}
    by_base: dict[str, list[str]] = {}
    for did, base in origin.items():
        by_base.setdefault(base, []).append(did)
    high, found, bands = 0, 0, {}
    for ids in by_base.values():
        for a, b in combinations(ids, 2):
            j = len(shingles[a] & shingles[b]) / len(shingles[a] | shingles[b])
            same = cluster[a] == cluster[b]
            band = f"{int(j * 10) / 10:.1f}"
            hit, tot = bands.get(band, (0, 0))
            bands[band] = (hit + same, tot + 1)
            if j >= 0.8:
                high, found = high + 1, found + same
    # precision on distinct documents: unrelated bases must never share a cluster
    bases = [i for i in origin if origin[i] == i]
    false_merges = sum(1 for a, b in combinations(bases, 2) if cluster[a] == cluster[b])
    distinct_pairs = len(bases) * (len(bases) - 1) // 2
    predicted = [(a, b) for ids in _clusters(cluster).values() for a, b in combinations(ids, 2)]
    correct = sum(1 for a, b in predicted if origin[a] == origin[b])

    print(f"documents: {len(docs)}  (bases {len(bases)}, 3 edited variants each)   minhash {o.num_buckets}x{o.hashes_per_bucket}, {o.n_grams}-grams, "
          f"pairs verified at estimated J >= {args.threshold}")
    print(f"time: {seconds:.1f}s  ({len(docs) / seconds:.0f} docs/s)")
    print("recall by true Jaccard band (pairs clustered / pairs):")
    for band in sorted(bands):
        hit, tot = bands[band]
        print(f"  J in [{band}, {float(band) + 0.1:.1f}): {hit}/{tot} = {hit / tot:.3f}")
    print(f"RECALL  (J >= 0.8): {found}/{high} = {found / high:.4f}   target >= 0.95")
    print(f"PRECISION (distinct documents kept apart): {1 - false_merges / distinct_pairs:.6f}   target >= 0.99")
    print(f"pairwise precision (clustered pairs from the same base): {correct}/{len(predicted)} = {correct / max(1, len(predicted)):.4f}")


def _clusters(cluster: dict) -> dict:
    groups: dict = {}
    for did, cid in cluster.items():
        groups.setdefault(cid, []).append(did)
    return groups


if __name__ == "__main__":
    main()
