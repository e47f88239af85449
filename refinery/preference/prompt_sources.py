"""Where a round's prompts come from: the SFT dataset's held-out prompts, a prompt collection (file or
folder, local or S3, with topic quotas) and production interaction logs (prompt, response, thumbs), whose
responses become candidates and whose thumbs become KTO labels.

Rows of a collection: `prompt` (text) or `messages` (a conversation ending with the user), optional `topic`
and `id`. Rows of a log: the same plus `response` and `thumbs` (up/down, true/false, 1/-1/0), optional `model`.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence

from datatrove.io import DataFolder

from refinery.llmdata.dataset_files import split_of
from refinery.llmdata.io import numbered_rows
from refinery.llmdata.records import SFTRecord
from refinery.preference.records import Candidate, Prompt, Turn, stable_id

_UP, _DOWN = {"up", "true", "1", "+1", "yes", "good", "👍"}, {"down", "false", "-1", "0", "no", "bad", "👎"}


def rank(seed: object, *parts: object) -> str:
    """A deterministic shuffle key: sorting by it samples without bias and reproducibly."""
    return hashlib.sha256(json.dumps([seed, *parts], default=str).encode()).hexdigest()


def sft_test_prompts(records: Iterable[SFTRecord], test_fraction: float, split_salt: str = "") -> list[Prompt]:
    """The prompts of the SFT export's test split (same split function, so never ones the policy was tuned on):
    every turn before the last assistant answer."""
    records = list(records)
    split = split_of([r.id for r in records], test_fraction, split_salt)
    out = []
    for r in records:
        last = max((i for i, t in enumerate(r.messages) if t.role == "assistant"), default=-1)
        if split[r.id] != "test" or last < 1:
            continue
        out.append(Prompt(id=stable_id("sft", r.id), messages=r.messages[:last], source="sft_test", topic=r.method,
                          meta={"sft_id": r.id, "reference": r.messages[last].content}))
    return out


def _messages(row: dict) -> list[Turn]:
    if row.get("messages"):
        turns = [Turn.model_validate(m) for m in row["messages"]]
    else:
        text = str(row.get("prompt") or "").strip()
        turns = [Turn(role="user", content=text)] if text else []
    if not turns or turns[-1].role != "user" or not turns[-1].content.strip():
        raise ValueError("needs a non-empty `prompt` or `messages` ending with a user turn")
    return turns


def _thumbs(value) -> bool | None:
    if value is None or value == "":
        return None
    text = str(value).strip().lower()
    if text in _UP:
        return True
    if text in _DOWN:
        return False
    raise ValueError(f"thumbs must be up/down (or true/false, 1/-1), got {value!r}")


def read_collection(folder: DataFolder, files: Sequence[str]) -> tuple[list[Prompt], dict[str, int]]:
    """Prompts of a collection; unusable rows are counted by reason, not fatal."""
    prompts, problems = {}, Counter()
    for name in files:
        for line, row in numbered_rows(folder, name):
            try:
                messages = _messages(row)
            except (ValueError, TypeError) as err:
                problems[f"{name}:{line}: {err}"[:200]] += 1
                continue
            pid = str(row.get("id") or stable_id("collection", [m.model_dump() for m in messages]))
            prompts.setdefault(pid, Prompt(id=pid, messages=messages, source="collection",
                                           topic=(row.get("topic") or None), meta={"file": name}))
    return list(prompts.values()), dict(problems)


def read_logs(folder: DataFolder, files: Sequence[str]) -> tuple[list[Prompt], list[Candidate], dict[str, int]]:
    """Prompts and their logged responses (as `log` candidates with the user's thumbs)."""
    prompts, candidates, problems = {}, [], Counter()
    for name in files:
        for line, row in numbered_rows(folder, name):
            try:
                messages, thumbs = _messages(row), _thumbs(row.get("thumbs"))
                response = str(row.get("response") or "").strip()
                if not response:
                    raise ValueError("needs a `response`")
            except (ValueError, TypeError) as err:
                problems[f"{name}:{line}: {err}"[:200]] += 1
                continue
            pid = stable_id("prompt", [m.model_dump() for m in messages])
            prompts.setdefault(pid, Prompt(id=pid, messages=messages, source="logs", topic=row.get("topic") or None))
            candidates.append(Candidate(id=stable_id("log", name, line, response), prompt_id=pid, text=response,
                                        source="log", model=str(row.get("model") or ""), log_thumbs=thumbs,
                                        params={"file": name, "line": line}))
    return list(prompts.values()), candidates, dict(problems)


def pick_eval(pool: Sequence[Prompt], n: int, seed: int) -> list[Prompt]:
    """The held-out evaluation prompts: chosen once (the first round) and kept for every later round."""
    return sorted(pool, key=lambda p: rank(seed, "eval", p.id))[:n]


def pick_round(pool: Sequence[Prompt], used: set[str], round_key: str, n: int, quotas: dict[str, int],
               seed: int) -> list[Prompt]:
    """`n` prompts for this round: fresh ones first (not answered in an earlier round), then earlier ones
    again (a new policy answering an old prompt is new data); at most `quotas[topic]` per listed topic."""
    order = sorted(pool, key=lambda p: (p.id in used, rank(seed, round_key, p.id)))
    taken, per_topic = [], Counter()
    for p in order:
        if len(taken) == n:
            break
        if p.topic in quotas and per_topic[p.topic] >= quotas[p.topic]:
            continue
        per_topic[p.topic] += 1
        taken.append(p)
    return taken
