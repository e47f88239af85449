import pytest

from refinery.llm.client import LLMClient
from refinery.llm.types import LLMCallError, LLMRequest
from refinery.llmdata.agreement import jury_agreement, krippendorff_alpha, pairwise_agreement
from refinery.llmdata.judge import JudgeOptions, judge_records, judge_summary, parse_rating
from refinery.llmdata.records import Chunk, SFTRecord, Turn
from tests.fakes.scripted import ScriptedBackend

CHUNK = Chunk(id="c1", doc_id="d1", text="Unopened products can be returned within 30 days for a full refund.")
ASPECT_OF = {"follows the user's instruction": "instruction_following", "truthfulness": "truthfulness",
             "honesty": "honesty", "helpfulness": "helpfulness"}


def rec(id: str, chunk_id: str | None = "c1") -> SFTRecord:
    return SFTRecord(id=id, method="grounded_qa", chunk_id=chunk_id, messages=[
        Turn(role="user", content=f"[{id}] How long is the return window?"),
        Turn(role="assistant", content="You have 30 days to return unopened products.")])


def aspect(req: LLMRequest) -> str:
    return next(a for key, a in ASPECT_OF.items() if key in req.system)


def record_id(req: LLMRequest) -> str:
    return req.messages[0].content.split("[", 1)[1].split("]", 1)[0]


def scripted(ratings):
    """ratings(model, record id, aspect) -> the text after the "Rating:" prefill."""
    backend = ScriptedBackend(lambda r: ratings(r.model, record_id(r), aspect(r)))
    return backend, LLMClient(backend)


def test_single_judge_rates_every_aspect_with_a_rationale():
    backend, client = scripted(lambda m, i, a: f" {4 if a == 'truthfulness' else 5}\nRationale: fine for {a}.")
    judged, dropped = judge_records([rec("r1"), rec("r2", chunk_id=None)], client, JudgeOptions(), "judge-m", {"c1": CHUNK})
    assert not dropped and len(judged) == 2
    j = judged[0].judgement
    assert j.aspect_scores == {"instruction_following": 5, "truthfulness": 4, "honesty": 5, "helpfulness": 5}
    assert j.score == 4.75 and j.agreement is None and j.verdicts[0].judge == "judge-m"
    assert j.verdicts[0].aspects["honesty"].rationale == "fine for honesty."
    assert len(backend.calls) == 8  # one call per aspect and record
    assert all(r.prefill == "Rating:" and r.temperature == 0 and r.model == "judge-m" for r in backend.calls)
    truth = {record_id(r): r.messages[0].content for r in backend.calls if aspect(r) == "truthfulness"}
    assert CHUNK.text in truth["r1"] and "Source document" not in truth["r2"]  # groundedness only with a source


@pytest.mark.parametrize("text,rating,rationale", [
    ("Rating: 4\nRationale: good", 4, "good"),
    ("Rating: [2]\nRationale: weak", 2, "weak"),
    ("Rating: **5**/5\n**Rationale:** great", 5, "great"),
    ("Rating: 3.\nIt is fine.\nRating: 5", 3, "It is fine."),
])
def test_parse_rating_accepts_what_weak_models_write(text, rating, rationale):
    parsed = parse_rating(text)
    assert (parsed.rating, parsed.rationale) == (rating, rationale)


@pytest.mark.parametrize("text", ["Rating: 6", "Rating: 0", "Rating: 4.5", "Rating: four", "The answer is good"])
def test_parse_rating_rejects_out_of_scale(text):
    with pytest.raises(ValueError):
        parse_rating(text)


def test_garbage_is_repaired_once_then_judge_failed():
    def answer(req: LLMRequest) -> str | LLMCallError:
        i = record_id(req)
        if i == "down":
            return LLMCallError("server_error", "503")
        if "could not be used" in req.messages[-1].content:
            return " 4\nRationale: repaired." if i == "fixable" else "still no rating"
        return " great answer!" if aspect(req) == "honesty" and i != "ok" else " 4\nRationale: ok."

    client = LLMClient(ScriptedBackend(answer))
    judged, dropped = judge_records([rec("ok"), rec("fixable"), rec("hopeless"), rec("down")], client,
                                    JudgeOptions(), "m", {"c1": CHUNK})
    assert [r.id for r in judged] == ["ok", "fixable"]
    assert judged[1].judgement.verdicts[0].aspects["honesty"].rationale == "repaired."
    failed = {d.record.id: d for d in dropped}
    assert {d.reason for d in dropped} == {"judge_failed"} and set(failed) == {"hopeless", "down"}
    assert failed["hopeless"].detail.startswith("m/honesty: invalid_output")
    assert "server_error" in failed["down"].detail and failed["down"].record.judgement is None
    assert client.usage_summary()["judge:m"]["repaired"] == 1


def test_threshold_and_per_aspect_minimum():
    def answer(req):
        if record_id(req) == "weak_truth":
            return " 2\nRationale: x" if aspect(req) == "truthfulness" else " 5\nRationale: x"
        return f" {dict(low=2, fine=4)[record_id(req)]}\nRationale: x"

    client = LLMClient(ScriptedBackend(answer))
    options = JudgeOptions(threshold=3.0, min_aspect={"truthfulness": 3})
    judged, dropped = judge_records([rec("low"), rec("weak_truth"), rec("fine")], client, options, "m", {"c1": CHUNK})
    assert [r.id for r in judged] == ["fine"]
    below = {d.record.id: d for d in dropped}
    assert {d.reason for d in dropped} == {"below_threshold"}
    assert below["low"].detail == "score 2.00 < 3" and below["low"].record.judgement.score == 2
    assert below["weak_truth"].detail == "truthfulness 2 < 3"  # score 4.25 passes, the aspect does not


def test_two_judge_jury_agreement_matches_hand_computation():
    # helpfulness only: judge a rates (1, 2, 3), judge b (1, 3, 3).
    # Coincidences: o11 = 2, o23 = o32 = 1, o33 = 2; n1 = 2, n2 = 1, n3 = 3, n = 6.
    # interval: sum(o*d) = 2; sum(n_c n_k d) = 2*(2*1*1 + 2*3*4 + 1*3*1) = 58 -> alpha = 1 - 2 / (58/5) = 24/29.
    # ordinal:  d12 = (3 - 1.5)^2 = 2.25, d23 = (4 - 2)^2 = 4, d13 = (6 - 2.5)^2 = 12.25;
    #           sum(o*d) = 8; sum(n_c n_k d) = 2*(4.5 + 73.5 + 12) = 180 -> alpha = 1 - 8 / 36 = 7/9.
    given = {("a", "r1"): 1, ("a", "r2"): 2, ("a", "r3"): 3, ("b", "r1"): 1, ("b", "r2"): 3, ("b", "r3"): 3}
    backend, client = scripted(lambda m, i, a: f" {given[m, i]}\nRationale: -")
    options = JudgeOptions(judges=[{"model": "a"}, {"model": "b"}], aspects=["helpfulness"], threshold=1)
    judged, dropped = judge_records([rec("r1"), rec("r2"), rec("r3")], client, options, "default", {"c1": CHUNK})
    assert not dropped and {r.model for r in backend.calls} == {"a", "b"}
    assert [r.judgement.aspect_scores["helpfulness"] for r in judged] == [1, 2.5, 3]
    assert [r.judgement.agreement for r in judged] == [1.0, 0.0, 1.0]
    ordinal = jury_agreement(judged)
    assert ordinal["judges"] == ["a", "b"] and ordinal["records"] == 3
    assert ordinal["aspects"]["helpfulness"] == ordinal["overall"] == {"alpha": round(7 / 9, 4), "exact": round(2 / 3, 4),
                                                                        "within_1": 1.0}
    assert jury_agreement(judged, "interval")["overall"]["alpha"] == round(24 / 29, 4)
    assert set(client.usage_summary()) == {"judge:a", "judge:b"}  # cost per judge
    assert jury_agreement([rec("unjudged")]) is None


def test_krippendorff_published_example():
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": 4 coders, 12 units, missing values
    a = [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None]
    b = [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3]
    c = [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None]
    d = [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]
    units = list(zip(a, b, c, d))
    assert round(krippendorff_alpha(units, "ordinal"), 3) == 0.815
    assert round(krippendorff_alpha(units, "interval"), 3) == 0.849
    assert krippendorff_alpha([(3, 3), (3, 3)]) is None  # no variation: alpha undefined
    assert pairwise_agreement([(1, 2), (4, 4), (5, None)]) == {"exact": 0.5, "within_1": 1.0}


def test_summary_histogram_means_and_coverage():
    scores = {"r1": 5, "r2": 4, "r3": 1, "bad": None}
    client = LLMClient(ScriptedBackend(lambda r: f" {scores[record_id(r)] or '??'}\nRationale: x"))
    judged, dropped = judge_records([rec(i) for i in scores], client, JudgeOptions(), "m", {"c1": CHUNK})
    summary = judge_summary(judged, dropped)
    assert summary["score_histogram"] == {1: 0, 2: 0, 3: 0, 4: 1, 5: 1}
    assert summary["aspect_means"]["helpfulness"] == 4.5 and summary["mean_score"] == 4.5
    assert summary["dropped"] == {"below_threshold": 1, "judge_failed": 1}
    assert summary["coverage"] == 0.75 and summary["kept_coverage"] == 1.0 and summary["agreement"] is None


def test_configuration_errors_are_loud():
    with pytest.raises(ValueError, match="min_aspect"):
        JudgeOptions(aspects=["helpfulness"], min_aspect={"honesty": 3})
    client = LLMClient(ScriptedBackend(lambda r: " 5"))
    with pytest.raises(ValueError, match="judges must differ"):
        judge_records([rec("x")], client, JudgeOptions(judges=[{}, {"model": "m"}]), "m", {"c1": CHUNK})
    with pytest.raises(ValueError, match="source chunks not provided"):
        judge_records([rec("x")], client, JudgeOptions(), "m", {})
