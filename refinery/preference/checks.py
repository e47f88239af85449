"""Checks on a round's preference dataset (run as Dagster asset checks): every DPO and KTO row has the shape
TRL's trainers read, and no held-out evaluation prompt leaked into training data."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator

from datatrove.io import DataFolder

from refinery.corpus.checks import CheckOutcome
from refinery.llmdata.checks import FIRST
from refinery.llmdata.io import read_records
from refinery.preference.records import Prompt


def _rows(dataset: DataFolder, config: str) -> Iterator[tuple[str, dict]]:
    if not dataset.exists(config):
        return
    for name in sorted(f for f in dataset.list_files(config) if f.endswith(".jsonl")):
        with dataset.open(name, "rt", encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    yield name, json.loads(line)


def _turns_ok(turns, last_role: str) -> bool:
    return (isinstance(turns, list) and bool(turns) and all(isinstance(t, dict) and t.get("content", "").strip()
                                                             for t in turns) and turns[-1].get("role") == last_role)


def _dpo_offence(row: dict) -> str | None:
    if not _turns_ok(row.get("prompt"), "user"):
        return "prompt must be messages ending with a non-empty user turn"
    if not (_turns_ok(row.get("chosen"), "assistant") and _turns_ok(row.get("rejected"), "assistant")):
        return "chosen and rejected must be non-empty assistant turns"
    if row["chosen"] == row["rejected"]:
        return "chosen equals rejected"
    if not row["score_chosen"] > row["score_rejected"]:
        return f"score_chosen {row['score_chosen']} is not above score_rejected {row['score_rejected']}"
    return None


def _kto_offence(row: dict) -> str | None:
    if not _turns_ok(row.get("prompt"), "user"):
        return "prompt must be messages ending with a non-empty user turn"
    if not _turns_ok(row.get("completion"), "assistant"):
        return "completion must be a non-empty assistant turn"
    return None if isinstance(row.get("label"), bool) else "label must be true or false"


def _each(dataset: DataFolder, configs: dict[str, Callable[[dict], str | None]]) -> CheckOutcome:
    checked, failures = 0, []
    for config, offence in configs.items():
        for name, row in _rows(dataset, config):
            checked += 1
            if (why := offence(row)) is not None:
                failures.append({"file": name, "id": row.get("id"), "error": why})
    return CheckOutcome(not failures, checked, failures[:FIRST])


def trainer_layout(dataset: DataFolder) -> CheckOutcome:
    return _each(dataset, {"dpo": _dpo_offence, "kto": _kto_offence})


def no_eval_leak(dataset: DataFolder, eval_folder: DataFolder) -> CheckOutcome:
    held_out = {p.id for p in read_records(eval_folder, "prompts.jsonl", Prompt)}
    leak = lambda row: "a held-out evaluation prompt" if row.get("prompt_id") in held_out else None  # noqa: E731
    return _each(dataset, {"dpo": leak, "kto": leak})
