"""SFT semantic dedup on the real Python FAQ questions (tests/data/semdedup): planted rewordings go, the
higher judged (or human-reviewed) record of a pair stays, distinct questions stay; the report for the card."""
import json
from collections import Counter
from pathlib import Path

import pytest

from bench.semantic_dedup import reword
from refinery.embed.embedder import open_embedder
from refinery.embed.options import EmbeddingOptions
from refinery.llmdata.records import Judgement, SFTRecord, Turn
from refinery.sft.filter_options import SemanticDedupOptions
from refinery.sft.semantic_dedup import semantic_dedup

QUESTIONS = json.loads((Path(__file__).parent.parent / "data/semdedup/python_faq_questions.json").read_text())


def rec(rid: str, question: str, score: float, method: str = "grounded_qa", review=None) -> SFTRecord:
    return SFTRecord(id=rid, method=method, messages=[Turn(role="user", content=question),
                                                      Turn(role="assistant", content="An answer.")],
                     judgement=Judgement(score=score, verdicts=[]), review=review)


@pytest.fixture(scope="module")
def embedder():
    return open_embedder(EmbeddingOptions(), None)


def test_planted_rewordings_go_and_distinct_questions_stay(embedder):
    questions = QUESTIONS["questions"]
    records, planted = [], 0
    for n, q in enumerate(questions):
        records.append(rec(f"q{n}", q, 3.0, method="self_instruct" if n % 2 else "grounded_qa"))
        if (r := reword(q)) is not None:
            records.append(rec(f"q{n}_r", r, 2.0))
            planted += 1
    kept, dropped, report = semantic_dedup(records, embedder, SemanticDedupOptions())
    # a question and its rewording are one group: right when exactly one of them stays
    left = Counter(r.id.removesuffix("_r") for r in kept)
    caught = sum(1 for r in records if r.id.endswith("_r") and left[r.id.removesuffix("_r")] == 1)
    removed = [q for n, q in enumerate(questions) if left[f"q{n}"] == 0]
    assert planted > 100 and caught >= 0.9 * planted, (caught, planted)
    assert len(removed) <= 0.02 * len(questions), removed
    assert all(d.reason == "semantic_duplicate" and d.stage == "semantic_dedup" for d in dropped)
    assert len(kept) + len(dropped) == len(records)
    assert report["dropped"] == len(dropped) and report["diversity"]["records"] == len(kept)
    assert set(report["diversity"]["by_method"]) == {"grounded_qa", "self_instruct"}
    assert 0 < report["diversity"]["mean_nn_distance"] < 1 and report["diversity"]["clusters"] >= 2


def test_better_judged_or_reviewed_record_stays(embedder):
    a = rec("a", "How do I convert a string to a number?", 2.0)
    b = rec("b", "What is the way to convert a string into a number?", 4.5)
    kept, dropped, _ = semantic_dedup([a, b], embedder, SemanticDedupOptions())
    assert [r.id for r in kept] == ["b"] and dropped[0].detail.startswith("of=b ")
    reviewed = a.model_copy(update={"review": {"status": "accepted"}})
    kept, _, _ = semantic_dedup([reviewed, b], embedder, SemanticDedupOptions())
    assert [r.id for r in kept] == ["a"]


def test_disabled_keeps_everything():
    records = [rec("a", "Same?", 1), rec("b", "Same?", 2)]
    kept, dropped, report = semantic_dedup(records, None, SemanticDedupOptions(enabled=False))
    assert kept == records and dropped == [] and report == {"enabled": False}


def test_clustered_search_finds_the_same_pairs(embedder):
    questions = QUESTIONS["questions"][:120]
    records = [rec(f"q{n}", q, 3.0) for n, q in enumerate(questions)]
    records += [rec(f"q{n}_r", r, 2.0) for n, q in enumerate(questions) if (r := reword(q))]
    exact = {d.record.id for d in semantic_dedup(records, embedder, SemanticDedupOptions())[1]}
    clustered = {d.record.id for d in semantic_dedup(records, embedder, SemanticDedupOptions(cluster_above=100))[1]}
    assert len(exact & clustered) >= 0.9 * len(exact)
