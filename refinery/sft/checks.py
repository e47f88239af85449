"""Checks on SFT stage outputs (run as Dagster asset checks): each returns what it checked and the first
offenders, so a failing check in the UI says which records to look at."""
from __future__ import annotations

import json
from collections.abc import Callable

from datatrove.io import DataFolder
from pydantic import ValidationError

from refinery.corpus.checks import CheckOutcome
from refinery.llmdata.checks import FIRST
from refinery.llmdata.records import SFTRecord


def _rows(folder: DataFolder, name: str):
    if not folder.isfile(name):
        return
    with folder.open(name, "rt") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                yield n, line


def _each_row(folder: DataFolder, name: str, offence: Callable[[str], dict | None]) -> CheckOutcome:
    """`offence(line)` describes what is wrong with a row, or None."""
    checked, failures = 0, []
    for n, line in _rows(folder, name):
        checked += 1
        if (bad := offence(line)) is not None:
            failures.append({"line": n, **bad})
    return CheckOutcome(not failures, checked, failures[:FIRST])


def _schema_offence(line: str) -> dict | None:
    try:
        record = SFTRecord.model_validate(json.loads(line))
    except (ValueError, ValidationError) as err:
        return {"error": str(err)[:200]}
    roles = [t.role for t in record.messages if t.role != "system"]
    if not roles or roles != ["user", "assistant"] * (len(roles) // 2):
        return {"id": record.id, "error": f"roles {roles}"}
    return None


def _empty_turns(line: str) -> dict | None:
    row = json.loads(line)
    empty = [i for i, t in enumerate(row.get("messages", [])) if not (t.get("content") or "").strip()]
    return {"id": row.get("id"), "empty_turns": empty} if empty else None


def _unjudged(line: str) -> dict | None:
    row = json.loads(line)
    judged = row.get("judgement") or (row.get("review") or {}).get("quality")  # a human rating counts too
    return None if judged else {"id": row.get("id")}


def schema_valid(folder: DataFolder, name: str = "records.jsonl") -> CheckOutcome:
    """Every row is an SFTRecord whose turns alternate user/assistant (after an optional system turn)
    and end with the assistant: the shape chat templates and TRL expect."""
    return _each_row(folder, name, _schema_offence)


def no_empty_turns(folder: DataFolder, name: str = "records.jsonl") -> CheckOutcome:
    return _each_row(folder, name, _empty_turns)


def judge_coverage(folder: DataFolder, name: str = "records.jsonl") -> CheckOutcome:
    """100%: every kept record carries a judgement."""
    return _each_row(folder, name, _unjudged)
