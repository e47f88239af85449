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


def no_pii_left(folder: DataFolder, kinds: list[str] | None = None, **detector_args) -> CheckOutcome:
    """`detector_args`: the redactor's keep_* settings, so the check and the redaction agree."""
    return _run(folder, lambda doc: bool(find_pii(doc.get("text") or "", kinds, **detector_args)))


def no_exact_duplicates(folder: DataFolder) -> CheckOutcome:
    seen: set[bytes] = set()

    def dup(doc):
        key = hashlib.sha1((doc.get("text") or "").strip().encode()).digest()[:12]
        if key in seen:
            return True
        seen.add(key)
        return False

    return _run(folder, dup)


def token_shards_consistent(folder: DataFolder, token_bytes: int = 2) -> CheckOutcome:
    """Every .ds shard has its .index, and the index's last document end equals the shard's token count
    (what datatrove's token readers rely on to cut documents)."""
    import numpy as np

    shards = folder.list_files(glob_pattern="*.ds") if folder.exists("") else []
    failures = []
    for shard in shards:
        tokens = folder.size(shard) // token_bytes
        if not folder.isfile(f"{shard}.index"):
            failures.append(f"{shard}: no index")
            continue
        with folder.open(f"{shard}.index", "rb") as f:
            ends = np.frombuffer(f.read(), dtype=np.uint64)
        if not ends.size or int(ends[-1]) != tokens or np.any(np.diff(ends.astype(np.int64)) <= 0):
            failures.append(f"{shard}: index ends at {int(ends[-1]) if ends.size else None}, shard has {tokens} tokens")
    return CheckOutcome(not failures, len(shards), failures[:10])
