"""Prompt sources (collection with topic quotas, production logs with thumbs, SFT held-out prompts) and the
dataset checks."""
import json

from refinery.llmdata.dataset_files import split_of
from refinery.llmdata.records import SFTRecord
from refinery.preference import checks
from refinery.preference.prompt_sources import pick_eval, pick_round, read_collection, read_logs, sft_test_prompts
from refinery.preference.records import Prompt, Turn
from refinery.storage import data_folder


def _prompt(i: int, topic: str | None) -> Prompt:
    return Prompt(id=f"p{i}", messages=[Turn(role="user", content=f"q{i}")], source="collection", topic=topic)


def test_collection_reads_jsonl_and_csv_and_counts_bad_rows(tmp_path):
    (tmp_path / "a.jsonl").write_text(json.dumps({"prompt": "How do I file leave?", "topic": "hr"}) + "\n" +
                                      json.dumps({"messages": [{"role": "user", "content": "Hi"},
                                                               {"role": "assistant", "content": "Hello"},
                                                               {"role": "user", "content": "Refunds?"}]}) + "\n" +
                                      json.dumps({"prompt": ""}) + "\n")
    # saved by Excel: a byte-order mark before the header
    (tmp_path / "b.csv").write_text("id,prompt,topic\nx1,What is the VPN address?,it\n", encoding="utf-8-sig")
    prompts, problems = read_collection(data_folder(str(tmp_path)), ["a.jsonl", "b.csv"])
    assert [p.text() for p in prompts] == ["How do I file leave?", "Refunds?", "What is the VPN address?"]
    assert prompts[2].id == "x1" and prompts[2].topic == "it" and len(prompts[1].messages) == 3
    assert list(problems) == ["a.jsonl:3: needs a non-empty `prompt` or `messages` ending with a user turn"]


def test_logs_become_prompts_and_labelled_candidates(tmp_path):
    rows = [{"prompt": "Laptop?", "response": "Use the IT portal.", "thumbs": "up"},
            {"prompt": "Laptop?", "response": "No idea.", "thumbs": -1},
            {"prompt": "VPN?", "response": "vpn.acme.example", "thumbs": None},
            {"prompt": "Bad", "response": "x", "thumbs": "maybe"}]
    (tmp_path / "l.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    prompts, candidates, problems = read_logs(data_folder(str(tmp_path)), ["l.jsonl"])
    assert len(prompts) == 2 and [c.log_thumbs for c in candidates] == [True, False, None]
    assert {c.source for c in candidates} == {"log"} and candidates[0].prompt_id == candidates[1].prompt_id
    assert len(problems) == 1 and "thumbs must be up/down" in next(iter(problems))


def test_round_picks_fresh_prompts_first_within_topic_quotas():
    pool = [_prompt(i, "billing" if i < 6 else "hr") for i in range(10)]
    first = pick_round(pool, set(), "round-001", 4, {"billing": 1}, seed=0)
    assert len(first) == 4 and sum(p.topic == "billing" for p in first) == 1
    second = pick_round(pool, {p.id for p in first}, "round-002", 4, {"billing": 1}, seed=0)
    # the one unused hr prompt and one unused billing prompt (quota 1), then hr prompts again
    fresh = [p for p in second if p.id not in {q.id for q in first}]
    assert len(second) == 4 and {p.topic for p in fresh} == {"hr", "billing"} and len(fresh) == 2
    assert pick_eval(pool, 3, seed=0) == pick_eval(list(reversed(pool)), 3, seed=0)  # order-independent


def test_sft_held_out_prompts_are_the_export_test_split():
    records = [SFTRecord(id=f"r{i}", method="grounded_qa", messages=[Turn(role="user", content=f"q{i}"),
                                                                      Turn(role="assistant", content=f"a{i}")])
               for i in range(30)]
    prompts = sft_test_prompts(records, 0.2)
    split = split_of([r.id for r in records], 0.2)
    assert {p.meta["sft_id"] for p in prompts} == {i for i, s in split.items() if s == "test"}
    assert all(p.messages[-1].role == "user" and p.meta["reference"].startswith("a") for p in prompts)


def _write(folder, config: str, rows: list[dict]) -> None:
    (folder / config).mkdir(parents=True)
    (folder / config / "train-x.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_checks_name_the_offending_rows(tmp_path):
    user, good, bad = ([{"role": "user", "content": "q"}], [{"role": "assistant", "content": "good"}],
                       [{"role": "assistant", "content": "bad"}])
    _write(tmp_path, "dpo", [
        {"id": "ok", "prompt_id": "p1", "prompt": user, "chosen": good, "rejected": bad, "score_chosen": 5, "score_rejected": 1},
        {"id": "same", "prompt_id": "p1", "prompt": user, "chosen": good, "rejected": good, "score_chosen": 5, "score_rejected": 1},
        {"id": "order", "prompt_id": "p2", "prompt": user, "chosen": good, "rejected": bad, "score_chosen": 2, "score_rejected": 3}])
    _write(tmp_path, "kto", [{"id": "k", "prompt_id": "p3", "prompt": user, "completion": good, "label": "yes"}])
    outcome = checks.trainer_layout(data_folder(str(tmp_path)))
    assert not outcome.passed and outcome.checked == 4
    assert [f["id"] for f in outcome.failures] == ["same", "order", "k"]
    eval_dir = tmp_path / "eval"
    eval_dir.mkdir()
    (eval_dir / "prompts.jsonl").write_text(_prompt(2, None).model_dump_json() + "\n")
    leak = checks.no_eval_leak(data_folder(str(tmp_path)), data_folder(str(eval_dir)))
    assert not leak.passed and [f["id"] for f in leak.failures] == ["order"]
