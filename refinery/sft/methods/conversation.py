"""Multi-turn conversations with controlled attributes: each conversation samples a persona, an emotion,
a knowledge level, a scenario, a structure and a number of turns from configured weights, so the
dataset's mix of users is a setting rather than whatever the model drifts to.

A user simulator writes each user message in persona; the assistant answers with the conversation so
far as real chat messages. Conversations are grounded on a chunk (in the request context) when
chunks exist. All conversations advance one turn per client call, so the backend runs them in parallel.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from pydantic import Field, field_validator, model_validator

from refinery.llm.client import LLMClient, Outcome, full_text
from refinery.llm.types import Message
from refinery.llmdata.prompts import PromptTemplate, load_template
from refinery.llmdata.records import Chunk, Dropped
from refinery.options import StrictOptions
from refinery.sft.methods.base import (
    MethodResult,
    SamplingOptions,
    answer,
    build_request,
    derive_seed,
    drop,
    has_content,
    record,
    rng,
    spread,
    weighted_choice,
)

METHOD = "conversation"
ATTRIBUTES = ("persona", "emotion", "knowledge_level", "scenario", "structure")
_SPEAKER = re.compile(r"^[\s*]*(?:user|you|me|human|message|employee)[\s*]*:[\s*]*", re.I)


class TurnRange(StrictOptions):
    min: int = Field(2, ge=1)
    max: int = Field(3, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> "TurnRange":
        if self.max < self.min:
            raise ValueError("turns.max must be >= turns.min")
        return self


class ConversationOptions(SamplingOptions):
    num_conversations: int = Field(3, ge=1)
    turns: TurnRange = TurnRange()  # user messages per conversation, each answered
    # attribute -> sampling weight
    personas: dict[str, float] = {"a new employee in their first weeks": 1, "an experienced team lead": 1,
                                  "a customer support agent": 1, "an HR or finance administrator": 1,
                                  "a software engineer": 1}
    emotions: dict[str, float] = {"calm": 2, "curious": 2, "stressed by a deadline": 1, "frustrated": 1,
                                  "confused": 1}
    knowledge_levels: dict[str, float] = {"novice": 1, "intermediate": 1, "expert": 1}
    scenarios: dict[str, float] = {"finding out how something works": 1, "solving a concrete problem": 1,
                                   "preparing a document or a message": 1, "making a decision": 1}
    structures: dict[str, float] = {"asks follow-up questions that dig deeper": 1,
                                    "asks to clarify something in the previous answer": 1,
                                    "starts broad, then narrows down to their own case": 1,
                                    "asks for the answer in another form (a list, an example, a shorter version)": 1}
    include_context_in_prompt: bool = False  # the chunk as a system turn of the record (RAG-style)

    @field_validator("personas", "emotions", "knowledge_levels", "scenarios", "structures")
    @classmethod
    def _has_weight(cls, v: dict[str, float]) -> dict[str, float]:
        if not any(w > 0 for w in v.values()) or any(w < 0 for w in v.values()):
            raise ValueError("needs at least one positive weight and no negative ones")
        return v


@dataclass
class _Conversation:
    index: int
    chunk: Chunk | None
    attributes: dict[str, str]
    total: int  # planned user turns
    turns: list[tuple[str, str]] = field(default_factory=list)
    dropped: Dropped | None = None


def _sample(options: ConversationOptions, chunks: list[Chunk], seed: int) -> list[_Conversation]:
    grounds = spread(chunks, options.num_conversations)
    weights = dict(zip(ATTRIBUTES, (options.personas, options.emotions, options.knowledge_levels, options.scenarios,
                                    options.structures)))
    convs = []
    for i in range(options.num_conversations):
        r = rng(seed, METHOD, i)
        attributes = {name: weighted_choice(r, w) for name, w in weights.items()}
        convs.append(_Conversation(i, grounds[i % len(grounds)] if grounds else None, attributes,
                                   r.randint(options.turns.min, options.turns.max)))
    return convs


def _clean_user(text: str) -> str:
    """The user message alone: no speaker label, no quotes, no assistant reply the simulator went on to write."""
    text = re.split(r"^[\s*]*assistant[\s*]*:", _SPEAKER.sub("", text, count=1), flags=re.I | re.M)[0]
    return text.strip().strip('"').strip()


def run(chunks: list[Chunk], client: LLMClient, options: ConversationOptions, model: str, seed: int) -> MethodResult:
    user_t, assistant_t = load_template("conversation_user"), load_template("conversation_assistant")
    convs = _sample(options, chunks, seed)
    for t in range(options.turns.max):
        active = [c for c in convs if c.dropped is None and t < c.total]
        requests = [build_request(
            user_t, options, model, derive_seed(seed, METHOD, c.index, t, "user"),
            context=c.chunk.text if c.chunk else None, grounded=c.chunk is not None, index=t + 1, total=c.total,
            transcript=[{"role": r, "content": m} for r, m in c.turns], **c.attributes) for c in active]
        _advance(active, "user", client.generate(requests, label=METHOD), user_t, _clean_user)
        active = [c for c in active if c.dropped is None]
        requests = [build_request(
            assistant_t, options, model, derive_seed(seed, METHOD, c.index, t, "assistant"),
            context=c.chunk.text if c.chunk else None, grounded=c.chunk is not None,
            history=[Message(role=r, content=m) for r, m in c.turns[:-1]], message=c.turns[-1][1]) for c in active]
        _advance(active, "assistant", client.generate(requests, label=METHOD), assistant_t, str.strip)

    result = MethodResult(dropped=[c.dropped for c in convs if c.dropped])
    for c in convs:
        if c.dropped:
            continue
        with_context = c.chunk is not None and options.include_context_in_prompt
        system = [("system", f"Reference text:\n{c.chunk.text}")] if with_context else []
        result.records.append(record(METHOD, system + c.turns, model, [user_t, assistant_t], options,
                                     {**c.attributes, "turns": c.total, "grounded": c.chunk is not None}, c.chunk))
    return result


def _advance(convs: list[_Conversation], role: str, outs: list[Outcome], template: PromptTemplate,
             clean: Callable[[str], str]) -> None:
    """Append each conversation's new turn; a failed or empty turn drops the whole conversation."""
    for c, out in zip(convs, outs):
        info = {"conversation": c.index, "turn": len(c.turns), "role": role}
        text, bad = answer(out, template, **info)
        text = clean(text)
        if not bad and not has_content(text):
            bad = drop("empty", out.request, template, full_text(out), **info)
        if bad:
            c.dropped = bad
        else:
            c.turns.append((role, text))
