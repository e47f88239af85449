"""Corpus-flow quality on the real-document benchmark: runs `refinery corpus` on a built benchmark (see
bench/realdocs_build.py) and prints, per format and overall, what reached the output against the goals.

    .venv/bin/python bench/realdocs_build.py                       # once: bench/out/realdocs (~1,000 docs)
    .venv/bin/python bench/quality.py [--bench bench/out/realdocs] [--config FILE] [--json out.json]
    .venv/bin/python bench/quality.py --bench tests/data/realdocs  # the committed slice, ~1 minute

Each run writes to a fresh folder (default <bench>/runs/<config name>); --score-only scores an earlier run's
--root without running the flow again. `--baseline web` also runs the `web` profile (FineWeb/Gopher/C4 as
published) in the same invocation and prints both side by side (or `--baseline FILE.yaml`). Metric
definitions: bench/realdocs_metrics.py.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python bench/quality.py` from anywhere

from bench.realdocs_metrics import default_caches, evaluate, report, run_flow  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", default="bench/out/realdocs", help="a built benchmark: raw/ and truth.json")
    ap.add_argument("--root", help="where the flow writes (default <bench>/runs/<config name>; wiped first)")
    ap.add_argument("--config", help="corpus flow YAML, to compare filter settings")
    ap.add_argument("--json", help="also write every metric as JSON here")
    ap.add_argument("--score-only", action="store_true", help="score an existing --root, do not run the flow")
    ap.add_argument("--cache", action="append", help="the builder's package cache (its --cache), for judging MinHash "
                    "drops on source pages; default bench/.cache/realdocs of this checkout and of the one the "
                    "benchmark sits in")
    ap.add_argument("--baseline", help="also run this config in the same invocation and compare: 'web' (the "
                                       "published filters) or a YAML file")
    args = ap.parse_args(argv)
    bench = Path(args.bench)
    truth = json.loads((bench / "truth.json").read_text())
    root = Path(args.root or bench / "runs" / (Path(args.config).stem if args.config else "default"))
    caches = [Path(c) for c in args.cache] if args.cache else default_caches(bench)
    out = _scored(bench, truth, root, args.config, args.score_only, caches)
    print(f"real-document benchmark {bench} ({truth['size']}, {len(truth['documents'])} documents), "
          f"config {args.config or 'default'}, flow {out['run']['seconds'] or '-'} s\n")
    print(report(out))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    if args.baseline:
        config = args.baseline
        if config == "web":
            config = str(bench / "runs" / "web.yaml")
            Path(config).parent.mkdir(parents=True, exist_ok=True)
            Path(config).write_text("filters:\n  profile: web\n")
        base = _scored(bench, truth, bench / "runs" / Path(config).stem, config, args.score_only, caches)
        print(f"\nsame run, baseline {args.baseline} (flow {base['run']['seconds'] or '-'} s):\n"
              + comparison(out, base, args.config or "default", args.baseline))
    failed = [g["goal"] for g in out["goals"] if g["ok"] is False]
    print(f"\n{len(failed)} of {len(out['goals'])} goals not met" + (f": {', '.join(failed)}" if failed else ""))
    return 0


def _scored(bench: Path, truth: dict, root: Path, config: str | None, score_only: bool,
            caches: list[Path] | None = None) -> dict:
    seconds = None
    if not score_only:
        shutil.rmtree(root, ignore_errors=True)  # a reused root would dedup the benchmark against itself
        t0 = time.perf_counter()
        summary = run_flow((bench / "raw").resolve(), root.resolve(), config)
        seconds = round(time.perf_counter() - t0, 1)
        if summary["returncode"] != 0:
            print(f"warning: the flow exited with {summary['returncode']} (log: {root / 'run.log'})", file=sys.stderr)
    out = evaluate(truth, root, config, caches)
    out["run"] |= {"seconds": seconds, "root": str(root), "config": config, "benchmark": str(bench),
                   "benchmark_size": truth["size"]}
    return out


def comparison(out: dict, base: dict, name: str, base_name: str) -> str:
    """Each goal's n/d for this config and the baseline, measured in the same invocation."""
    rows = [f"{'goal':<34} {name:>22} {base_name:>22}"]
    base_goals = {g["goal"]: g for g in base["goals"]}
    for g in out["goals"]:
        b = base_goals.get(g["goal"])
        rows.append(f"{g['goal']:<34} {_nd(g):>22} {_nd(b) if b else '-':>22}")
    return "\n".join(rows)


def _nd(g: dict) -> str:
    return f"{g['n']}/{g['d']}" + (f" = {g['value']:.1%}" if isinstance(g["value"], float) and g["d"] else "")


if __name__ == "__main__":
    raise SystemExit(main())
