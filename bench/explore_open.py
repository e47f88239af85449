"""Time to open `refinery explore` on real documents: the realdocs benchmark's deduplicated drops (~800 Debian
documentation pages after the corpus flow), copied into a fresh storage root (the source run is only read).

Three opens, each `refinery explore corpus --port 0 --no-browser` in a fresh process, timed to the printed URL
(the server is then ready; headless Chromium then reaches network idle on the page in ~3.5 s):
  cold   no embedding cache, no map cache: model load + embedding every document's windows (as the corpus
         semantic dedup does: up to 16 of ~1,200 characters) + neighbours + UMAP
  warm   embeddings cached, map cache deleted: neighbours + UMAP again (UMAP's numba compile is per process)
  hot    both cached: what a second look costs
Each open also runs once in-process with per-part timers (read the table, load the model, embed, neighbours,
UMAP, build the app), printed beside the wall clock. Wall and CPU seconds of the process (user+sys).

    .venv/bin/python bench/explore_open.py [--runs /work/wt-bench9/bench/out/realdocs/runs/default] [--limit N]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_RUNS = Path("/work/wt-bench9/bench/out/realdocs/runs/default")

PARTS = r"""
import json, sys, time
t = {}
start = time.perf_counter()
from refinery.config import load_config
from refinery.explore.tables import build_table
from refinery.explore.targets import parse_target
from refinery.explore.vectors import build_map, vectoriser
from refinery.embed.embedder import open_embedder
from refinery.storage import Layout
t["imports"] = time.perf_counter() - start
layout, config = Layout(sys.argv[1]), load_config(None)
start = time.perf_counter()
limit = int(sys.argv[2]) or None
table = build_table(layout, parse_target("corpus"), config, limit=limit)
t["read"] = time.perf_counter() - start
embedder = open_embedder(config.embeddings, layout)
start = time.perf_counter()
if sys.argv[3] == "cold":  # loaded on first use; timed apart from embedding
    embedder.backend.model
t["model_load"] = time.perf_counter() - start
cpu = time.process_time()  # every thread of this process (torch uses several)
view = build_map(table.embed, *vectoriser('corpus', config, embedder), layout)
t.update(view.seconds)
t["map_cpu"] = time.process_time() - cpu
start = time.perf_counter()
from refinery.explore.serve import make_app
make_app(table, view)
t["app"] = time.perf_counter() - start
print(json.dumps({"records": len(table), "seconds": t, "embedding": embedder.stats.as_dict(),
                  "chars": sum(len(x) for x in table.embed)}))
"""


def copy_drops(runs: Path, root: Path) -> int:
    """Each drop's deduplicated documents and its dedup marker (what `explore` reads); the source is only read."""
    docs = 0
    for drop in sorted((runs / "corpus").glob("2*")):
        shutil.copytree(drop / "deduplicated", root / "corpus" / drop.name / "deduplicated")
        markers = root / "corpus" / drop.name / "_state" / "markers"
        markers.mkdir(parents=True)
        shutil.copy(drop / "_state" / "markers" / "dedup.json", markers / "dedup.json")
        docs += 1
    return docs


def cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def open_view(root: Path, limit: int | None) -> dict:
    """`refinery explore corpus` until it prints the URL, then stopped; wall and CPU seconds."""
    cmd = [str(REPO / ".venv/bin/refinery"), "explore", "corpus", "--root", str(root), "--port", "0", "--no-browser"]
    if limit:
        cmd += ["--limit", str(limit)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    cpu, start = cpu_children(), time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    summary = ""
    for line in proc.stdout:
        if "records;" in line:
            summary = line.strip()
        if "Embedding Atlas: http" in line:
            break
    wall = time.perf_counter() - start
    proc.terminate()
    proc.wait(timeout=30)
    return {"wall": wall, "cpu": cpu_children() - cpu, "summary": summary}


def parts(root: Path, limit: int | None, name: str) -> dict:
    cmd = [str(REPO / ".venv/bin/python"), "-c", PARTS, str(root), str(limit or 0), name]
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}, cwd=REPO)
    if out.returncode:
        sys.exit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=Path, default=DEFAULT_RUNS, help="a corpus run of the realdocs benchmark")
    ap.add_argument("--limit", type=int, help="explore a sample of this many documents")
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="explore-bench-") as tmp:
        root = Path(tmp) / "root"
        print(f"drops copied: {copy_drops(args.runs, root)} from {args.runs}")
        for name, clear in (("cold", ("embedding_cache", "explore_cache")), ("warm", ("explore_cache",)), ("hot", ())):
            for folder in clear:
                shutil.rmtree(root / folder, ignore_errors=True)
            p = parts(root, args.limit, name)
            for folder in clear:
                shutil.rmtree(root / folder, ignore_errors=True)
            o = open_view(root, args.limit)
            s = p["seconds"]
            print(f"{name:5} {p['records']} records: CLI to URL {o['wall']:.1f} s wall, {o['cpu']:.1f} CPU-s | parts: "
                  f"imports {s['imports']:.1f}, read {s['read']:.1f}, model load {s['model_load']:.1f}, embed "
                  f"{s['embed']:.1f} ({p['embedding']['computed']} computed, {p['embedding']['cached']} cached"
                  f"{', %.1f texts/s' % p['embedding']['texts_per_second'] if p['embedding']['texts_per_second'] else ''})"
                  f", neighbours {s['neighbours']:.2f}, UMAP {s['projection']:.1f}, app {s['app']:.1f}; embed+neighbours+UMAP "
                  f"{s['map_cpu']:.1f} CPU-s")
            print(f"      {o['summary']}")
        print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
