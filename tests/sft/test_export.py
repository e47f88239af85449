import json
import re

import datasets
import pyarrow.parquet as pq
import pytest
import yaml

from refinery.llmdata.dataset_files import split_of
from refinery.llmdata.judge import JudgeOptions, aggregate
from refinery.llmdata.records import AspectRating, Chunk, Dropped, JudgeVerdict, SFTRecord, Turn
from refinery.sft.export import ExportOptions, export_dataset
from refinery.sft.filter_options import SFTFilterOptions
from refinery.sft.review import export_for_review, import_reviews
from refinery.storage import data_folder

CHUNK = Chunk(id="c1", doc_id="d1", text="Refunds are paid within five business days.")
OPTIONS = JudgeOptions(judges=[{"model": "judge-a"}, {"model": "judge-b"}], aspects=["helpfulness", "truthfulness"])


def judgement(a: int, b: int):
    verdicts = [JudgeVerdict(judge=name, aspects={x: AspectRating(rating=r, rationale=f"{name} says {r}")
                                                  for x in OPTIONS.aspects}) for name, r in (("judge-a", a), ("judge-b", b))]
    return aggregate(verdicts, OPTIONS)


def rec(i: int, method: str = "grounded_qa", turns: int = 1, system: bool = False) -> SFTRecord:
    messages = [Turn(role="system", content="You are the support assistant.")] if system else []
    for t in range(turns):
        messages += [Turn(role="user", content=f"Question {i}.{t}: how are refunds paid?"),
                     Turn(role="assistant", content=f"Answer {i}.{t}: to the original card within five days.")]
    return SFTRecord(id=f"rec{i:02d}", method=method, messages=messages, model="gen-model",
                     chunk_id="c1" if method == "grounded_qa" else None, source="2026-11-01/refunds.html",
                     templates={"grounded_qa": "grounded_qa@v1:abc123"} if method == "grounded_qa" else
                     {"self_instruct_instructions": "self_instruct_instructions@v2:def456"},
                     params={"temperature": 0.7, "seed": i}, judgement=judgement(4 + i % 2, 4))


@pytest.fixture
def records():
    return ([rec(i) for i in range(6)] + [rec(6, "self_instruct"), rec(7, "conversation", turns=2),
                                          rec(8, "self_instruct", system=True)])


DROPPED = [Dropped(stage="filter", reason="near_duplicate"), Dropped(stage="filter", reason="pii"),
           Dropped(stage="filter", reason="pii"), Dropped(stage="judge", reason="below_threshold")]


def front_matter(path) -> dict:
    text = (path / "README.md").read_text()
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n", 2)[1])


def test_export_loads_with_datasets_in_both_configs(records, tmp_path):
    out = tmp_path / "dataset"
    counts = export_dataset(records, data_folder(str(out)), ExportOptions(test_fraction=0.2))
    assert counts["splits"]["messages"]["train"] + counts["splits"]["messages"]["test"] == 9
    assert counts["alpaca_skipped"] == 2  # the two-turn conversation and the record with a system prompt

    cache = str(tmp_path / "hf_cache")
    messages = datasets.load_dataset(str(out), cache_dir=cache)
    assert set(messages) == {"train", "test"} and len(messages["test"]) >= 1
    assert messages["train"].num_rows + messages["test"].num_rows == 9
    assert messages["train"].column_names == ["messages", "id", "method", "source", "chunk_id", "score"]
    row = next(r for split in messages.values() for r in split if r["id"] == "rec07")
    # TRL's conversational format: a list of {"role", "content"} dicts per row
    assert [m["role"] for m in row["messages"]] == ["user", "assistant", "user", "assistant"]
    assert row["messages"][0] == {"role": "user", "content": "Question 7.0: how are refunds paid?"}

    alpaca = datasets.load_dataset(str(out), "alpaca", cache_dir=cache)
    assert sum(s.num_rows for s in alpaca.values()) == 7
    first = next(r for s in alpaca.values() for r in s if r["id"] == "rec00")
    assert first == {"instruction": "Question 0.0: how are refunds paid?", "input": "",
                     "output": "Answer 0.0: to the original card within five days.", "id": "rec00"}
    # the alpaca split follows the record's split in the messages config
    assert {r["id"] for r in alpaca["test"]} <= {r["id"] for r in messages["test"]}


def test_parquet_and_jsonl_hold_the_same_rows(records, tmp_path):
    out = tmp_path / "dataset"
    export_dataset(records, data_folder(str(out)))
    files = sorted(out.glob("*/*.parquet"))
    assert {f.parent.name for f in files} == {"messages", "alpaca"}
    for path in files:
        parquet = pq.read_table(path).to_pylist()
        jsonl = [json.loads(line) for line in path.with_suffix(".jsonl").read_text().splitlines()]
        assert parquet == jsonl and parquet


def test_a_rebuilt_export_never_loads_stale_rows_from_the_datasets_cache(records, tmp_path):
    # datasets caches a local folder by its data_files patterns: content-hashed names keep exports apart
    first, second = tmp_path / "a" / "dataset", tmp_path / "b" / "dataset"
    export_dataset(records, data_folder(str(first)))
    export_dataset(records[:3], data_folder(str(second)))
    cache = str(tmp_path / "hf-cache")  # one cache for both, as on a user's machine
    rows = [datasets.load_dataset(str(out), cache_dir=cache)["train"].num_rows for out in (first, second)]
    assert rows[0] != rows[1]


def test_card_front_matter_is_hub_yaml_with_provenance(records, tmp_path):
    out = tmp_path / "dataset"
    export_dataset(records, data_folder(str(out)), ExportOptions(license="other"), dropped=DROPPED,
                   filter_options=SFTFilterOptions(), judge_options=OPTIONS, generation={"seed": 0})
    meta = front_matter(out)
    assert meta["task_categories"] == ["text-generation"] and meta["tags"] == ["synthetic", "sft"]
    assert meta["language"] == ["en"] and meta["size_categories"] == ["n<1K"] and meta["license"] == "other"
    configs = {c["config_name"]: c for c in meta["configs"]}
    assert configs["messages"]["default"] is True and "default" not in configs["alpaca"]
    paths = {f["split"]: f["path"] for f in configs["messages"]["data_files"]}
    assert set(paths) == {"train", "test"} and all(
        re.fullmatch(rf"messages/{split}-[0-9a-f]{{10}}\.parquet", path) for split, path in paths.items())
    assert all((out / path).is_file() for path in paths.values())

    p = meta["refinery"]
    assert p["records"] == 9 and p["alpaca_skipped"] == 2
    assert {m: s["records"] for m, s in p["methods"].items()} == {"grounded_qa": 6, "self_instruct": 2, "conversation": 1}
    assert p["methods"]["grounded_qa"]["templates"] == {"grounded_qa@v1:abc123": 6}
    assert p["methods"]["grounded_qa"]["params"]["temperature"] == {"0.7": 6}
    assert p["models"] == {"generation": ["gen-model"], "judges": ["judge-a", "judge-b"]}
    assert p["dropped"] == {"filter": {"near_duplicate": 1, "pii": 2}, "judge": {"below_threshold": 1}}
    assert p["filters"]["pii"]["action"] == "drop" and p["generation"] == {"seed": 0}
    judge = p["judge"]
    assert judge["threshold"] == 3.0 and judge["aspects"] == ["helpfulness", "truthfulness"]
    assert judge["templates"]["judge_helpfulness"].startswith("judge_helpfulness@v1:")
    assert judge["summary"]["score_histogram"] == {1: 0, 2: 0, 3: 0, 4: 5, 5: 4}  # 4.5 rounds half up
    assert judge["summary"]["agreement"]["judges"] == ["judge-a", "judge-b"]
    assert "# Synthetic SFT dataset" in (out / "README.md").read_text()


def test_split_is_a_stable_hash_of_the_id():
    ids = [f"id{i}" for i in range(2000)]
    split = split_of(ids, 0.1)
    assert 150 < sum(s == "test" for s in split.values()) < 250
    assert split_of(list(reversed(ids[:500])), 0.1) == {i: split[i] for i in ids[:500]}  # order and size free
    assert sorted(split_of(["a", "b"], 0.1).values()) == ["test", "train"]  # both splits from two records
    assert split_of(["a"], 0.1) == {"a": "train"} and set(split_of(ids[:50], 0).values()) == {"train"}


def test_review_round_trip_with_argilla_rows(records, tmp_path):
    folder = data_folder(str(tmp_path / "review"))
    export_for_review(records, folder, {"c1": CHUNK})
    settings = json.loads((tmp_path / "review/argilla/settings.json").read_text())
    assert [(f["name"], f["settings"]["type"]) for f in settings["fields"]] == [
        ("messages", "chat"), ("response", "text"), ("context", "text"), ("judge_notes", "text")]
    assert [(q["name"], q["settings"]["type"]) for q in settings["questions"]] == [
        ("quality", "rating"), ("decision", "label_selection"), ("corrected_response", "text")]
    assert [o["value"] for o in settings["questions"][0]["settings"]["options"]] == [1, 2, 3, 4, 5]
    assert {m["name"] for m in settings["metadata"]} == {"method", "score"} and settings["guidelines"]

    rows = [json.loads(line) for line in (tmp_path / "review/argilla/records.jsonl").read_text().splitlines()]
    by_id = {r["id"]: r for r in rows}
    first = by_id["rec00"]
    assert first["fields"]["messages"] == [{"role": "user", "content": "Question 0.0: how are refunds paid?"}]
    assert first["fields"]["context"] == CHUNK.text and first["responses"] == {}
    assert first["suggestions"]["quality"] == {"value": 4, "score": None, "agent": "judge-a, judge-b"}
    assert first["metadata"] == {"method": "grounded_qa", "score": 4.0}
    assert "context" not in by_id["rec06"]["fields"]  # self_instruct: no source chunk

    # what annotators send back (Record.to_dict shape, one row in the API's user-response shape) plus a stray id
    by_id["rec01"]["responses"] = {"decision": [{"value": "reject", "user_id": "u1", "status": "submitted"}],
                                   "quality": [{"value": 1, "user_id": "u1", "status": "submitted"}]}
    by_id["rec02"]["responses"] = {"decision": [{"value": "accept", "user_id": "u1", "status": "submitted"}],
                                   "quality": [{"value": 4, "user_id": "u1", "status": "submitted"}],
                                   "corrected_response": [{"value": "Refunds go back to the original card.",
                                                           "user_id": "u1", "status": "submitted"}]}
    by_id["rec03"]["responses"] = [{"user_id": "u2", "status": "discarded", "values": {}}]
    by_id["rec04"]["responses"] = [{"user_id": "u2", "status": "draft", "values": {"decision": {"value": "reject"}}}]
    reviewed = tmp_path / "reviewed.jsonl"
    reviewed.write_text("".join(json.dumps(r) + "\n" for r in [*rows, {"id": "gone", "responses": {}}]))

    kept, dropped, stats = import_reviews(records, str(reviewed))
    assert {d.record.id: d.reason for d in dropped} == {"rec01": "human_rejected", "rec03": "human_rejected"}
    assert len(kept) == 7 and "rec04" in {r.id for r in kept}  # a draft is not a decision
    edited = next(r for r in kept if r.id == "rec02")
    assert edited.output() == "Refunds go back to the original card."
    assert edited.review == {"status": "accepted", "edited": True, "quality": 4,
                             "original_response": "Answer 2.0: to the original card within five days."}
    assert stats == {"rows": 10, "unknown_ids": 1, "rejected": 2, "accepted": 1, "edited": 1, "rated": 2,
                     "changed": 3, "pending": 6}

    again, dropped_again, stats_again = import_reviews(kept, str(reviewed))
    assert again == kept and not dropped_again and stats_again["changed"] == 0


def test_review_round_trip_with_the_plain_file(records, tmp_path):
    folder = data_folder(str(tmp_path / "review"))
    export_for_review(records, folder)
    rows = [json.loads(line) for line in (tmp_path / "review/review.jsonl").read_text().splitlines()]
    assert rows[0]["status"] == "pending" and rows[0]["judge_score"] == 4.0
    assert "judge-a / helpfulness: 4 - judge-a says 4" in rows[0]["judge_notes"]
    rows[0].update(status="rejected", quality=1)
    rows[1].update(status="accepted", quality=5, corrected_response="A better answer.")
    kept, dropped, stats = import_reviews(records, rows)
    assert [d.record.id for d in dropped] == ["rec00"] and dropped[0].record.review["quality"] == 1
    assert kept[0].id == "rec01" and kept[0].output() == "A better answer." and kept[0].review["edited"]
    assert import_reviews(kept, rows)[0] == kept

    # the reviewed records export with their review counted in the card
    out = tmp_path / "dataset"
    export_dataset(kept, data_folder(str(out)))
    assert front_matter(out)["refinery"]["human_review"] == {"accepted": 1}


def test_export_writes_through_an_s3_data_folder(records, moto_s3):
    import boto3

    boto3.client("s3", endpoint_url=moto_s3).create_bucket(Bucket="acme-sft")
    folder = data_folder("s3://acme-sft/dataset", endpoint_url=moto_s3)
    export_dataset(records, folder)
    names = sorted(folder.list_files())
    assert names[0] == "README.md" and sorted(re.sub(r"-[0-9a-f]{10}\.", ".", n) for n in names[1:]) == sorted(
        f"{c}/{s}.{x}" for c in ("messages", "alpaca") for s in ("train", "test") for x in ("parquet", "jsonl"))
    train = next(n for n in names if n.startswith("messages/train-") and n.endswith(".parquet"))
    with folder.open(train, "rb") as f:
        assert pq.read_table(f).column_names[0] == "messages"
    with folder.open("README.md", "rt") as f:
        assert "config_name: messages" in f.read()


def test_push_to_hub_uploads_the_folder_as_a_private_dataset(records, tmp_path, monkeypatch):
    import huggingface_hub

    from refinery.llmdata.dataset_files import push_to_hub

    calls = []

    class FakeApi:
        def __init__(self, token):
            calls.append(("token", token))

        def create_repo(self, repo_id, **kw):
            calls.append(("create", repo_id, kw))

        def upload_folder(self, **kw):
            calls.append(("upload", kw))
            return type("Commit", (), {"commit_url": "https://hub/commit/1"})()

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    out = tmp_path / "dataset"
    export_dataset(records, data_folder(str(out)))
    assert push_to_hub(data_folder(str(out)), "acme/support-sft", token="hf_secret") == "https://hub/commit/1"
    assert calls[0] == ("token", "hf_secret")
    assert calls[1] == ("create", "acme/support-sft", {"repo_type": "dataset", "private": True, "exist_ok": True})
    assert calls[2][1]["folder_path"] == str(out) and calls[2][1]["repo_type"] == "dataset"
