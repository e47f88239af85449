"""Invariants of a stage's output, streamed over its JSONL files (memory: one hash per document)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from datatrove.io import DataFolder

from refinery.corpus.report import iter_jsonl
from refinery.filters.pii import find_pii


@dataclass
class CheckOutcome:
    passed: bool
    checked: int
    failures: list = field(default_factory=list)  # the first few offending ids


def _run(folder: DataFolder, bad) -> CheckOutcome:
    checked, failures, total_bad = 0, [], 0
    for doc in iter_jsonl(folder):
        checked += 1
        if bad(doc):
            total_bad += 1
            if len(failures) < 10:
                failures.append(doc.get("id"))
    return CheckOutcome(total_bad == 0, checked, failures)


def ids_unique(folder: DataFolder) -> CheckOutcome:
    seen: set[bytes] = set()

    def dup(doc):
        key = hashlib.blake2b(str(doc.get("id")).encode(), digest_size=12).digest()
        if key in seen:
            return True
        seen.add(key)
        return False

    return _run(folder, dup)


def no_empty_text(folder: DataFolder) -> CheckOutcome:
    return _run(folder, lambda doc: not (doc.get("text") or "").strip())


def no_pii_left(folder: DataFolder, kinds: list[str] | None = None) -> CheckOutcome:
    return _run(folder, lambda doc: bool(find_pii(doc.get("text") or "", kinds)))


def no_exact_duplicates(folder: DataFolder) -> CheckOutcome:
    seen: set[bytes] = set()

    def dup(doc):
        key = hashlib.sha1((doc.get("text") or "").strip().encode()).digest()[:12]
        if key in seen:
            return True
        seen.add(key)
        return False

    return _run(folder, dup)
