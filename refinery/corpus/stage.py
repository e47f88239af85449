"""Idempotent, resumable stages.

A stage is keyed by a fingerprint of its inputs and configuration:
- same fingerprint, marker complete  -> nothing is recomputed (re-materialising an unchanged drop is cheap);
- same fingerprint, marker missing   -> a killed run: datatrove skips the tasks it finished (one logging
  dir per stage+fingerprint, so a different pipeline never inherits another's completions);
- new fingerprint                    -> old outputs are removed first, then the stage runs from scratch.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from datatrove.io import DataFolder

from refinery.storage import Layout

# (pipeline, tasks, logging_dir: DataFolder) -> None. The compute backend (local, Slurm, Ray) is injected.
PipelineRunner = Callable[[list, int, DataFolder], None]


def fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class StageResult:
    stage: str
    drop: str
    fingerprint: str
    skipped: bool
    summary: dict = field(default_factory=dict)


class Stage:
    def __init__(self, layout: Layout, drop: str, name: str, fp: str, outputs: list[str],
                 on_fresh_start: Callable[[], None] | None = None):
        self.layout, self.drop, self.name, self.fp, self.outputs = layout, drop, name, fp, outputs
        self.on_fresh_start = on_fresh_start  # clears outputs that do not live in `outputs` folders
        self._marker = layout.state(drop, "markers", f"{name}.json")
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
