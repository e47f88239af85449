"""Preference-round summaries as Dagster metadata, and the win-rate history as a table and a bar plot."""
from __future__ import annotations

import dagster as dg

from assets.sft.metadata import sft_metadata

_INTS = ("prompts", "eval_prompts", "log_responses", "candidates", "eval_answers", "failed", "prompts_scored",
         "annotations", "pairs", "kto_rows", "wins", "losses", "ties", "compared", "trained_on_pairs", "fresh")
_JSON = ("by_source", "problems", "policy", "ratings", "pairwise", "by_origin", "annotation_export", "import",
         "annotators", "flagged_annotators", "dpo", "kto", "dpo_by_origin", "kto_labels", "new_policy")


def preference_metadata(summary: dict, path: str) -> dict:
    md = sft_metadata(summary, path)
    md.update({k: dg.MetadataValue.int(int(summary[k])) for k in _INTS if summary.get(k) is not None})
    md.update({k: dg.MetadataValue.json(summary[k]) for k in _JSON if summary.get(k)})
    for key, name in (("pii_redacted", "pii_redacted"), ("local", "local_trainer")):
        if key in summary:
            md[name] = dg.MetadataValue.bool(bool(summary[key]))
    for key in ("training_job", "artifact", "endpoint", "model_name"):
        if summary.get(key):
            md[key] = dg.MetadataValue.text(str(summary[key]))
    if summary.get("win_rate") is not None:
        md["win_rate"] = dg.MetadataValue.float(summary["win_rate"])  # the asset's Plots tab charts it per round
    return md


def win_rate_plot(history: list[dict]) -> dg.MetadataValue:
    """Markdown: one row per round, the win rate over the previous policy as a bar (50% = no change)."""
    lines = ["| round | win rate vs previous | compared | |", "|---|---|---|---|"]
    for h in history:
        rate = h["win_rate"]
        bar = "—" if rate is None else "█" * round(rate * 20) + "░" * (20 - round(rate * 20))
        lines.append(f"| {h['round']} | {'n/a' if rate is None else f'{rate:.0%}'} | {h['compared']} | `{bar}` |")
    return dg.MetadataValue.md("\n".join(lines))
