"""The dedup stage over prepared drops: pass order, sentence spans, cluster output, earlier-drop rules."""
import random
import re
from pathlib import Path

import polars as pl
import pytest
from datatrove.data import Document
from datatrove.pipeline.writers import JsonlWriter

from refinery.catalog.corpus import DEDUP, FILTER
from refinery.corpus import flow
from refinery.corpus.config import CorpusConfig
from refinery.corpus.dedup_stage import dedup
from refinery.corpus.report import iter_jsonl
from refinery.runners import local_runner
from refinery.stage import Stage
from refinery.storage import Layout

SPAN = ("The backup job runs every night at two in the morning. It copies every database to the archive "
        "bucket in another region. Restores are tested on the first Monday of each month.")


WORDS = ("alarm audit backup budget contract customer deploy engineer incident invoice latency network "
         "policy pump quarter release report retention review sensor shift storage ticket valve").split()


def _prose(topic: str, n: int = 6) -> str:
    """Sentences unique to `topic`: unrelated documents must not look like near-duplicates."""
    rng = random.Random(topic)
    return " ".join(f"The {topic} team {' '.join(rng.sample(WORDS, 6))} today." for _ in range(n))


def _corpus(tmp_path, **dedup_opts) -> flow.Corpus:
    config = CorpusConfig.model_validate({"dedup": dedup_opts, "execution": {"tasks": 1}})
    return flow.Corpus(Layout(str(tmp_path / "out")), config, local_runner(1), str(tmp_path / "raw"))


def _filtered(corpus: flow.Corpus, drop: str, texts: list[str]) -> None:
    """Stands in for the filter stage: writes its output and its completion marker."""
    def body(stage):
        with JsonlWriter(FILTER.output_uri(corpus.layout, drop), output_filename="${rank}.jsonl.gz") as w:
            for i, text in enumerate(texts):
                w.write(Document(text=text, id=f"{drop}/doc{i}", metadata={"source": f"{drop}/doc{i}.txt"}), 0)
        return {}
    Stage(corpus.layout, drop, FILTER, f"test-{drop}-{len(texts)}", [FILTER.output_uri(corpus.layout, drop)]).run(body)


def _kept(corpus, drop):
    return {d["id"]: d["text"] for d in iter_jsonl(corpus.layout.at(DEDUP.output_uri(corpus.layout, drop)))}


def test_sentence_spans_removed_when_enabled(tmp_path):
    corpus = _corpus(tmp_path, sentences={"enabled": True, "n_sentences": 3, "min_doc_words": 10},
                     minhash={"enabled": False}, paragraphs=False)
    _filtered(corpus, "d1", [f"{_prose('storage')} {SPAN}", f"{SPAN} {_prose('network')}"])
    result = dedup(corpus, "d1", [])
    kept = _kept(corpus, "d1")
    assert SPAN in kept["d1/doc0"] and "Restores are tested" not in kept["d1/doc1"]
    assert "network team" in kept["d1/doc1"]
    assert list(result.summary["passes"]) == ["exact", "sentences"]


def test_clusters_and_earlier_drop_wins(tmp_path):
    corpus = _corpus(tmp_path)
    base = _prose("billing", 12)
    _filtered(corpus, "d1", [base, _prose("security", 12)])
    dedup(corpus, "d1", [])
    near = base.replace(" today.", " today!", 2)
    _filtered(corpus, "d2", [near, _prose("payroll", 12)])
    result = dedup(corpus, "d2", ["d1"])
    assert set(_kept(corpus, "d2")) == {"d2/doc1"}
    clusters = pl.read_parquet(tmp_path / "out" / "corpus" / "d2" / "minhash_clusters" / "clusters.parquet")
    row = clusters.filter(pl.col("id") == "d2/doc0").row(0, named=True)
    assert row["kept"] is False and row["earlier_drop"] is True
    assert result.summary["drops_by_reason"] == {"near_duplicate": 1}
    # the earlier drop is unaffected by the later one, and re-running it changes nothing
    dedup(corpus, "d1", [])
    assert set(_kept(corpus, "d1")) == {"d1/doc0", "d1/doc1"}


def test_refuses_when_an_earlier_drop_is_not_deduplicated(tmp_path):
    corpus = _corpus(tmp_path)
    _filtered(corpus, "d2", [_prose("payroll")])
    with pytest.raises(RuntimeError, match="not deduplicated yet"):
        dedup(corpus, "d2", ["d1"])


def test_single_task_passes_split_their_output_so_later_stages_stay_parallel(tmp_path):
    config = CorpusConfig.model_validate({"execution": {"tasks": 2, "split_output_bytes": 600}})
    corpus = flow.Corpus(Layout(str(tmp_path / "out")), config, local_runner(2), str(tmp_path / "raw"))
    _filtered(corpus, "d1", [_prose(f"topic{i}") for i in range(12)])
    dedup(corpus, "d1", [])
    scratch = list((tmp_path / "out" / "corpus" / "d1" / "_state" / "scratch").rglob("after_exact/*.jsonl.gz"))
    assert len(scratch) > 2  # the exact pass (one task) cut its output
    minhash_logs = list((tmp_path / "out" / "corpus" / "d1" / "_state" / "logs").rglob("minhash_filter/completions/*"))
    assert len(minhash_logs) == 2  # so MinHash ran on two tasks
    assert len(_kept(corpus, "d1")) == 12


def test_sentence_spans_from_earlier_drops_are_removed(tmp_path):
    corpus = _corpus(tmp_path, sentences={"enabled": True, "n_sentences": 3, "min_doc_words": 10},
                     minhash={"enabled": False}, paragraphs=False)
    _filtered(corpus, "d1", [f"{_prose('storage')} {SPAN}"])
    dedup(corpus, "d1", [])
    _filtered(corpus, "d2", [f"{_prose('network')} {SPAN}", _prose("payroll")])
    dedup(corpus, "d2", ["d1"])
    kept = _kept(corpus, "d2")
    assert "Restores are tested" not in kept["d2/doc0"] and "network team" in kept["d2/doc0"]
    assert SPAN in _kept(corpus, "d1")["d1/doc0"]
    index = list((tmp_path / "out" / "corpus" / "_index" / "sentences").iterdir())
    assert sorted(p.name for p in index) == ["d1..c4_index", "d2..c4_index"]


def test_semantic_pass_drops_a_reworded_copy_from_a_later_drop(tmp_path):
    from bench.semantic_dedup import VERBS

    names, pages = set(), []
    for p in sorted((Path(__file__).parent.parent / "data/realdocs/raw").rglob("*.md")):
        if "web" not in p.parts and p.name not in names and len(pages) < 5:
            names.add(p.name)
            pages.append(p.read_text())
    # a real page again with one paragraph in six left out and common verbs replaced
    paragraphs = [p for k, p in enumerate(pages[0].split("\n\n")) if k % 6 != 5]
    reworded = re.sub(r"\b(" + "|".join(VERBS) + r")\b", lambda m: VERBS[m.group(1)], "\n\n".join(paragraphs))
    corpus = _corpus(tmp_path, minhash={"enabled": False}, paragraphs=False, semantic={"enabled": True})
    _filtered(corpus, "d1", pages[:4])
    dedup(corpus, "d1", [])
    _filtered(corpus, "d2", [reworded, pages[4]])
    result = dedup(corpus, "d2", ["d1"])
    assert set(_kept(corpus, "d1")) == {f"d1/doc{i}" for i in range(4)}
    assert set(_kept(corpus, "d2")) == {"d2/doc1"}
    assert result.summary["drops_by_reason"] == {"semantic_duplicate": 1}
    assert list(result.summary["passes"]) == ["exact", "semantic"]
    (gone,) = iter_jsonl(corpus.layout.at(corpus.layout.dropped("d2", DEDUP.name, "semantic")))
    assert gone["id"] == "d2/doc0" and gone["metadata"]["semantic_similarity"] >= 0.9
    assert gone["metadata"]["semantic_duplicate_of"] == "d1/doc0"
