"""The fixed cost of a drop: `refinery corpus` end to end on a one-file and a five-file drop of real pages
(the committed realdocs slice: HTML, PDF, DOCX, PPTX, XLSX), in a fresh storage root each time, wall and
CPU seconds (the CLI and every worker it starts). Baselines in the same run: importing the Dagster code location (what
every run pays before any work: the floor) and the one-file drop with the installed bytecode hidden (PYTHONPYCACHEPREFIX to
an empty folder, as before setup compiled it; this machine sets PYTHONDONTWRITEBYTECODE).
Goals (issues 12 and 15): one file under 10 s wall, five files under 20 s.

    .venv/bin/python bench/fixed_cost.py [--repeat 3]
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SLICE = REPO / "tests/data/realdocs/raw/2026-01-a"
FILES = ["git-doc/git-bisect.html", "manuals/bashref-p126-127.pdf", "octave/octave.html/Matrix-Algebra.docx",
         "git-doc/technical/api-merge.pptx", "sqlite3/dbstat.xlsx"]
CLI = [str(REPO / ".venv/bin/refinery")]


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, float]:
    """(wall s, CPU s of the command and its descendants that were waited for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=REPO)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def drop(work: Path, files: list[str]) -> Path:
    raw = work / "raw"
    shutil.rmtree(raw, ignore_errors=True)
    for name in files:
        target = raw / "d1" / Path(name).name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SLICE / name, target)
    return raw


def corpus(work: Path, raw: Path, env: dict | None = None) -> tuple[float, float]:
    root = work / "root"
    shutil.rmtree(root, ignore_errors=True)
    return timed([*CLI, "corpus", "--raw", str(raw), "--root", str(root)], env)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs of each case, interleaved; medians printed")
    args = ap.parse_args(argv)
    missing = [f for f in FILES if not (SLICE / f).is_file()]
    if missing:
        print(f"the realdocs slice lacks {missing}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work, empty = Path(tmp), Path(tmp) / "no-pyc"
        empty.mkdir()
        no_pyc = os.environ | {"PYTHONPYCACHEPREFIX": str(empty), "PYTHONDONTWRITEBYTECODE": "1"}
        cases = {
            "import code location": lambda: timed([sys.executable, "-c", "import orchestration.definitions"]),
            "1 file": lambda: corpus(work, drop(work, FILES[:1])),
            "1 file, no bytecode": lambda: corpus(work, drop(work, FILES[:1]), no_pyc),
            "5 files": lambda: corpus(work, drop(work, FILES)),
        }
        corpus(work, drop(work, FILES[:1]))  # warm the page cache; not counted
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
        for _ in range(args.repeat):
            for name, case in cases.items():
                runs[name].append(case())
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (2-core machine: above ~0.5 inflates wall times)")
    print(f"{'case':28} {'wall s':>8} {'CPU s':>8}   (median of {args.repeat})")
    med = {name: (statistics.median(w for w, _ in r), statistics.median(c for _, c in r)) for name, r in runs.items()}
    for name, (wall, cpu) in med.items():
        print(f"{name:28} {wall:8.1f} {cpu:8.1f}")
    print(f"bytecode: 1 file x{med['1 file, no bytecode'][1] / med['1 file'][1]:.2f} CPU without it; "
          f"goals: 1 file {med['1 file'][0]:.1f} s (< 10), 5 files {med['5 files'][0]:.1f} s (< 20)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
