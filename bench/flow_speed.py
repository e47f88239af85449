"""Whole corpus flow speed on the real-document benchmark: `refinery corpus` as a user runs it.

Runs `.venv/bin/refinery corpus --raw <raw> --root <fresh root>` and prints wall time, the CPU-seconds of the
whole process tree, MB of raw input per CPU-second, and each stage's time from the flow's own run summary
(stage wall seconds, and datatrove's step timers summed over tasks and drops).

CPU: this process makes itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so descendants orphaned on
the way -- the local runner's forkserver, whose workers it reaps itself, and the resource tracker -- are
re-parented here and reaped after the CLI exits; getrusage(RUSAGE_CHILDREN) then holds the CPU of every
process the run started, and nothing of other users of the machine.

With `--baseline-ref REV` the same flow also runs from a temporary `git worktree` of REV (this .venv, its
checkout first on PYTHONPATH), interleaved with the current code (ABBA order), and it prints the ratios and
whether the keep decisions are identical: the same document ids out of the filter and dedup stages per drop.

    .venv/bin/python bench/flow_speed.py --raw /work/wt-bench9/bench/out/realdocs/raw --baseline-ref main --reps 2

Outputs go to --out (default bench/out/flow/<current|baseline>-<rep>; wiped before each run). The filter
stage alone, per filter and in one process: bench/filter_speed.py on one of those roots.
"""
from __future__ import annotations

import argparse
import bisect
import contextlib
import ctypes
import gzip
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VENV_BIN = Path(sys.executable).parent
STAGES = {"extracted_documents": "extract", "filtered_documents": "filter", "deduplicated_documents": "dedup",
          "tokenized_shards": "tokenize"}
PR_SET_CHILD_SUBREAPER = 36


@contextlib.contextmanager
def baseline_worktree(ref: str | None):
    """A detached `git worktree` of `ref` in a temporary folder (None: no baseline), removed afterwards.
    Byte-compiled first: these machines set PYTHONDONTWRITEBYTECODE, and a checkout without bytecode pays
    for compiling every module in every process (the current checkout is compiled the same way)."""
    if not ref:
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix="refinery-baseline-"))
    path = folder / "checkout"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(path), ref], check=True,
                   stdout=subprocess.DEVNULL)
    try:
        _compile(path)
        yield path
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(path)], check=False)
        shutil.rmtree(folder, ignore_errors=True)


def _compile(checkout: Path) -> None:
    folders = [str(checkout / d) for d in ("refinery", "orchestration", "assets", "resources") if (checkout / d).is_dir()]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *folders], check=True, stdout=subprocess.DEVNULL)


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _reap_orphans(timeout: float = 120.0) -> int:
    """Wait for the descendants re-parented here (the forkserver exits once the CLI has gone)."""
    deadline, reaped = time.monotonic() + timeout, 0
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return reaped
        if pid:
            reaped += 1
        elif time.monotonic() > deadline:
            print(f"warning: descendants still running {timeout:.0f} s after the CLI exited; their CPU is not "
                  "counted", file=sys.stderr)
            return reaped
        else:
            time.sleep(0.05)


class TreeSampler(threading.Thread):
    """Samples the CPU of this process's descendants (live and zombie: utime+stime, plus cutime+cstime for the
    children they have reaped) a few times a second, so that the stage windows the flow's markers record
    (`_state/markers/<stage>.started.json` .. `<stage>.json`) can be given their CPU-seconds."""

    def __init__(self, interval: float = 0.2):
        super().__init__(daemon=True)
        self.interval, self.samples, self._halt = interval, [], threading.Event()
        self._hz = os.sysconf("SC_CLK_TCK")

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            self.samples.append((time.time(), self.tree_cpu()))

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def tree_cpu(self) -> float:
        parents, ticks = {}, {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    stat = f.read().decode("ascii", "replace")
            except OSError:
                continue  # gone meanwhile
            rest = stat[stat.rindex(")") + 2:].split()
            parents[int(entry.name)] = int(rest[1])
            ticks[int(entry.name)] = sum(int(x) for x in rest[11:15])
        me, total = os.getpid(), 0
        for pid in ticks:
            p, seen = parents.get(pid), 0
            while p is not None and p != me and seen < 64:
                p, seen = parents.get(p), seen + 1
            if p == me:
                total += ticks[pid]
        return total / self._hz

    def cpu_between(self, start: float, end: float) -> float:
        def at(t: float) -> float:  # the last sample at or before t
            i = bisect.bisect_right(self.samples, (t, float("inf"))) - 1
            return self.samples[i][1] if i >= 0 else 0.0
        return max(at(end) - at(start), 0.0)


def stage_cpu(root: Path, sampler: TreeSampler) -> dict[str, float]:
    """CPU-seconds of each stage, summed over drops, from its start and end markers and the sampled tree CPU."""
    out: dict[str, float] = {}
    for started in root.glob("corpus/*/_state/markers/*.started.json"):
        done = started.with_name(started.name.replace(".started", ""))
        if done.exists():
            stage = started.name.split(".")[0]
            window = json.loads(started.read_text())["at"], json.loads(done.read_text())["at"]
            out[stage] = out.get(stage, 0.0) + sampler.cpu_between(*window)
    order = ["extract", "filter", "dedup", "tokenize"]
    return dict(sorted(out.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))


def run_flow(checkout: Path, raw: Path, root: Path, extra: list[str]) -> dict:
    """One `refinery corpus` run from `checkout` into a fresh `root`: wall, tree CPU, and its run summary."""
    shutil.rmtree(root, ignore_errors=True)  # a reused root would reuse outputs or dedup against itself
    root.mkdir(parents=True)
    env = {**os.environ, "DAGSTER_HOME": str(root / "dagster_home"), "PYTHONPATH": str(checkout),
           "HF_HUB_OFFLINE": "1"}
    for var in ("REFINERY_CONFIG", "REFINERY_RAW", "REFINERY_ROOT"):
        env.pop(var, None)
    summary = root / "run_summary.json"
    cmd = [str(VENV_BIN / "refinery"), "corpus", "--raw", str(raw), "--root", str(root), "--json", str(summary),
           *extra]
    sampler = TreeSampler()
    cpu0, t0 = _children_cpu(), time.perf_counter()
    sampler.start()
    with (root / "run.log").open("w") as log:
        rc = subprocess.run(cmd, env=env, cwd=checkout, stdout=log, stderr=subprocess.STDOUT).returncode
    wall = time.perf_counter() - t0
    sampler.stop()
    _reap_orphans()
    cpu = _children_cpu() - cpu0
    if rc != 0:
        raise SystemExit(f"`refinery corpus` from {checkout} exited with {rc}: see {root / 'run.log'}")
    return {"wall": wall, "cpu": cpu, "summary": json.loads(summary.read_text()), "root": str(root),
            "stage_cpu": stage_cpu(root, sampler), "sampled_cpu": sampler.samples[-1][1] if sampler.samples else 0.0}


def stage_times(summary: dict) -> dict[str, dict[str, float]]:
    """Per stage, summed over drops: its wall seconds, and datatrove's step timers (per filter for `filter`)."""
    out: dict[str, dict[str, float]] = {}
    for drop in summary["drops"].values():
        for asset, report in drop["assets"].items():
            stage = STAGES.get(asset, asset)
            times = out.setdefault(stage, {})
            times["stage wall"] = times.get("stage wall", 0.0) + (report.get("seconds") or 0.0)
            for step, seconds in (report.get("step_seconds") or {}).items():
                if stage == "filter" and ("FILTER" in step or "FORMAT" in step):
                    key = "  " + step.split(": ", 1)[-1]
                    times[key] = times.get(key, 0.0) + seconds
                times["steps"] = times.get("steps", 0.0) + seconds
    return out


def output_ids(root: Path) -> dict[str, set[str]]:
    """Document ids out of the filter and dedup stages, per drop: the keep decisions."""
    out = {}
    for folder in sorted(root.glob("corpus/*/filtered")) + sorted(root.glob("corpus/*/deduplicated")):
        ids = set()
        for f in folder.glob("*.jsonl.gz"):
            with gzip.open(f, "rt", encoding="utf-8") as fh:
                ids |= {json.loads(line)["id"] for line in fh if line.strip()}
        out[f"{folder.parent.name}/{folder.name}"] = ids
    return out


def _median(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--raw", default=str(REPO / "bench/out/realdocs/raw"),
                    help="raw root (default bench/out/realdocs/raw: bench/realdocs_build.py builds it)")
    ap.add_argument("--out", default=str(REPO / "bench/out/flow"), help="where the runs' roots go (wiped per run)")
    ap.add_argument("--reps", type=int, default=1, help="runs of each variant, interleaved")
    ap.add_argument("--baseline-ref", help="also run this git revision (a temporary worktree) and compare")
    ap.add_argument("--config", help="passed to `refinery corpus --config`")
    ap.add_argument("--workers", type=int, help="passed to `refinery corpus --workers` (its default: 2)")
    args = ap.parse_args(argv)
    raw = Path(args.raw).resolve()
    if not raw.is_dir():
        raise SystemExit(f"{raw} is not a folder: build the benchmark with bench/realdocs_build.py or pass --raw")
    raw_mb = sum(f.stat().st_size for f in raw.rglob("*") if f.is_file()) / 1e6
    extra = (["--config", str(Path(args.config).resolve())] if args.config else []) + (
        ["--workers", str(args.workers)] if args.workers else [])
    if libc_prctl_subreaper() != 0:
        print("warning: could not become a child subreaper; CPU misses orphaned descendants", file=sys.stderr)
    _compile(REPO)
    runs: dict[str, list[dict]] = {"current": [], "baseline": []}
    with baseline_worktree(args.baseline_ref) as base:
        checkouts = {"current": REPO} | ({"baseline": base} if base else {})
        for rep in range(args.reps):
            order = list(checkouts) if rep % 2 == 0 else list(reversed(checkouts))  # ABBA: drift hits both
            for name in order:
                run = run_flow(checkouts[name], raw, Path(args.out) / f"{name}-{rep + 1}", extra)
                runs[name].append(run)
                print(f"rep {rep + 1} {name}: {run['wall']:.1f} s wall, {run['cpu']:.1f} CPU-s "
                      f"({raw_mb / run['cpu']:.2f} MB/CPU-s; sampled {run['sampled_cpu']:.1f}), stage CPU-s "
                      + ", ".join(f"{k} {v:.1f}" for k, v in run["stage_cpu"].items())
                      + f", load {os.getloadavg()[0]:.1f}", flush=True)
    print(f"\nraw root {raw}: {raw_mb:.1f} MB; medians of {args.reps} run(s) but for the 'best run' rows")
    report(runs, raw_mb, args.baseline_ref)
    if runs["baseline"]:
        return compare_decisions(Path(runs["current"][0]["root"]), Path(runs["baseline"][0]["root"]))
    return 0


def libc_prctl_subreaper() -> int:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        return -1


def report(runs: dict[str, list[dict]], raw_mb: float, ref: str | None) -> None:
    base = runs["baseline"]
    rows = [("wall s", lambda r: r["wall"]), ("CPU-s (process tree)", lambda r: r["cpu"]),
            ("MB per CPU-s", lambda r: raw_mb / r["cpu"])]
    for stage in runs["current"][0]["stage_cpu"]:
        rows.append((f"{stage} CPU-s (sampled, stage window)", lambda r, s=stage: r["stage_cpu"].get(s, 0.0)))
    stages = stage_times(runs["current"][0]["summary"])
    for stage, times in stages.items():
        for key in times:
            rows.append((f"{stage} {key}" if not key.startswith("  ") else key,
                         lambda r, s=stage, k=key: stage_times(r["summary"]).get(s, {}).get(k, 0.0)))
    # Best of the reps too: this shared host's CPU-seconds for the same work drift up to 1.6x between periods,
    # and the least disturbed run is the closest to what the code costs
    rows[3:3] = [("CPU-s, best run", lambda r: r["cpu"], min),
                 ("MB per CPU-s, best run", lambda r: raw_mb / r["cpu"], max)]
    print(f"{'':<36} {'current':>9}" + (f" {ref:>10} {'base/cur':>9}" if base else ""))
    for label, value, *best in rows:
        pick = best[0] if best else _median
        c = pick([value(r) for r in runs["current"]])
        line = f"{label:<36} {c:>9.2f}"
        if base:
            b = pick([value(r) for r in base])
            line += f" {b:>10.2f} {(b / c if c else float('nan')):>8.2f}x"
        print(line)
    print("(stage CPU: the process tree's CPU sampled every 0.2 s, between each stage's start and end markers, summed"
          " over drops; other stage rows: the flow's run summary, 'steps' = datatrove's step timers summed over tasks,"
          " wall time, so they grow with the machine's load)")


def compare_decisions(current: Path, baseline: Path) -> int:
    cur, base = output_ids(current), output_ids(baseline)
    differences = 0
    for key in sorted(set(cur) | set(base)):
        only_cur, only_base = cur.get(key, set()) - base.get(key, set()), base.get(key, set()) - cur.get(key, set())
        differences += len(only_cur) + len(only_base)
        for i in sorted(only_cur):
            print(f"  {key}: kept now, not at the baseline: {i}")
        for i in sorted(only_base):
            print(f"  {key}: kept at the baseline, not now: {i}")
    n = sum(len(v) for k, v in cur.items() if k.endswith("/filtered"))
    print(f"keep decisions: {'identical' if not differences else f'{differences} differences'} "
          f"({n} documents out of the filter stage, {sum(len(v) for k, v in cur.items() if k.endswith('/deduplicated'))}"
          " out of dedup, current run)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
