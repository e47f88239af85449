"""SFT stage summaries as Dagster metadata: counts, drop reasons, LLM usage and cost, judge scores."""
from __future__ import annotations

import dagster as dg


def sft_metadata(summary: dict, path: str) -> dict:
    md: dict = {"path": dg.MetadataValue.path(path),
                "reused_previous_output": bool(summary.get("reused_previous_output")),
                "seconds": summary.get("seconds", 0.0)}
    for key in ("chunks", "documents", "records_in", "records", "dropped", "train", "test"):
        if key in summary:
            md[key] = dg.MetadataValue.int(int(summary[key]))
    for key in ("dropped_by_reason", "judge", "templates", "by_method", "review", "drops"):
        if summary.get(key):
            md[key] = dg.MetadataValue.json(summary[key])
    llm = summary.get("llm") or {}
    if llm:
        md["llm_usage"] = dg.MetadataValue.json(llm)
        md["llm_calls"] = dg.MetadataValue.int(sum(v["calls"] for v in llm.values()))
        md["llm_cache_hits"] = dg.MetadataValue.int(sum(v["cache_hits"] for v in llm.values()))
        md["llm_cost_usd"] = dg.MetadataValue.float(round(sum(v["cost_usd"] for v in llm.values()), 6))
        md["llm_output_tokens"] = dg.MetadataValue.int(sum(v["output_tokens"] for v in llm.values()))
    if summary.get("llm_budget"):  # spent, the cap, requests left undone at it
        md["llm_budget"] = dg.MetadataValue.json(summary["llm_budget"])
        md["llm_budget_skipped"] = dg.MetadataValue.int(int(summary["llm_budget"]["skipped"]))
    if summary.get("llm_concurrency"):  # the adaptive in-flight limit: [seconds, limit] at each change
        conc = summary["llm_concurrency"]
        md["llm_concurrency"] = dg.MetadataValue.json(conc)
        if "limit" in conc:
            md["llm_concurrency_limit"] = dg.MetadataValue.int(int(conc["limit"]))
            md["llm_throttled"] = dg.MetadataValue.int(int(conc["throttled"]))
    if summary.get("llm_failures"):  # share of failed requests, against the bound that fails the run
        md["llm_failures"] = dg.MetadataValue.json(summary["llm_failures"])
    if summary.get("card"):
        md["dataset_card"] = dg.MetadataValue.md(summary["card"])
    return md
