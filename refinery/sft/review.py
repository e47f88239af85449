"""Human review: records out for review (Argilla, or a plain JSONL file), reviews back in.

Argilla layout follows argilla 2.x (checked against the SDK source of the 2.x line): `settings.json` is
`rg.Settings(...).serialize()` / `Settings.to_json` (guidelines, fields, questions, metadata, vectors,
allow_extra_metadata, distribution), and `records.jsonl` holds one `rg.Record.to_dict()` per line (id,
fields, metadata, suggestions keyed by question, responses keyed by question, vectors, status), which
`rg.Record.from_dict` reads and `dataset.records.to_json` writes back with the annotators' responses.

Import rules: a rejection (label "reject", a discarded response, or status "rejected" in the plain file)
drops the record with reason `human_rejected`; a corrected response replaces the last assistant turn and
the original is kept in `review`; the human quality rating is stored in `review`. Importing the same
reviews twice changes nothing; ids that match no record are counted, not fatal.
"""
from __future__ import annotations

import json
import os
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import fsspec
from datatrove.io import DataFolder

from refinery.llmdata.argilla import field, question, responses_by_user
from refinery.llmdata.records import Chunk, Dropped, SFTRecord

QUALITY, DECISION, CORRECTION = "quality", "decision", "corrected_response"
GUIDELINES = (
    "Rate the assistant's final response (1 = unusable, 5 = excellent), then accept or reject the record for "
    "training. Reject answers that are wrong, unsupported by the context, unsafe, or leak personal data. If a "
    "small fix makes the answer good, write the full corrected response and accept. The AI judge's ratings "
    "are pre-filled as suggestions."
)
_ACCEPT, _REJECT = {"accept", "accepted", "approved", "submitted"}, {"reject", "rejected", "discarded"}


def argilla_settings(methods: Sequence[str]) -> dict:
    return {
        "guidelines": GUIDELINES,
        "fields": [field("messages", "chat", "Conversation"), field("response", "text", "Response to review"),
                   field("context", "text", "Source document", required=False),
                   field("judge_notes", "text", "AI judge ratings", required=False)],
        "questions": [
            question(QUALITY, "Quality of the response",
                     {"type": "rating", "options": [{"value": v} for v in range(1, 6)]}),
            question(DECISION, "Keep this record for training?",
                     {"type": "label_selection", "visible_options": None,
                      "options": [{"value": v, "text": v, "description": None} for v in ("accept", "reject")]}),
            question(CORRECTION, "Corrected response (optional)", {"type": "text", "use_markdown": False},
                     required=False),
        ],
        "metadata": [
            {"name": "method", "title": "method", "visible_for_annotators": True, "type": "terms",
             "settings": {"type": "terms", "values": sorted(set(methods))}},
            {"name": "score", "title": "judge score", "visible_for_annotators": True, "type": "float",
             "settings": {"type": "float", "min": 1, "max": 5}},
        ],
        "vectors": [],
        "allow_extra_metadata": False,
        "distribution": {"strategy": "overlap", "min_submitted": 1},
    }


def _judge_notes(r: SFTRecord) -> str:
    if not r.judgement:
        return ""
    return "\n".join(f"{v.judge} / {a}: {x.rating} - {x.rationale}" for v in r.judgement.verdicts
                     for a, x in v.aspects.items())


def argilla_record(r: SFTRecord, chunks: dict[str, Chunk]) -> dict:
    last = max(i for i, t in enumerate(r.messages) if t.role == "assistant")
    fields = {"messages": [{"role": t.role, "content": t.content} for t in r.messages[:last]],
              "response": r.messages[last].content}
    if r.chunk_id in chunks:
        fields["context"] = chunks[r.chunk_id].text
    if notes := _judge_notes(r):
        fields["judge_notes"] = notes
    metadata, suggestions = {"method": r.method}, {}
    if r.judgement:
        metadata["score"] = round(r.judgement.score, 4)
        agent = ", ".join(v.judge for v in r.judgement.verdicts)
        suggestions = {QUALITY: {"value": min(5, max(1, round(r.judgement.score))), "score": None, "agent": agent},
                       DECISION: {"value": "accept", "score": None, "agent": agent}}
    return {"id": r.id, "fields": fields, "metadata": metadata, "suggestions": suggestions, "responses": {},
            "vectors": {}, "status": "pending"}


def review_row(r: SFTRecord, chunks: dict[str, Chunk]) -> dict:
    """The plain-file equivalent: reviewers set status (accepted/rejected), quality, corrected_response."""
    a = argilla_record(r, chunks)
    return {"id": r.id, "method": r.method, "conversation": a["fields"]["messages"],
            "response": a["fields"]["response"],
            "context": a["fields"].get("context"), "judge_score": a["metadata"].get("score"),
            "judge_notes": a["fields"].get("judge_notes"), "status": "pending", QUALITY: None, CORRECTION: None}


def export_for_review(records: Sequence[SFTRecord], folder: DataFolder, chunks: dict[str, Chunk] | None = None) -> dict:
    """argilla/settings.json, argilla/records.jsonl and review.jsonl under `folder`."""
    chunks = chunks or {}
    with folder.open("argilla/settings.json", "wt", encoding="utf-8") as f:
        json.dump(argilla_settings([r.method for r in records]), f, indent=2)
    for name, row in (("argilla/records.jsonl", argilla_record), ("review.jsonl", review_row)):
        with folder.open(name, "wt", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps(row(r, chunks), ensure_ascii=False) + "\n")
    return {"records": len(records)}


@dataclass
class Decision:
    status: str | None  # "accepted" | "rejected" | None (not reviewed yet)
    quality: float | None = None
    correction: str | None = None


def decision_of(row: dict) -> Decision:
    if "responses" not in row:  # the plain review file
        status = str(row.get("status") or "").lower()
        return Decision("rejected" if status in _REJECT else "accepted" if status in _ACCEPT else None,
                        row.get(QUALITY), row.get(CORRECTION))
    answers = [a for a in responses_by_user(row["responses"]) if (a["status"] or "submitted") in ("submitted", "discarded")]
    if not answers:
        return Decision(None)
    rejected = any(a["status"] == "discarded" or a["values"].get(DECISION) == "reject" for a in answers)
    ratings = [a["values"][QUALITY] for a in answers if a["values"].get(QUALITY) is not None]
    correction = next((a["values"][CORRECTION] for a in answers if a["values"].get(CORRECTION)), None)
    return Decision("rejected" if rejected else "accepted", statistics.mean(ratings) if ratings else None, correction)


def _apply(record: SFTRecord, d: Decision) -> SFTRecord:
    previous = record.review or {}
    original = previous.get("original_response", record.output())
    correction = (d.correction or "").strip()
    if correction and correction != original.strip():
        text = correction
    elif previous.get("edited"):  # an earlier edit stands
        text = record.output()
    else:
        text = None
    review = {"status": d.status, "edited": text is not None, QUALITY: d.quality}
    update: dict = {"review": review}
    if text is not None:
        review["original_response"] = original
        last = max(i for i, t in enumerate(record.messages) if t.role == "assistant")
        messages = list(record.messages)
        messages[last] = messages[last].model_copy(update={"content": text})
        update["messages"] = messages
    return record.model_copy(update=update)


def _rows(reviewed: str | os.PathLike | Iterable[dict]) -> Iterable[dict]:
    if isinstance(reviewed, (str, os.PathLike)):
        with fsspec.open(str(reviewed), "rt", encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    return reviewed


def import_reviews(records: Sequence[SFTRecord], reviewed: str | os.PathLike | Iterable[dict]
                   ) -> tuple[list[SFTRecord], list[Dropped], dict]:
    """(kept records, rejected ones as Dropped "human_rejected", counts). `reviewed` is a JSONL path (local
    or fsspec URL) or rows: Argilla records (with `responses`) or plain review rows. A later row for the
    same id replaces an earlier one."""
    decisions = {row["id"]: decision_of(row) for row in _rows(reviewed)}
    known = {r.id for r in records}
    stats = Counter(rows=len(decisions), unknown_ids=len(set(decisions) - known))
    kept, dropped = [], []
    for record in records:
        d = decisions.get(record.id)
        if d is None or d.status is None:
            stats["pending" if d else "not_in_review"] += 1
            kept.append(record)
            continue
        reviewed_record = _apply(record, d)
        stats[d.status] += 1
        stats["edited"] += reviewed_record.review["edited"]
        stats["rated"] += d.quality is not None
        stats["changed"] += reviewed_record != record
        if d.status == "rejected":
            dropped.append(Dropped(stage="review", reason="human_rejected", record=reviewed_record))
        else:
            kept.append(reviewed_record)
    return kept, dropped, dict(stats)
