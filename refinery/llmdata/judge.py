"""LLM-as-a-judge with UltraFeedback's fine-grained aspects (Cui et al. 2023): instruction following,
truthfulness (groundedness in the source chunk when the record has one), honesty, helpfulness, each rated
1..5 with a rationale, by one judge or a jury of several.

One call per aspect, as UltraFeedback annotates: each prompt carries a single rubric, which small local
judges follow far better than four rubrics at once, the answer is two lines ("Rating: N", "Rationale: ...")
that the "Rating:" prefill starts, and an unusable answer costs one aspect's repair, not the whole verdict.
The price is four short calls per record and judge; the response cache makes re-runs free.
"""
from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from typing import Literal

from pydantic import Field, model_validator

from refinery.llm.client import LLMClient
from refinery.llm.types import LLMRequest, user
from refinery.llmdata.agreement import Metric, jury_agreement
from refinery.llmdata.prompts import load_template
from refinery.llmdata.records import AspectRating, Chunk, Dropped, Judgement, JudgeVerdict, SFTRecord
from refinery.options import StrictOptions

Aspect = Literal["instruction_following", "truthfulness", "honesty", "helpfulness"]
ASPECTS: tuple[str, ...] = ("instruction_following", "truthfulness", "honesty", "helpfulness")


class JudgeSpec(StrictOptions):
    model: str | None = None  # None = the flow's default model
    temperature: float = Field(0.0, ge=0, le=2)
    max_tokens: int = Field(256, ge=16)


class JudgeOptions(StrictOptions):
    judges: list[JudgeSpec] = Field(default_factory=lambda: [JudgeSpec()], min_length=1)
    aspects: list[Aspect] = Field(default_factory=lambda: list(ASPECTS), min_length=1)
    threshold: float = Field(3.0, ge=1, le=5)  # minimum score (mean of the aspect scores) to keep a record
    min_aspect: dict[Aspect, float] = Field(default_factory=dict)  # optional minimum per aspect score
    aggregate: Literal["mean", "median"] = "mean"  # how the judges' ratings of one aspect combine

    @model_validator(mode="after")
    def _consistent(self):
        if len(set(self.aspects)) != len(self.aspects):
            raise ValueError(f"duplicate aspects in {self.aspects}")
        if unknown := set(self.min_aspect) - set(self.aspects):
            raise ValueError(f"min_aspect names aspects that are not judged: {sorted(unknown)}")
        return self


_RATING = re.compile(r"\s*Rating\s*:\s*[*\[(]*\s*([1-5])[*\])\t ]*(?:(?:/|out of)[\t ]*5[*\])\t ]*)?(?!\w|\.\d)\.?",
                     re.I)
_RATIONALE_LABEL = re.compile(r"^\s*[*_]*Rationale[*_]*\s*:[*_]*\s*", re.I)


def parse_rating(text: str) -> AspectRating:
    """'Rating: 4\\nRationale: ...' -> AspectRating. Tolerates 'Rating: [4]', '4/5', '**4**', a missing
    Rationale label and trailing chatter after a second 'Rating:'; rejects 0, 6, 4.5, words."""
    m = _RATING.match(text)
    if not m:
        raise ValueError("expected 'Rating: <1-5>' on the first line, then 'Rationale: <short reason>'")
    rationale = _RATIONALE_LABEL.sub("", text[m.end():]).split("\nRating", 1)[0].strip()
    return AspectRating(rating=int(m.group(1)), rationale=rationale[:1000])


def judge_names(options: JudgeOptions, default_model: str) -> list[tuple[str, JudgeSpec]]:
    """A name per judge: its model, with the temperature when not 0 (so one model can sit twice)."""
    named = []
    for spec in options.judges:
        model = spec.model or default_model
        named.append((model if spec.temperature == 0 else f"{model}@t={spec.temperature:g}", spec))
    names = [n for n, _ in named]
    if len(set(names)) != len(names):
        raise ValueError(f"judges must differ in model or temperature, got {names}")
    return named


def judge_templates(options: JudgeOptions) -> dict[str, str]:
    return {f"judge_{a}": load_template(f"judge_{a}").ref for a in options.aspects}


def _prompt_values(record: SFTRecord, chunks: dict[str, Chunk]) -> dict[str, str]:
    turns = record.messages
    last = max((i for i, t in enumerate(turns) if t.role == "assistant"), default=-1)
    question = max((i for i, t in enumerate(turns[:last]) if t.role == "user"), default=-1)
    if question < 0:
        raise ValueError(f"record {record.id} has no user turn followed by an assistant turn")
    history = "\n\n".join(f"{t.role.capitalize()}: {t.content}" for t in turns[:question])
    source = chunks[record.chunk_id].text if record.chunk_id else ""
    return {"instruction": turns[question].content, "response": turns[last].content,
            "history": history, "source": source}


def judge_records(records: Sequence[SFTRecord], client: LLMClient, options: JudgeOptions | None = None,
                  default_model: str = "", chunks: dict[str, Chunk] | None = None
                  ) -> tuple[list[SFTRecord], list[Dropped]]:
    """Records at or above the threshold, with `.judgement` set; dropped ones are `below_threshold` (judged,
    judgement attached) or `judge_failed` (some judge gave no usable rating for some aspect even after the
    client's repair round: a verdict from only part of the jury would not be comparable with the others).
    Records must end with an assistant turn after a user turn (the filters' role-order check)."""
    options = options or JudgeOptions()
    chunks = chunks or {}
    if missing := sorted({r.chunk_id for r in records if r.chunk_id and r.chunk_id not in chunks}):
        raise ValueError(f"source chunks not provided for {len(missing)} chunk ids, e.g. {missing[:5]}")
    judges = judge_names(options, default_model)
    templates = {a: load_template(f"judge_{a}") for a in options.aspects}
    prompts = [_prompt_values(r, chunks) for r in records]
    ratings: list[dict[str, dict[str, AspectRating]]] = [{} for _ in records]
    failures: list[list[str]] = [[] for _ in records]
    for name, spec in judges:
        requests, keys = [], []
        for i, values in enumerate(prompts):
            for aspect in options.aspects:
                system, text, prefill = templates[aspect].render(**values)
                requests.append(LLMRequest(model=spec.model or default_model, system=system, messages=(user(text),),
                                           temperature=spec.temperature, max_tokens=spec.max_tokens, prefill=prefill))
                keys.append((i, aspect))
        for (i, aspect), out in zip(keys, client.generate_structured(requests, parse_rating, label=f"judge:{name}")):
            if out.ok:
                ratings[i].setdefault(name, {})[aspect] = out.value
            else:
                failures[i].append(f"{name}/{aspect}: {out.error} {out.detail}".strip())
    judged, dropped = [], []
    for record, by_judge, failed in zip(records, ratings, failures):
        if failed:
            dropped.append(Dropped(stage="judge", reason="judge_failed", detail="; ".join(failed)[:2000],
                                   record=record))
            continue
        verdicts = [JudgeVerdict(judge=name, aspects={a: by_judge[name][a] for a in options.aspects})
                    for name, _ in judges]
        record = record.model_copy(update={"judgement": aggregate(verdicts, options)})
        if reason := _below(record.judgement, options):
            dropped.append(Dropped(stage="judge", reason="below_threshold", detail=reason, record=record))
        else:
            judged.append(record)
    return judged, dropped


def aggregate(verdicts: list[JudgeVerdict], options: JudgeOptions) -> Judgement:
    """Aspect score = mean or median of the judges' ratings; score = mean of the aspect scores (UltraFeedback's
    fine-grained average). Agreement = share of (aspect, judge pair) ratings that are identical."""
    combine = statistics.mean if options.aggregate == "mean" else statistics.median
    aspect_scores = {a: float(combine([v.aspects[a].rating for v in verdicts])) for a in options.aspects}
    pairs = [(x.aspects[a].rating, y.aspects[a].rating)
             for a in options.aspects for i, x in enumerate(verdicts) for y in verdicts[i + 1:]]
    agreement = sum(p == q for p, q in pairs) / len(pairs) if pairs else None
    return Judgement(verdicts=verdicts, score=statistics.mean(aspect_scores.values()),
                     aspect_scores=aspect_scores, agreement=agreement)


def _below(judgement: Judgement, options: JudgeOptions) -> str:
    if judgement.score < options.threshold:
        return f"score {judgement.score:.2f} < {options.threshold:g}"
    low = [f"{a} {judgement.aspect_scores[a]:g} < {m:g}" for a, m in options.min_aspect.items()
           if judgement.aspect_scores[a] < m]
    return "; ".join(low)


def rounded_score(score: float) -> int:
    return min(5, max(1, math.floor(score + 0.5)))  # half up: 3.5 counts as 4


def judge_summary(judged: Sequence[SFTRecord], dropped: Sequence[Dropped] = (), metric: Metric = "ordinal") -> dict:
    """For metadata and the dataset card, given the judge stage's kept records and drops: score histogram
    (rounded, kept records), per-aspect means, jury agreement (over every judged record, kept or below
    threshold) and coverage (judged / all; a below-threshold record was judged, a judge_failed one not)."""
    reasons = Counter(d.reason for d in dropped)
    kept = [r for r in judged if r.judgement]
    total, rated = len(judged) + len(dropped), len(kept) + reasons["below_threshold"]
    aspects = sorted({a for r in kept for a in r.judgement.aspect_scores})
    histogram = Counter(rounded_score(r.judgement.score) for r in kept)
    below = [d.record for d in dropped if d.reason == "below_threshold" and d.record and d.record.judgement]
    return {
        "records": total, "kept": len(judged), "judged": rated, "dropped": dict(reasons),
        "coverage": round(rated / total, 4) if total else None,
        "kept_coverage": round(len(kept) / len(judged), 4) if judged else None,
        "score_histogram": {s: histogram.get(s, 0) for s in range(1, 6)},
        "mean_score": round(statistics.mean(r.judgement.score for r in kept), 4) if kept else None,
        "aspect_means": {a: round(statistics.mean(r.judgement.aspect_scores[a] for r in kept
                                                  if a in r.judgement.aspect_scores), 4) for a in aspects},
        "agreement": jury_agreement(kept + below, metric),
    }
