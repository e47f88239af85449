"""`refinery preference --estimate`: a round's LLM requests, tokens and USD per stage and model, none sent.

The round's prompts must exist (`preference_prompts` calls no LLM). Candidates: the stage's own code over
those prompts for the policy and every reference (plus the held-out evaluation answers) against
`refinery.llm.estimate`'s client: exact, cache hits subtracted. AI feedback: the stage's code over the
round's candidates when they exist (exact), else over stand-in candidates, one per sample, each as long as
its `max_tokens` allows (an upper bound on the judges' input), marked approximate.
"""
from __future__ import annotations

from refinery.catalog.preference import CANDIDATES, PROMPTS
from refinery.llm.cache import ResponseCache
from refinery.llm.estimate import CHARS_PER_TOKEN, estimating_client, stage_estimate, totals
from refinery.llmdata.io import read_records
from refinery.preference.candidates import Source, generate_candidates
from refinery.preference.feedback import all_pairs, compare, rate
from refinery.preference.flow import Round, policy_spec
from refinery.preference.records import Candidate, Prompt


def estimate_round(r: Round, batch: bool = False) -> dict:
    if not r.marker(PROMPTS):
        return {"round": r.key, "stages": {}, "total": totals({}),
                "note": f"{r.key} has no prompts yet: materialise preference_prompts first (it calls no LLM)"}
    cache = ResponseCache(r.layout.at(r.layout.llm_cache()))
    prompts = r.read(PROMPTS, "prompts.jsonl", Prompt)
    specs = [policy_spec(r), *r.config.candidates.references]
    client = estimating_client(cache, r.pricing)
    sources = [Source(s, client, r.llm.model_for(s.backend, s.model, s.endpoint_name)) for s in specs]
    generate_candidates(prompts, sources, r.key, r.config.seed)
    held_out = list(read_records(r.layout.at(r.layout.preference("eval")), "prompts.jsonl", Prompt))
    one = [Source(specs[0].model_copy(update={"samples": 1}), client, sources[0].model)]
    generate_candidates(held_out, one, f"{r.key}-eval", r.config.seed)
    stages = {f"{r.key} candidates": stage_estimate(client, r.pricing, batch)}

    exact = bool(r.marker(CANDIDATES))
    if exact:
        candidates = r.read(CANDIDATES, "candidates.jsonl", Candidate)
    else:
        candidates = [Candidate(id=f"estimate-{p.id}-{s.spec.name}-{i}", prompt_id=p.id, source=s.spec.name,
                                model=s.model,
                                text=f"{i} " + "x" * int(s.spec.max_tokens * CHARS_PER_TOKEN))  # samples differ
                      for p in prompts for s in sources for i in range(s.spec.samples)]
    opts = r.config.ai_feedback
    judge = estimating_client(cache, r.pricing)
    judge_model = r.llm.default_model()
    by_id = {p.id: p for p in prompts}
    if opts.mode in ("ratings", "both"):
        rate(by_id, candidates, judge, opts.ratings, judge_model)
    if opts.mode in ("pairwise", "both"):
        compare(by_id, all_pairs(candidates), judge, opts.pairwise, judge_model)
    stages[f"{r.key} ai_feedback"] = stage_estimate(judge, r.pricing, batch, exact=exact)
    return {"round": r.key, "stages": stages, "total": totals(stages)}
