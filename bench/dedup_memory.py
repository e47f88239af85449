"""Peak memory of the deduplication stage on a corpus 10x the size of the throughput bench, against 1x in
the same run. Streaming dedup should need far less than 10x the memory for 10x the documents.

Each size runs in its own process so `ru_maxrss` is that run's peak (the parent's, and the largest
datatrove worker's).

    python bench/dedup_memory.py [--docs 4000] [--factor 10]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus_gen import document, near_copy  # noqa: E402


def child(docs: int, work: Path) -> dict:
    from datatrove.data import Document
    from datatrove.pipeline.writers import JsonlWriter

    from refinery.catalog.corpus import FILTER
    from refinery.corpus import flow
    from refinery.corpus.config import CorpusConfig
    from refinery.corpus.dedup_stage import dedup
    from refinery.runners import local_runner
    from refinery.stage import Stage
    from refinery.storage import Layout

    layout = Layout(str(work))
    config = CorpusConfig()
    corpus = flow.Corpus(layout, config, local_runner(2), str(work / "raw"))

    def write_filtered(stage: Stage) -> dict:  # stands in for the filter stage's output
        rng, history = random.Random(0), []
        with JsonlWriter(FILTER.output_uri(layout, "bench"), output_filename="${rank}.jsonl.gz") as w:
            for i in range(docs):
                roll = rng.random()
                text = rng.choice(history) if history and roll < 0.05 else (
                    near_copy(rng, rng.choice(history)) if history and roll < 0.1 else document(rng))
                if len(history) < 2000:
                    history.append(text)
                w.write(Document(text=text, id=f"doc-{i}", metadata={"source": f"bench/{i}.txt"}), i % config.execution.tasks)
        return {}

    Stage(layout, "bench", FILTER, f"bench-{docs}", [FILTER.output_uri(layout, "bench")]).run(write_filtered)
    t0 = time.perf_counter()
    result = dedup(corpus, "bench", [])
    seconds = time.perf_counter() - t0
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"docs": docs, "seconds": seconds, "kept": result.summary["documents_out"],
            "peak_rss_main_mb": me.ru_maxrss / 1024, "peak_rss_worker_mb": kids.ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=4000)
    ap.add_argument("--factor", type=int, default=10)
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--work")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.docs, Path(args.work))))
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    rows = []
    for n in (args.docs, args.docs * args.factor):
        work = Path(tempfile.mkdtemp(prefix="refinery-mem-"))
        try:
            out = subprocess.run([sys.executable, __file__, "--child", "--docs", str(n), "--work", str(work)],
                                 capture_output=True, text=True, check=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    for r in rows:
        print(f"{r['docs']:>7} docs: dedup {r['seconds']:6.1f}s, kept {r['kept']}, peak RSS main "
              f"{r['peak_rss_main_mb']:.0f} MB, largest worker {r['peak_rss_worker_mb']:.0f} MB")
    a, b = rows
    peak = lambda r: max(r["peak_rss_main_mb"], r["peak_rss_worker_mb"])  # noqa: E731
    print(f"ratio peak memory {args.factor}x/1x: {peak(b) / peak(a):.2f} (documents x{args.factor})")


if __name__ == "__main__":
    main()
