"""The preference round's non-LLM work — annotation export, annotation import, annotator scoring, human and
AI scores, DPO/KTO rows, the dataset export — on a round 10x larger than a baseline measured in the same
run. Everything there should scale linearly: the ratio of times should stay near the ratio of sizes.

    python bench/preference_scaling.py [--prompts 2000] [--factor 10]
"""
from __future__ import annotations

import argparse
import json
import random
import tempfile
import time

from refinery.llmdata.records import AspectRating, Judgement, JudgeVerdict
from refinery.preference import annotation
from refinery.preference.config import PairOptions
from refinery.preference.export import export_preferences
from refinery.preference.pairs import ai_scores, dpo_rows, kto_rows, merge
from refinery.preference.records import Candidate, ControlRecord, Prompt, Turn
from refinery.storage import data_folder


def _round(n: int, rng: random.Random):
    prompts = [Prompt(id=f"p{i}", messages=[Turn(role="user", content=f"Question {i} about topic {i % 17}?")],
                      source="collection", topic=f"t{i % 17}") for i in range(n)]
    candidates = []
    for p in prompts:
        for j in range(4):
            score = rng.randint(1, 5)
            verdict = JudgeVerdict(judge="j", aspects={"helpfulness": AspectRating(rating=score)})
            candidates.append(Candidate(id=f"{p.id}-{j}", prompt_id=p.id, text=f"Answer {j} to {p.id} " * 20,
                                        source="policy", sample=j,
                                        ai=Judgement(verdicts=[verdict], score=score, aspect_scores={})))
    controls = [ControlRecord(id=f"c{i}", prompt=f"Control {i}?", responses=["right", "wrong"], best=0)
                for i in range(max(2, n // 100))]
    return prompts, candidates, controls


def _annotate(rows: list[dict], mapping: dict, rng: random.Random) -> list[dict]:
    """Two annotators on a tenth of the records (and every control)."""
    out = []
    for row in rows:
        control = mapping["controls"].get(row["record_id"])
        if not control and rng.random() > 0.1:
            continue
        slots = [k for k in row if k.startswith("response_") and row[k]]
        for name in ("ann-a", "ann-b"):
            order = ([control["best"]] + [s for s in slots if s != control["best"]]) if control else \
                rng.sample(slots, len(slots))
            out.append({**row, "annotator": name, "status": "submitted", "ranking": " > ".join(order),
                        "acceptable": order[0]})
    return out


def run(n: int, work: str) -> dict[str, float]:
    rng = random.Random(n)
    prompts, candidates, controls = _round(n, rng)
    by_prompt: dict[str, list[Candidate]] = {}
    for c in candidates:
        by_prompt.setdefault(c.prompt_id, []).append(c)
    times = {}
    t = time.perf_counter()
    annotation.export_for_annotation(prompts, by_prompt, controls, data_folder(f"{work}/export"), seed="bench")
    times["annotation_export"] = time.perf_counter() - t
    with open(f"{work}/export/mapping.json") as f:
        mapping = json.load(f)
    filled = _annotate(annotation.read_rows(data_folder(f"{work}/export"), "annotation.jsonl"), mapping, rng)
    t = time.perf_counter()
    annotations, _ = annotation.read_annotations(filled, mapping)
    annotators = annotation.score_annotators(annotations, mapping)
    human = annotation.human_scores(annotations, mapping, {a for a, s in annotators.items() if not s["flagged"]})
    times["annotation_import"] = time.perf_counter() - t
    t = time.perf_counter()
    scores = merge(ai_scores(candidates, [], "ratings"), human)
    pmap, cmap = {p.id: p for p in prompts}, {c.id: c for c in candidates}
    dpo = dpo_rows(pmap, cmap, scores, PairOptions(strategy="all_above_margin"), "round-001")
    kto = kto_rows(pmap, candidates, scores, PairOptions(), "round-001")
    times["pairs"] = time.perf_counter() - t
    t = time.perf_counter()
    export_preferences(dpo, kto, data_folder(f"{work}/dataset"), 0.1, {"round": "round-001"})
    times["dataset_export"] = time.perf_counter() - t
    times["rows"] = len(dpo) + len(kto)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=2000)
    ap.add_argument("--factor", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        base, big = run(args.prompts, a), run(args.prompts * args.factor, b)
    print(f"preference round without LLM calls: {args.prompts} vs {args.prompts * args.factor} prompts, "
          "4 candidates each, 10% annotated twice")
    for key in ("annotation_export", "annotation_import", "pairs", "dataset_export"):
        print(f"  {key:<18} {base[key]:7.2f} s -> {big[key]:7.2f} s   x{big[key] / base[key]:.1f} "
              f"for x{args.factor} prompts")
    total = sum(v for k, v in big.items() if k != "rows"), sum(v for k, v in base.items() if k != "rows")
    print(f"  total              {total[1]:7.2f} s -> {total[0]:7.2f} s   x{total[0] / total[1]:.1f}; "
          f"rows {int(base['rows'])} -> {int(big['rows'])}")


if __name__ == "__main__":
    main()
