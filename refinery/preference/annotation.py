"""Human preference annotation: prompts and their candidates out to annotators, answers back in, annotator
quality from control records, and human scores per candidate.

Export layout under the folder (Argilla 2.x conventions of `refinery.sft.review`):
  argilla/settings.json    rg.Settings serialised
  argilla/records.jsonl    one rg.Record.to_dict() per line (fields prompt, response_1..K)
  annotation.jsonl / .csv  the same records for spreadsheet users: each annotator fills a copy, one row per
                           record, with their name in `annotator`
  mapping.json             response slot -> candidate id (and a hash of its text: a row answered on an older
                           export, whose slots held other responses, is skipped as `stale_record`) and the
                           control records; never shown to annotators

Candidates are shuffled per record (hash of seed, record id, candidate id) so a slot never tracks a model.
Control records get a hashed id like any prompt and are interleaved with the others in hashed order.

Plain answers: `ranking` "response_2 > response_1 = response_3" (best first, "=" a tie, bare numbers
"2 > 1 = 3" accepted), `rating_i` an integer 1..5, `acceptable` the comma-separated slots good enough to
show a user ("none" when no response is), `edited_response` a full response better than all, `status`
"submitted" / "discarded" / "draft" (a row with answers and a blank or "pending" status counts as submitted).
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import posixpath
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from datatrove.io import DataFolder

from refinery.llmdata.argilla import field, question, responses_by_user
from refinery.llmdata.io import numbered_rows
from refinery.preference.records import Annotation, Candidate, ControlRecord, Prompt, PromptScores, stable_id
from refinery.storage import data_folder, join

RANKING, ACCEPTABLE, EDITED, NONE = "ranking", "acceptable", "edited_response", "none"
GUIDELINES = """\
Each record shows a conversation and several responses to its last user message, in random order.
Judge quality in the UltraFeedback sense: helpful (solves the user's actual need), truthful (no invented \
facts), honest (states uncertainty, refuses what it cannot do), and follows the instruction (format, \
length, constraints).

1. ranking: order every response from best to worst. Equal quality may share a rank.
2. rating_i (optional): rate response_i from 1 (unusable, wrong or harmful) to 5 (excellent, nothing to \
improve); 3 means correct but with clear gaps.
3. acceptable: select every response good enough to show a user as is (thumbs up); unselected ones count \
as thumbs down. Select "none" if no response is acceptable.
4. edited_response (optional): if you can write a response better than all of them, write it in full.

Spreadsheet files (annotation.csv / annotation.jsonl): put your name in `annotator`; write the ranking as \
"response_2 > response_1 = response_3" (best first, "=" marks a tie, numbers alone also work: \
"2 > 1 = 3"); ratings as whole numbers 1-5; acceptable as comma-separated slots ("response_1, response_3") \
or "none"; set status to "submitted", or "discarded" to skip a record you cannot judge."""


def slot(i: int) -> str:
    return f"response_{i}"


def _rating_q(s: str) -> str:
    return "rating_" + s.removeprefix("response_")


@dataclass
class _Item:
    id: str
    messages: list[dict]
    responses: list[tuple[str, str]]  # (candidate id, text) in form order
    metadata: dict
    control: ControlRecord | None = None
    best: int | None = None  # controls: index into responses of the known best


def argilla_settings(k: int, sources: Iterable[str], topics: Iterable[str]) -> dict:
    slots = [slot(i) for i in range(1, k + 1)]

    def options(values):
        return [{"value": v, "text": v, "description": None} for v in values]

    def terms(name, values):  # hidden: for the organiser's filtering, and a control must not stand out
        return {"name": name, "title": name, "visible_for_annotators": False, "type": "terms",
                "settings": {"type": "terms", "values": sorted(set(values)) or None}}

    return {
        "guidelines": GUIDELINES,
        "fields": [field("prompt", "chat", "Conversation"),
                   *(field(s, "text", s.replace("_", " ").capitalize(), required=i < 2) for i, s in enumerate(slots))],
        "questions": [
            question(RANKING, "Rank the responses, best first", {"type": "ranking", "options": options(slots)}),
            *(question(_rating_q(s), f"Quality of {s} (1-5)",
                       {"type": "rating", "options": [{"value": v} for v in range(1, 6)]}, required=False)
              for s in slots),
            # "none" makes "no response is acceptable" distinguishable from "question skipped"
            question(ACCEPTABLE, "Which responses are good enough to show a user?",
                     {"type": "multi_label_selection", "options": options([*slots, NONE]), "visible_options": None,
                      "options_order": "natural"}, required=False),
            question(EDITED, "A response better than all of them (optional)", {"type": "text", "use_markdown": False},
                     required=False),
        ],
        "metadata": [terms("source", sources), terms("topic", topics)],
        "vectors": [],
        "allow_extra_metadata": False,
        "distribution": {"strategy": "overlap", "min_submitted": 1},
    }


def _items(prompts, candidates, controls, max_responses, seed) -> tuple[list[_Item], int]:
    items, skipped = [], 0
    for p in prompts:
        shown = sorted(candidates.get(p.id, []), key=lambda c: stable_id(seed, p.id, c.id))[:max_responses]
        if len(shown) < 2:  # nothing to compare
            skipped += 1
            continue
        meta = {"source": p.source, **({"topic": p.topic} if p.topic else {})}
        items.append(_Item(p.id, [t.model_dump() for t in p.messages], [(c.id, c.text) for c in shown], meta))
    for c in controls:
        if not 0 <= c.best < len(c.responses):
            raise ValueError(f"control {c.id}: best={c.best} is not an index of its {len(c.responses)} responses")
        rid = stable_id("control", seed, c.id)  # same shape as a prompt id, reveals nothing
        order = sorted(range(len(c.responses)), key=lambda i: stable_id(seed, rid, i))
        keep = {c.best, *[i for i in order if i != c.best][:(max_responses or len(order)) - 1]}
        order = [i for i in order if i in keep]
        decoy = prompts[int(rid, 16) % len(prompts)] if prompts else None  # metadata like a real prompt's
        meta = {"source": decoy.source, **({"topic": decoy.topic} if decoy.topic else {})} if decoy else {}
        items.append(_Item(rid, [{"role": "user", "content": c.prompt}],
                           [(f"{c.id}:{i}", c.responses[i]) for i in order], meta, c, order.index(c.best)))
    return sorted(items, key=lambda it: stable_id(seed, it.id)), skipped  # controls interleaved, not last


def _prompt_text(messages: list[dict]) -> str:
    if len(messages) == 1:
        return messages[0]["content"]
    return "\n\n".join(f"{m['role'].upper()}: {m['content']}" for m in messages)


def export_for_annotation(prompts: Sequence[Prompt], candidates: dict[str, list[Candidate]],
                          controls: Sequence[ControlRecord], folder: DataFolder, max_responses: int | None = None,
                          seed: str = "") -> dict:
    """Writes the Argilla dataset, the plain files and mapping.json. Prompts with fewer than two candidates
    are skipped. Returns counts: records (including controls), controls, responses, skipped."""
    if max_responses is not None and max_responses < 2:
        raise ValueError("max_responses must be at least 2")
    items, skipped = _items(prompts, candidates, controls, max_responses, seed)
    k = max((len(it.responses) for it in items), default=2)
    slots = [slot(i) for i in range(1, k + 1)]
    settings = argilla_settings(k, [it.metadata["source"] for it in items if "source" in it.metadata],
                                [it.metadata["topic"] for it in items if "topic" in it.metadata])
    with folder.open("argilla/settings.json", "wt", encoding="utf-8") as f:
        json.dump(settings, f, indent=2)
    mapping: dict = {"seed": seed, "records": {}, "controls": {}, "texts": {}}
    columns = ["record_id", "annotator", "prompt", *slots, RANKING, *map(_rating_q, slots), ACCEPTABLE, EDITED,
               "status"]
    plain = []
    with folder.open("argilla/records.jsonl", "wt", encoding="utf-8") as f:
        for it in items:
            texts = {slot(i + 1): text for i, (_, text) in enumerate(it.responses)}
            mapping["records"][it.id] = {slot(i + 1): cid for i, (cid, _) in enumerate(it.responses)}
            mapping["texts"][it.id] = {s: _digest(t) for s, t in texts.items()}
            if it.control:
                mapping["controls"][it.id] = {"control_id": it.control.id, "best": slot(it.best + 1)}
            f.write(json.dumps({"id": it.id, "fields": {"prompt": it.messages, **texts}, "metadata": it.metadata,
                                "suggestions": {}, "responses": {}, "vectors": {}, "status": "pending"},
                               ensure_ascii=False) + "\n")
            plain.append({c: "" for c in columns} | texts | {"record_id": it.id, "prompt": _prompt_text(it.messages),
                                                             "status": "pending"})
    with folder.open("annotation.jsonl", "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in plain)
    # BOM so Excel reads the file as UTF-8; read_rows strips it
    with folder.open("annotation.csv", "wt", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(plain)
    with folder.open("mapping.json", "wt", encoding="utf-8") as f:
        json.dump(mapping, f, indent=2)
    return {"records": len(items), "controls": len(mapping["controls"]),
            "responses": sum(len(it.responses) for it in items), "skipped": skipped}


def read_rows(where: DataFolder | str | os.PathLike, name: str = "") -> list[dict]:
    """Rows of a .jsonl or .csv file (by extension): `name` inside a DataFolder or directory, or `where` itself."""
    if not isinstance(where, DataFolder):
        path = join(str(where), name) if name else str(where)
        where, name = data_folder(posixpath.dirname(path)), posixpath.basename(path)
    return [row for _, row in numbered_rows(where, name)]


class _Malformed(ValueError):
    pass


def _blank(v) -> bool:
    return v is None or v == [] or (isinstance(v, str) and not v.strip())


def _slot_name(token) -> str:
    if not isinstance(token, str):
        raise _Malformed("bad_value")
    token = token.strip().lower().replace(" ", "_")
    return slot(int(token)) if token.isdigit() else token


def _check(slots_seen: Iterable[str], shown: dict[str, str]) -> None:
    if set(slots_seen) - set(shown):
        raise _Malformed("unknown_slot")


def _ranking(value, shown: dict[str, str]) -> dict[str, int]:
    if _blank(value):
        return {}
    if isinstance(value, str):
        groups = [[_slot_name(s) for s in g.split("=")] for g in value.split(">")]
        pairs = [(s, rank) for rank, g in enumerate(groups, 1) for s in g]
    elif isinstance(value, list) and all(isinstance(v, dict) for v in value):  # API: [{"value", "rank"}]
        pairs = [(_slot_name(v.get("value")), v.get("rank")) for v in value]
    elif isinstance(value, list):  # SDK: slot names best first
        pairs = [(_slot_name(v), rank) for rank, v in enumerate(value, 1)]
    else:
        raise _Malformed("bad_ranking")
    ranks = dict(pairs)
    if len(ranks) != len(pairs) or "" in ranks or any(type(r) is not int or r < 1 for r in ranks.values()):
        raise _Malformed("bad_ranking")
    _check(ranks, shown)
    return {shown[s]: r for s, r in ranks.items()}


def _rating(value) -> int | None:
    if _blank(value):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if type(value) is not int or not 1 <= value <= 5:
        raise _Malformed("bad_rating")
    return value


def _thumbs(value, shown: dict[str, str]) -> dict[str, bool]:
    if _blank(value):
        return {}
    tokens = {_slot_name(t) for t in (value.split(",") if isinstance(value, str) else value)} - {""}
    if NONE in tokens and len(tokens) > 1:
        raise _Malformed("bad_acceptable")
    _check(tokens - {NONE}, shown)
    return {cid: s in tokens for s, cid in shown.items()}


def _annotation(record_id: str, annotator: str, status: str, values: dict, shown: dict[str, str]) -> Annotation:
    if status == "discarded":
        return Annotation(record_id=record_id, annotator=annotator, status="discarded")
    if {q for q, v in values.items() if str(q).startswith("rating_") and not _blank(v)} - set(map(_rating_q, shown)):
        raise _Malformed("unknown_slot")  # e.g. rating_4 filled on a record with three responses
    ratings = {cid: r for s, cid in shown.items() if (r := _rating(values.get(_rating_q(s)))) is not None}
    edited = None if _blank(values.get(EDITED)) else str(values[EDITED]).strip()
    a = Annotation(record_id=record_id, annotator=annotator, ranking=_ranking(values.get(RANKING), shown),
                   ratings=ratings, thumbs=_thumbs(values.get(ACCEPTABLE), shown), edited=edited)
    if not (a.ranking or a.ratings or a.thumbs or a.edited):
        raise _Malformed("empty")
    return a


def _plain_status(row: dict) -> str:
    status = str(row.get("status") or "").strip().lower()
    if status in ("submitted", "discarded", "draft"):
        return status
    answered = any(not _blank(v) for q, v in row.items()
                   if q in (RANKING, ACCEPTABLE, EDITED) or str(q).startswith("rating_"))
    return "submitted" if answered else "pending"


def _userresponses_by_user(row: dict) -> list[tuple[str, str, dict]]:
    """(annotator, status, {question: value}) per user who answered the row."""
    if "responses" not in row:
        return [(str(row.get("annotator") or "").strip(), _plain_status(row), row)]
    responses, groups = row["responses"] or {}, {}
    # group per user, then let review._answers read each group's shape
    if isinstance(responses, dict):
        for q, rs in responses.items():
            for r in rs:
                groups.setdefault(str(r.get("user_id") or ""), {}).setdefault(q, []).append(r)
    else:
        for r in responses:
            groups.setdefault(str(r.get("user_id") or ""), []).append(r)
    return [(user, a["status"] or "submitted", a["values"])
            for user, group in groups.items() for a in responses_by_user(group)]


def _digest(text: str) -> str:
    return hashlib.sha256(text.strip().encode()).hexdigest()[:16]


def _stale(row: dict, digests: dict[str, str]) -> bool:
    """Does the row show other responses than the current export's slots (it came from an older export)?"""
    shown = (row.get("fields") or {}) if "responses" in row else row
    return any(isinstance(shown.get(s), str) and shown[s].strip() and _digest(shown[s]) != d
               for s, d in digests.items())


def read_annotations(rows: Iterable[dict], mapping: dict) -> tuple[list[Annotation], dict]:
    """Argilla records (with `responses`) or plain rows -> (annotations, counts). Drafts, unanswered rows, rows
    without annotator and malformed answers are skipped and counted by reason. One annotation per
    (record, annotator): a later row replaces an earlier one, so re-importing changes nothing."""
    shown_of, stats, found = mapping["records"], Counter(), {}
    for row in rows:
        stats["rows"] += 1
        record_id = str(row.get("id" if "responses" in row else "record_id") or "")
        if record_id not in shown_of:
            stats["unknown_record"] += 1
            continue
        if _stale(row, mapping.get("texts", {}).get(record_id, {})):
            stats["stale_record"] += 1  # answered on an earlier export whose slots held other responses
            continue
        answers = _userresponses_by_user(row)
        if not answers:
            stats["pending"] += 1
        for annotator, status, values in answers:
            if status not in ("submitted", "discarded"):
                stats["pending"] += 1
            elif not annotator:
                stats["no_annotator"] += 1
            else:
                try:
                    a = _annotation(record_id, annotator, status, values, shown_of[record_id])
                except _Malformed as e:
                    stats[str(e)] += 1
                    continue
                if (record_id, annotator) in found:
                    stats["replaced"] += 1
                found[(record_id, annotator)] = a
    stats["annotations"] = len(found)
    return [found[k] for k in sorted(found)], dict(stats)


def _top(a: Annotation) -> set[str]:
    marks = {c: -r for c, r in a.ranking.items()} if a.ranking else a.ratings
    best = max(marks.values(), default=None)
    return {c for c, v in marks.items() if v == best}


def score_annotators(annotations: Iterable[Annotation], mapping: dict, min_accuracy: float = 0.7,
                     min_controls: int = 1) -> dict[str, dict]:
    """Per annotator: controls (submitted control records), correct (their single top choice is the known
    best), accuracy, flagged, unscored. Fewer than `min_controls` controls (or none): unscored, never flagged."""
    controls, out = mapping.get("controls", {}), {}
    for a in annotations:
        s = out.setdefault(a.annotator, {"controls": 0, "correct": 0})
        if a.status == "submitted" and a.record_id in controls:
            best = mapping["records"][a.record_id][controls[a.record_id]["best"]]
            s["controls"] += 1
            s["correct"] += _top(a) == {best}  # a tie at the top is not a correct answer
    for s in out.values():
        n = s["controls"]
        s["accuracy"] = s["correct"] / n if n else None
        s["unscored"] = n == 0 or n < min_controls
        s["flagged"] = not s["unscored"] and s["accuracy"] < min_accuracy
    return dict(sorted(out.items()))


def rank_scores(ranking: dict[str, int]) -> dict[str, float]:
    """Ranks -> 1..5: best 5, worst 1, linear over the ranked responses; a tie shares the mean of the
    positions it spans. A single ranked response compares to nothing: 3."""
    n, out, pos = len(ranking), {}, 0
    for r in sorted(set(ranking.values())):
        group = [c for c, x in ranking.items() if x == r]
        score = statistics.mean(5 - 4 * p / (n - 1) for p in range(pos, pos + len(group))) if n > 1 else 3.0
        out |= {c: score for c in group}
        pos += len(group)
    return out


def human_scores(annotations: Iterable[Annotation], mapping: dict, trusted: set[str] | None = None
                 ) -> dict[str, PromptScores]:
    """Prompt id -> PromptScores from the submitted answers of trusted annotators (default: everyone not
    flagged by `score_annotators` with its default thresholds). Controls and discarded answers are left out."""
    annotations = list(annotations)
    quality = score_annotators(annotations, mapping)
    if trusted is None:
        trusted = {name for name, q in quality.items() if not q["flagged"]}
    controls, by_record = mapping.get("controls", {}), defaultdict(list)
    for a in annotations:
        if a.status == "submitted" and a.annotator in trusted and a.record_id not in controls:
            by_record[a.record_id].append(a)
    out = {}
    for record_id, answers in sorted(by_record.items()):
        answers.sort(key=lambda a: a.annotator)
        scores, votes = defaultdict(list), defaultdict(list)
        for a in answers:
            derived = rank_scores(a.ranking)
            for cid in mapping["records"][record_id].values():
                if (score := a.ratings.get(cid, derived.get(cid))) is not None:
                    scores[cid].append(score)
                if cid in a.thumbs:
                    votes[cid].append(a.thumbs[cid])
        thumbs = {c: sum(v) * 2 > len(v) for c, v in votes.items() if sum(v) * 2 != len(v)}  # a tie sets nothing
        # several edits: the most accurate annotator's, then the alphabetically first (answers are sorted)
        edits = [a for a in answers if a.edited]
        accuracy = {a.annotator: quality[a.annotator]["accuracy"] for a in edits}
        edited = min(edits, key=lambda a: -(-1 if accuracy[a.annotator] is None else accuracy[a.annotator])
                     ).edited if edits else None
        out[record_id] = PromptScores(prompt_id=record_id, scores={c: round(statistics.mean(v), 4)
                                                                  for c, v in scores.items()},
                                      origin="human", thumbs=thumbs, edited=edited,
                                      annotators=[a.annotator for a in answers])
    return out
