"""What every generation method shares: sampling options, the result type, request/record/drop builders
and the line parsers that keep outputs usable even from a small local model.

Determinism is the contract that makes reruns free: every request carries an explicit seed derived
from the run seed and the item's position, and every random choice uses a `random.Random` seeded the
same way, so a rerun builds byte-identical requests and the client's cache answers all of them.
"""
from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from pydantic import Field

from refinery.llm.client import Outcome, full_text
from refinery.llm.types import LLMRequest, Message
from refinery.llmdata.prompts import PromptTemplate
from refinery.llmdata.records import Chunk, Dropped, SFTRecord, Turn, stable_id
from refinery.options import StrictOptions

SEED_TASKS = Path(__file__).resolve().parent.parent / "data" / "seed_tasks.jsonl"


class SamplingOptions(StrictOptions):
    model: str | None = None  # None: the client's default model
    temperature: float = Field(0.7, ge=0, le=2)
    top_p: float | None = Field(0.95, gt=0, le=1)
    max_tokens: int = Field(256, gt=0)


@dataclass
class MethodResult:
    records: list[SFTRecord] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)  # failed calls and unusable outputs, with reasons


def derive_seed(seed: int, *parts: Any) -> int:
    """A per-call seed from the run seed and the call's position (method, round, index, ...)."""
    return int(stable_id(seed, *parts), 16) % 2**31


def rng(seed: int, *parts: Any) -> random.Random:
    return random.Random(derive_seed(seed, *parts))


def weighted_choice(r: random.Random, weights: dict[str, float]) -> str:
    names = [k for k, w in weights.items() if w > 0]
    return r.choices(names, weights=[weights[k] for k in names])[0]


def build_request(template: PromptTemplate, options: SamplingOptions, model: str, seed: int, *,
                  context: str | None = None, history: Sequence[Message] = (), **values: Any) -> LLMRequest:
    """The template rendered into one request: `history` goes before the rendered user message."""
    system, text, pre = template.render(**values)
    return LLMRequest(model=model, system=system, context=context,
                      messages=(*history, Message(role="user", content=text)),
                      temperature=options.temperature, top_p=options.top_p, max_tokens=options.max_tokens,
                      prefill=pre, seed=seed)


def record(method: str, turns: Sequence[tuple[str, str]], model: str, templates: Sequence[PromptTemplate],
           options: SamplingOptions, meta: dict[str, Any], chunk: Chunk | None = None) -> SFTRecord:
    messages = [Turn(role=role, content=content) for role, content in turns]
    return SFTRecord(id=stable_id(method, [m.model_dump() for m in messages]), method=method, messages=messages,
                     model=model, templates={t.name: t.ref for t in templates},
                     params={"temperature": options.temperature, "top_p": options.top_p}, meta=meta,
                     chunk_id=chunk.id if chunk else None, source=chunk.source if chunk else None)


def drop(reason: str, request: LLMRequest, template: PromptTemplate, detail: str = "", **extra: Any) -> Dropped:
    """A Dropped for the generate stage. The request is summarised: its cache key finds the full request and
    answer in the cache; the prompt's end is where the variable part (task, topic, message) sits."""
    summary = {"template": template.ref, "model": request.model, "seed": request.seed, "key": request.cache_key(),
               "prompt_end": request.messages[-1].content[-300:], **extra}
    return Dropped(stage="generate", reason=reason, detail=detail[:500], request=summary)


def failed(out: Outcome, template: PromptTemplate, **extra: Any) -> Dropped | None:
    """The Dropped for a failed call (after the client's repair round), None when it succeeded."""
    if out.ok:
        return None
    return drop(out.error or "error", out.request, template, out.detail, **extra)


def answer(out: Outcome, template: PromptTemplate, **extra: Any) -> tuple[str, Dropped | None]:
    """The text of a free-form answer, or why it is unusable: a cut-off answer would teach the model to
    stop mid-sentence, an empty one teaches nothing."""
    if (bad := failed(out, template, **extra)) is not None:
        return "", bad
    text = full_text(out).strip()
    if out.response.truncated:
        return "", drop("truncated", out.request, template, text[-200:], **extra)
    if not has_content(text):
        return "", drop("empty", out.request, template, text, **extra)
    return text, None


_WORD = re.compile(r"\w+")


def has_content(text: str) -> bool:
    return bool(_WORD.search(text))


def words(text: str) -> int:
    return len(text.split())


_ITEM = re.compile(r"^\s*(?:(?:task|topic|prompt|question|instruction)\s*)?"
                   r"(?:\d+\s*[.)](?=\s)|\d+\s*:|[-*•·](?=\s))\s*", re.I)
_LABEL = re.compile(r"^\s*(?:task|topic|subtopic|prompt|question|instruction)\s*\d*\s*:\s*", re.I)


def parse_list(text: str) -> list[str]:
    """Items of a numbered or bulleted list (`1.`, `2)`, `- `, `Task 3:`), one per line. Unmarked lines
    (a preamble, a closing remark) are ignored unless the model dropped the markers altogether.
    Raises ValueError when nothing usable is there."""
    marked: list[str] = []
    plain: list[str] = []
    for line in text.splitlines():
        bare = _LABEL.sub("", _ITEM.sub("", line))
        item = bare.strip(' "*')
        if item.endswith(":") or not has_content(item):
            continue  # a heading ("Here are the subtopics:") or an empty line
        (plain if bare == line else marked).append(item)
    items: list[str] = []
    for item in marked or plain:
        if item.casefold() not in {i.casefold() for i in items}:
            items.append(item)
    if not items:
        raise ValueError("no list items found; write one item per line, numbered 1., 2., ...")
    return items


def list_items(out: Outcome) -> list[str]:
    """A parsed list, without its last item when the answer was cut off (that item may be incomplete)."""
    items = list(out.value)
    return items[:-1] if out.response.truncated and len(items) > 1 else items


def parse_fields(text: str, names: Sequence[str], optional: Sequence[str] = ()) -> list[dict[str, str]]:
    """Repeated `Name: value` blocks ("Question: ...\\nAnswer: ...") into dicts, in order; a value may
    span lines until the next label. A block starts again at the first name (or a repeated one).
    Blocks missing a required field are skipped; ValueError when none is complete."""
    label = re.compile(rf"^\s*\**\s*({'|'.join(map(re.escape, names))})\s*\**\s*:\s*\**\s*(.*)$", re.I)
    canonical = {n.casefold(): n for n in names}
    blocks: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    key = None
    for line in text.splitlines():
        m = label.match(line)
        if m:
            key = canonical[m.group(1).casefold()]
            if key == names[0] or current is None or key in current:
                current = {}
                blocks.append(current)
            current[key] = m.group(2).strip()
        elif current is not None and key:
            current[key] = f"{current[key]}\n{line}".strip()
    required = [n for n in names if n not in optional]
    complete = [{n: b.get(n, "").strip() for n in names}
                for b in blocks if all(b.get(n, "").strip() for n in required)]
    if not complete:
        expected = "\n".join(f"{n}: ..." for n in names)
        raise ValueError(f"expected the format:\n{expected}")
    return complete


@lru_cache(maxsize=1)
def seed_tasks() -> tuple[dict, ...]:
    """The human-written seed tasks (Self-Instruct's 175 in the paper; ours are office work)."""
    with open(SEED_TASKS, encoding="utf-8") as f:
        return tuple(json.loads(line) for line in f if line.strip())


def spread(chunks: Sequence[Chunk], n: int) -> list[Chunk]:
    """Up to n chunks taken round-robin across documents, so a small cap still covers many documents."""
    by_doc: dict[str, list[Chunk]] = {}
    for c in chunks:
        by_doc.setdefault(c.doc_id, []).append(c)
    queues = [sorted(cs, key=lambda c: c.index) for cs in by_doc.values()]
    picked: list[Chunk] = []
    depth = 0
    while len(picked) < n and any(depth < len(q) for q in queues):
        picked.extend(q[depth] for q in queues if depth < len(q))
        depth += 1
    return picked[:n]
