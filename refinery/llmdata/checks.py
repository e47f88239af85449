"""What the SFT and preference flows' checks share: how many offenders a failing check lists, and the LLM
failure report of a flow's stages, read from their markers."""
from __future__ import annotations

from refinery.stage import StageSpec
from refinery.storage import Layout

FIRST = 10  # offenders a failing check names


def llm_failures(layout: Layout, stages: list[tuple[StageSpec, str | None]]) -> tuple[bool, dict]:
    """(passed, report) over the LLM stages' last runs (stage, partition), from their markers: requests, failed, the share
    and, per stage, its share, reasons and requests still to retry. Fails when a stage is over its bound
    (such a stage also failed its run; this keeps the verdict next to the dataset it fed)."""
    stats = {spec.marker(partition): st for spec, partition in stages
             if (st := (spec.summary_in(layout, partition) or {}).get("llm_failures"))}
    requests, failed = sum(st["requests"] for st in stats.values()), sum(st["failed"] for st in stats.values())
    report = {"llm_requests": requests, "llm_failed": failed,
              "failure_share": round(failed / requests, 4) if requests else 0.0,
              "by_stage": {s: {k: st[k] for k in ("share", "bound", "by_reason", "retry_pending")}
                           for s, st in stats.items() if st["failed"]}}
    return not any(st["over"] for st in stats.values()), report
