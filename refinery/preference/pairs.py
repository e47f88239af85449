"""From scored candidates to training rows. Scores per prompt come from the humans where they annotated the
prompt (their judgement overrides the AI's), else from the AI judges. DPO pairs: best vs worst, or every pair
at least `margin` apart, or, where the scores make no pair, a liked response against a disliked one (thumbs);
an edited response is the chosen answer against the candidates it improves on. KTO
rows: one response with a binary label from thumbs (annotators' or production users'), else from the score.
ORPO reads the same pairs as DPO (without `messages`).

Rows follow TRL's conversational layouts: DPO `prompt` (messages), `chosen`/`rejected` (assistant messages),
with UltraFeedback-binarized's `messages`, `score_chosen`, `score_rejected`; KTO `prompt`/`completion`/`label`.
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from itertools import combinations

from refinery.preference.config import PairOptions
from refinery.preference.feedback import pairwise_scores
from refinery.preference.records import Candidate, Comparison, Prompt, PromptScores, stable_id

EDITED = 5.0  # an edited response is, by definition, better than every candidate: it scores the top of the scale
THUMBS_UP, THUMBS_DOWN = 5.0, 1.0  # binary feedback sits at the ends of the 1..5 scale


def ai_scores(candidates: Sequence[Candidate], comparisons: Sequence[Comparison], mode: str
              ) -> dict[str, PromptScores]:
    """ratings: the UltraFeedback score; pairwise: 1 + 4 x win share; both: their mean where both exist."""
    pairwise = pairwise_scores(comparisons) if mode in ("pairwise", "both") else {}
    out: dict[str, PromptScores] = {}
    for c in candidates:
        parts = []
        if mode in ("ratings", "both") and c.ai:
            parts.append(c.ai.score)
        if c.id in pairwise:
            parts.append(pairwise[c.id])
        if mode == "both" and len(parts) < 2:
            parts = []  # half a verdict is not comparable with the others'
        if parts:
            out.setdefault(c.prompt_id, PromptScores(prompt_id=c.prompt_id, scores={}, origin="ai"))
            out[c.prompt_id].scores[c.id] = round(statistics.mean(parts), 4)
    return out


def truncated(c: Candidate) -> bool:
    return bool(c.params.get("truncated"))


def merge(ai: dict[str, PromptScores], human: dict[str, PromptScores]) -> dict[str, PromptScores]:
    """Human scores replace the AI's for every prompt the (trusted) annotators scored."""
    return {**ai, **{pid: s for pid, s in human.items() if s.scores or s.edited or s.thumbs}}


def _messages(turns) -> list[dict]:
    return [{"role": t.role, "content": t.content} for t in turns]


def _assistant(text: str) -> list[dict]:
    return [{"role": "assistant", "content": text}]


def dpo_rows(prompts: dict[str, Prompt], candidates: dict[str, Candidate], scores: dict[str, PromptScores],
             options: PairOptions, round_key: str) -> list[dict]:
    """Pairs from scores; where a prompt's scores make no pair, from thumbs (a response people liked against
    one they did not: production users' or annotators'), scored at the ends of the scale."""
    rows, by_prompt = [], defaultdict(list)
    for c in candidates.values():
        by_prompt[c.prompt_id].append(c)
    for pid in sorted(set(scores) | {c.prompt_id for c in candidates.values() if c.log_thumbs is not None}):
        prompt, ps = prompts[pid], scores.get(pid) or PromptScores(prompt_id=pid, scores={}, origin="ai")
        before = len(rows)
        ranked = sorted((cid for cid in ps.scores if cid in candidates), key=lambda cid: (-ps.scores[cid], cid))
        eligible = [cid for cid in ranked if not truncated(candidates[cid])]  # may be chosen
        if options.strategy == "best_vs_worst":
            pairs = [(eligible[0], ranked[-1])] if eligible and len(ranked) >= 2 else []
        else:
            pairs = [(c, r) for c, r in combinations(ranked, 2) if c in eligible]
        pairs = [(c, r) for c, r in pairs if ps.scores[c] - ps.scores[r] >= max(options.margin, 1e-9)]
        rows += [_dpo(prompt, candidates[c].text, candidates[r].text, ps.scores[c], ps.scores[r], ps.origin,
                      candidates[c], candidates[r], round_key) for c, r in pairs]
        if ps.edited:  # the edit against the worst candidate (best_vs_worst) or every candidate it beats by margin
            beaten = ranked[-1:] if options.strategy == "best_vs_worst" else ranked
            rows += [_dpo(prompt, ps.edited, candidates[r].text, EDITED, ps.scores[r], "edited", None, candidates[r],
                          round_key) for r in beaten if EDITED - ps.scores[r] >= options.margin
                     and candidates[r].text.strip() != ps.edited.strip()]
        if len(rows) == before:
            rows += _thumbs_pairs(prompt, ps, by_prompt[pid], options, round_key)
    return rows


def _thumbs_pairs(prompt: Prompt, ps: PromptScores, group: list[Candidate], options: PairOptions,
                  round_key: str) -> list[dict]:
    thumbs = {c.id: ps.thumbs.get(c.id, c.log_thumbs) for c in group}
    up = sorted((c for c in group if thumbs[c.id] is True and not truncated(c)), key=lambda c: c.id)
    down = sorted((c for c in group if thumbs[c.id] is False), key=lambda c: c.id)
    pairs = [(u, d) for u in up for d in down]
    if options.strategy == "best_vs_worst":
        pairs = pairs[:1]
    return [_dpo(prompt, u.text, d.text, THUMBS_UP, THUMBS_DOWN, "thumbs", u, d, round_key) for u, d in pairs]


def _dpo(prompt: Prompt, chosen: str, rejected: str, score_chosen: float, score_rejected: float, origin: str,
         chosen_c: Candidate | None, rejected_c: Candidate, round_key: str) -> dict:
    return {"prompt": _messages(prompt.messages), "chosen": _assistant(chosen), "rejected": _assistant(rejected),
            "messages": _messages(prompt.messages) + _assistant(chosen),
            "score_chosen": float(score_chosen), "score_rejected": float(score_rejected),
            "id": stable_id(prompt.id, chosen, rejected), "prompt_id": prompt.id,
            "chosen_source": chosen_c.source if chosen_c else "human_edit", "rejected_source": rejected_c.source,
            "chosen_model": chosen_c.model if chosen_c else "", "rejected_model": rejected_c.model,
            "origin": origin, "round": round_key}


def kto_rows(prompts: dict[str, Prompt], candidates: Sequence[Candidate], scores: dict[str, PromptScores],
             options: PairOptions, round_key: str) -> list[dict]:
    """Thumbs first (annotators', then the production user's), then the score thresholds; edits are desirable."""
    rows = []
    for c in sorted(candidates, key=lambda c: c.id):
        ps = scores.get(c.prompt_id)
        score = ps.scores.get(c.id) if ps else None
        if ps and c.id in ps.thumbs:
            label, origin = ps.thumbs[c.id], "thumbs"
        elif c.log_thumbs is not None:
            label, origin = c.log_thumbs, "log_thumbs"
        elif score is not None and score <= options.kto_undesirable:
            label, origin = False, f"{ps.origin}_score"
        elif score is not None and score >= options.kto_desirable and not truncated(c):
            label, origin = True, f"{ps.origin}_score"
        else:
            continue
        rows.append(_kto(prompts[c.prompt_id], c.text, label, origin, score, c.source, c.model, round_key))
    for pid, ps in sorted(scores.items()):
        if ps.edited:
            rows.append(_kto(prompts[pid], ps.edited, True, "edited", EDITED, "human_edit", "", round_key))
    return rows


def _kto(prompt: Prompt, text: str, label: bool, origin: str, score: float | None, source: str, model: str,
         round_key: str) -> dict:
    return {"prompt": _messages(prompt.messages), "completion": _assistant(text), "label": bool(label),
            "score": score, "id": stable_id(prompt.id, text), "prompt_id": prompt.id, "source": source,
            "model": model, "origin": origin, "round": round_key}
