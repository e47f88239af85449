"""How many of a stage's LLM requests failed, and the bound past which the stage fails the run.

A stage whose server was down used to end "ok" with an empty output; now its share of failed requests is
measured from the client's ledgers and, over `max_failure_share`, the stage raises `LLMFailureError`
(after writing what it could). Refusals are the model's answer, not a failure of the service, and
invalid outputs are counted by the ledgers apart: neither counts here.
"""
from __future__ import annotations

from collections import Counter

from pydantic import Field

from refinery.options import StrictOptions

NOT_FAILURES = {"refusal"}


class LLMStageOptions(StrictOptions):
    # share of a stage's LLM requests that may fail (after retries) before the stage fails the run
    max_failure_share: float = Field(0.1, ge=0, le=1)
    # USD a flow's fresh LLM calls may cost in one command (cache hits are free); null: no cap. `--budget` wins
    budget_usd: float | None = Field(None, ge=0)


class LLMFailureError(RuntimeError):
    """A stage's LLM requests failed beyond the bound. The message is one line, for a run's summary."""


def failure_stats(usage: dict[str, dict], bound: float) -> dict:
    """From `LLMClient.usage_summary()`: requests, failed, share, by_reason, retry_pending, bound, over."""
    by_reason: Counter = Counter()
    requests = pending = 0
    for ledger in usage.values():
        requests += ledger["calls"] + ledger["cache_hits"]
        pending += ledger.get("retry_pending", 0)
        by_reason.update({r: n for r, n in ledger["failures"].items() if r not in NOT_FAILURES})
    failed = sum(by_reason.values())
    share = failed / requests if requests else 0.0
    return {"requests": requests, "failed": failed, "share": round(share, 4),
            "by_reason": dict(by_reason.most_common()), "retry_pending": pending, "bound": bound,
            "over": share > bound}


def raise_if_over(stage: str, stats: dict | None) -> None:
    """One line: what failed, how much, why, and what to do about it."""
    if not stats or not stats["over"]:
        return
    reasons = ", ".join(f"{r}={n}" for r, n in list(stats["by_reason"].items())[:3])
    if stats["retry_pending"] >= stats["failed"]:
        hint = "fix the server and rerun (failed requests are not cached)"
    else:
        hint = "fix the cause and rerun with --retry-failed (terminal failures such as bad_request are cached)"
    raise LLMFailureError(f"{stage}: {stats['failed']}/{stats['requests']} LLM requests failed ({reasons}) "
                          f"\u2014 over the {stats['bound'] * 100:g}% bound; {hint}")


def stage_llm_summary(clients: list, bound: float) -> dict:
    """What a stage's clients report for its summary (and metadata): usage per label, the failure share
    against `bound`, the budget (spent, limit, requests left undone), the in-flight limit over time. Ends
    each client's progress line."""
    usage: dict[str, dict] = {}
    budgets, concurrency, progress = [], {}, []
    for client in clients:
        progress.append(client.finish())
        usage.update(client.usage_summary())
        if (budget := client.budget_summary()) is not None:
            budgets.append(budget)
        if (limit := client.concurrency_summary()) is not None:
            concurrency[client.progress.name or str(len(concurrency))] = limit
    out = {"llm": usage, "llm_failures": failure_stats(usage, bound),
           "llm_progress": progress[0] if len(progress) == 1 else progress}
    if budgets:
        tightest = min(budgets, key=lambda b: b["budget_usd"] - b["spent_usd"])
        out["llm_budget"] = {**tightest, "skipped": sum(b["skipped"] for b in budgets)}
    if concurrency:
        out["llm_concurrency"] = next(iter(concurrency.values())) if len(concurrency) == 1 else concurrency
    return out


def check_llm_stage(stage: str, summary: dict) -> None:
    """After a stage wrote its outputs: a reached budget, then too many failures, fail the run in one line."""
    from refinery.llm.limits import raise_if_budget_reached

    raise_if_budget_reached(stage, summary.get("llm_budget"))
    raise_if_over(stage, summary.get("llm_failures"))
