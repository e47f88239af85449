"""Record schemas shared by every SFT stage. Stages exchange JSONL of these, one line per record."""
from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, Field


def stable_id(*parts: Any) -> str:
    return hashlib.sha1(json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()[:16]


class Chunk(BaseModel):
    """A piece of a deduplicated corpus document, small enough to ground one generation."""

    id: str
    doc_id: str
    source: str = ""  # metadata.source of the document: the raw object key
    drop: str = ""
    index: int = 0  # position of the chunk in its document
    text: str


class Turn(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str


class AspectRating(BaseModel):
    rating: int = Field(ge=1, le=5)
    rationale: str = ""


class JudgeVerdict(BaseModel):
    """One judge's ratings of one record, UltraFeedback aspects -> rating and rationale."""

    judge: str  # model name (or "human")
    aspects: dict[str, AspectRating]

    @property
    def score(self) -> float:
        return sum(a.rating for a in self.aspects.values()) / max(1, len(self.aspects))


class Judgement(BaseModel):
    verdicts: list[JudgeVerdict]
    score: float  # aggregated over judges and aspects, 1..5
    aspect_scores: dict[str, float] = {}
    agreement: float | None = None  # between judges, None with a single judge


class SFTRecord(BaseModel):
    id: str
    method: str  # grounded_qa | self_instruct | evol_instruct | topic_tree | conversation
    messages: list[Turn]
    chunk_id: str | None = None  # grounded methods: the chunk the answer must be supported by
    source: str | None = None
    model: str = ""
    templates: dict[str, str] = {}  # template name -> "name@vN:sha256-prefix", every template that shaped it
    params: dict[str, Any] = {}  # sampling parameters
    meta: dict[str, Any] = {}  # method specifics: persona, scenario, evolution steps, topic path, seeds
    judgement: Judgement | None = None
    review: dict[str, Any] | None = None  # human review imported back (status, editor, ...)

    def user_turns(self) -> list[Turn]:
        return [t for t in self.messages if t.role == "user"]

    def assistant_turns(self) -> list[Turn]:
        return [t for t in self.messages if t.role == "assistant"]

    def instruction(self) -> str:
        turns = self.user_turns()
        return turns[0].content if turns else ""

    def output(self) -> str:
        turns = self.assistant_turns()
        return turns[-1].content if turns else ""


class Dropped(BaseModel):
    """A record (or a failed generation) removed by a stage, with why."""

    stage: str
    reason: str
    detail: str = ""
    record: SFTRecord | None = None
    request: dict[str, Any] | None = None
