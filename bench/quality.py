"""Corpus-flow quality on the real-document benchmark: runs `refinery corpus` on a built benchmark (see
bench/realdocs_build.py) and prints, per format and overall, what reached the output against the goals.

    .venv/bin/python bench/realdocs_build.py                       # once: bench/out/realdocs (~1,000 docs)
    .venv/bin/python bench/quality.py [--bench bench/out/realdocs] [--config FILE] [--json out.json]
    .venv/bin/python bench/quality.py --bench tests/data/realdocs  # the committed slice, ~1 minute

Each run writes to a fresh folder (default <bench>/runs/<config name>); --score-only scores an earlier run's
--root without running the flow again. Metric definitions: bench/realdocs_metrics.py.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python bench/quality.py` from anywhere

from bench.realdocs_metrics import evaluate, report, run_flow  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", default="bench/out/realdocs", help="a built benchmark: raw/ and truth.json")
    ap.add_argument("--root", help="where the flow writes (default <bench>/runs/<config name>; wiped first)")
    ap.add_argument("--config", help="corpus flow YAML, to compare filter settings")
    ap.add_argument("--json", help="also write every metric as JSON here")
    ap.add_argument("--score-only", action="store_true", help="score an existing --root, do not run the flow")
    args = ap.parse_args(argv)
    bench = Path(args.bench)
    truth = json.loads((bench / "truth.json").read_text())
    root = Path(args.root or bench / "runs" / (Path(args.config).stem if args.config else "default"))
    seconds = None
    if not args.score_only:
        shutil.rmtree(root, ignore_errors=True)  # a reused root would dedup the benchmark against itself
        t0 = time.perf_counter()
        summary = run_flow((bench / "raw").resolve(), root.resolve(), args.config)
        seconds = round(time.perf_counter() - t0, 1)
        if summary["returncode"] != 0:
            print(f"warning: the flow exited with {summary['returncode']} (log: {root / 'run.log'})", file=sys.stderr)
    out = evaluate(truth, root, args.config)
    out["run"] |= {"seconds": seconds, "root": str(root), "config": args.config, "benchmark": str(bench),
                   "benchmark_size": truth["size"]}
    print(f"real-document benchmark {bench} ({truth['size']}, {len(truth['documents'])} documents), "
          f"config {args.config or 'default'}, flow {seconds if seconds is not None else '-'} s\n")
    print(report(out))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    failed = [g["goal"] for g in out["goals"] if g["ok"] is False]
    print(f"\n{len(failed)} of {len(out['goals'])} goals not met" + (f": {', '.join(failed)}" if failed else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
