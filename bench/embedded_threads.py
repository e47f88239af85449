"""The embedded model's generation speed at each torch thread count, batch size and number of generating
processes, on an idle machine and with one core taken by another process (as during a pipeline run,
where Dagster, datatrove or a second step share the machine).

Each setting runs in fresh processes (torch's thread count is per process and fixed once the model has
run), loads the model once, warms up, then greedily generates the same requests. Baseline in the same
run: one thread, one request at a time. Issue 16 asks to pick the thread count from these numbers.

    python bench/embedded_threads.py [--requests 16] [--max-tokens 64] [--no-busy]
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

QUESTIONS = [f"In two sentences, why should step {i} of a backup procedure be tested before an outage?"
             for i in range(64)]


def _generate(threads: int, batch: int, requests: int, max_tokens: int, start, out) -> None:
    from refinery.llm.embedded_backend import EmbeddedBackend
    from refinery.llm.types import LLMRequest

    # workers=1: generate in this process (the default pool would spawn children of a daemonic process)
    backend = EmbeddedBackend(threads=threads, batch_size=batch, workers=1)
    warm = LLMRequest(model="", messages=[{"role": "user", "content": "Hello"}], max_tokens=8, temperature=0)
    backend.complete(warm)  # loads the model; not timed
    reqs = [LLMRequest(model="", messages=[{"role": "user", "content": q}], max_tokens=max_tokens, temperature=0)
            for q in QUESTIONS[:requests]]
    start.wait()
    began = time.perf_counter()
    tokens = sum(r.usage.output_tokens for _, r in backend.complete_batch(reqs))
    out.put((tokens, time.perf_counter() - began))


def _hog(stop) -> None:
    while not stop.is_set():
        sum(range(10_000))


def measure(threads: int, batch: int, workers: int, requests: int, max_tokens: int, busy: bool) -> float:
    """Tokens per second summed over `workers` processes, each generating `requests` requests."""
    ctx = mp.get_context("spawn")
    start, out, stop = ctx.Barrier(workers + 1), ctx.Queue(), ctx.Event()
    hog = ctx.Process(target=_hog, args=(stop,), daemon=True) if busy else None
    procs = [ctx.Process(target=_generate, args=(threads, batch, requests, max_tokens, start, out), daemon=True)
             for _ in range(workers)]
    for p in procs:
        p.start()
    start.wait()  # every worker has its model loaded
    if hog:
        hog.start()
    results = [out.get() for _ in procs]
    stop.set()
    for p in [*procs, *([hog] if hog else [])]:
        p.join()
    return sum(t for t, _ in results) / max(s for _, s in results)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--no-busy", action="store_true", help="skip the runs with one core taken")
    args = ap.parse_args()
    print(f"{os.cpu_count()} cores; {args.requests} requests x {args.max_tokens} tokens max, greedy")
    settings = [(1, 1, 1), (2, 1, 1), (1, 8, 1), (2, 8, 1), (1, 8, 2)]
    for busy in (False,) if args.no_busy else (False, True):
        print("\none core taken by another process" if busy else "\nidle machine")
        base = None
        for threads, batch, workers in settings:
            rate = measure(threads, batch, workers, args.requests, args.max_tokens, busy)
            base = base or rate
            print(f"  threads={threads} batch={batch} processes={workers}: {rate:6.1f} tokens/s  "
                  f"x{rate / base:.2f} vs threads=1 batch=1")


if __name__ == "__main__":
    main()
