"""Idempotent stages, one marker system for every flow: a stage's marker holds the fingerprint of its inputs
and settings, and a stage whose fingerprint is unchanged is not run again.

Corpus stages (`Stage`, one per drop) are resumable datatrove pipelines:
- same fingerprint, marker complete  -> nothing is recomputed (re-materialising an unchanged drop is cheap);
- same fingerprint, marker missing   -> a killed run: datatrove skips the tasks it finished (one logging
  dir per stage+fingerprint, so a different pipeline never inherits another's completions);
- new fingerprint                    -> old outputs are removed first, then the stage runs from scratch.

SFT and preference stages (`run_once`, one marker per flow) have no partial resume: a killed generation stage
simply runs again, and every LLM answer it already received comes back from the request cache at no cost. An
LLM stage left with requests to retry (transient failures, which are not cached) or over its failure bound is
not final: its marker gets a fingerprint of its own, so the next run does it again (paying only for what
failed) and the stages downstream follow.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from datatrove.io import DataFolder

from refinery.storage import Layout

# (pipeline, tasks, logging_dir: DataFolder) -> None, or a dict describing the remote job (its logs link) for
# the stage's metadata. The compute backend (local, SageMaker Processing) is injected.
PipelineRunner = Callable[[list, int, DataFolder], "dict | None"]


def fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class StageSpec:
    """A stage, declared once (in `refinery/catalog/`): the flow code, the Dagster asset, the sensors, the CLI
    and the checks all take its name, marker, output folder and asset key from here.

    `partition`: what the flow's partitions are (a corpus drop, an SFT method, a preference round) or None.
    """

    flow: str  # corpus | sft | preference
    name: str  # the stage's one name: its marker, its logs and dropped-records folders
    output: str  # its output folder, relative to the flow's place in the storage root
    asset: str  # the Dagster asset it materialises
    inputs: tuple[StageSpec, ...] = ()
    config: str = ""  # the configuration section its fingerprint covers ("filters", "sft.judge")
    partition: str | None = None  # drop | method | round
    description: str = ""

    def marker(self, partition: str | None = None) -> str:
        """The marker's name: one per flow-level stage and partition (a corpus drop keeps its own folder)."""
        return f"{self.name}-{partition}" if partition and self.flow != "corpus" else self.name

    def output_uri(self, layout: Layout, partition: str | None = None, *parts: str) -> str:
        """The stage's output folder for a partition (or a file in it: `parts`)."""
        if self.flow == "corpus":
            return layout.drop(partition, self.output, *parts)
        if self.flow == "preference":
            return layout.preference("rounds", partition, self.output, *parts)
        return layout.sft(self.output, *([partition] if partition else []), *parts)

    def marker_uri(self, layout: Layout, partition: str | None = None) -> str:
        if self.flow == "corpus":
            return layout.state(partition, "markers", f"{self.name}.json")
        return _marker(layout, self.marker(partition), self.flow)

    def _record(self, layout: Layout, partition: str | None) -> dict | None:
        return layout.read_json(self.marker_uri(layout, partition))

    def fingerprint_in(self, layout: Layout, partition: str | None = None) -> str | None:
        """The fingerprint of the stage's last completed run (None: never completed)."""
        marker = self._record(layout, partition)
        return marker["fingerprint"] if marker else None

    def summary_in(self, layout: Layout, partition: str | None = None) -> dict | None:
        marker = self._record(layout, partition)
        return marker["summary"] if marker else None


@dataclass
class StageResult:
    stage: str
    drop: str
    fingerprint: str
    skipped: bool
    summary: dict = field(default_factory=dict)


class Stage:
    """One run of a corpus stage (`spec`) on one drop."""

    def __init__(self, layout: Layout, drop: str, spec: StageSpec, fp: str, outputs: list[str],
                 on_fresh_start: Callable[[], None] | None = None):
        self.layout, self.drop, self.spec, self.fp, self.outputs = layout, drop, spec, fp, outputs
        name = self.name = spec.name
        self.on_fresh_start = on_fresh_start  # clears outputs that do not live in `outputs` folders
        self._marker = spec.marker_uri(layout, drop)
        self._started = layout.state(drop, "markers", f"{name}.started.json")

    def log_dir(self, step: str = "main") -> str:
        return self.layout.state(self.drop, "logs", self.name, self.fp[:16], step)

    def scratch(self, *parts: str) -> str:
        return self.layout.state(self.drop, "scratch", self.name, self.fp[:16], *parts)

    def completed(self) -> dict | None:
        marker = self.layout.read_json(self._marker)
        if marker and marker.get("fingerprint") == self.fp:
            return marker
        return None

    def run(self, body: Callable[["Stage"], dict]) -> StageResult:
        if done := self.completed():
            return StageResult(self.name, self.drop, self.fp, True, done["summary"])
        started = self.layout.read_json(self._started)
        if not started or started.get("fingerprint") != self.fp:
            # first the completion marker of the old inputs: its outputs are about to go
            self.layout.remove_file(self._marker)
            for uri in self.outputs + [self.layout.state(self.drop, "logs", self.name),
                                       self.layout.state(self.drop, "scratch", self.name)]:
                self.layout.remove(uri)
            if self.on_fresh_start:
                self.on_fresh_start()
            self.layout.write_json(self._started, {"fingerprint": self.fp, "at": time.time()})
        t0 = time.perf_counter()
        summary = body(self)
        summary["seconds"] = round(time.perf_counter() - t0, 3)
        if "outputs" in summary:  # relative to the storage root, like every key the marker holds
            summary["outputs"] = {k: self.layout.relative(v) if isinstance(v, str) else v
                                  for k, v in summary["outputs"].items()}
        self.layout.write_json(self._marker, {"fingerprint": self.fp, "summary": summary, "at": time.time()})
        return StageResult(self.name, self.drop, self.fp, False, summary)


def _total(value) -> float:
    # datatrove serialises a metric as its bare total, or as a dict with "total" when it has a spread
    return value.get("total", 0) if isinstance(value, dict) else (value or 0)


def load_stats(layout: Layout, log_dir: str) -> dict[str, dict[str, float]]:
    """{step name: {metric: total, "_seconds": time}} summed over every task's stats file, including tasks
    finished by an earlier (killed) attempt of the same stage."""
    folder = layout.at(log_dir)
    merged: dict[str, dict[str, float]] = {}
    if not folder.exists("stats"):
        return merged
    for name in folder.list_files("stats", glob_pattern="*.json"):
        with folder.open(name, "rt") as f:
            for step in json.load(f):
                metrics = merged.setdefault(step["name"], {})
                for key, value in step.get("stats", {}).items():
                    metrics[key] = metrics.get(key, 0) + _total(value)
                metrics["_seconds"] = metrics.get("_seconds", 0) + _total(step.get("time_stats", 0))
    return {step: {k: round(v, 3) if isinstance(v, float) else v for k, v in m.items()} for step, m in merged.items()}


# -- flow-level stages (SFT, preference) -------------------------------------------------------------------
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
    final = not failures.get("retry_pending") and not failures.get("over") and \
        not (summary.get("llm_budget") or {}).get("skipped")  # a budget stop: the next run sends the rest
    stored = fp if final else fingerprint(fp, "not-final", time.time_ns())
    layout.write_json(marker_uri, {"fingerprint": stored, "summary": summary, "at": time.time()})
    return {**summary, "reused_previous_output": False}
