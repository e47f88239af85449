"""HTML extraction speed per engine on every HTML page of the real-document benchmark, in CPU seconds.

    .venv/bin/python bench/html_speed.py [--raw bench/out/realdocs/raw] [--reps 3] [--checkout /work/main]
                                         [--all-formats]

Each measurement is a child process that imports the extractor, extracts one page to warm up, then extracts
every page with `extract.html_engine` set to one engine and reports the CPU time of that loop alone
(time.process_time). Repetitions are interleaved (each round runs every variant, in an order that turns
round by round) because the machine is shared; the median round is reported, with each variant's ratio to
this checkout's trafilatura engine measured in the same run. `--checkout` adds another checkout's
extractor (e.g. main, before a change) as a third variant, its trafilatura engine. `--all-formats` extracts
every file of the raw root (PDF, DOCX, ... through the same dispatch the flow uses), to show what the engine
changes in the whole corpus's extraction time.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def pages(raw: Path, all_formats: bool = False) -> list[Path]:
    return [p for p in sorted(raw.rglob("*" if all_formats else "*.html")) if p.is_file()]


def child(raw: Path, engine: str, all_formats: bool = False) -> dict:
    from refinery.extract import extract_bytes
    from refinery.extract.base import Extracted, ExtractionError
    from refinery.extract.options import ExtractOptions

    options = ExtractOptions(html_engine=engine) if engine != "main" else ExtractOptions()
    files = pages(raw, all_formats)
    data = [(str(p.relative_to(raw)), p.read_bytes()) for p in files]
    for name, page in {Path(n).suffix: (n, d) for n, d in data}.values():  # lazy imports of each format's
        try:                                                               # libraries, outside the timed loop
            extract_bytes(name, page, options)
        except ExtractionError:
            pass
    empty, chars = 0, 0
    start = time.process_time()
    for name, page in data:
        try:
            chars += sum(len(part.text) for part in extract_bytes(name, page, options) if isinstance(part, Extracted))
        except ExtractionError:
            empty += 1
    return {"cpu": time.process_time() - start, "bytes": sum(len(d) for _, d in data), "pages": len(data),
            "not_extracted": empty, "chars": chars}


def measure(raw: Path, engine: str, checkout: Path, all_formats: bool) -> dict:
    code = (f"import sys, json; sys.path.insert(0, {str(checkout)!r}); sys.path.insert(0, {str(HERE / 'bench')!r});"
            f"import html_speed; print(json.dumps(html_speed.child(html_speed.Path({str(raw)!r}), {engine!r}, "
            f"{all_formats!r})))")
    out = subprocess.run([sys.executable, "-c", code], cwd=checkout, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--raw", default="bench/out/realdocs/raw")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--checkout", help="another checkout whose trafilatura engine is measured too (e.g. main)")
    ap.add_argument("--all-formats", action="store_true", help="every file of the raw root, not only its HTML")
    args = ap.parse_args()
    raw = Path(args.raw).resolve()
    variants = {"trafilatura": ("trafilatura", HERE), "resiliparse": ("resiliparse", HERE)}
    if args.checkout:
        variants[f"trafilatura @ {args.checkout}"] = ("main", Path(args.checkout).resolve())
    runs: dict[str, list[dict]] = {name: [] for name in variants}
    names = list(variants)
    for rep in range(args.reps):
        for name in names[rep % len(names):] + names[:rep % len(names)]:
            engine, checkout = variants[name]
            runs[name].append(measure(raw, engine, checkout, args.all_formats))
            print(f"round {rep + 1}: {name}: {runs[name][-1]['cpu']:.2f} CPU-s", file=sys.stderr)
    first = runs["trafilatura"][0]
    print(f"{first['pages']} {'files' if args.all_formats else 'HTML pages'}, {first['bytes'] / 1e6:.1f} MB ({raw}); "
          f"median of {args.reps} interleaved "
          f"rounds, CPU seconds of the extraction loop")
    base = statistics.median(r["cpu"] for r in runs["trafilatura"])
    print(f"{'engine':<40}{'CPU-s':>8}{'MB/CPU-s':>10}{'vs trafilatura':>16}{'not extracted':>15}{'chars':>12}")
    for name, rs in runs.items():
        cpu = statistics.median(r["cpu"] for r in rs)
        print(f"{name:<40}{cpu:>8.2f}{rs[0]['bytes'] / 1e6 / cpu:>10.2f}{base / cpu:>15.2f}x"
              f"{rs[0]['not_extracted']:>15}{rs[0]['chars']:>12,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
