"""Stage summaries (plain dicts from the processing code) as Dagster materialisation metadata."""
from __future__ import annotations

import dagster as dg

from refinery.stage import StageResult


def _samples_md(samples: list[dict]) -> str:
    reason = any("reason" in s for s in samples)
    rows = ["| id | source |" + (" reason |" if reason else "") + " text |", "|---|---|" + ("---|" if reason else "") + "---|"]
    for s in samples:
        text = (s.get("text") or "").replace("\n", " ").replace("|", "\\|")[:200]
        rows.append(f"| {s.get('id')} | {s.get('source')} |" + (f" {s.get('reason')} |" if reason else "") + f" {text} |")
    return "\n".join(rows)


def stage_metadata(result: StageResult) -> dict:
    s = result.summary
    md: dict = {
        "fingerprint": result.fingerprint[:16],
        "reused_previous_output": result.skipped,  # True: inputs and config unchanged, nothing recomputed
        "seconds": s.get("seconds", 0.0),
    }
    for key in ("files_in", "documents_in", "documents_out", "bytes_in", "bytes_out", "tokens"):
        if key in s:
            md[key] = dg.MetadataValue.int(int(s[key]))
    md["drops_by_reason"] = dg.MetadataValue.json(s.get("drops_by_reason", {}))
    if "quarantine" in s:
        md["quarantined_files"] = dg.MetadataValue.int(s["quarantine"]["files"])
        md["quarantine_by_reason"] = dg.MetadataValue.json(s["quarantine"]["by_reason"])
        md["quarantine_first_rows"] = dg.MetadataValue.json(s["quarantine"]["first"])
    if "clusters" in s:
        md["minhash_clusters"] = dg.MetadataValue.json(s["clusters"])
    if "profile" in s:
        md["filter_profile"] = dg.MetadataValue.text(s["profile"])
    if "drops_by_filter" in s:
        md["drops_by_filter"] = dg.MetadataValue.json(s["drops_by_filter"])
    if "quality_scores" in s:  # the quality classifier filter: its version and score histogram (0-5)
        md["quality_classifier_version"] = dg.MetadataValue.text(s["quality_classifier"])
        md["quality_scores"] = dg.MetadataValue.json(s["quality_scores"])
    if s.get("dropped_samples"):  # three documents each filter dropped, with the reason
        md["dropped_samples"] = dg.MetadataValue.md("\n\n".join(
            f"**{name}**\n\n" + _samples_md(rows) for name, rows in s["dropped_samples"].items()))
    if s.get("compute_job"):  # a remote job (SageMaker Processing): its name and logs link
        md["compute_job"] = dg.MetadataValue.json(s["compute_job"])
        md["compute_logs"] = dg.MetadataValue.url(s["compute_job"]["logs_url"])
    if "step_seconds" in s:
        md["step_seconds"] = dg.MetadataValue.json(s["step_seconds"])
    if s.get("samples"):
        md["samples"] = dg.MetadataValue.md(_samples_md(s["samples"]))
    for name, uri in s.get("outputs", {}).items():
        md[f"path_{name}"] = dg.MetadataValue.path(uri)
    return md
