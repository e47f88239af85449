"""Word splitting of the `documents` profile's datatrove rules on prose (Gopher repetition, FineWeb lines):
spaCy's English tokenizer (datatrove's default) against `ProseWords` (text_blocks.words, no spaCy), on the
extracted documents of a corpus run. Prints the decisions that differ (n/d, with reasons) and the CPU time
of each, runs interleaved in the same process (first call of each includes its load: spaCy ~3 s).

    .venv/bin/python bench/prose_words.py --root bench/out/realdocs/runs/default [--truth bench/out/realdocs/truth.json]

With --truth each changed decision shows the document's label, and the changes are counted per label.
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from datatrove.data import Document  # noqa: E402
from datatrove.pipeline.filters.base_filter import get_filter_result  # noqa: E402

from refinery.filters.heuristics import ProseFineWebQuality, ProseRepetition  # noqa: E402


def documents(root: Path, stage: str) -> list[Document]:
    docs = []
    for path in sorted(root.glob(f"corpus/*/{stage}/*.jsonl.gz")):
        with gzip.open(path, "rt") as f:
            docs += [Document(text=row["text"], id=row["id"]) for row in map(json.loads, f)]
    return docs


def decide(step, docs: list[Document]) -> tuple[list[tuple[bool, str | None]], float]:
    began = time.process_time()
    out = [get_filter_result(step.filter(d)) for d in docs]
    return out, time.process_time() - began


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", required=True, help="a corpus run's storage root")
    ap.add_argument("--stage", default="extracted", help="which stage's documents to judge")
    ap.add_argument("--truth", help="the benchmark's truth.json: label each changed decision")
    args = ap.parse_args(argv)
    labels = {}
    if args.truth:
        labels = {i: d["label"] for i, d in json.loads(Path(args.truth).read_text())["documents"].items()}
    docs = documents(Path(args.root), args.stage)
    mb = sum(len(d.text.encode()) for d in docs) / 1e6
    print(f"{len(docs)} documents, {mb:.1f} MB from {args.root} ({args.stage})")
    for rule in (ProseRepetition, ProseFineWebQuality):
        spacy, regex = rule(language="en"), rule()
        (a, ta), (b, tb) = decide(spacy, docs), decide(regex, docs)
        # second pass of each: tokenizers loaded, so this is the per-document cost
        (_, ta2), (_, tb2) = decide(spacy, docs), decide(regex, docs)
        changed = [(d.id, x, y) for d, x, y in zip(docs, a, b) if x[0] != y[0]]
        drops = sum(not x[0] for x in a), sum(not y[0] for y in b)
        print(f"\n{rule.__name__}: dropped spaCy {drops[0]}/{len(docs)}, ProseWords {drops[1]}/{len(docs)}; "
              f"decisions changed {len(changed)}/{len(docs)}")
        for doc_id, x, y in changed[:40]:
            print(f"  {doc_id} [{labels.get(doc_id, '?')}]: spaCy {x[1] or 'keep'} -> ProseWords {y[1] or 'keep'}")
        if labels:
            moves = Counter((labels.get(i, "?"), "kept" if y[0] else "dropped") for i, _, y in changed)
            print("  changes by label:", ", ".join(f"{lab} now {verdict}: {n}" for (lab, verdict), n in sorted(moves.items())))
        print(f"  CPU s, first pass (with load) spaCy {ta:.2f} vs ProseWords {tb:.2f}; second pass {ta2:.2f} vs "
              f"{tb2:.2f} = x{ta2 / max(tb2, 1e-9):.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
