"""Skip-if-unchanged for SFT and preference stages: a marker holds the fingerprint of the stage's inputs and settings.

Unlike the corpus stages there is no partial resume here: a killed generation stage simply runs again,
and every LLM answer it already received comes back from the request cache at no cost. An LLM stage
left with requests to retry (transient failures, which are not cached) or over its failure bound is not
final: its marker gets a fingerprint of its own, so the next run does it again (paying only for what
failed) and the stages downstream follow.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable

from refinery.storage import Layout


def fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _marker(layout: Layout, name: str, flow: str) -> str:
    return layout.uri(flow, "_state", "markers", f"{name}.json")


def run_once(layout: Layout, name: str, fp: str, body: Callable[[], dict], flow: str = "sft") -> dict:
    """The stage's summary; `reused_previous_output` says whether `body` ran. `flow`: sft or preference."""
    marker_uri = _marker(layout, name, flow)
    marker = layout.read_json(marker_uri)
    if marker and marker.get("fingerprint") == fp:
        return {**marker["summary"], "reused_previous_output": True}
    layout.remove_file(marker_uri)  # outputs are about to change: no stale "complete" in between
    t0 = time.perf_counter()
    summary = body()
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    summary["fingerprint"] = fp
    failures = summary.get("llm_failures") or {}
    final = not failures.get("retry_pending") and not failures.get("over")
    stored = fp if final else fingerprint(fp, "not-final", time.time_ns())
    layout.write_json(marker_uri, {"fingerprint": stored, "summary": summary, "at": time.time()})
    return {**summary, "reused_previous_output": False}


def marker_fingerprint(layout: Layout, name: str, flow: str = "sft") -> str | None:
    marker = layout.read_json(_marker(layout, name, flow))
    return marker["fingerprint"] if marker else None


def marker_summary(layout: Layout, name: str, flow: str = "sft") -> dict | None:
    marker = layout.read_json(_marker(layout, name, flow))
    return marker["summary"] if marker else None
