"""Record schemas of the preference loop. Stages exchange JSONL of these, one line per record."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from refinery.llmdata.records import Judgement, Turn, stable_id

__all__ = ["Annotation", "Candidate", "Comparison", "ControlRecord", "Prompt", "PromptScores", "Turn", "stable_id"]

PromptSource = Literal["sft_test", "collection", "logs", "eval"]


class Prompt(BaseModel):
    """What the policy answers: a conversation ending with the user turn to respond to."""

    id: str
    messages: list[Turn]
    source: PromptSource
    topic: str | None = None
    meta: dict[str, Any] = {}

    def text(self) -> str:
        return self.messages[-1].content


class Candidate(BaseModel):
    """One response to a prompt: from the policy, a reference model, or a production log."""

    id: str
    prompt_id: str
    text: str
    source: str  # "policy" | a reference's name | "log"
    model: str = ""
    params: dict[str, Any] = {}
    sample: int = 0  # index among the source's N samples for this prompt
    ai: Judgement | None = None  # UltraFeedback ratings, set by the AI feedback stage
    log_thumbs: bool | None = None  # production thumbs up (True) / down (False), for log responses


class Comparison(BaseModel):
    """A pairwise AI verdict on two candidates of one prompt. Each judge sees both orders; a judge's vote
    counts only when both orders agree (else it is a tie), so position bias cancels out."""

    prompt_id: str
    a: str  # candidate ids
    b: str
    winner: Literal["a", "b", "tie"]
    votes: list[dict[str, Any]] = []  # {"judge", "order": "ab"|"ba", "choice": "a"|"b"|"tie"} per call
    agreement: float | None = None  # share of judges voting with the outcome, None with one judge


class Annotation(BaseModel):
    """One annotator's answer on one annotation record (a prompt and its candidates)."""

    record_id: str  # the prompt id (or a control record's id)
    annotator: str
    status: Literal["submitted", "discarded"] = "submitted"
    ranking: dict[str, int] = {}  # candidate id -> rank, 1 = best; equal ranks are ties
    ratings: dict[str, int] = {}  # candidate id -> 1..5
    thumbs: dict[str, bool] = {}  # candidate id -> acceptable (KTO label)
    edited: str | None = None  # a corrected response better than every candidate


class ControlRecord(BaseModel):
    """A record with a known answer, mixed into the annotation queue to measure annotators."""

    id: str
    prompt: str
    responses: list[str] = Field(min_length=2)
    best: int  # index into responses of the known best answer


class PromptScores(BaseModel):
    """Per prompt, the final score of every candidate after human feedback overrides AI feedback."""

    prompt_id: str
    scores: dict[str, float]  # candidate id -> 1..5
    origin: Literal["human", "ai"]
    thumbs: dict[str, bool] = {}
    edited: str | None = None
    annotators: list[str] = []
