"""The explore tables built from what the flows wrote: every record once, the columns to colour and filter by,
and each record's provenance (chunk, source document, judge scores, why it was dropped)."""
from __future__ import annotations

import gzip
import json

from refinery.config import load_config
from refinery.explore.tables import build_table
from refinery.explore.targets import parse_target
from refinery.llmdata.records import Dropped, SFTRecord
from refinery.storage import Layout
from tests.explore.conftest import DROP


def _jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_sft_dataset_has_every_record_with_its_provenance(explore_root):
    records = {r["id"]: r for r in _jsonl(explore_root / "sft" / "dataset" / "records.jsonl")}
    chunks = {c["id"]: c for c in _jsonl(explore_root / "sft" / "chunks" / "records.jsonl")}
    table = build_table(Layout(str(explore_root)), parse_target("sft"), load_config(None))
    assert records and len(table) == len(records) == len(table.embed)
    frame = table.frame.set_index("id")
    assert set(frame.index) == set(records)
    assert set(frame["method"]) == {r["method"] for r in records.values()}
    assert set(frame["split"]) <= {"train", "test"} and set(frame["stage"]) == {"dataset"}
    for record_id, record in records.items():
        row = frame.loc[record_id]
        assert row["judge_score"] == record["judgement"]["score"]
        assert float(row["judge_band"]) == round(record["judgement"]["score"] * 2) / 2
        assert row["judge_truthfulness"] == record["judgement"]["aspect_scores"]["truthfulness"]
        assert record["messages"][-1]["content"] in row["text"] and row["text"].startswith("USER: ")
        if record.get("chunk_id"):  # grounded: the chunk and the document it came from, on the record
            chunk = chunks[record["chunk_id"]]
            assert row["chunk"] == chunk["text"] and row["doc_id"] == chunk["doc_id"]
            assert row["drop"] == DROP and row["source"].startswith(f"{DROP}/")
            assert json.loads(row["templates"]) == record["templates"]
    assert frame["chunk"].notna().any()  # the slice's documents grounded some records
    assert table.colour == "method" and {"method", "judge_score", "source"} <= set(table.charts)


def test_a_stage_shows_its_dropped_records_with_the_reason(root_copy):
    folder = root_copy / "sft" / "filtered" / "grounded_qa"
    kept = [SFTRecord.model_validate(r) for r in _jsonl(folder / "records.jsonl")]
    planted = kept[0].model_copy(update={"id": "dropped-near-dup"})
    with (folder / "dropped.jsonl").open("a") as f:
        f.write(Dropped(stage="filtered", reason="near_duplicate", detail="Jaccard 0.91", record=planted)
                .model_dump_json() + "\n")
        f.write(Dropped(stage="filtered", reason="llm_error", request={"x": 1}).model_dump_json() + "\n")
    table = build_table(Layout(str(root_copy)), parse_target("sft:filtered:grounded_qa"))
    frame = table.frame.set_index("id")
    assert frame.loc["dropped-near-dup", "status"] == "dropped: near_duplicate"
    assert frame.loc["dropped-near-dup", "drop_detail"] == "Jaccard 0.91"
    assert (frame["status"] == "kept").sum() == len(kept)
    assert set(frame["method"]) == {"grounded_qa"} and table.colour == "status"
    assert any("1 failed generations" in note for note in table.notes)  # no text, so not on the map
    every_method = build_table(Layout(str(root_copy)), parse_target("sft:filtered"))
    assert set(every_method.frame["method"]) > {"grounded_qa"}


def test_a_corpus_drop_has_every_deduplicated_document(explore_root):
    docs = []
    for path in sorted((explore_root / "corpus" / DROP / "deduplicated").glob("*.jsonl.gz")):
        with gzip.open(path, "rt") as f:
            docs += [json.loads(line) for line in f if line.strip()]
    for name in (DROP, f"corpus:{DROP}", "corpus"):
        table = build_table(Layout(str(explore_root)), parse_target(name))
        assert len(table) == len(docs) == len(table.embed)
    frame = table.frame.set_index("id")
    assert set(frame.index) == {d["id"] for d in docs}
    assert set(frame["drop"]) == {DROP}
    assert set(frame["format"]) >= {"html", "pdf", "docx"}  # the slice's formats, from the extractor's metadata
    for doc in docs:
        row = frame.loc[doc["id"]]
        assert row["source"] == doc["metadata"]["source"] and row["chars"] == len(doc["text"])
        assert row["file"].startswith(f"{DROP}/deduplicated/") and row["folder"]
    assert table.embed == [d["text"] for d in sorted(docs, key=lambda d: list(frame.index).index(d["id"]))]
    assert table.colour == "folder" and {"format", "drop", "chars"} <= set(table.charts)
    sample = build_table(Layout(str(explore_root)), parse_target(DROP), limit=5, seed=1)
    assert len(sample) == 5 and sample.frame["id"].tolist() == build_table(
        Layout(str(explore_root)), parse_target(DROP), limit=5, seed=1).frame["id"].tolist()
