"""What a corpus run would do, without doing it: per drop, the raw files and bytes and, per stage, whether its
completed output is reused (same fingerprint) or the stage runs. The fingerprints are the ones the stages
themselves compute, so the plan cannot drift from the run."""
from __future__ import annotations

from refinery.catalog.corpus import DEDUP, EXTRACT, FILTER, TOKENIZE
from refinery.corpus.dedup_stage import dedup_fingerprint
from refinery.corpus.flow import Corpus, extract_fingerprint, filter_fingerprint, tokenize_fingerprint


def plan_drop(corpus: Corpus, drop: str, earlier_drops: list[str], earlier_dedup_runs: bool = False) -> dict:
    """{"files", "bytes", "stages": {stage: "reuse" | "run"}}. A stage runs when its fingerprint changed or
    a stage it reads runs; dedup also runs when an earlier drop's dedup does (its index changes)."""
    fp, files, raw_bytes = extract_fingerprint(corpus, drop)
    checks = [(EXTRACT, lambda: fp), (FILTER, lambda: filter_fingerprint(corpus, drop)),
              (DEDUP, lambda: dedup_fingerprint(corpus, drop, earlier_drops)),
              (TOKENIZE, lambda: tokenize_fingerprint(corpus, drop))]
    stages, runs = {}, False
    for spec, current in checks:
        if spec is DEDUP:
            runs = runs or earlier_dedup_runs
        if not runs:
            try:
                runs = spec.fingerprint_in(corpus.layout, drop) != current()
            except RuntimeError:  # what it reads is not there yet
                runs = True
        stages[spec.name] = "run" if runs else "reuse"
    return {"files": files, "bytes": raw_bytes, "stages": stages}


def plan(corpus: Corpus, drops: list[str], all_drops: list[str]) -> dict[str, dict]:
    """Plans of `drops` (a subset of `all_drops`, ordered oldest first as runs go)."""
    out, dedup_runs = {}, False
    for drop in sorted(drops):
        earlier = [d for d in sorted(all_drops) if d < drop]
        out[drop] = plan_drop(corpus, drop, earlier, dedup_runs)
        dedup_runs = dedup_runs or out[drop]["stages"][DEDUP.name] == "run"
    return out
