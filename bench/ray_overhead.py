"""What the Ray runner costs over the local runner: the whole corpus flow (extract, filter, dedup, tokenize) on
the same generated drop, local processes against datatrove's RayPipelineExecutor on a local Ray instance with
the same CPUs, in one run. Rounds alternate (local, ray, local, ...) and the best of each is kept: these
machines are noisy. Both must produce the same documents.

    python bench/ray_overhead.py [--docs 1000] [--cpus 2] [--repeats 1] [--tasks-per-job 1]
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus_gen import write_corpus

from refinery.corpus import flow
from refinery.corpus.config import CorpusConfig
from refinery.corpus.dedup_stage import dedup
from refinery.runners import local_runner, ray_runner
from refinery.storage import Layout

STAGES = (("extract", flow.extract), ("filter", flow.filter_documents), ("dedup", lambda c, d: dedup(c, d, [])),
          ("tokenize", flow.tokenize))


def run_flow(runner, raw: Path, root: Path) -> tuple[float, dict[str, float], list]:
    """(wall seconds, seconds per stage, documents out per stage)."""
    corpus = flow.Corpus(Layout(str(root)), CorpusConfig(), runner, str(raw))
    drop = next(p.name for p in raw.iterdir())
    per_stage, counts = {}, []
    t0 = time.perf_counter()
    for name, stage in STAGES:
        t = time.perf_counter()
        result = stage(corpus, drop)
        per_stage[name] = time.perf_counter() - t
        counts.append(result.summary.get("documents_out", result.summary.get("tokens")))
    return time.perf_counter() - t0, per_stage, counts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=1000)
    ap.add_argument("--cpus", type=int, default=2, help="local workers = Ray CPUs")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--tasks-per-job", type=int, default=1, help="ranks per Ray actor (fewer actor start-ups)")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import ray

    work = Path(tempfile.mkdtemp(prefix="refinery-bench-ray-"))
    counts = write_corpus(work / "raw", drops=1, docs_per_drop=args.docs)
    t = time.perf_counter()
    # a private instance (its own temp dir, short for Ray's socket paths), never another user's cluster
    ray_temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")
    ray.init(address="local", num_cpus=args.cpus, include_dashboard=False, log_to_driver=False, _temp_dir=ray_temp)
    ray_start = time.perf_counter() - t
    runners = {"local": local_runner(args.cpus),
               "ray": ray_runner(mem_per_cpu_gb=0.5, tasks_per_job=args.tasks_per_job)}
    best: dict[str, tuple[float, dict, list]] = {}
    try:
        for i in range(args.repeats):
            for name, runner in runners.items():
                wall, per_stage, out = run_flow(runner, work / "raw", work / f"{name}-{i}")
                print(f"round {i} {name:<5} {wall:7.1f}s  " + "  ".join(f"{s} {v:.1f}s" for s, v in per_stage.items()),
                      flush=True)
                if name not in best or wall < best[name][0]:
                    best[name] = (wall, per_stage, out)
    finally:
        ray.shutdown()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(ray_temp, ignore_errors=True)
    (local, local_stages, local_out), (on_ray, ray_stages, ray_out) = best["local"], best["ray"]
    assert local_out == ray_out, f"outputs differ: local {local_out}, ray {ray_out}"
    print(f"\ncorpus: {counts['documents']} documents, {counts['bytes'] / 1e6:.1f} MB raw, 1 drop, {args.cpus} CPUs, "
          f"Ray tasks_per_job={args.tasks_per_job}; documents out per stage {local_out} (same on both)")
    print(f"  ray.init (once per process, not counted)  {ray_start:.1f}s")
    for stage in local_stages:
        print(f"  {stage:<9} local {local_stages[stage]:6.1f}s  ray {ray_stages[stage]:6.1f}s  "
              f"x{ray_stages[stage] / local_stages[stage]:.2f}")
    print(f"  flow      local {local:6.1f}s  ray {on_ray:6.1f}s  overhead ratio ray/local {on_ray / local:.2f}")


if __name__ == "__main__":
    main()
