"""Near-duplicate detection end to end on the real-document benchmark: datatrove as shipped, rensa's plain
documented use, and ours (refinery/dedup), in CPU-seconds, with recall and precision against truth.json.

Input: the extracted documents of an earlier `refinery corpus` run on the benchmark (`<run>/corpus/<drop>/
extracted/*.jsonl.gz`, drops in order), all as one batch. Each method finds near duplicates, keeps the first
document of each group and removes the others:
  datatrove  its MinhashDedupSignature/Buckets/Cluster/Filter with MinhashConfig() and the default (spaCy
             English) word tokenizer, as its README runs them
  rensa      RMinHash(num_perm=128, seed=42).update(text.split()) per document, RMinHashLSH(threshold=0.8,
             num_perm=128, num_bands=16), every candidate checked with jaccard() >= 0.8 (rensa's README example)
  rensa-5gram the same on the words ours shingles (datatrove's simplify_text + WhitespaceTokenizer), joined into
             word 5-grams, documents without one skipped: rensa's plain use with our shingles
  before     ours as it was before rensa: datatrove's MinhashDedupSignature (xxhash64 of the joined 5-gram, numpy
             permutations, 64-bit) with WhitespaceTokenizer, the same stages 2-4
  ours       minhash_steps() with the corpus defaults: rensa signatures, datatrove's stages 2-4, pair verification
             and this drop's index files written, as the dedup stage runs them
Time: each repetition of each method runs in a fresh process (nothing cached between repetitions), methods
interleaved; the child reports time.process_time() (all its threads) from the documents in memory to the kept
list, so reading JSON, imports and loading spaCy are left out for every method. MB = UTF-8 bytes of the texts.

Quality: recall = planted near pairs with builder Jaccard >= 0.8 (bench/realdocs_metrics.py NEAR_J) of which
the method removed one, over such pairs with both documents in the input. Precision = removed documents
justified by realdocs_metrics' rule (a planted copy in the input, raw-word 5-gram Jaccard >= 0.8 with another
input document, or the builder's rule on the source pages), over removed documents.

    .venv/bin/python bench/near_dup_speed.py [--run /work/wt-bench9/bench/out/realdocs/runs/default]
        [--truth .../realdocs/truth.json] [--reps 3] [--out bench/out/near_dup_speed]
"""
from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

METHODS = ("datatrove", "rensa", "rensa-5gram", "before", "ours")
BENCH = Path("/work/wt-bench9/bench/out/realdocs")


def load_docs(run: Path, drops: list[str]) -> list[tuple[str, str]]:
    docs = []
    for drop in drops:
        for f in sorted((run / "corpus" / drop / "extracted").glob("*.jsonl.gz")):
            with gzip.open(f, "rt", encoding="utf-8") as fh:
                docs += [(d["id"], d["text"]) for d in map(json.loads, fh)]
    return docs


# ---------------------------------------------------------------------------------------------- methods

def run_datatrove(docs, work: Path) -> tuple[float, list[str]]:
    from datatrove.data import Document
    from datatrove.pipeline.dedup.minhash import (MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster,
                                                  MinhashDedupFilter, MinhashDedupSignature)

    cfg = MinhashConfig()
    sig = MinhashDedupSignature(output_folder=str(work / "sigs"), config=cfg)
    sig.word_tokenizer.word_tokenize("load the tokenizer before the clock starts")
    buckets = MinhashDedupBuckets(input_folder=str(work / "sigs"), output_folder=str(work / "buckets"), config=cfg)
    cluster = MinhashDedupCluster(input_folder=str(work / "buckets"), output_folder=str(work / "clusters"), config=cfg)
    filt = MinhashDedupFilter(input_folder=str(work / "clusters"))
    documents = [Document(text=t, id=i, metadata={}) for i, t in docs]
    t0 = time.process_time()
    sig.run(iter(documents))
    for rank in range(cfg.num_buckets):
        buckets.run(rank=rank, world_size=cfg.num_buckets)
    cluster.run()
    kept = [d.id for d in filt.run(iter(documents))]
    return time.process_time() - t0, kept


def run_rensa(docs, work: Path) -> tuple[float, list[str]]:
    from rensa import RMinHash, RMinHashLSH

    t0 = time.process_time()
    hashes = []
    for _, text in docs:
        m = RMinHash(num_perm=128, seed=42)
        m.update(text.split())
        hashes.append(m)
    lsh = RMinHashLSH(threshold=0.8, num_perm=128, num_bands=16)
    for key, m in enumerate(hashes):
        lsh.insert(key, m)
    removed: set[int] = set()
    for key, m in enumerate(hashes):
        if key in removed:
            continue
        for other in lsh.query(m):
            if other > key and other not in removed and m.jaccard(hashes[other]) >= 0.8:
                removed.add(other)  # the later document goes, the first of a group stays
    kept = [docs[k][0] for k in range(len(docs)) if k not in removed]
    return time.process_time() - t0, kept


def run_rensa_5gram(docs, work: Path) -> tuple[float, list[str]]:
    from datatrove.utils.text import simplify_text
    from rensa import RMinHash, RMinHashLSH

    from refinery.dedup.minhash import WhitespaceTokenizer

    tok = WhitespaceTokenizer()
    t0 = time.process_time()
    hashes = {}
    for key, (_, text) in enumerate(docs):
        words = tok.word_tokenize(simplify_text(text))
        if len(words) >= 5:
            m = RMinHash(num_perm=128, seed=42)
            m.update([" ".join(words[i:i + 5]) for i in range(len(words) - 4)])
            hashes[key] = m
    lsh = RMinHashLSH(threshold=0.8, num_perm=128, num_bands=16)
    for key, m in hashes.items():
        lsh.insert(key, m)
    removed: set[int] = set()
    for key, m in hashes.items():
        if key in removed:
            continue
        for other in lsh.query(m):
            if other > key and other not in removed and m.jaccard(hashes[other]) >= 0.8:
                removed.add(other)
    kept = [docs[k][0] for k in range(len(docs)) if k not in removed]
    return time.process_time() - t0, kept


def run_before(docs, work: Path) -> tuple[float, list[str]]:
    """minhash_steps() with datatrove's own stage 1 and 64-bit xxhash config, as the flow ran before rensa."""
    from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature
    from datatrove.utils.hashing import HashConfig

    import refinery.dedup.minhash as mh

    mh.RensaMinhashSignature = lambda output_folder, config, language, tokenizer: MinhashDedupSignature(
        output_folder=output_folder, config=config, language=tokenizer)
    mh.minhash_config = lambda n, nb, hb, seed: MinhashConfig(n_grams=n, num_buckets=nb, hashes_per_bucket=hb, seed=seed,
                                                              hash_config=HashConfig(precision=64, hash_fc="xxhash"))
    return run_ours(docs, work)


def run_ours(docs, work: Path, stages: dict | None = None) -> tuple[float, list[str]]:
    from datatrove.data import Document
    from datatrove.io import get_datafolder

    import refinery.dedup.minhash as mh
    from refinery.dedup.options import MinhashOptions

    o = MinhashOptions()
    cfg = mh.minhash_config(o.n_grams, o.num_buckets, o.hashes_per_bucket, o.seed)
    steps = mh.minhash_steps(cfg, lambda n: get_datafolder(str(work / n)), mh.EarlierDropsIndex(str(work / "index"), [], "bench"),
                          "bench", language=o.tokenizer, threshold=o.verify_threshold)
    documents = [Document(text=t, id=i, metadata={}) for i, t in docs]
    t0 = time.process_time()
    steps["signatures"].run(iter(documents))
    t1 = time.process_time()
    for rank in range(o.num_buckets):
        steps["buckets"].run(rank=rank, world_size=o.num_buckets)
    t2 = time.process_time()
    steps["cluster"].run()
    t3 = time.process_time()
    kept = [d.id for d in steps["filter"].run(iter(documents))]
    t4 = time.process_time()
    if stages is not None:
        stages |= {"  stage 1 signatures (files written, sorted)": t1 - t0, "  stage 2 LSH buckets + index": t2 - t1,
                   "  stage 3 verify + cluster": t3 - t2, "  stage 4 filter": t4 - t3}
    return t4 - t0, kept


RUNNERS = {"datatrove": run_datatrove, "rensa": run_rensa, "rensa-5gram": run_rensa_5gram, "before": run_before,
           "ours": run_ours}


def child(method: str, run: Path, drops: list[str], work: Path, result: Path) -> None:
    import logging

    from datatrove.utils.logging import logger

    logger.remove()  # datatrove's per-step logging is not the method's work
    logging.disable(logging.INFO)
    docs = load_docs(run, drops)
    shutil.rmtree(work, ignore_errors=True)
    seconds, kept = RUNNERS[method](docs, work)
    result.write_text(json.dumps({"cpu_s": seconds, "kept": kept}))


# ---------------------------------------------------------------------------------------------- quality

def quality(truth: dict, docs: list[tuple[str, str]], kept: set[str]) -> dict:
    from bench.realdocs_build import jaccard, shingles
    from bench.realdocs_metrics import NEAR_J, SourcePages, default_caches, planted_groups

    ids = [i for i, _ in docs]
    present = set(ids)
    removed = [i for i in ids if i not in kept]
    pairs = [p for p in truth["pairs"] if p["kind"] == "near" and p["jaccard"] >= NEAR_J
             and p["original"] in present and p["duplicate"] in present]
    caught = [p for p in pairs if not (p["original"] in kept and p["duplicate"] in kept)]
    groups = planted_groups(truth["pairs"])
    sh = {i: shingles(t) for i, t in docs}
    sources = SourcePages(truth, default_caches(BENCH))
    good, wrong = [], []
    for i in removed:
        ok = any(g in present for g in groups[i]) or any(jaccard(sh[i], sh[j]) >= NEAR_J for j in ids if j != i)
        if not ok:
            m = sources.best_match(i, present)
            ok = m is not None and m[0] >= NEAR_J
        (good if ok else wrong).append(i)
    return {"recall": (len(caught), len(pairs)), "precision": (len(good), len(removed)), "false_positives": wrong[:10],
            "missed": [p["duplicate"] for p in pairs if p not in caught][:10]}


def breakdown(docs: list[tuple[str, str]], work: Path) -> dict[str, float]:
    """Ours, part by part, CPU-s: normalisation (simplify_words), word hashes and n-grams (shingle_hashes),
    rensa's R-MinHash (the rest of signatures()), in stage 1's batches, and each datatrove stage as run_ours
    runs it."""
    import logging

    import rensa
    from datatrove.utils.logging import logger

    from refinery.dedup import minhash_fast as mf

    logger.remove()
    logging.disable(logging.INFO)
    clock, parts = time.process_time, ["normalise + split (simplify_words)", "word hashes (rensa)",
                                       "word hashes + 5-grams (shingle_hashes)", "R-MinHash 160 values (rensa)"]
    out = dict.fromkeys(parts, 0.0)

    def sign(batch: list) -> None:
        t = clock()
        rensa.RMinHash.hash_token_sets([[w for doc in batch for w in doc]])
        out[parts[1]] += clock() - t
        t = clock()
        flat, offsets = mf.shingle_hashes(batch, 5)
        out[parts[2]] += clock() - t
        t = clock()
        rensa.RMinHash.digest_matrix_from_flat_token_hashes(flat, offsets, 160, 1).to_rows()
        out[parts[3]] += clock() - t

    batch, words = [], 0
    for _, text in docs:
        t = clock()
        batch.append(mf.simplify_words(text))
        out[parts[0]] += clock() - t
        words += len(batch[-1])
        if words >= mf.RensaMinhashSignature.batch_words:
            sign(batch)
            batch, words = [], 0
    if batch:
        sign(batch)
    shutil.rmtree(work, ignore_errors=True)
    stages: dict[str, float] = {}
    out["ours end to end (run_ours)"] = run_ours(docs, work, stages)[0]
    return out | stages


def seed_recall(truth: dict, docs: list[tuple[str, str]], seeds: int) -> dict[str, tuple[int, int]]:
    """Recall of the planted pairs (J >= 0.8) over `seeds` MinHash seeds, for the signature scheme before and
    ours, by the pair test the pipeline applies (one of the 20 bands equal and estimated Jaccard >= the verify
    threshold): one seed's recall swings by a pair or two at the borderline; the mean shows the scheme's."""
    import numpy as np
    from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature
    from datatrove.utils.hashing import HashConfig

    from refinery.dedup.minhash import WhitespaceTokenizer, minhash_config, minhash_steps
    from refinery.dedup.options import MinhashOptions
    from bench.realdocs_metrics import NEAR_J

    o, text = MinhashOptions(), dict(docs)
    pairs = [(p["original"], p["duplicate"]) for p in truth["pairs"] if p["kind"] == "near" and p["jaccard"] >= NEAR_J
             and p["original"] in text and p["duplicate"] in text]
    out = {}
    for scheme in ("before", "ours"):
        hit = 0
        for seed in range(1, seeds + 1):
            if scheme == "ours":
                step = minhash_steps(minhash_config(o.n_grams, o.num_buckets, o.hashes_per_bucket, seed),
                                     lambda n: "/tmp/unused", None, "x")["signatures"]
            else:
                step = MinhashDedupSignature(output_folder="/tmp", language=WhitespaceTokenizer(), config=MinhashConfig(
                    n_grams=o.n_grams, num_buckets=o.num_buckets, hashes_per_bucket=o.hashes_per_bucket, seed=seed,
                    hash_config=HashConfig(precision=64, hash_fc="xxhash")))
            for a, b in pairs:
                sa, sb = (np.array(step.get_signature(step.get_shingles(text[i]))) for i in (a, b))
                hit += bool((sa == sb).all(1).any()) and (sa == sb).mean() >= o.verify_threshold
        out[scheme] = (hit, len(pairs) * seeds)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", type=Path, default=BENCH / "runs/default")
    ap.add_argument("--truth", type=Path, default=BENCH / "truth.json")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--out", type=Path, default=Path("bench/out/near_dup_speed"))
    ap.add_argument("--seeds", type=int, default=20, help="seeds for the per-scheme recall (0: skip)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    truth = json.loads(args.truth.read_text())
    drops = list(truth["drops"]) if isinstance(truth["drops"], list) else sorted(truth["drops"])
    if args.child:
        return child(args.child, args.run, drops, args.out / "work" / args.child, args.result)

    docs = load_docs(args.run, drops)
    mb = sum(len(t.encode()) for _, t in docs) / 1e6
    methods = args.methods.split(",")
    args.out.mkdir(parents=True, exist_ok=True)
    cpu: dict[str, list[float]] = {m: [] for m in methods}
    kept: dict[str, set[str]] = {}
    for rep in range(args.reps):  # interleaved: the machine is shared, its load drifts
        for m in methods:
            result = args.out / f"{m}.json"
            subprocess.run([sys.executable, __file__, "--child", m, "--run", str(args.run), "--truth", str(args.truth),
                            "--out", str(args.out), "--result", str(result)], check=True)
            r = json.loads(result.read_text())
            cpu[m].append(r["cpu_s"])
            if kept.setdefault(m, set(r["kept"])) != set(r["kept"]):
                print(f"warning: {m} kept different documents in repetition {rep + 1}")
            print(f"  rep {rep + 1} {m:9s} {r['cpu_s']:.2f} CPU-s", flush=True)

    print(f"\n{len(docs)} extracted documents, {mb:.2f} MB, from {args.run} ({', '.join(drops)}); "
          f"{args.reps} interleaved repetitions, median CPU-s")
    speed = {}
    print(f"{'method':11s} {'CPU-s':>7s} {'MB/CPU-s':>9s}  {'recall (J>=0.8)':>18s}  {'precision':>16s}  removed")
    for m in methods:
        s = sorted(cpu[m])[len(cpu[m]) // 2]
        speed[m] = mb / s
        q = quality(truth, docs, kept[m])
        (rn, rd), (pn, pd) = q["recall"], q["precision"]
        print(f"{m:11s} {s:7.2f} {speed[m]:9.2f}  {rn:>4d}/{rd:<4d} = {rn / max(rd, 1):.3f}  "
              f"{pn:>4d}/{pd:<4d} = {pn / max(pd, 1):.3f}  {pd}"
              + (f"  unjustified: {q['false_positives']}" if q["false_positives"] else "")
              + (f"  missed: {q['missed']}" if q["missed"] else ""))
    for base in ("rensa", "rensa-5gram", "datatrove", "before"):
        if "ours" in speed and base in speed:
            print(f"ours / {base}: x{speed['ours'] / speed[base]:.2f}")
    if "ours" in methods:
        print("\nours, part by part (one process, CPU-s):")
        for part, seconds in breakdown(docs, args.out / "work" / "breakdown").items():
            print(f"  {part:42s} {seconds:6.3f}  ({mb / seconds:6.1f} MB/CPU-s)")
    if args.seeds:
        for scheme, (n, d) in seed_recall(truth, docs, args.seeds).items():
            print(f"pair test over seeds 1-{args.seeds}, {scheme:6s}: {n}/{d} = {n / d:.3f} of planted pairs caught")


if __name__ == "__main__":
    main()
