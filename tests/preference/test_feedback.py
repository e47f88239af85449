"""AI feedback: pairwise verdicts asked in both orders cancel position bias, ties stay ties, a jury votes;
UltraFeedback ratings reuse the SFT judge on every candidate, whatever its score."""
import pytest

from refinery.llm.client import LLMClient
from refinery.llmdata.judge import JudgeOptions, JudgeSpec
from refinery.preference.feedback import all_pairs, compare, pairwise_scores, pairwise_summary, parse_choice, rate
from refinery.preference.records import Candidate, Prompt, Turn
from tests.fakes.scripted import ScriptedBackend

PROMPT = Prompt(id="p", messages=[Turn(role="user", content="How many days of notice before long leave?")],
                source="collection")
GOOD = Candidate(id="good", prompt_id="p", text="Four weeks, through the HR portal.", source="policy")
BAD = Candidate(id="bad", prompt_id="p", text="Whenever you like.", source="policy", sample=1)
MEH = Candidate(id="meh", prompt_id="p", text="Some weeks.", source="reference")


def _responses(text: str) -> tuple[str, str]:
    a = text.split("Response A:\n", 1)[1].split("\n\nResponse B:", 1)[0]
    b = text.split("Response B:\n", 1)[1].split("\n\nWhich response", 1)[0]
    return a, b


def fair_judge(req) -> str:
    """Prefers the response that names the notice period; a tie when neither or both do."""
    a, b = _responses(req.messages[-1].content)
    good_a, good_b = "Four weeks" in a, "Four weeks" in b
    return " tie\nRationale: same." if good_a == good_b else (" A" if good_a else " B") + "\nRationale: specific."


def first_position_judge(req) -> str:
    return " A\nRationale: the first one reads better."


@pytest.mark.parametrize("text,choice", [("Better: A\nRationale: x", "a"), ("Better: **B**", "b"),
                                         ("Better: Tie", "tie"), ("Better: response B is better", "b"),
                                         ("Better: neither", "tie"), ("Better: Response A:\nOpen a ticket", "a"),
                                         ("Better: Responses are equally good", "tie"),
                                         ("Better: Response [B]", "b")])
def test_parse_choice(text, choice):
    assert parse_choice(text) == choice


def test_parse_choice_rejects_chatter():
    with pytest.raises(ValueError):
        parse_choice("Better: I think the second")


def test_both_orders_cancel_position_bias_and_a_fair_judge_wins():
    prompts = {"p": PROMPT}
    fair = LLMClient(ScriptedBackend(fair_judge))
    comparisons, failures = compare(prompts, [(GOOD, BAD), (BAD, GOOD), (BAD, MEH)], fair, [JudgeSpec()], "judge")
    assert not failures and [c.winner for c in comparisons] == ["a", "b", "tie"]
    assert all({v["order"] for v in c.votes} == {"ab", "ba"} for c in comparisons)
    biased = LLMClient(ScriptedBackend(first_position_judge))
    comparisons, _ = compare(prompts, [(GOOD, BAD), (BAD, GOOD)], biased, [JudgeSpec()], "judge")
    assert [c.winner for c in comparisons] == ["tie", "tie"]  # always "A" = no preference once swapped
    assert pairwise_summary(comparisons)["position_consistency"] == 0.0


def test_a_jury_votes_by_majority_and_reports_agreement():
    def responder(req):
        return first_position_judge(req) if req.temperature > 0 else fair_judge(req)
    judges = [JudgeSpec(model="j1"), JudgeSpec(model="j2"), JudgeSpec(model="j3", temperature=0.5)]
    comparisons, _ = compare({"p": PROMPT}, [(GOOD, BAD), (MEH, GOOD)], LLMClient(ScriptedBackend(responder)),
                             judges, "judge")
    assert [c.winner for c in comparisons] == ["a", "b"]
    assert comparisons[0].agreement == pytest.approx(2 / 3)
    summary = pairwise_summary(comparisons)
    assert summary["outcomes"] == {"a": 1, "b": 1} and summary["jury_alpha"] is not None


def test_unusable_verdicts_are_failures_not_ties():
    client = LLMClient(ScriptedBackend(lambda req: " maybe the first?"))
    comparisons, failures = compare({"p": PROMPT}, [(GOOD, BAD)], client, [JudgeSpec()], "judge")
    assert comparisons == [] and failures[0]["reason"] == "judge_failed" and failures[0]["pair"] == ["good", "bad"]


def test_pairwise_scores_and_all_pairs():
    pairs = all_pairs([GOOD, BAD, MEH, Candidate(id="x", prompt_id="other", text="t", source="policy")])
    assert len(pairs) == 3  # only within a prompt
    comparisons, _ = compare({"p": PROMPT}, pairs, LLMClient(ScriptedBackend(fair_judge)), [JudgeSpec()], "judge")
    scores = pairwise_scores(comparisons)
    assert scores["good"] == 5.0 and scores["bad"] == scores["meh"] == 2.0  # two losses... and a tie between them


def test_ratings_keep_every_candidate_with_its_judgement():
    def responder(req):
        return " 5\nRationale: precise." if "Four weeks" in req.messages[-1].content else " 1\nRationale: vague."
    rated, failures = rate({"p": PROMPT}, [GOOD, BAD], LLMClient(ScriptedBackend(responder)),
                           JudgeOptions(threshold=4.0), "judge")
    assert not failures
    assert {c.id: c.ai.score for c in rated} == {"good": 5.0, "bad": 1.0}  # the threshold does not drop "bad"
