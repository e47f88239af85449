"""The quality classifier on the real-document benchmark (Debian manuals; bench/realdocs_build.py): embedding
throughput, the cost of labelling + training + filtering per 1,000 documents, the planted-rule F1, and how weak
the bundled embedded LLM's labels are.

1. Embedding throughput of the bundled all-MiniLM-L6-v2 (texts/s, wall and CPU) on the documents' excerpts,
   torch threads 1 and 2, no cache.
2. Planted rule: a scripted judge scores pages of the SQLite and Octave manuals 4-5 and every other page 0-2
   (truth.json's `package`); the classifier trained on the deduplicated documents must recover it on the
   held-out part (goal: binary F1 >= 0.9 at threshold 3).
3. Cost per 1,000 documents: LLM calls and prompt tokens (SmolLM2 tokenizer) of the labelling, CPU-s of
   sampling, embedding, training, and of the filter step (embed + score, model already loaded).
4. The embedded LLM (smollm2-135m-instruct) as the judge on `--llm-docs` extracted pages, half spam half good
   (truth.json's label): readable answers, label histogram, mean score of good vs spam pages, P(good > spam),
   agreement with the planted rule. Skipped with --llm-docs 0.

    HF_HUB_OFFLINE=1 python bench/quality_classifier.py --bench /work/wt-bench9/bench/out/realdocs [--llm-docs 40]
"""
from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from refinery.catalog.corpus import DEDUP, EXTRACT
from refinery.corpus.report import iter_jsonl
from refinery.embed.backends import SentenceTransformerBackend
from refinery.embed.embedder import open_embedder
from refinery.embed.options import EmbeddingOptions
from refinery.llm.cache import ResponseCache
from refinery.llm.client import LLMClient
from refinery.llm.types import LLMResponse, Usage
from refinery.llmdata.prompts import load_template
from refinery.quality import artifact, filter_step
from refinery.quality.annotate import TEMPLATE, label_documents
from refinery.quality.flow import deduplicated_drops, train_classifier
from refinery.quality.options import QualityClassifierOptions
from refinery.quality.sample import SampledDoc, excerpt
from refinery.storage import Layout

GOOD_PACKAGES = re.compile(r"sqlite|octave")


class PlantedJudge:
    """A Backend answering the planted rule for the excerpt in the prompt (scores jittered by id)."""

    name, supports_batch, max_concurrency = "scripted", False, 4

    def __init__(self, docs: list[dict], package: dict[str, str], max_chars: int):
        self.by_excerpt = {excerpt(d["text"], max_chars).strip(): d for d in docs}
        self.package = package

    def score(self, doc: dict) -> int:
        jitter = sum(doc["id"].encode()) % 6
        good = GOOD_PACKAGES.search(self.package.get(doc["id"], ""))
        return 4 + jitter % 2 if good else jitter % 3

    def complete(self, request):
        prompt = request.messages[0].content
        text = prompt.split("The extract:\n", 1)[1].rsplit("\n\nAfter examining the extract", 1)[0]
        answer = f" {self.score(self.by_excerpt[text.strip()])}\nJustification: planted rule."
        return LLMResponse(text=answer, stop_reason="end", model=request.model, backend=self.name,
                           usage=Usage(input_tokens=0, output_tokens=0))

    def complete_batch(self, requests):
        raise NotImplementedError

    def close(self):
        pass


def truth_packages(bench: Path) -> tuple[dict[str, str], dict[str, str]]:
    """doc id -> package, doc id -> label (good/spam/non_target_language); JSONL lines share their file's."""
    docs = json.loads((bench / "truth.json").read_text())["documents"]
    return ({k: v.get("package") or "" for k, v in docs.items()}, {k: v.get("label") or "" for k, v in docs.items()})


def lookup(table: dict[str, str], doc_id: str) -> str:
    return table.get(doc_id, table.get(doc_id.split("#", 1)[0], ""))


def copy_run(bench: Path, run: str, root: Path) -> Layout:
    """The run's deduplicated (and extracted) documents under a scratch root, with their stage markers."""
    layout = Layout(str(root))
    for drop_dir in sorted((bench / "runs" / run / "corpus").iterdir()):
        if drop_dir.name.startswith("_") or not (drop_dir / "deduplicated").is_dir():
            continue
        for spec in (DEDUP, EXTRACT):
            shutil.copytree(drop_dir / spec.output, Path(spec.output_uri(layout, drop_dir.name)))
            marker = drop_dir / "_state" / "markers" / f"{spec.name}.json"
            layout.write_json(spec.marker_uri(layout, drop_dir.name), json.loads(marker.read_text()))
    return layout


def throughput(texts: list[str], threads: int) -> dict:
    backend = SentenceTransformerBackend(threads=threads)
    t0 = time.perf_counter()
    backend.embed(texts[:2])
    load = time.perf_counter() - t0
    t1, c1 = time.perf_counter(), time.process_time()
    backend.embed(texts)
    wall, cpu = time.perf_counter() - t1, time.process_time() - c1
    return {"threads": threads, "texts": len(texts), "load_s": round(load, 2), "wall_s": round(wall, 2),
            "cpu_s": round(cpu, 2), "texts_per_s": round(len(texts) / wall, 1),
            "texts_per_cpu_s": round(len(texts) / cpu, 1), "cpu_s_per_1000": round(1000 * cpu / len(texts), 1)}


def prompt_tokens(texts: list[str]) -> list[int]:
    from tokenizers import Tokenizer

    from refinery.tokenize import resolve_tokenizer

    tok = Tokenizer.from_file(resolve_tokenizer("default"))
    template = load_template(TEMPLATE)
    out = []
    for text in texts:
        system, user_text, prefill = template.render(text=text)
        out.append(sum(len(tok.encode(part).ids) for part in (system, user_text, prefill) if part))
    return out


def filter_cost(layout: Layout, version: str, docs: list[dict], batch_size: int) -> dict:
    from datatrove.data import Document

    filter_step._LOADED.clear()
    step = filter_step.QualityClassifierFilter(layout.root, version, 3.0, EmbeddingOptions(), 3000, batch_size)
    step.filter_batch([Document(text=docs[0]["text"], id="warm")])  # loads the artifact and the model
    batch = [Document(text=d["text"], id=d["id"], metadata={}) for d in docs]
    t0, c0 = time.perf_counter(), time.process_time()
    kept = list(step.run(iter(batch)))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"documents": len(batch), "kept": len(kept), "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "cpu_s_per_1000": round(1000 * cpu / len(batch), 1)}


def embedded_judge(layout: Layout, bench: Path, run: str, n: int, packages: dict, labels: dict, seed: int) -> dict:
    """The bundled 135M model as the judge on n extracted pages, half spam, half good."""
    from resources.llm import LLMResource

    pages = [d for drop in sorted((bench / "runs" / run / "corpus").glob("2026-*"))
             for d in iter_jsonl(layout.at(str(drop / "extracted")))]
    rng = random.Random(seed)
    spam = [d for d in pages if lookup(labels, d["id"]) == "spam"]
    good = [d for d in pages if lookup(labels, d["id"]) == "good"]
    chosen = rng.sample(spam, min(n // 2, len(spam))) + rng.sample(good, n - min(n // 2, len(spam)))
    docs = [SampledDoc(d["id"], "", d["metadata"].get("source", ""), d["metadata"].get("format", ""),
                       excerpt(d["text"], 3000)) for d in chosen]
    resource = LLMResource(backend="embedded")
    client = resource.client(layout)
    t0 = time.perf_counter()
    got, counts = label_documents(docs, client, resource.default_model())
    wall = time.perf_counter() - t0
    client.finish()
    kind = {d.id: lookup(labels, d.id) for d in docs}
    scores = {g.doc.id: g.score for g in got}
    good_s = [s for i, s in scores.items() if kind[i] == "good"]
    spam_s = [s for i, s in scores.items() if kind[i] == "spam"]
    pairs = [(g > s) + 0.5 * (g == s) for g in good_s for s in spam_s]
    planted = [(s >= 3) == bool(GOOD_PACKAGES.search(lookup(packages, i))) for i, s in scores.items() if kind[i] == "good"]
    ledger = client.ledger("quality_labels").summary()
    return {"documents": len(docs), "spam": sum(k == "spam" for k in kind.values()), "readable": len(got),
            "unparsable": counts["unparsable"], "failures": counts["failures"],
            "histogram": dict(sorted(Counter(scores.values()).items())),
            "mean_good": round(float(np.mean(good_s)), 2) if good_s else None,
            "mean_spam": round(float(np.mean(spam_s)), 2) if spam_s else None,
            "p_good_above_spam": round(float(np.mean(pairs)), 3) if pairs else None,
            "planted_rule_agreement": f"{sum(planted)}/{len(planted)}",
            "wall_s": round(wall, 1), "wall_s_per_label": round(wall / max(1, ledger["calls"]), 2),
            "output_tokens_per_label": round(ledger["output_tokens"] / max(1, ledger["calls"]), 1), "llm": ledger}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench", default="bench/out/realdocs", type=Path)
    parser.add_argument("--run", default="default", help="the runs/<name> whose deduplicated documents are used")
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--test-fraction", type=float, default=0.2)
    parser.add_argument("--llm-docs", type=int, default=40, help="pages labelled by the embedded LLM (0: skip)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--root", type=Path, help="scratch storage root kept after the run (LLM and embedding "
                                                  "caches: a rerun pays nothing twice); default a temporary one")
    parser.add_argument("--only-llm", action="store_true", help="only the embedded-LLM label check")
    args = parser.parse_args()
    packages, labels = truth_packages(args.bench)
    report: dict = {}
    with tempfile.TemporaryDirectory(prefix="quality-bench-") as tmp:
        root = args.root or Path(tmp) / "root"
        layout = Layout(str(root)) if (root / "corpus").is_dir() else copy_run(args.bench, args.run, root)
        if args.only_llm:
            print(json.dumps(embedded_judge(layout, args.bench, args.run, args.llm_docs, packages, labels, args.seed),
                             indent=1))
            return
        drops = deduplicated_drops(layout, sorted(p.name for p in (root / "corpus").iterdir()))
        docs = [d for uri in drops.values() for d in iter_jsonl(layout.at(uri))]
        texts = [excerpt(d["text"], 3000) for d in docs]
        report["documents"] = len(docs)
        report["embedding_throughput"] = [throughput(texts, 2), throughput(texts[:300], 1)]
        print(json.dumps(report["embedding_throughput"]), flush=True)

        options = QualityClassifierOptions(sample_size=args.sample, test_fraction=args.test_fraction, seed=args.seed)
        judge = PlantedJudge(docs, {d["id"]: lookup(packages, d["id"]) for d in docs}, options.max_chars)
        client = LLMClient(judge, ResponseCache(layout.at(layout.llm_cache())))
        card = train_classifier(layout, drops, options, client, "planted-judge", open_embedder(EmbeddingOptions(), layout))
        held = card["held_out"]
        tokens = prompt_tokens(texts)
        labelled = card["labelling"]["labelled"]
        report["planted_rule"] = {
            "labelled": labelled, "held_out": held["n"], "held_out_positives": held["held_out_positives"],
            "binary_f1": held["binary_f1"], "binary_precision": held["binary_precision"],
            "binary_recall": held["binary_recall"], "accuracy": held["accuracy"], "macro_f1": held["macro_f1"],
            "label_histogram": card["label_histogram"], "confusion_matrix": held["confusion_matrix"]}
        cpu = card["cpu_seconds"]
        report["cost_per_1000"] = {
            "llm_calls": round(1000 * card["labelling"]["llm"]["calls"] / card["labelling"]["requested"]),
            "prompt_tokens": round(1000 * float(np.mean(tokens))), "prompt_tokens_per_doc_p50": int(np.median(tokens)),
            "prompt_tokens_per_doc_max": int(max(tokens)),
            "cpu_s_sample": round(1000 * cpu["sample"] / report["documents"], 2),
            "cpu_s_embed": round(1000 * cpu["embed"] / labelled, 1),
            "cpu_s_train": round(1000 * cpu["train"] / labelled, 2),
        }
        print(json.dumps({k: report[k] for k in ("planted_rule", "cost_per_1000")}), flush=True)
        report["filter"] = filter_cost(layout, card["version"], docs, 64)
        report["cost_per_1000"]["cpu_s_filter"] = report["filter"]["cpu_s_per_1000"]
        report["artifact_files"] = sorted(p.name for p in Path(artifact.version_uri(layout, card["version"])).iterdir())
        print(json.dumps({k: report[k] for k in ("planted_rule", "cost_per_1000", "filter")}), flush=True)
        if args.llm_docs:
            report["embedded_llm"] = embedded_judge(layout, args.bench, args.run, args.llm_docs, packages, labels,
                                                    args.seed)
    print(json.dumps(report, indent=1))
    r = report["planted_rule"]
    tp_ish = f"{r['held_out_positives']} positives of {r['held_out']} held-out"
    print(f"\nplanted rule: held-out binary F1 {r['binary_f1']} ({tp_ish}), accuracy {r['accuracy']}, "
          f"macro-F1 {r['macro_f1']}; goal F1 >= 0.9: {'met' if r['binary_f1'] >= 0.9 else 'NOT met'}")
    for t in report["embedding_throughput"]:
        print(f"embedding: {t['texts_per_s']} texts/s with {t['threads']} torch threads ({t['texts']} texts, "
              f"{t['cpu_s_per_1000']} CPU-s per 1,000)")
    print("per 1,000 documents:", json.dumps(report["cost_per_1000"]))


if __name__ == "__main__":
    main()
