"""PDF extraction today against a git revision's (default main), on the realdocs benchmark's PDFs, in one process.

    .venv/bin/python bench/pdf_engine.py [--raw /work/wt-bench9/bench/out/realdocs/raw] [--ref main] [--reps 3]

The baseline is `refinery/extract/pdf.py` as it is at --ref, loaded from git into this process (the rest of
the package is the current checkout's). Both run `extract_pdf` on every file, in alternating order per file;
CPU is time.process_time summed over files, the smallest of --reps runs per file and variant.
Fidelity, the current text against the baseline's, words as a multiset (whitespace-split, surrounding
punctuation stripped): recall = baseline words also in the current text, precision = current words also in
the baseline's. The files with the lowest F1 are listed with the words each side has that the other lacks.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
import types
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from refinery.extract.base import ExtractionError  # noqa: E402
from refinery.extract.options import ExtractOptions  # noqa: E402
from refinery.extract import pdf as current  # noqa: E402

_EDGE_PUNCT = re.compile(r"^\W+|\W+$")


def baseline_module(ref: str) -> types.ModuleType:
    source = subprocess.run(["git", "-C", str(REPO), "show", f"{ref}:refinery/extract/pdf.py"], check=True,
                            capture_output=True, text=True).stdout
    module = types.ModuleType("pdf_baseline")
    module.__file__ = f"{ref}:refinery/extract/pdf.py"
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


def words(text: str) -> Counter:
    return Counter(w for w in (_EDGE_PUNCT.sub("", t) for t in text.split()) if w)


def run(module, data: bytes, options: ExtractOptions) -> tuple[float, str]:
    start = time.process_time()
    try:
        text = module.extract_pdf(data, options).text
    except ExtractionError as e:
        text = f"<{e.reason}>"
    return time.process_time() - start, text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--raw", default="/work/wt-bench9/bench/out/realdocs/raw")
    ap.add_argument("--ref", default="main", help="git revision of the baseline pdf.py")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--worst", type=int, default=8, help="files with the lowest F1 to list")
    ap.add_argument("--dump", help="write each file's two texts into this folder")
    args = ap.parse_args()
    base = baseline_module(args.ref)
    options = ExtractOptions()
    files = sorted(Path(args.raw).rglob("*.pdf"))
    datas = [f.read_bytes() for f in files]
    variants = {"baseline": base, "current": current}
    cpu = {name: [float("inf")] * len(files) for name in variants}
    texts: dict[str, list[str]] = {name: [""] * len(files) for name in variants}
    for rep in range(args.reps):
        for i, data in enumerate(datas):
            order = list(variants) if (i + rep) % 2 == 0 else list(variants)[::-1]
            for name in order:
                seconds, texts[name][i] = run(variants[name], data, options)
                cpu[name][i] = min(cpu[name][i], seconds)
    mb = sum(map(len, datas)) / 1e6
    b, c = sum(cpu["baseline"]), sum(cpu["current"])
    print(f"{len(files)} PDFs, {mb:.2f} MB; extract_pdf CPU-s (min of {args.reps} per file):")
    print(f"  baseline ({args.ref}): {b:.2f} CPU-s = {mb / b:.2f} MB/CPU-s")
    print(f"  current:              {c:.2f} CPU-s = {mb / c:.2f} MB/CPU-s   ({b / c:.1f}x faster, "
          f"{c / b:.3f} of the time)")

    rows, both, old_n, new_n = [], 0, 0, 0
    for f, old, new in zip(files, texts["baseline"], texts["current"]):
        wo, wn = words(old), words(new)
        common = sum((wo & wn).values())
        both, old_n, new_n = both + common, old_n + sum(wo.values()), new_n + sum(wn.values())
        recall, precision = common / max(1, sum(wo.values())), common / max(1, sum(wn.values()))
        f1 = 2 * recall * precision / max(recall + precision, 1e-9)
        rows.append((f1, recall, precision, f, wo - wn, wn - wo))
    print(f"words of the baseline's text also in the current text (recall): {both}/{old_n} = {both / old_n:.2%}")
    print(f"words of the current text also in the baseline's (precision):   {both}/{new_n} = {both / new_n:.2%}")
    errors = [(f.name, o[:40], n[:40]) for f, o, n in zip(files, texts["baseline"], texts["current"])
              if o.startswith("<") != n.startswith("<")]
    print(f"files extracted by one side only: {len(errors)} {errors[:5]}")
    print(f"\nworst {args.worst} files by F1:")
    for f1, recall, precision, f, lost, gained in sorted(rows, key=lambda r: r[0])[:args.worst]:
        print(f"  {f.relative_to(args.raw)}: F1 {f1:.3f} (recall {recall:.3f}, precision {precision:.3f})")
        print(f"     only baseline: {lost.most_common(8)}")
        print(f"     only current:  {gained.most_common(8)}")
    totals_lost = sum((r[4] for r in rows), Counter())
    totals_gained = sum((r[5] for r in rows), Counter())
    print(f"\nmost common words only in the baseline: {totals_lost.most_common(15)}")
    print(f"most common words only in the current:  {totals_gained.most_common(15)}")
    if args.dump:
        out = Path(args.dump)
        out.mkdir(parents=True, exist_ok=True)
        for f, old, new in zip(files, texts["baseline"], texts["current"]):
            stem = str(f.relative_to(args.raw)).replace("/", "__")
            (out / f"{stem}.baseline.txt").write_text(old)
            (out / f"{stem}.current.txt").write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
