"""The `quality_classifier` filter in the corpus filter stage: off by default (and then invisible to the
stage's fingerprint), loading the latest or a given artifact, dropping what the classifier scores under the
threshold with its reason, a score histogram in the stage summary; config errors refused before any run."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from refinery.catalog.corpus import EXTRACT, FILTER
from refinery.config_check import check_file
from refinery.corpus import flow
from refinery.corpus.config import CorpusConfig
from refinery.corpus.report import iter_jsonl
from refinery.embed.embedder import open_embedder
from refinery.embed.options import EmbeddingOptions
from refinery.filters.options import FilterOptions
from refinery.llm.cache import ResponseCache
from refinery.llm.client import LLMClient
from refinery.quality import filter_step
from refinery.quality.filter_step import REASON, QualityClassifierFilter
from refinery.quality.flow import deduplicated_drops, train_classifier
from refinery.quality.options import QualityClassifierOptions
from refinery.runners import local_runner
from refinery.stage import fingerprint
from refinery.storage import Layout
from tests.fakes.scripted import ScriptedBackend
from tests.quality.conftest import GOOD, PlantedJudge

DROP = "2026-01-b"
TRAINING = QualityClassifierOptions(sample_size=200, test_fraction=0.3)


def train(layout: Layout, pages, **update) -> dict:
    client = LLMClient(ScriptedBackend(PlantedJudge(pages)), ResponseCache(layout.at(layout.llm_cache())))
    return train_classifier(layout, deduplicated_drops(layout, ["2026-01-a", DROP]), TRAINING.model_copy(update=update),
                            client, "fake-judge", open_embedder(EmbeddingOptions(), layout))


@pytest.fixture
def extracted(layout, realdocs_root) -> Layout:
    """`layout` with drop 2026-01-b extracted (copied from the session's extraction, marker included)."""
    source = Layout(str(realdocs_root))
    shutil.copytree(Path(EXTRACT.output_uri(source, DROP)), Path(EXTRACT.output_uri(layout, DROP)))
    layout.write_json(EXTRACT.marker_uri(layout, DROP), source.read_json(EXTRACT.marker_uri(source, DROP)))
    return layout


def corpus(layout: Layout, **quality) -> flow.Corpus:
    # the rule-based filters off: what is dropped here is the classifier's doing
    off = {name: {"enabled": False} for name in ("metadata", "language", "gopher_quality", "gopher_repetition",
                                                  "c4_quality", "bad_words", "pii")}
    config = CorpusConfig(filters=FilterOptions.model_validate({**off, "quality_classifier": quality}))
    return flow.Corpus(layout, config, local_runner(workers=1), "unused", embeddings=EmbeddingOptions())


def test_off_by_default_and_invisible_to_the_fingerprint(extracted):
    options = FilterOptions()
    assert not options.quality_classifier.enabled
    c = flow.Corpus(extracted, CorpusConfig(), local_runner(workers=1), "unused")
    # the filter stage's fingerprint as it was before the classifier existed: drops filtered then are not redone
    before = hashlib.sha256(json.dumps({"filters": options.model_dump(mode="json", exclude={"quality_classifier"}),
                                        "tasks": 2}, sort_keys=True).encode()).hexdigest()
    upstream = EXTRACT.fingerprint_in(extracted, DROP)
    assert flow.filter_fingerprint(c, DROP) == fingerprint(FILTER.name, upstream, before, "documents")
    # training settings never change the filter's fingerprint; the switch does
    training_only = flow.Corpus(extracted, CorpusConfig(filters=FilterOptions.model_validate(
        {"quality_classifier": {"sample_size": 50, "label_model": "x"}})), local_runner(workers=1), "unused")
    assert flow.filter_fingerprint(training_only, DROP) == flow.filter_fingerprint(c, DROP)


def test_enabled_without_a_trained_model_says_what_to_do(extracted):
    with pytest.raises(RuntimeError, match="materialise the quality_classifier asset"):
        flow.filter_documents(corpus(extracted, enabled=True), DROP)


def test_the_filter_drops_what_the_classifier_scores_low(extracted, pages):
    card = train(extracted, pages)
    result = flow.filter_documents(corpus(extracted, enabled=True, threshold=3.0), DROP)
    s = result.summary
    assert s["quality_classifier"] == card["version"]
    kept = list(iter_jsonl(extracted.at(FILTER.output_uri(extracted, DROP))))
    dropped = list(iter_jsonl(extracted.at(extracted.dropped(DROP, FILTER.name, "quality_classifier"))))
    assert kept and dropped and s["drops_by_filter"] == {"quality_classifier": len(dropped)}
    assert all(d["metadata"]["quality_score"] >= 3 for d in kept)
    assert all(d["metadata"]["quality_score"] < 3 and d["metadata"]["filter_reason"] == REASON for d in dropped)
    assert s["drops_by_reason"].get(REASON) == len(dropped)
    assert sum(s["quality_scores"].values()) == len(kept) + len(dropped)
    assert set(s["quality_scores"]) == {"0-1", "1-2", "2-3", "3-4", "4-5"}
    from assets.corpus.metadata import stage_metadata  # where the UI shows the other filters' counts

    md = stage_metadata(result)
    assert md["quality_scores"].value == s["quality_scores"] and md["quality_classifier_version"].value == card["version"]
    # the classifier follows the planted rule on this drop (its pages were partly in the training sample)
    agree = sum(bool(GOOD.search(d["metadata"]["source"])) for d in kept) + \
        sum(not GOOD.search(d["metadata"]["source"]) for d in dropped)
    assert agree / (len(kept) + len(dropped)) >= 0.9
    # `refinery explain` shows the classifier's verdict and score for a dropped page
    from refinery.corpus.explain import explain

    entry = explain(corpus(extracted, enabled=True, threshold=3.0), dropped[0]["id"])["documents"][0]
    verdict = next(f for f in entry["filters"] if f["filter"] == "quality_classifier")
    assert verdict["verdict"] == "drop" and verdict["reason"] == REASON and verdict["scores"]["quality_score"] < 3
    assert entry["outcome"] == {"stage": "filter", "filter": "quality_classifier", "reason": REASON}
    # a stricter threshold or a newly trained model is a new filter fingerprint; the same ones are reused
    c = corpus(extracted, enabled=True, threshold=3.0)
    assert flow.filter_documents(c, DROP).skipped
    assert flow.filter_fingerprint(corpus(extracted, enabled=True, threshold=4.0), DROP) != result.fingerprint
    newer = train(extracted, pages, C=3.0)
    assert flow.filter_fingerprint(c, DROP) != result.fingerprint
    pinned = corpus(extracted, enabled=True, threshold=3.0, version=card["version"])
    assert newer["version"] != card["version"] and flow.filter_fingerprint(pinned, DROP) == result.fingerprint


def test_the_model_loads_once_per_process(extracted, pages):
    from datatrove.data import Document

    version = train(extracted, pages)["version"]
    filter_step._LOADED.clear()
    docs = [Document(text=d["text"], id=d["id"], metadata=dict(d["metadata"])) for d in pages[:6]]
    for rank in (0, 1):  # two tasks in one worker process: each has its own unpickled step
        step = QualityClassifierFilter(extracted.root, version, 3.0, EmbeddingOptions(), 3000, batch_size=4)
        list(step.run(iter(docs), rank=rank))
    assert len(filter_step._LOADED) == 1


def test_a_model_trained_on_other_embeddings_is_refused(extracted, pages):
    version = train(extracted, pages)["version"]
    card_uri = f"{extracted.model('quality_classifier', version)}/card.json"
    extracted.write_json(card_uri, {**extracted.read_json(card_uri), "embedding_model_id": "openai-other"})
    filter_step._LOADED.clear()
    step = QualityClassifierFilter(extracted.root, version, 3.0, EmbeddingOptions(), 3000)
    with pytest.raises(RuntimeError, match="trained on openai-other embeddings"):
        step.filter_batch([])


@pytest.mark.parametrize("section,message", [
    ("{threshold: 7}", "filters.quality_classifier.threshold"),
    ("{version: newest}", "filters.quality_classifier.version"),
    ("{sample_size: 5}", "filters.quality_classifier.sample_size"),
    ("{test_fraction: 1.5}", "filters.quality_classifier.test_fraction"),
    ("{head: forest}", "filters.quality_classifier.head"),
    ("{enabeld: true}", "filters.quality_classifier.enabeld"),
])
def test_config_errors_are_refused(tmp_path, section, message):
    path = tmp_path / "c.yaml"
    path.write_text(f"filters:\n  quality_classifier: {section}\n")
    problems, config = check_file(path)
    assert config is None and len(problems) == 1 and message in problems[0], problems
