"""Checks on SFT stage outputs (run as Dagster asset checks): each returns what it checked and the first
offenders, so a failing check in the UI says which records to look at."""
from __future__ import annotations

import json
from collections.abc import Callable

from datatrove.io import DataFolder
from pydantic import ValidationError

from refinery.corpus.checks import CheckOutcome
from refinery.sft.records import SFTRecord
from refinery.sft.stage import marker_summary
from refinery.storage import Layout

FIRST = 10


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


def llm_failures(layout: Layout, stages: list[str], flow: str = "sft") -> tuple[bool, dict]:
    """(passed, report) over the LLM stages' last runs, from their markers: requests, failed, the share
    and, per stage, its share, reasons and requests still to retry. Fails when a stage is over its bound
    (such a stage also failed its run; this keeps the verdict next to the dataset it fed)."""
    stats = {s: st for s in stages if (st := (marker_summary(layout, s, flow) or {}).get("llm_failures"))}
    requests, failed = sum(st["requests"] for st in stats.values()), sum(st["failed"] for st in stats.values())
    report = {"llm_requests": requests, "llm_failed": failed,
              "failure_share": round(failed / requests, 4) if requests else 0.0,
              "by_stage": {s: {k: st[k] for k in ("share", "bound", "by_reason", "retry_pending")}
                           for s, st in stats.items() if st["failed"]}}
    return not any(st["over"] for st in stats.values()), report
