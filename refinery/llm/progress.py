"""A live line per LLM stage: requests done/total, cache hits, failures, tokens/s, cost so far, ETA.

On a terminal it is a tqdm bar on stderr; without one (a log file, CI, a Dagster step) the bar stays quiet and
the same line is logged on the `refinery.progress` logger once a minute and when the stage ends, which the
CLI prints on stderr and Dagster keeps in the run's log (`python_logs` in dagster.yaml). `total` grows as a
stage submits work: methods that go by rounds (self_instruct, evol_instruct, topic_tree) learn their next
round's requests from the answers to the last.
"""
from __future__ import annotations

import logging
import sys
import threading
import time

log = logging.getLogger("refinery.progress")
if log.level == logging.NOTSET:
    log.setLevel(logging.INFO)

INTERVAL = 60.0  # seconds between logged lines while a stage runs


def duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


class Progress:
    def __init__(self, name: str = "", interval: float = INTERVAL, stream=None):
        self.name = name
        self.interval = interval
        self.total = self.done = self.cache_hits = self.failures = self.skipped = 0
        self.output_tokens = 0
        self.cost_usd = 0.0
        self._t0 = self._last_log = time.monotonic()
        self._lock = threading.Lock()
        self._stream = stream or sys.stderr
        self._bar = None
        self._closed = False

    def _ensure_bar(self) -> None:
        if self._bar is not None or not getattr(self._stream, "isatty", lambda: False)():
            return
        try:
            from tqdm import tqdm
        except ImportError:  # pragma: no cover - tqdm ships with the environment (datatrove needs it)
            return
        self._bar = tqdm(total=self.total, desc=self.name or "llm", file=self._stream, unit="req",
                         dynamic_ncols=True, leave=True)

    def add(self, total: int) -> None:
        with self._lock:
            self.total += total
            self._closed = False
            self._ensure_bar()
            if self._bar is not None:
                self._bar.total = self.total
                self._bar.refresh()

    def update(self, *, cache_hit: bool = False, failed: bool = False, skipped: bool = False,
               output_tokens: int = 0, cost_usd: float = 0.0) -> None:
        with self._lock:
            self.done += 1
            self.cache_hits += cache_hit
            self.failures += failed
            self.skipped += skipped
            self.output_tokens += output_tokens
            self.cost_usd += cost_usd
            if self._bar is not None:
                self._bar.set_postfix_str(self._counters(), refresh=False)
                self._bar.update(1)
            now = time.monotonic()
            due = now - self._last_log >= self.interval
            if due:
                self._last_log = now
        if due:
            log.info(self.line())

    def counters(self) -> dict:
        elapsed = max(time.monotonic() - self._t0, 1e-9)
        fresh = self.done - self.cache_hits - self.skipped
        rate = fresh / elapsed  # requests actually answered per second
        left = max(self.total - self.done, 0)
        return {"stage": self.name, "done": self.done, "total": self.total, "cache_hits": self.cache_hits,
                "failures": self.failures, "skipped": self.skipped, "output_tokens": self.output_tokens,
                "tokens_per_s": round(self.output_tokens / elapsed, 1), "cost_usd": round(self.cost_usd, 6),
                "elapsed_s": round(elapsed, 1), "eta_s": round(left / rate, 1) if rate > 0 and left else 0.0}

    def _counters(self) -> str:
        c = self.counters()
        return (f"{c['cache_hits']} cached, {c['failures']} failed, {c['tokens_per_s']:g} tok/s, "
                f"${c['cost_usd']:.4f}" + (f", {c['skipped']} over budget" if c["skipped"] else ""))

    def line(self) -> str:
        c = self.counters()
        eta = f"ETA {duration(c['eta_s'])}" if c["done"] < c["total"] else f"took {duration(c['elapsed_s'])}"
        return f"{self.name or 'llm'}: {c['done']}/{c['total']} requests, {self._counters()}, {eta}"

    def close(self) -> dict:
        """Logs the final line (once) and ends the bar; returns the counters."""
        with self._lock:
            if self._bar is not None:
                self._bar.close()
                self._bar = None
            closed, self._closed = self._closed, True
        if not closed and self.total:
            log.info(self.line())
        return self.counters()
