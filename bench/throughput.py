"""Corpus throughput: the Dagster-run flow against the same datatrove blocks run bare, in one run.

Three measurements on the same generated corpus, each into a fresh storage root:
  bare      the stage functions (the datatrove pipelines the assets run) called directly, no Dagster;
  dagster   `refinery corpus` (job execution, instance storage, metadata, asset checks);
  datatrove the time spent inside datatrove executors during the bare run.
Runs alternate (bare, dagster, bare, dagster, ...) and the best of each is kept: these machines are noisy.
Target: Dagster overhead (dagster / bare - 1) under 10%.

    python bench/throughput.py [--docs 4000] [--repeats 2]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus_gen import write_corpus  # noqa: E402

from refinery.corpus import flow  # noqa: E402
from refinery.corpus.config import CorpusConfig  # noqa: E402
from refinery.corpus.dedup_stage import dedup  # noqa: E402
from refinery.runners import local_runner  # noqa: E402
from refinery.storage import Layout  # noqa: E402

WORKERS = 2


def run_bare(raw: Path, root: Path) -> tuple[float, float]:
    inner = local_runner(WORKERS)
    spent = [0.0]

    def timed(pipeline, tasks, logging_dir):
        t = time.perf_counter()
        inner(pipeline, tasks, logging_dir)
        spent[0] += time.perf_counter() - t

    corpus = flow.Corpus(Layout(str(root)), CorpusConfig(), timed, str(raw))
    t0 = time.perf_counter()
    for drop in sorted(p.name for p in raw.iterdir()):
        for name, stage in (("extract", flow.extract), ("filter", flow.filter_),
                            ("dedup", lambda c, d: dedup(c, d, [])), ("tokenize", flow.tokenize)):
            result = stage(corpus, drop)
            print(f"    {name:<9} {result.summary['seconds']:6.1f}s  documents out "
                  f"{result.summary.get('documents_out', '-')}", flush=True)
    return time.perf_counter() - t0, spent[0]


def run_dagster(raw: Path, root: Path, home: Path) -> float:
    from orchestration.cli import main

    os.environ["DAGSTER_HOME"] = str(home)
    t0 = time.perf_counter()
    rc = main(["corpus", "--raw", str(raw), "--root", str(root), "--workers", str(WORKERS),
               "--json", str(home / "summary.json")])
    elapsed = time.perf_counter() - t0
    if rc != 0:
        raise SystemExit(f"dagster run failed: {json.loads((home / 'summary.json').read_text())}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=4000)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    work = Path(tempfile.mkdtemp(prefix="refinery-bench-"))
    raw = work / "raw"
    counts = write_corpus(raw, drops=1, docs_per_drop=args.docs)
    mb = counts["bytes"] / 1e6
    bare, dagster, inner = [], [], []
    try:
        for i in range(args.repeats):
            b, d_inner = run_bare(raw, work / f"bare-{i}")
            bare.append(b)
            inner.append(d_inner)
            dagster.append(run_dagster(raw, work / f"dagster-{i}", work / f"home-{i}"))
            print(f"round {i}: bare {b:.1f}s (datatrove {d_inner:.1f}s)  dagster {dagster[-1]:.1f}s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    b, d, t = min(bare), min(dagster), min(inner)
    print(f"\ncorpus: {counts['documents']} documents, {mb:.1f} MB raw (HTML, Markdown, text, JSONL)")
    for name, secs in (("datatrove executors", t), ("bare stages", b), ("dagster run", d)):
        print(f"  {name:<20} {secs:7.1f}s  {counts['documents'] / secs:8.0f} docs/s  {mb / secs:6.2f} MB/s")
    print(f"  ratio dagster/bare      {d / b:.3f}  (overhead {100 * (d / b - 1):+.1f}%, target < +10%)")
    print(f"  ratio bare/datatrove    {b / t:.3f}  (stage bookkeeping: markers, stats, samples)")


if __name__ == "__main__":
    main()
