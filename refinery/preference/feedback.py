"""AI feedback on candidates: UltraFeedback ratings (the SFT judge, reused: four aspects with rationales, one
judge or a jury) and a pairwise mode in which every judge sees each pair in both orders. A judge's vote counts
only when both orders agree; otherwise it is a tie, so a judge that prefers whatever comes first cancels out.
Ties stay ties. Failed calls leave the candidate (or pair) without AI feedback, recorded with the reason."""
from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from itertools import combinations

from refinery.llm.client import LLMClient
from refinery.llm.types import LLMRequest, user
from refinery.llmdata.agreement import krippendorff_alpha
from refinery.llmdata.judge import JudgeOptions, JudgeSpec, judge_names, judge_records
from refinery.llmdata.prompts import load_template
from refinery.llmdata.records import SFTRecord, Turn
from refinery.preference.records import Candidate, Comparison, Prompt

_CHOICE = re.compile(r"\s*[*\[(]*\s*(?:responses?\s+)?[*\[(]*\s*(A|B)\b", re.I)
_TIE = re.compile(r"\b(tie|draw|neither|equal(?:ly)?|same|both)\b", re.I)


def pairwise_template():
    return load_template("judge_pairwise")


def parse_choice(text: str) -> str:
    """'Better: Response A' -> "a"; B -> "b"; a tie, draw, neither, equal or both on the line -> "tie"."""
    body = text.split(":", 1)[1] if text.lower().startswith("better") else text
    first = body.strip().split("\n", 1)[0]
    if _TIE.search(first[:80]):
        return "tie"
    m = _CHOICE.match(first)
    if not m:
        raise ValueError("expected 'Better: Response A', 'Better: Response B' or 'Better: tie' on the first line")
    return m.group(1).lower()


def as_record(prompt: Prompt, candidate: Candidate) -> SFTRecord:
    return SFTRecord(id=candidate.id, method="preference", source=prompt.source, model=candidate.model,
                     messages=[*prompt.messages, Turn(role="assistant", content=candidate.text)])


def rate(prompts: dict[str, Prompt], candidates: Sequence[Candidate], client: LLMClient, options: JudgeOptions,
         default_model: str) -> tuple[list[Candidate], list[dict]]:
    """Candidates with `.ai` set (every one, whatever its score: pairs need the bad ones too), and failures."""
    records = [as_record(prompts[c.prompt_id], c) for c in candidates]
    judged, dropped = judge_records(records, client, options.model_copy(update={"threshold": 1.0, "min_aspect": {}}),
                                    default_model)
    judgements = {r.id: r.judgement for r in judged}
    judgements.update({d.record.id: d.record.judgement for d in dropped if d.reason == "below_threshold"})
    failures = [{"candidate_id": d.record.id, "reason": d.reason, "detail": d.detail}
                for d in dropped if d.reason != "below_threshold"]
    return [c.model_copy(update={"ai": judgements[c.id]}) for c in candidates if c.id in judgements], failures


def _values(prompt: Prompt, a: str, b: str) -> dict[str, str]:
    history = "\n\n".join(f"{t.role.capitalize()}: {t.content}" for t in prompt.messages[:-1])
    return {"instruction": prompt.text(), "history": history, "response_a": a, "response_b": b}


def compare(prompts: dict[str, Prompt], pairs: Sequence[tuple[Candidate, Candidate]], client: LLMClient,
            judges: Sequence[JudgeSpec], default_model: str, label: str = "pairwise"
            ) -> tuple[list[Comparison], list[dict]]:
    """One Comparison per pair whose every call was usable; failures name the pair and the reason."""
    template = pairwise_template()
    named = judge_names(JudgeOptions(judges=list(judges)), default_model)
    requests, keys = [], []
    for k, (a, b) in enumerate(pairs):
        for name, spec in named:
            for order, (first, second) in (("ab", (a, b)), ("ba", (b, a))):
                system, text, prefill = template.render(**_values(prompts[a.prompt_id], first.text, second.text))
                requests.append(LLMRequest(model=spec.model or default_model, system=system, messages=(user(text),),
                                           temperature=spec.temperature, max_tokens=spec.max_tokens, prefill=prefill))
                keys.append((k, name, order))
    votes: dict[int, list[dict]] = defaultdict(list)
    failed: dict[int, list[str]] = defaultdict(list)
    for (k, name, order), out in zip(keys, client.generate_structured(requests, parse_choice, label=label)):
        if not out.ok:
            failed[k].append(f"{name}/{order}: {out.error} {out.detail}".strip())
            continue
        choice = out.value if order == "ab" or out.value == "tie" else {"a": "b", "b": "a"}[out.value]
        votes[k].append({"judge": name, "order": order, "choice": choice})
    comparisons, failures = [], []
    for k, (a, b) in enumerate(pairs):
        if failed[k]:
            failures.append({"pair": [a.id, b.id], "reason": "judge_failed", "detail": "; ".join(failed[k])[:2000]})
            continue
        comparisons.append(_verdict(a, b, votes[k], [n for n, _ in named]))
    return comparisons, failures


def _verdict(a: Candidate, b: Candidate, votes: list[dict], judges: list[str]) -> Comparison:
    per_judge = []
    for name in judges:
        choices = {v["order"]: v["choice"] for v in votes if v["judge"] == name}
        per_judge.append(choices["ab"] if choices["ab"] == choices["ba"] else "tie")  # position bias cancels
    counts = Counter(per_judge)
    top, n = counts.most_common(1)[0]
    winner = top if n > len(per_judge) / 2 else "tie"
    agreement = counts[winner] / len(per_judge) if len(per_judge) > 1 else None
    return Comparison(prompt_id=a.prompt_id, a=a.id, b=b.id, winner=winner, votes=votes, agreement=agreement)


def all_pairs(candidates: Sequence[Candidate]) -> list[tuple[Candidate, Candidate]]:
    by_prompt: dict[str, list[Candidate]] = defaultdict(list)
    for c in candidates:
        by_prompt[c.prompt_id].append(c)
    return [pair for group in by_prompt.values() for pair in combinations(sorted(group, key=lambda c: c.id), 2)]


def pairwise_scores(comparisons: Sequence[Comparison]) -> dict[str, float]:
    """1..5 per candidate from its pairwise results: 1 + 4 x (wins + ties/2) / comparisons."""
    points: dict[str, list[float]] = defaultdict(list)
    for c in comparisons:
        points[c.a].append(1.0 if c.winner == "a" else 0.5 if c.winner == "tie" else 0.0)
        points[c.b].append(1.0 if c.winner == "b" else 0.5 if c.winner == "tie" else 0.0)
    return {cid: 1 + 4 * statistics.mean(p) for cid, p in points.items()}


def pairwise_summary(comparisons: Sequence[Comparison], failures: Sequence[dict] = ()) -> dict:
    """Outcome counts, position consistency (share of judge x pair whose two orders agreed) and the jury's
    Krippendorff alpha over the per-judge outcomes (a=1, tie=0, b=-1), when there are several judges."""
    outcomes = Counter(c.winner for c in comparisons)
    consistent, units = [], []
    for c in comparisons:
        by_judge: dict[str, dict[str, str]] = defaultdict(dict)
        for v in c.votes:
            by_judge[v["judge"]][v["order"]] = v["choice"]
        consistent += [o["ab"] == o["ba"] for o in by_judge.values()]
        units.append([{"a": 1, "tie": 0, "b": -1}[o["ab"] if o["ab"] == o["ba"] else "tie"] for o in by_judge.values()])
    alpha = krippendorff_alpha(units, "ordinal") if units and len(units[0]) > 1 else None
    return {"comparisons": len(comparisons), "failed": len(failures), "outcomes": dict(outcomes),
            "position_consistency": round(statistics.mean(consistent), 4) if consistent else None,
            "jury_alpha": None if alpha is None else round(alpha, 4)}
