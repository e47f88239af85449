import csv
import json
import re

import pytest

from refinery.preference.annotation import (export_for_annotation, human_scores, rank_scores, read_annotations,
                                            read_rows, score_annotators)
from refinery.preference.records import Annotation, Candidate, ControlRecord, Prompt, Turn
from refinery.storage import data_folder

QUALITY = "abc"  # candidate suffix order = true quality, best first


def prompts_and_candidates():
    prompts = [Prompt(id=f"p{i}", messages=[Turn(role="user", content=f"Question {i}?")], source="logs",
                      topic="billing" if i % 2 else None) for i in range(4)]
    prompts.append(Prompt(id="lonely", messages=[Turn(role="user", content="Only one answer?")], source="eval"))
    candidates = {p.id: [Candidate(id=f"{p.id}-{s}", prompt_id=p.id, text=f"Answer {s} to {p.id}",
                                   source="policy" if s == "a" else f"ref-{s}") for s in QUALITY]
                  for p in prompts[:4]}
    candidates["lonely"] = [Candidate(id="lonely-a", prompt_id="lonely", text="x", source="policy")]
    return prompts, candidates


CONTROLS = [ControlRecord(id="ctl-1", prompt="2+2?", responses=["5", "4", "22"], best=1),
            ControlRecord(id="ctl-2", prompt="Capital of France?", responses=["Paris", "Lyon"], best=0)]


@pytest.fixture
def exported(tmp_path):
    prompts, candidates = prompts_and_candidates()
    counts = export_for_annotation(prompts, candidates, CONTROLS, data_folder(str(tmp_path / "out")), seed="r1")
    return tmp_path / "out", counts


def load(path):
    return json.loads(path.read_text())


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_export_files_and_shapes(exported, tmp_path):
    out, counts = exported
    assert counts == {"records": 6, "controls": 2, "responses": 17, "skipped": 1}
    settings = load(out / "argilla/settings.json")
    assert set(settings) == {"guidelines", "fields", "questions", "metadata", "vectors", "allow_extra_metadata",
                             "distribution"}
    assert "response_2 > response_1 = response_3" in settings["guidelines"]
    assert [(f["name"], f["type"], f["required"]) for f in settings["fields"]] == [
        ("prompt", "chat", True), ("response_1", "text", True), ("response_2", "text", True),
        ("response_3", "text", False)]
    assert [(q["name"], q["settings"]["type"], q["required"]) for q in settings["questions"]] == [
        ("ranking", "ranking", True), ("rating_1", "rating", False), ("rating_2", "rating", False),
        ("rating_3", "rating", False), ("acceptable", "multi_label_selection", False),
        ("edited_response", "text", False)]
    assert [o["value"] for o in settings["questions"][0]["settings"]["options"]] == ["response_1", "response_2",
                                                                                     "response_3"]
    assert [o["value"] for o in settings["questions"][1]["settings"]["options"]] == [1, 2, 3, 4, 5]
    assert {m["name"]: m["settings"]["values"] for m in settings["metadata"]} == {"source": ["logs"],
                                                                                 "topic": ["billing"]}

    records = lines(out / "argilla/records.jsonl")
    mapping = load(out / "mapping.json")
    assert [r["id"] for r in records] == list(mapping["records"]) and "lonely" not in mapping["records"]
    first = next(r for r in records if r["id"] == "p0")
    assert first["fields"]["prompt"] == [{"role": "user", "content": "Question 0?"}]
    assert first["responses"] == {} and first["status"] == "pending" and first["metadata"] == {"source": "logs"}
    for r in records:  # the slot text is the mapped candidate's
        for s, cid in mapping["records"][r["id"]].items():
            assert r["fields"][s].startswith("Answer " + cid[-1]) if cid.startswith("p") else True
    # controls look like prompts: hashed ids, prompt-like metadata, interleaved; best slot known in the mapping
    assert set(mapping["controls"]) == {r["id"] for r in records if not r["id"].startswith("p")}
    assert all(re.fullmatch(r"[0-9a-f]{16}", rid) for rid in mapping["controls"])
    assert [r["id"].startswith("p") for r in records] != [True] * 4 + [False] * 2
    assert all(r["metadata"]["source"] == "logs" for r in records)
    ctl1 = next(rid for rid, c in mapping["controls"].items() if c["control_id"] == "ctl-1")
    best = mapping["controls"][ctl1]["best"]
    assert next(r for r in records if r["id"] == ctl1)["fields"][best] == "4"
    # nothing annotators see names a candidate, a source or a control
    for name in ("argilla/records.jsonl", "annotation.jsonl", "annotation.csv"):
        text = (out / name).read_text()
        assert "p0-a" not in text and "ctl-" not in text and "policy" not in text and "ref-" not in text
    # shuffled per record, deterministically by seed
    orders = {rid: [cid[-1] for cid in slots.values()] for rid, slots in mapping["records"].items()
              if rid.startswith("p")}
    assert any(o != list(QUALITY) for o in orders.values())
    prompts, candidates = prompts_and_candidates()
    export_for_annotation(prompts, candidates, CONTROLS, data_folder(str(tmp_path / "again")), seed="r1")
    assert (tmp_path / "again/mapping.json").read_text() == (out / "mapping.json").read_text()
    reversed_input = {k: v[::-1] for k, v in candidates.items()}
    export_for_annotation(prompts, reversed_input, CONTROLS, data_folder(str(tmp_path / "rev")), seed="r1")
    assert load(tmp_path / "rev/mapping.json") == mapping  # input order does not matter, only the seed
    export_for_annotation(prompts, candidates, CONTROLS, data_folder(str(tmp_path / "other")), seed="r2")
    assert load(tmp_path / "other/mapping.json")["records"] != mapping["records"]

    plain, table = read_rows(data_folder(str(out)), "annotation.jsonl"), read_rows(out / "annotation.csv")
    columns = ["record_id", "annotator", "prompt", "response_1", "response_2", "response_3", "ranking", "rating_1",
               "rating_2", "rating_3", "acceptable", "edited_response", "status"]
    assert list(plain[0]) == columns and list(table[0]) == columns and plain == table
    assert plain[0]["status"] == "pending" and plain[0]["annotator"] == ""
    ctl2 = next(row for row in plain if mapping["controls"].get(row["record_id"], {}).get("control_id") == "ctl-2")
    assert ctl2["response_3"] == ""  # two responses on this record


def test_max_responses_caps_and_keeps_the_control_best(tmp_path):
    prompts, candidates = prompts_and_candidates()
    counts = export_for_annotation(prompts, candidates, CONTROLS, data_folder(str(tmp_path)), max_responses=2)
    mapping = load(tmp_path / "mapping.json")
    assert counts["responses"] == 12 and all(len(s) == 2 for s in mapping["records"].values())
    ctl1 = next(rid for rid, c in mapping["controls"].items() if c["control_id"] == "ctl-1")
    assert mapping["records"][ctl1][mapping["controls"][ctl1]["best"]] == "ctl-1:1"
    with pytest.raises(ValueError):
        export_for_annotation(prompts, candidates, CONTROLS, data_folder(str(tmp_path / "x")), max_responses=1)


def order_of(mapping, record_id, good=True) -> list[str]:
    """Slots best first by the known truth (reversed for a bad annotator)."""
    slots = mapping["records"][record_id]
    if record_id in mapping["controls"]:
        best = mapping["controls"][record_id]["best"]
        order = [best, *[s for s in slots if s != best]]
    else:
        order = sorted(slots, key=lambda s: QUALITY.index(slots[s][-1]))
    return order if good else order[::-1]


def test_round_trip_flags_the_bad_annotator_and_scores_with_the_trusted_ones(exported, tmp_path):
    out, _ = exported
    mapping = load(out / "mapping.json")
    rows = []
    for annotator, good in (("alice", True), ("bob", False)):
        for row in read_rows(out / "annotation.csv"):
            order = order_of(mapping, row["record_id"], good)
            row.update(annotator=annotator, ranking=" > ".join(order), acceptable=order[0], status="submitted")
            rows.append(row)
    # carol answers in Argilla, Record.to_dict shape: ratings only on prompt records, ranking everywhere
    argilla = lines(out / "argilla/records.jsonl")
    for rec in argilla:
        order = order_of(mapping, rec["id"])
        answer = {"ranking": order, "acceptable": order[:2]}
        if rec["id"] not in mapping["controls"]:
            answer |= {f"rating_{s[-1]}": 5 - i for i, s in enumerate(order)}
        rec["responses"] = {q: [{"value": v, "user_id": "carol", "status": "submitted"}] for q, v in answer.items()}
    annotations, stats = read_annotations([*rows, *argilla], mapping)
    assert stats == {"rows": 18, "annotations": 18}
    quality = score_annotators(annotations, mapping)
    assert quality["alice"] == {"controls": 2, "correct": 2, "accuracy": 1.0, "unscored": False, "flagged": False}
    assert quality["bob"]["accuracy"] == 0.0 and quality["bob"]["flagged"]
    assert quality["carol"]["accuracy"] == 1.0

    scores = human_scores(annotations, mapping)
    assert set(scores) == {"p0", "p1", "p2", "p3"}
    p0 = scores["p0"]
    assert p0.origin == "human" and p0.annotators == ["alice", "carol"]
    # alice's ranking of three -> 5, 3, 1; carol's ratings 5, 4, 3
    assert p0.scores == {"p0-a": 5.0, "p0-b": 3.5, "p0-c": 2.0}
    # alice accepts the best, carol the best two: b is a tie, so not set
    assert p0.thumbs == {"p0-a": True, "p0-c": False}
    with_bob = human_scores(annotations, mapping, trusted={"alice", "bob"})["p0"]
    assert with_bob.scores == {"p0-a": 3.0, "p0-b": 3.0, "p0-c": 3.0}


def test_ranking_parsing_with_ties_in_every_shape(exported):
    out, _ = exported
    mapping = load(out / "mapping.json")
    s = mapping["records"]["p1"]
    plain = {"record_id": "p1", "annotator": "ann", "ranking": "response_2 > response_1 = response_3"}
    numbers = {"record_id": "p1", "annotator": "num", "ranking": " 2>1= 3 "}
    api = {"id": "p1", "responses": [{"user_id": "api", "status": "submitted", "values": {"ranking": {"value": [
        {"value": "response_2", "rank": 1}, {"value": "response_1", "rank": 2}, {"value": "response_3", "rank": 2}]}}}]}
    sdk = {"id": "p1", "responses": {"ranking": [{"value": ["response_2", "response_1", "response_3"],
                                                  "user_id": "sdk"}]}}  # no status: submitted
    annotations, stats = read_annotations([plain, numbers, api, sdk], mapping)
    by = {a.annotator: a.ranking for a in annotations}
    tie = {s["response_2"]: 1, s["response_1"]: 2, s["response_3"]: 2}
    assert by["ann"] == by["num"] == by["api"] == tie
    assert by["sdk"] == {s["response_2"]: 1, s["response_1"]: 2, s["response_3"]: 3}
    assert rank_scores(tie) == {s["response_2"]: 5.0, s["response_1"]: 2.0, s["response_3"]: 2.0}
    assert rank_scores({"x": 1, "y": 1, "z": 1}) == {"x": 3.0, "y": 3.0, "z": 3.0}
    assert rank_scores({"x": 1, "y": 2, "z": 3, "w": 4}) == pytest.approx({"x": 5, "y": 11 / 3, "z": 7 / 3, "w": 1})

    # a tie at the top of a control is not a correct answer
    ctl = next(iter(mapping["controls"]))
    best = mapping["controls"][ctl]["best"]
    other = next(x for x in mapping["records"][ctl] if x != best)
    tied = {"record_id": ctl, "annotator": "ann", "ranking": f"{best} = {other}"}
    quality = score_annotators(read_annotations([tied], mapping)[0], mapping)
    assert quality["ann"]["controls"] == 1 and quality["ann"]["correct"] == 0
    # no ranking: the highest rating decides
    rated = {"record_id": ctl, "annotator": "ann", f"rating_{best[-1]}": "5", f"rating_{other[-1]}": "2"}
    assert score_annotators(read_annotations([rated], mapping)[0], mapping)["ann"]["correct"] == 1


def test_edited_response_and_thumbs(exported):
    out, _ = exported
    mapping = load(out / "mapping.json")
    ctl = next(iter(mapping["controls"]))
    best = mapping["controls"][ctl]["best"]
    rows = [{"record_id": ctl, "annotator": name, "ranking": best} for name in ("zed", "amy")]
    rows += [{"record_id": "p2", "annotator": "zed", "ranking": "1 > 2 > 3", "edited_response": "  Zed's fix. "},
             {"record_id": "p2", "annotator": "amy", "ranking": "1 > 2 > 3", "edited_response": "Amy's fix."},
             {"record_id": "p2", "annotator": "bo", "ranking": "1 > 2 > 3", "edited_response": "Bo's fix."},
             {"record_id": "p3", "annotator": "amy", "ranking": "1 > 2 > 3", "edited_response": "   ",
              "acceptable": "none"},
             {"record_id": "p3", "annotator": "zed", "status": "discarded", "acceptable": "response_1"}]
    annotations, stats = read_annotations(rows, mapping)
    p3 = next(a for a in annotations if a.record_id == "p3" and a.annotator == "amy")
    assert p3.edited is None and set(p3.thumbs.values()) == {False} and len(p3.thumbs) == 3
    assert next(a for a in annotations if a.annotator == "zed" and a.record_id == "p3").status == "discarded"
    scores = human_scores(annotations, mapping)
    # amy and zed are both fully accurate, bo saw no control: amy (alphabetically first of the best) wins
    assert scores["p2"].edited == "Amy's fix." and scores["p2"].annotators == ["amy", "bo", "zed"]
    assert scores["p3"].annotators == ["amy"]  # a discarded answer is no annotation
    assert scores["p3"].thumbs == {cid: False for cid in mapping["records"]["p3"].values()}
    assert score_annotators(annotations, mapping)["bo"] == {"controls": 0, "correct": 0, "accuracy": None,
                                                            "unscored": True, "flagged": False}
    only_zed = [a for a in annotations if a.annotator != "amy"]
    assert human_scores(only_zed, mapping)["p2"].edited == "Zed's fix."


def test_importing_twice_or_overlapping_files_gives_the_same_annotations(exported, tmp_path):
    out, _ = exported
    mapping = load(out / "mapping.json")
    rows = read_rows(out / "annotation.jsonl")
    for row in rows:
        row.update(annotator="alice", ranking="response_1 > response_2", rating_1="4")
    once, _ = read_annotations(rows, mapping)
    twice, stats = read_annotations(rows + rows, mapping)
    assert once == twice and stats["replaced"] == len(rows)
    # a later file corrects one answer: the later row wins
    fixed = [dict(rows[0], rating_1="2")]
    merged, _ = read_annotations(rows + fixed, mapping)
    assert len(merged) == len(once)
    changed = next(a for a in merged if a.record_id == rows[0]["record_id"])
    assert list(changed.ratings.values()) == [2]
    # through a CSV written by a spreadsheet user
    path = tmp_path / "filled.csv"
    with open(path, "w", newline="", encoding="utf-8-sig") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert read_annotations(read_rows(path), mapping)[0] == once


def test_malformed_rows_are_counted_not_fatal(exported):
    out, _ = exported
    mapping = load(out / "mapping.json")
    ctl2 = next(rid for rid, c in mapping["controls"].items() if c["control_id"] == "ctl-2")
    rows = [
        {"record_id": "p0", "annotator": "ok", "ranking": "response_1 > response_2", "rating_3": 4},
        {"record_id": "nope", "annotator": "x", "ranking": "response_1"},
        {"record_id": "p0", "annotator": "x", "rating_1": "6"},
        {"record_id": "p0", "annotator": "y", "rating_1": "4.5"},
        {"record_id": "p0", "annotator": "z", "ranking": "response_1 > response_9"},
        {"record_id": ctl2, "annotator": "z", "rating_3": "4"},  # only two responses shown
        {"record_id": "p0", "annotator": "w", "ranking": "response_1 > response_1"},
        {"record_id": "p0", "annotator": "v", "acceptable": "none, response_1"},
        {"record_id": "p0", "annotator": "", "ranking": "response_1 > response_2"},
        {"record_id": "p0", "annotator": "d", "ranking": "response_1", "status": "draft"},
        {"record_id": "p0", "annotator": "", "status": "pending"},
        {"record_id": "p0", "annotator": "e", "status": "submitted"},
        {"id": "p1", "responses": {"ranking": [{"value": ["response_1"], "user_id": "u", "status": "draft"}],
                                   "rating_1": [{"value": 3, "user_id": "", "status": "submitted"}]}},
        {"id": "p1", "responses": {"rating_2": [{"value": True, "user_id": "t", "status": "submitted"}]}},
        {"id": "p2", "responses": {}},
    ]
    annotations, stats = read_annotations(rows, mapping)
    assert [(a.record_id, a.annotator) for a in annotations] == [("p0", "ok")]
    assert stats == {"rows": 15, "annotations": 1, "unknown_record": 1, "bad_rating": 3, "unknown_slot": 2,
                     "bad_ranking": 1, "bad_acceptable": 1, "no_annotator": 2, "pending": 4, "empty": 1}


def test_discarded_answers_do_not_count_as_controls(exported):
    out, _ = exported
    mapping = load(out / "mapping.json")
    ctl = next(iter(mapping["controls"]))
    annotations = [Annotation(record_id=ctl, annotator="q", status="discarded")]
    assert score_annotators(annotations, mapping)["q"]["unscored"]
    assert human_scores(annotations, mapping) == {}


def test_rows_answered_on_an_older_export_are_skipped_as_stale(tmp_path):
    prompts, candidates = prompts_and_candidates()
    old = data_folder(str(tmp_path / "old"))
    export_for_annotation(prompts, candidates, CONTROLS, old, seed="r1")
    rows = read_rows(old, "annotation.jsonl")
    # the candidates changed (new generation settings): same prompts, other responses behind the slots
    candidates["p1"] = [c.model_copy(update={"text": c.text + " (regenerated)"}) for c in candidates["p1"]]
    new = data_folder(str(tmp_path / "new"))
    export_for_annotation(prompts, candidates, CONTROLS, new, seed="r1")
    mapping = json.loads((tmp_path / "new" / "mapping.json").read_text())
    filled = [{**r, "annotator": "alice", "ranking": "response_1 > response_2"} for r in rows]
    annotations, stats = read_annotations(filled, mapping)
    assert stats["stale_record"] == 1 and "p1" not in {a.record_id for a in annotations}
    assert len(annotations) == len(rows) - 1
