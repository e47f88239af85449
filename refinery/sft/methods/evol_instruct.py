"""Evol-Instruct (WizardLM, Xu et al. 2023) with EvolQuality (Deita, Liu et al. 2023).

Starting instructions (seed tasks, plus any given ones) evolve for `generations` rounds; each step
applies one in-depth operation (add constraints, deepening, concretizing, increase reasoning steps,
optionally complicate input) or in-breadth (a new, rarer prompt in the same domain). The paper's
elimination step removes evolutions that bring nothing new, leak the rewriting prompt, or that the
model cannot answer; every surviving instruction gets a response, which EvolQuality then rewrites
to be more helpful, relevant, deep, creative or detailed. Like WizardLM, every generation's
surviving pairs become records, not only the last one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from pydantic import Field, field_validator

from refinery.llm.client import LLMClient
from refinery.llmdata.prompts import PromptTemplate, load_template
from refinery.llmdata.records import Chunk
from refinery.sft.methods.base import (
    MethodResult,
    SamplingOptions,
    answer,
    build_request,
    derive_seed,
    drop,
    record,
    rng,
    seed_tasks,
    weighted_choice,
    words,
)

METHOD = "evol_instruct"
IN_DEPTH = ("add_constraints", "deepening", "concretizing", "increase_reasoning", "complicate_input")
QUALITY = ("helpfulness", "relevance", "depth", "creativity", "details")
_PROMPT_LEAK = re.compile(r"#?\s*(?:the\s+)?(?:given|rewritten|created)\s+(?:prompt|response)\s*#?", re.I)
_HEADER = re.compile(r"^[\s#*]*(?:the\s+)?(?:rewritten|created)\s+(?:prompt|response)[\s#*]*:[\s*]*", re.I)


class EvolInstructOptions(SamplingOptions):
    num_seed_instructions: int = Field(4, ge=0)  # sampled from the seed-task file
    instructions: list[str] = []  # given starting instructions, evolved as well
    generations: int = Field(1, ge=1)
    # weights of the evolution operations; in-breadth rarer, "complicate input" off unless asked for
    operations: dict[str, float] = {"add_constraints": 1, "deepening": 1, "concretizing": 1,
                                    "increase_reasoning": 1, "complicate_input": 0, "in_breadth": 0.5}
    evol_quality_steps: int = Field(1, ge=0)
    quality_operations: list[str] = list(QUALITY)
    min_instruction_words: int = Field(3, ge=1)

    @field_validator("operations")
    @classmethod
    def _known_operations(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = set(v) - {*IN_DEPTH, "in_breadth"}
        if unknown or not any(w > 0 for w in v.values()):
            raise ValueError(f"operations: unknown {sorted(unknown)} or no positive weight; "
                             f"known: {[*IN_DEPTH, 'in_breadth']}")
        return v

    @field_validator("quality_operations")
    @classmethod
    def _known_quality(cls, v: list[str]) -> list[str]:
        if not v or set(v) - set(QUALITY):
            raise ValueError(f"quality_operations must be a non-empty subset of {QUALITY}")
        return v


@dataclass
class _Lineage:
    root_id: str
    root: str
    instruction: str
    path: list[str] = field(default_factory=list)  # operations applied so far


@dataclass
class _Pair:
    lineage: _Lineage
    template: PromptTemplate  # the evolution template of this generation
    response: str
    quality: list[str] = field(default_factory=list)  # EvolQuality operations kept


def _starts(options: EvolInstructOptions, seed: int) -> list[_Lineage]:
    tasks = list(seed_tasks())
    picked = rng(seed, METHOD, "seeds").sample(tasks, min(options.num_seed_instructions, len(tasks)))
    starts = [(f"given-{i}", text) for i, text in enumerate(options.instructions)]
    for t in picked:
        first = t["instances"][0]["input"] if t["instances"] else ""
        starts.append((t["id"], f"{t['instruction']}\n\n{first}" if first else t["instruction"]))
    return [_Lineage(root_id=i, root=text, instruction=text) for i, text in starts]


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def _elimination(evolved: str, parent: str, min_words: int) -> str | None:
    """WizardLM's elimination of a failed evolution (the unanswerable case is checked on the response)."""
    if _PROMPT_LEAK.search(evolved):
        return "prompt_leak"
    if words(evolved) < min_words:
        return "too_short"
    if _normal(evolved) == _normal(parent):
        return "unchanged"  # no information gain over the parent
    return None


def _unanswerable(response: str) -> bool:
    # the paper: a short response containing "sorry" means the evolved instruction is too hard or ill-posed
    return "sorry" in response.casefold() and words(response) < 80


def run(chunks: list[Chunk], client: LLMClient, options: EvolInstructOptions, model: str, seed: int) -> MethodResult:
    templates = {"in_depth": load_template("evol_in_depth"), "in_breadth": load_template("evol_in_breadth")}
    respond, quality = load_template("respond"), load_template("evol_quality")
    result = MethodResult()
    lineages = _starts(options, seed)
    for gen in range(1, options.generations + 1):
        ops = [weighted_choice(rng(seed, METHOD, gen, lin.root_id), options.operations) for lin in lineages]
        tmpls = [templates["in_breadth" if op == "in_breadth" else "in_depth"] for op in ops]
        requests = [build_request(t, options, model, derive_seed(seed, METHOD, gen, lin.root_id),
                                  operation=op, instruction=lin.instruction)
                    for lin, op, t in zip(lineages, ops, tmpls)]
        evolved = []
        for lin, op, tmpl, out in zip(lineages, ops, tmpls, client.generate(requests, label=METHOD)):
            text, bad = answer(out, tmpl, generation=gen, operation=op)
            text = _HEADER.sub("", text, count=1).strip()
            reason = None if bad else _elimination(text, lin.instruction, options.min_instruction_words)
            if bad or reason:
                # the parent stays in place: its lineage tries another operation next generation
                result.dropped.append(bad or drop(reason, out.request, tmpl, text, generation=gen, operation=op))
                continue
            evolved.append((lin, op, tmpl, text))

        requests = [build_request(respond, options, model, derive_seed(seed, METHOD, gen, lin.root_id, "response"),
                                  instruction=text) for lin, _, _, text in evolved]
        answered = []
        for (lin, op, tmpl, text), out in zip(evolved, client.generate(requests, label=METHOD)):
            response, bad = answer(out, respond, generation=gen, operation=op)
            if not bad and _unanswerable(response):
                bad = drop("response_sorry", out.request, respond, response, generation=gen, operation=op)
            if bad:
                result.dropped.append(bad)
                continue
            lin.instruction, lin.path = text, [*lin.path, op]
            answered.append(_Pair(lin, tmpl, response))

        for step in range(options.evol_quality_steps):
            _evolve_quality(answered, gen, step, client, options, model, seed, quality, result)
        for pair in answered:
            lin = pair.lineage
            used = [respond, pair.template] + ([quality] if pair.quality else [])
            result.records.append(record(
                METHOD, [("user", lin.instruction), ("assistant", pair.response)], model, used, options,
                {"root_id": lin.root_id, "root_instruction": lin.root, "generation": gen,
                 "evolution": lin.path, "quality": pair.quality}))
    return result


def _evolve_quality(answered: list[_Pair], gen: int, step: int, client: LLMClient, options: EvolInstructOptions,
                    model: str, seed: int, template: PromptTemplate, result: MethodResult) -> None:
    """One EvolQuality step over all answered pairs; a rejected rewrite keeps the previous response."""
    keys = [(seed, METHOD, gen, pair.lineage.root_id, "quality", step) for pair in answered]
    ops = [rng(*key).choice(options.quality_operations) for key in keys]
    requests = [build_request(template, options, model, derive_seed(*key), operation=op,
                              instruction=pair.lineage.instruction, response=pair.response)
                for pair, op, key in zip(answered, ops, keys)]
    for pair, op, out in zip(answered, ops, client.generate(requests, label=METHOD)):
        text, bad = answer(out, template, generation=gen, quality=op, kept="previous response")
        text = _HEADER.sub("", text, count=1).strip()
        if not bad and (_PROMPT_LEAK.search(text) or _unanswerable(text)):
            reason = "prompt_leak" if _PROMPT_LEAK.search(text) else "response_sorry"
            bad = drop(reason, out.request, template, text, generation=gen, quality=op, kept="previous response")
        if bad:
            result.dropped.append(bad)
            continue
        pair.response = text
        pair.quality.append(op)
