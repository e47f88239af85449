"""Filter-stage CPU on real extracted documents, per filter, and its keep decisions.

Runs the `documents` profile's filter steps (build_filter_steps on the default FilterOptions, or --config's
filters section) in one process over every document a flow run extracted (`<root>/corpus/*/extracted`),
and prints CPU-seconds per filter (time.process_time, exclusive of the steps before it). With
`--baseline-ref REV` the same documents also go through REV's filters (a temporary `git worktree`, this
.venv, PYTHONPATH pointing at it), repetitions interleaved, and it prints the ratios and every document
whose decision (kept, or which filter dropped it and why) or kept text differs.

    .venv/bin/python bench/filter_speed.py --root bench/out/flow/current-1 --baseline-ref main --reps 3

The documents come from a flow run's root (bench/flow_speed.py leaves them under its --out).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def _worker(root: str, config: str | None, out: str) -> None:
    """In the checkout on sys.path: filter every extracted document, write timings and decisions to `out`."""
    import gzip
    import hashlib
    import time

    from datatrove.data import Document

    from refinery.filters.build import build_filter_steps
    from refinery.filters.options import FilterOptions

    options = FilterOptions()
    if config:
        import yaml

        options = FilterOptions.model_validate((yaml.safe_load(Path(config).read_text()) or {}).get("filters", {}))
    docs = []
    for f in sorted(Path(root).glob("corpus/*/extracted/*.jsonl.gz")):
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            docs += [json.loads(line) for line in fh if line.strip()]
    if not docs:
        raise SystemExit(f"no extracted documents under {root}/corpus/*/extracted: run bench/flow_speed.py first")
    steps = build_filter_steps(options)
    inclusive = [0.0] * len(steps)

    passed: list[set] = [set() for _ in steps]

    def timed(gen, k):  # CPU spent producing each document out of step k, steps before it included
        while True:
            t = time.process_time()
            try:
                doc = next(gen)
            except StopIteration:
                inclusive[k] += time.process_time() - t
                return
            inclusive[k] += time.process_time() - t
            passed[k].add(doc.id)
            yield doc

    t0 = time.process_time()
    data = iter([Document(text=d["text"], id=d["id"], metadata=dict(d.get("metadata", {}))) for d in docs])
    for k, step in enumerate(steps):
        data = timed(step.run(data, 0, 1), k)
    kept = {doc.id: hashlib.sha1(doc.text.encode()).hexdigest()[:12] for doc in data}
    total = time.process_time() - t0
    names = [getattr(s, "short_name", None) or type(s).__name__ for s in steps]
    decisions = {}  # kept with a hash of the text written, or the filter that dropped it
    for d in docs:
        dropped_by = next((name for name, ids in zip(names, passed) if d["id"] not in ids), None)
        decisions[d["id"]] = ["kept", kept[d["id"]]] if d["id"] in kept else ["dropped", dropped_by]
    exclusive = [inclusive[k] - (inclusive[k - 1] if k else 0.0) for k in range(len(steps))]
    reasons = {}
    for step, name in zip(steps, names):  # drop counts per reason, from datatrove's stats
        for key, value in step.stats.stats.items():
            if key.startswith("dropped"):
                reasons[f"{name}:{key}"] = value.total
    Path(out).write_text(json.dumps({"docs": len(docs), "bytes": sum(len(d["text"].encode()) for d in docs),
                                     "cpu": total, "steps": dict(zip(names, exclusive)), "decisions": decisions,
                                     "reasons": reasons}))


def _run(checkout: Path, root: str, config: str | None) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
        env = {**os.environ, "PYTHONPATH": str(checkout), "HF_HUB_OFFLINE": "1"}
        cmd = [sys.executable, str(HERE / "filter_speed.py"), "--worker", tmp.name, "--root", root]
        if config:
            cmd += ["--config", config]
        subprocess.run(cmd, env=env, check=True, cwd=checkout)
        return json.loads(Path(tmp.name).read_text())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", required=True, help="a flow run's storage root (its corpus/*/extracted is read)")
    ap.add_argument("--config", help="YAML whose filters: section to use (default: the documents profile)")
    ap.add_argument("--baseline-ref", help="also run this git revision's filters, interleaved, and compare")
    ap.add_argument("--reps", type=int, default=2, help="repetitions of each (interleaved)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    root = str(Path(args.root).resolve())
    if args.worker:
        _worker(root, args.config, args.worker)
        return 0
    from bench.flow_speed import baseline_worktree

    with baseline_worktree(args.baseline_ref) as base:
        runs: dict[str, list[dict]] = {"current": [], "baseline": []}
        for rep in range(args.reps):
            runs["current"].append(_run(REPO, root, args.config))
            print(f"rep {rep + 1} current: {runs['current'][-1]['cpu']:.2f} CPU-s", flush=True)
            if base:
                runs["baseline"].append(_run(base, root, args.config))
                print(f"rep {rep + 1} baseline {args.baseline_ref}: {runs['baseline'][-1]['cpu']:.2f} CPU-s",
                      flush=True)
    cur = runs["current"]
    print(f"\n{cur[0]['docs']} documents, {cur[0]['bytes'] / 1e6:.1f} MB extracted text; CPU-s per filter "
          f"(median of {args.reps}):")
    _table(cur, runs["baseline"], args.baseline_ref)
    if runs["baseline"]:
        _differences(cur[0], runs["baseline"][0])
    return 0


def _median(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2


def _table(cur: list[dict], base: list[dict], ref: str | None) -> None:
    names = list(cur[0]["steps"]) + ["total"]

    def value(run: dict, name: str) -> float:
        return run["cpu"] if name == "total" else run["steps"].get(name, 0.0)

    print(f"{'step':<20} {'current':>9}" + (f" {ref or 'baseline':>10} {'ratio':>7}" if base else ""))
    for name in names:
        c = _median([value(r, name) for r in cur])
        line = f"{name:<20} {c:>9.2f}"
        if base:
            b = _median([value(r, name) for r in base])
            line += f" {b:>10.2f} {b / c if c else float('nan'):>6.2f}x"
        print(line)
    mb = cur[0]["bytes"] / 1e6
    print(f"extracted MB per filter CPU-s: current {mb / _median([r['cpu'] for r in cur]):.2f}"
          + (f", baseline {mb / _median([r['cpu'] for r in base]):.2f}" if base else ""))


def _differences(cur: dict, base: dict) -> None:
    diff = {i: (base["decisions"].get(i), d) for i, d in cur["decisions"].items() if base["decisions"].get(i) != d}
    kept = sum(d[0] == "kept" for d in cur["decisions"].values())
    print(f"decisions: {len(cur['decisions']) - len(diff)}/{len(cur['decisions'])} identical "
          f"(kept {kept} now, {sum(d[0] == 'kept' for d in base['decisions'].values())} at the baseline)")
    for i, (b, c) in sorted(diff.items()):
        print(f"  {i}: baseline {b} -> current {c}")
    if cur["reasons"] != base["reasons"]:
        print("drop counts per reason differ:")
        for key in sorted(set(cur["reasons"]) | set(base["reasons"])):
            if cur["reasons"].get(key) != base["reasons"].get(key):
                print(f"  {key}: baseline {base['reasons'].get(key, 0)}, current {cur['reasons'].get(key, 0)}")


if __name__ == "__main__":
    if "--worker" not in sys.argv:  # a worker imports the checkout on PYTHONPATH (this one or the baseline's)
        sys.path.insert(0, str(REPO))  # `python bench/filter_speed.py` from anywhere
    sys.exit(main())
