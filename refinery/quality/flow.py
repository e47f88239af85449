"""Training the quality classifier from the drops deduplicated so far: sample -> LLM labels -> embeddings ->
head -> held-out metrics -> versioned artifact. The version is derived from every input (the drops' dedup
fingerprints, sampling, label model, prompt, embedding model, head), so an unchanged corpus reuses its
artifact; a killed run pays for no label twice (LLM cache) and embeds no text twice (embedding cache)."""
from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timezone

import numpy as np

from refinery.catalog.corpus import DEDUP
from refinery.embed.embedder import Embedder
from refinery.llm.client import LLMClient
from refinery.llmdata.prompts import load_template
from refinery.quality import artifact
from refinery.quality.annotate import LEDGER, TEMPLATE, label_documents
from refinery.quality.options import QualityClassifierOptions
from refinery.quality.sample import sample_documents
from refinery.quality.train import fit, metrics, split
from refinery.stage import fingerprint
from refinery.storage import Layout

ASSET = "quality_classifier"
TRAINING_KEYS = ("sample_size", "seed", "stratify_by", "max_chars", "temperature", "max_tokens", "head", "C",
                 "test_fraction", "threshold")
WEAK_LABELS = ("labels from the bundled embedded model (a 135M-parameter instruct model) are weak: it barely "
               "follows the rubric, so treat this classifier as a test of the machinery, not a quality signal; "
               "label with a capable model (REFINERY_LLM=anthropic/openai/sagemaker) for a real filter")


def deduplicated_drops(layout: Layout, drops: list[str]) -> dict[str, str]:
    """drop -> URI of its deduplicated documents, for the drops whose dedup stage has completed."""
    return {d: DEDUP.output_uri(layout, d) for d in drops if DEDUP.fingerprint_in(layout, d)}


def training_version(layout: Layout, drops: dict[str, str], options: QualityClassifierOptions, model: str,
                     embedding_model_id: str) -> str:
    return fingerprint(ASSET, {d: DEDUP.fingerprint_in(layout, d) for d in sorted(drops)},
                       {k: getattr(options, k) for k in TRAINING_KEYS}, model, load_template(TEMPLATE).ref,
                       embedding_model_id)[:12]


def train_classifier(layout: Layout, drops: dict[str, str], options: QualityClassifierOptions, client: LLMClient,
                     model: str, embedder: Embedder) -> dict:
    """The artifact's card (+ "reused_previous_output"); trains only when this version has no complete card."""
    if not drops:
        raise RuntimeError("no deduplicated drop yet: materialise deduplicated_documents for a drop first")
    version = training_version(layout, drops, options, model, embedder.model_id)
    card = artifact.read_card(layout, version)
    if card and card.get("complete"):
        layout.write_json(layout.model(artifact.NAME, "latest.json"), {"version": version})
        return {**card, "reused_previous_output": True}
    cpu0, t0 = time.process_time(), time.perf_counter()
    docs, sampling = sample_documents(layout, drops, options.sample_size, options.seed, options.stratify_by,
                                      options.max_chars)
    cpu_sample = time.process_time() - cpu0
    labels, labelling = label_documents(docs, client, model, options.temperature, options.max_tokens)
    ledger = client.ledger(LEDGER)
    lost = labelling["requested"] - labelling["labelled"]
    if labelling["requested"] and lost / labelling["requested"] > options.max_failure_share:
        raise RuntimeError(f"quality labels: {lost} of {labelling['requested']} answers failed or had no readable "
                           f"score ({labelling['unparsable']} unparsable, failures {labelling['failures']}), over "
                           f"max_failure_share {options.max_failure_share}; a rerun resends only what failed"
                           + ("; the embedded model rarely answers in the format (bench/quality_classifier.py: 14 of "
                              "40 readable): label with a capable model" if getattr(client.backend, "name", "") ==
                              "embedded" else ""))
    if len(labels) < options.min_labels:
        raise RuntimeError(f"quality labels: {len(labels)} usable labels, fewer than min_labels "
                           f"{options.min_labels} (sampled {len(docs)} documents)")
    cpu1 = time.process_time()
    vectors = embedder.embed([label.doc.text for label in labels])
    cpu_embed = time.process_time() - cpu1
    y = np.array([label.score for label in labels], dtype=int)
    cpu2 = time.process_time()
    train_idx, test_idx = split(y, options.test_fraction, options.seed)
    head = fit(vectors[train_idx], y[train_idx], options.head, options.C, options.seed)
    held_out = metrics(head, vectors[test_idx], y[test_idx], options.threshold)
    cpu_train = time.process_time() - cpu2
    complete = not ledger.retry_pending and not ledger.budget_skipped
    card = {
        "version": version, "artifact": layout.relative(artifact.version_uri(layout, version)), "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "complete": complete,  # False: some labels are to be retried; the next run trains this version again
        "embedding_model_id": embedder.model_id, "embedding_dim": int(vectors.shape[1]),
        "label_model": model, "label_backend": getattr(client.backend, "name", ""),
        "prompt_template": labelling["template"], "max_chars": options.max_chars,
        "training": {k: getattr(options, k) for k in TRAINING_KEYS},
        "drops": {d: DEDUP.fingerprint_in(layout, d) for d in sorted(drops)},
        "sampling": sampling | {"sampled": len(docs)},
        "labelling": labelling | {"llm": ledger.summary()},
        "label_histogram": {str(s): int(n) for s, n in sorted(Counter(y.tolist()).items())},
        "train_size": int(len(train_idx)),
        "held_out": held_out,
        "cpu_seconds": {"sample": round(cpu_sample, 3), "embed": round(cpu_embed, 3), "train": round(cpu_train, 3)},
        "embedding": embedder.stats.as_dict(),
        "seconds": round(time.perf_counter() - t0, 3),
    }
    if card["label_backend"] == "embedded":
        card["warning"] = WEAK_LABELS
    rows = [{"id": label.doc.id, "drop": label.doc.drop, "source": label.doc.source, "format": label.doc.format,
             "score": label.score, "split": "train"} for label in labels]
    for i in test_idx:
        rows[i]["split"] = "held_out"
    artifact.save(layout, version, head, card, rows)
    return {**card, "reused_previous_output": False}
