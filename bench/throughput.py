"""Corpus throughput: the Dagster-run flow against the same datatrove blocks run bare, in one run.

Three measurements on the same generated corpus, each into a fresh storage root:
  bare      the stage functions (the datatrove pipelines the assets run) called directly, no Dagster;
  dagster   `refinery corpus` (job execution, instance storage, metadata, asset checks), with the time of
            its asset checks (extra validation work) reported separately;
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
        for name, stage in (("extract", flow.extract), ("filter", flow.filter_documents),
                            ("dedup", lambda c, d: dedup(c, d, [])), ("tokenize", flow.tokenize)):
            result = stage(corpus, drop)
            print(f"    {name:<9} {result.summary['seconds']:6.1f}s  documents out "
                  f"{result.summary.get('documents_out', '-')}", flush=True)
    return time.perf_counter() - t0, spent[0]


def run_dagster(raw: Path, root: Path, home: Path) -> tuple[float, float]:
    """(wall seconds, seconds spent in asset checks): the checks re-read every output to validate it,
    work the bare run does not do, so they are reported apart from orchestration overhead."""
    import dagster as dg

    from orchestration.cli import main

    os.environ["DAGSTER_HOME"] = str(home)
    t0 = time.perf_counter()
    rc = main(["corpus", "--raw", str(raw), "--root", str(root), "--workers", str(WORKERS),
               "--json", str(home / "summary.json")])
    elapsed = time.perf_counter() - t0
    summary = json.loads((home / "summary.json").read_text())
    if rc != 0:
        raise SystemExit(f"dagster run failed: {summary}")
    instance = dg.DagsterInstance.get()
    checks = 0.0
    for drop in summary["drops"].values():
        for step in instance.get_run_step_stats(drop["run_id"]):
            if step.step_key not in ASSETS:
                checks += step.end_time - step.start_time
    return elapsed, checks


ASSETS = {"extracted_documents", "filtered_documents", "deduplicated_documents", "tokenized_shards"}


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
    bare, dagster, inner, checks = [], [], [], []
    try:
        for i in range(args.repeats):
            b, d_inner = run_bare(raw, work / f"bare-{i}")
            bare.append(b)
            inner.append(d_inner)
            d, c = run_dagster(raw, work / f"dagster-{i}", work / f"home-{i}")
            dagster.append(d)
            checks.append(c)
            print(f"round {i}: bare {b:.1f}s (datatrove {d_inner:.1f}s)  dagster {d:.1f}s (asset checks {c:.1f}s)",
                  flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    b, t = min(bare), min(inner)
    best = min(range(len(dagster)), key=lambda i: dagster[i])
    d, c = dagster[best], checks[best]
    print(f"\ncorpus: {counts['documents']} documents, {mb:.1f} MB raw (HTML, Markdown, text, JSONL)")
    for name, secs in (("datatrove executors", t), ("bare stages", b), ("dagster run", d)):
        print(f"  {name:<20} {secs:7.1f}s  {counts['documents'] / secs:8.0f} docs/s  {mb / secs:6.2f} MB/s")
    print(f"  asset checks            {c:7.1f}s  (validation: every output re-read)")
    print(f"  ratio (dagster - checks)/bare  {(d - c) / b:.3f}  (orchestration overhead {100 * ((d - c) / b - 1):+.1f}%,"
          f" target < +10%)")
    print(f"  ratio dagster/bare             {d / b:.3f}  (with the asset checks {100 * (d / b - 1):+.1f}%)")
    print(f"  ratio bare/datatrove    {b / t:.3f}  (stage bookkeeping: markers, stats, samples)")


if __name__ == "__main__":
    main()
