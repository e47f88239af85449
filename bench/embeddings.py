"""Embedding throughput of the bundled model (all-MiniLM-L6-v2) on this machine, on real text of three sizes,
and what the semantic layer's features cost per 1,000 records.

Texts: FAQ questions (SFT prompts, ~10 words), FAQ answers (paragraphs) from bench/semantic_dedup.py's Debian
packages, and the real-document benchmark's deduplicated documents (whole pages; the model reads the first
256 word pieces). One torch thread vs two, interleaved, CPU-seconds over the process (torch's threads
included) and wall time; the semantic dedup's search on top of the vectors is timed apart.

    .venv/bin/python bench/embeddings.py [--docs /work/wt-bench9/bench/out/realdocs/runs/default] [--n 300]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.semantic_dedup import debian_faq, fetch, python_faq  # noqa: E402
from refinery.corpus.report import iter_jsonl  # noqa: E402
from refinery.embed.backends import SentenceTransformerBackend  # noqa: E402
from refinery.storage import Layout  # noqa: E402


def documents(run: Path, n: int) -> list[str]:
    layout = Layout(str(run))
    out = []
    for drop in sorted(p.name for p in (run / "corpus").iterdir() if not p.name.startswith("_")):
        out += [d["text"] for d in iter_jsonl(layout.at(layout.drop(drop, "deduplicated")))]
    return out[:n]


def timed(backend: SentenceTransformerBackend, texts: list[str]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    backend.embed(texts)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", default="/work/wt-bench9/bench/out/realdocs/runs/default",
                    help="a corpus-flow root whose deduplicated documents to embed")
    ap.add_argument("--n", type=int, default=300, help="texts per kind")
    ap.add_argument("--cache", default="bench/.cache/semdedup")
    args = ap.parse_args()
    faq = python_faq(fetch(Path(args.cache))) + debian_faq(fetch(Path(args.cache)))
    kinds = {"question": [q for q, _ in faq][:args.n], "answer": [a[:2000] for _, a in faq if a][:args.n],
             "document": documents(Path(args.docs), args.n)}
    one, two = SentenceTransformerBackend(threads=1), SentenceTransformerBackend(threads=2)
    one.embed(["warm up"])  # model load (~5 s) outside the timings
    two._model = one.model  # one model: torch's thread count is per process and set before each run
    import torch

    print(f"{'texts':9} {'n':>4} {'chars':>7} | {'1 thread: texts/CPU-s':>22} {'texts/s':>8} | "
          f"{'2 threads: texts/CPU-s':>23} {'texts/s':>8} | wall ratio 2/1")
    for kind, texts in kinds.items():
        results = {1: [], 2: []}
        for _ in range(2):  # interleaved
            for threads in (1, 2):
                torch.set_num_threads(threads)
                results[threads].append(timed(one, texts))
        (w1, c1), (w2, c2) = (min(results[t]) for t in (1, 2))
        chars = sum(map(len, texts)) // len(texts)
        print(f"{kind:9} {len(texts):>4} {chars:>7} | {len(texts) / c1:>22.1f} {len(texts) / w1:>8.1f} | "
              f"{len(texts) / c2:>23.1f} {len(texts) / w2:>8.1f} | {w2 / w1:.2f}")
    # the semantic dedup's search, apart from embedding: 1,000 question vectors, greedy pass + diversity
    import numpy as np

    from refinery.sft.filter_options import SemanticDedupOptions
    from refinery.sft.semantic_dedup import diversity, find_duplicates

    vectors = one.embed([q for q, _ in faq] * 4)[:1000]
    cpu = time.process_time()
    find_duplicates(vectors, [1.0] * len(vectors), [str(i) for i in range(len(vectors))], SemanticDedupOptions())
    search = time.process_time() - cpu
    cpu = time.process_time()
    diversity(vectors, ["m"] * len(vectors))
    print(f"semantic dedup search on 1,000 vectors: {search:.2f} CPU-s; diversity report {time.process_time() - cpu:.2f}"
          f" CPU-s (n={len(vectors)}, dim={vectors.shape[1]}, {np.float32.__name__})")


if __name__ == "__main__":
    main()
