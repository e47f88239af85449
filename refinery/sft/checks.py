"""Checks on SFT stage outputs (run as Dagster asset checks): each returns what it checked and the first
offenders, so a failing check in the UI says which records to look at."""
from __future__ import annotations

import json

from datatrove.io import DataFolder
from pydantic import ValidationError

from refinery.corpus.checks import CheckOutcome
from refinery.sft.records import SFTRecord

FIRST = 10


def _rows(folder: DataFolder, name: str):
    if not folder.isfile(name):
        return
    with folder.open(name, "rt") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                yield n, line


def schema_valid(folder: DataFolder, name: str = "records.jsonl") -> CheckOutcome:
    """Every row is an SFTRecord whose turns alternate user/assistant (after an optional system turn)
    and end with the assistant: the shape chat templates and TRL expect."""
    checked, failures = 0, []
    for n, line in _rows(folder, name):
        checked += 1
        try:
            record = SFTRecord.model_validate(json.loads(line))
        except (ValueError, ValidationError) as err:
            failures.append({"line": n, "error": str(err)[:200]})
            continue
        roles = [t.role for t in record.messages if t.role != "system"]
        expected = ["user", "assistant"] * (len(roles) // 2)
        if not roles or roles != expected:
            failures.append({"line": n, "id": record.id, "error": f"roles {roles}"})
    return CheckOutcome(not failures, checked, failures[:FIRST])


def no_empty_turns(folder: DataFolder, name: str = "records.jsonl") -> CheckOutcome:
    checked, failures = 0, []
    for n, line in _rows(folder, name):
        checked += 1
        row = json.loads(line)
        empty = [i for i, t in enumerate(row.get("messages", [])) if not (t.get("content") or "").strip()]
        if empty:
            failures.append({"line": n, "id": row.get("id"), "empty_turns": empty})
    return CheckOutcome(not failures, checked, failures[:FIRST])


def judge_coverage(folder: DataFolder, name: str = "records.jsonl") -> CheckOutcome:
    """100%: every kept record carries a judgement (a human review counts too)."""
    checked, failures = 0, []
    for n, line in _rows(folder, name):
        checked += 1
        row = json.loads(line)
        if not row.get("judgement") and not (row.get("review") or {}).get("quality"):
            failures.append({"line": n, "id": row.get("id")})
    return CheckOutcome(not failures, checked, failures[:FIRST])
