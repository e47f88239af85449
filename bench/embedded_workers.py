"""The embedded model's `workers` setting through the real client path: the grounded-QA method on the
sample corpus's text (Markdown and plain-text files, cut by the SFT chunker), an LLMClient with an empty
cache each time, workers=1 (this process) against workers=2 (a pool of two processes), alternated in the
same run so that both see the same machine. The models load before the clock starts (reported apart).

    python bench/embedded_workers.py [--chunks 32] [--rounds 2] [--workers 2]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REPO = Path(__file__).resolve().parent.parent


def chunks(n: int):
    from refinery.sft.chunking import chunk_documents
    from refinery.sft.chunking import ChunkOptions

    files = sorted(p for p in (REPO / "samples" / "raw").rglob("*") if p.suffix in (".md", ".txt"))
    docs = [{"id": str(p.relative_to(REPO)), "text": p.read_text(errors="replace")} for p in files]
    got = list(chunk_documents(docs, ChunkOptions(max_chars=300, min_chars=80, max_chunks_per_document=None),
                               redact=False))
    if len(got) < n:
        sys.exit(f"only {len(got)} chunks in samples/raw's text files; ask for fewer (--chunks)")
    return got[:n]


def warm(backend) -> float:
    """Loads the model (in each worker: one tiny request per worker, submitted at once); its seconds."""
    from refinery.llm.types import LLMRequest, user

    began = time.perf_counter()
    hello = [LLMRequest(model="e", messages=(user(f"Hi {i}"),), max_tokens=1, temperature=0)
             for i in range(backend.workers)]
    size, backend.batch_size = backend.batch_size, 1
    list(backend.complete_batch(hello))
    backend.batch_size = size
    return time.perf_counter() - began


def cpu_seconds() -> float:
    """CPU time of this process and its live children (the workers)."""
    import psutil

    me = psutil.Process()
    return sum(sum(p.cpu_times()[:2]) for p in [me, *me.children()])


def run(backend, picked) -> tuple[float, float, int, int, list[str]]:
    """(seconds, CPU seconds, requests sent, output tokens, the answers) of grounded QA on `picked`, nothing
    cached."""
    from refinery.llm.cache import ResponseCache
    from refinery.llm.client import LLMClient
    from refinery.llm.embedded_backend import MODEL_NAME
    from refinery.sft.methods import run as run_method
    from refinery.storage import data_folder

    with tempfile.TemporaryDirectory() as tmp:
        client = LLMClient(backend, ResponseCache(data_folder(tmp)))
        began, cpu = time.perf_counter(), cpu_seconds()
        result = run_method("grounded_qa", picked, client, {"max_chunks": len(picked)}, default_model=MODEL_NAME,
                            seed=1)
        seconds, cpu = time.perf_counter() - began, cpu_seconds() - cpu
        client.finish()
    ledger = client.ledger("grounded_qa")
    answers = sorted(r.output() for r in result.records) + sorted(f"{d.reason}" for d in result.dropped)
    return seconds, cpu, ledger.calls, ledger.usage.output_tokens, answers


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--chunks", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=2, help="workers=1 then workers=N, this many times")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    from refinery.llm.embedded_backend import EmbeddedBackend

    picked = chunks(args.chunks)
    backends = {1: EmbeddedBackend(workers=1), args.workers: EmbeddedBackend(workers=args.workers)}
    print(f"{len(os.sched_getaffinity(0))} usable CPUs, load average {os.getloadavg()[0]:.1f}; grounded QA on "
          f"{len(picked)} chunks, batches of {backends[1].batch_size}")
    for workers, backend in backends.items():
        print(f"  workers={workers}: model loaded in {warm(backend):.1f} s (not timed below)")
    best: dict[int, float] = {}
    answers: dict[int, list[str]] = {}
    for i in range(args.rounds):
        for workers, backend in backends.items():
            seconds, cpu, calls, tokens, answers[workers] = run(backend, picked)
            best[workers] = max(best.get(workers, 0.0), tokens / seconds)
            # cores used = CPU s / wall s: what the machine's other work left this run (Linux shares the CPU
            # between sessions, autogroups, before processes: on a busy machine two workers get no more)
            print(f"  round {i + 1} workers={workers}: {seconds:6.1f} s, {calls} requests, {tokens} output tokens, "
                  f"{tokens / seconds:6.1f} tokens/s, {cpu / seconds:.2f} cores used "
                  f"(load average {os.getloadavg()[0]:.1f})")
    print(f"best tokens/s: workers=1 {best[1]:.1f}, workers={args.workers} {best[args.workers]:.1f}: "
          f"x{best[args.workers] / best[1]:.2f}; same answers: {answers[1] == answers[args.workers]}")
    backends[args.workers].close()


if __name__ == "__main__":
    main()
