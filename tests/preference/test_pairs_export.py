"""Scores -> DPO pairs and KTO rows -> a dataset folder that `datasets` loads and TRL's DPO and KTO trainers
train on; human scores override AI scores; edited responses become chosen."""
from datasets import load_dataset

from refinery.llmdata.records import AspectRating, Judgement, JudgeVerdict
from refinery.preference.config import PairOptions
from refinery.preference.export import export_preferences
from refinery.preference.pairs import ai_scores, dpo_rows, kto_rows, merge
from refinery.preference.records import Candidate, Prompt, PromptScores, Turn
from refinery.storage import data_folder
from tests.preference.trl_check import train_one_step


def _judged(score: float) -> Judgement:
    verdict = JudgeVerdict(judge="j", aspects={"helpfulness": AspectRating(rating=int(score), rationale="r")})
    return Judgement(verdicts=[verdict], score=score, aspect_scores={"helpfulness": score})


PROMPTS = {f"p{i}": Prompt(id=f"p{i}", messages=[Turn(role="system", content="Be brief."),
                                                  Turn(role="user", content=f"Question {i}?")], source="collection")
           for i in range(6)}


def _candidates():
    out = []
    for pid in PROMPTS:
        for j, score in enumerate((5, 3, 1)):
            out.append(Candidate(id=f"{pid}-{j}", prompt_id=pid, text=f"Answer {j} to {pid}", source="policy",
                                 model="m", sample=j, ai=_judged(score)))
    out.append(Candidate(id="p0-log", prompt_id="p0", text="Logged answer", source="log", log_thumbs=False))
    return out


def test_pairs_strategies_and_margin():
    cands = _candidates()
    scores = ai_scores(cands, [], "ratings")
    by_id = {c.id: c for c in cands}
    best_worst = dpo_rows(PROMPTS, by_id, scores, PairOptions(strategy="best_vs_worst"), "round-001")
    assert len(best_worst) == 6 and {(r["score_chosen"], r["score_rejected"]) for r in best_worst} == {(5.0, 1.0)}
    row = best_worst[0]
    assert row["prompt"][-1] == {"role": "user", "content": "Question 0?"} and row["prompt"][0]["role"] == "system"
    assert row["messages"] == row["prompt"] + row["chosen"] and row["chosen"][0]["role"] == "assistant"
    every = dpo_rows(PROMPTS, by_id, scores, PairOptions(strategy="all_above_margin", margin=2.0), "round-001")
    assert len(every) == 18  # 5>3, 5>1, 3>1 per prompt, each gap >= 2
    assert len(dpo_rows(PROMPTS, by_id, scores, PairOptions(strategy="all_above_margin", margin=3.0), "r")) == 6


def test_human_scores_override_ai_and_edits_become_chosen():
    cands = _candidates()
    human = {"p1": PromptScores(prompt_id="p1", scores={"p1-0": 1.0, "p1-2": 5.0}, origin="human",
                                thumbs={"p1-0": False}, edited="A better answer than all.", annotators=["ann"])}
    scores = merge(ai_scores(cands, [], "ratings"), human)
    rows = dpo_rows(PROMPTS, {c.id: c for c in cands}, scores, PairOptions(), "round-001")
    p1 = [r for r in rows if r["prompt_id"] == "p1"]
    assert {(r["chosen"][0]["content"], r["rejected"][0]["content"], r["origin"]) for r in p1} == {
        ("Answer 2 to p1", "Answer 0 to p1", "human"), ("A better answer than all.", "Answer 0 to p1", "edited")}
    kto = kto_rows(PROMPTS, cands, scores, PairOptions(), "round-001")
    labels = {(r["prompt_id"], r["completion"][0]["content"]): (r["label"], r["origin"]) for r in kto}
    assert labels[("p1", "Answer 0 to p1")] == (False, "thumbs")  # the annotator's thumbs
    assert labels[("p0", "Logged answer")] == (False, "log_thumbs")  # the production user's
    assert labels[("p0", "Answer 0 to p0")] == (True, "ai_score")
    assert ("p0", "Answer 1 to p0") not in labels  # score 3: neither desirable nor undesirable
    assert labels[("p1", "A better answer than all.")] == (True, "edited")


def test_thumbs_make_pairs_where_scores_do_not():
    prompt = {"q": Prompt(id="q", messages=[Turn(role="user", content="Laptop?")], source="logs")}
    cands = [Candidate(id="up", prompt_id="q", text="Use the IT portal.", source="log", log_thumbs=True, ai=_judged(1)),
             Candidate(id="down", prompt_id="q", text="No idea.", source="log", log_thumbs=False, ai=_judged(1)),
             Candidate(id="gen", prompt_id="q", text="Buy one.", source="policy", ai=_judged(1))]
    rows = dpo_rows(prompt, {c.id: c for c in cands}, ai_scores(cands, [], "ratings"), PairOptions(), "r")
    assert [(r["chosen"][0]["content"], r["rejected"][0]["content"], r["origin"], r["score_chosen"],
             r["score_rejected"]) for r in rows] == [("Use the IT portal.", "No idea.", "thumbs", 5.0, 1.0)]
    scored = [c.model_copy(update={"ai": _judged(5)}) if c.id == "gen" else c for c in cands]
    rows = dpo_rows(prompt, {c.id: c for c in scored}, ai_scores(scored, [], "ratings"), PairOptions(), "r")
    assert [r["origin"] for r in rows] == ["ai"]  # scores that separate the answers come first


def test_export_loads_with_datasets_and_trains_with_trl(tmp_path):
    cands = _candidates()
    scores = ai_scores(cands, [], "ratings")
    dpo = dpo_rows(PROMPTS, {c.id: c for c in cands}, scores, PairOptions(strategy="all_above_margin"), "round-001")
    kto = kto_rows(PROMPTS, cands, scores, PairOptions(), "round-001")
    out = tmp_path / "dataset"
    counts = export_preferences(dpo, kto, data_folder(str(out)), 0.2, {"round": "round-001"})
    assert sum(counts["dpo"].values()) == 18 and counts["kto_labels"] == {"desirable": 6, "undesirable": 7}
    ds = load_dataset(str(out), "dpo")
    assert set(ds) == {"train", "test"}
    # every pair of one prompt is in one split: no prompt is both trained on and held out
    assert not {r["prompt_id"] for r in ds["train"]} & {r["prompt_id"] for r in ds["test"]}
    for column in ("prompt", "chosen", "rejected", "messages", "score_chosen", "score_rejected"):
        assert column in ds["train"].column_names
    kto_ds = load_dataset(str(out), "kto")
    assert {"prompt", "completion", "label"} <= set(kto_ds["train"].column_names)
    card = (out / "README.md").read_text()
    assert "config_name: dpo" in card and "round-001" in card
    assert train_one_step("dpo", ds["train"], tmp_path / "dpo") > 0
    assert train_one_step("kto", kto_ds["train"], tmp_path / "kto") > 0
    # TRL's ORPOTrainer applies the chat template itself and refuses the extra `messages` column
    assert train_one_step("orpo", ds["train"].remove_columns("messages"), tmp_path / "orpo") > 0


def test_a_truncated_answer_is_never_chosen():
    prompt = {"q": Prompt(id="q", messages=[Turn(role="user", content="Steps?")], source="collection")}
    cut = Candidate(id="a-cut", prompt_id="q", text="1. First, open the", source="policy", ai=_judged(5),
                    params={"truncated": True})
    ok = Candidate(id="b-ok", prompt_id="q", text="Open the portal.", source="policy", ai=_judged(4))
    bad = Candidate(id="c-bad", prompt_id="q", text="No.", source="policy", ai=_judged(1))
    cands = {c.id: c for c in (cut, ok, bad)}
    scores = ai_scores(list(cands.values()), [], "ratings")
    rows = dpo_rows(prompt, cands, scores, PairOptions(), "r")
    assert [(r["chosen"][0]["content"], r["rejected"][0]["content"]) for r in rows] == [("Open the portal.", "No.")]
    every = dpo_rows(prompt, cands, scores, PairOptions(strategy="all_above_margin"), "r")
    assert all(r["chosen"][0]["content"] != cut.text for r in every) and len(every) == 1
    kto = {r["completion"][0]["content"]: r["label"] for r in kto_rows(prompt, list(cands.values()), scores,
                                                                        PairOptions(), "r")}
    assert kto == {"Open the portal.": True, "No.": False}  # a cut-off answer is not a desirable example
