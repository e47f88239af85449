"""How much an LLM stage may send: an adaptive in-flight limit (AIMD) and a spending budget.

`AdaptiveLimit` gates every request a backend sends. A 429 or an overload answer (529) halves the limit
(once per wave: answers to requests sent before the last cut say nothing new) and, when the server says
`Retry-After`, pauses every sender that long; `GROW_AFTER` successes in a row raise it by one, up to the
configured concurrency. The limit over time goes into the stage's summary (`llm_concurrency`).

`Budget` caps what a flow's fresh calls cost in one command (cache hits are free): once its meter reaches
the limit no new request is sent; requests in flight finish and are paid and cached.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, TypeVar

from refinery.llm.types import THROTTLE_STATUSES, LLMCallError

T = TypeVar("T")

GROW_AFTER = 16  # successes in a row before the limit grows by one
MAX_BACKOFF = 8.0  # seconds, a throttled request's pause when the server gives no Retry-After
HISTORY = 200  # limit changes kept for the summary


class AdaptiveLimit:
    def __init__(self, ceiling: int, grow_after: int = GROW_AFTER, clock: Callable[[], float] = time.monotonic):
        self.ceiling = max(1, ceiling)
        self.limit = self.ceiling
        self.grow_after = grow_after
        self.in_flight = 0
        self.peak_in_flight = 0
        self.throttled = 0
        # checked after a slot is taken, before the request goes out: a reason not to send it (the budget)
        self.admit: Callable[[], str | None] | None = None
        self._clock = clock
        self._t0 = clock()
        self._successes = 0
        self._resume_at = 0.0
        self._last_cut = float("-inf")
        self._cond = threading.Condition()
        self.history: list[tuple[float, int]] = [(0.0, self.limit)]

    def _record(self) -> None:
        self.history.append((round(self._clock() - self._t0, 3), self.limit))
        if len(self.history) > HISTORY:
            del self.history[1:len(self.history) - HISTORY + 1]

    @contextmanager
    def slot(self) -> Iterator[float]:
        """Waits for a free slot (and for a server-requested pause to end); yields when the request started."""
        with self._cond:
            while True:
                wait = self._resume_at - self._clock()
                if wait <= 0 and self.in_flight < self.limit:
                    break
                self._cond.wait(wait if wait > 0 else 0.5)
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            started = self._clock()
        try:
            why = self.admit() if self.admit else None
            if why:
                raise LLMCallError("budget_exhausted", why)
            yield started
        finally:
            with self._cond:
                self.in_flight -= 1
                self._cond.notify_all()

    def success(self) -> None:
        with self._cond:
            self._successes += 1
            if self._successes >= self.grow_after and self.limit < self.ceiling:
                self.limit += 1
                self._successes = 0
                self._record()
                self._cond.notify_all()

    def throttle(self, started: float, retry_after: float | None) -> None:
        """A 429/529 to a request sent at `started`: halve the limit (once per wave), honour Retry-After."""
        with self._cond:
            self.throttled += 1
            self._successes = 0
            now = self._clock()
            if retry_after:
                self._resume_at = max(self._resume_at, now + min(retry_after, 60.0))
            if started >= self._last_cut:
                self.limit = max(1, self.limit // 2)
                self._last_cut = now
                self._record()

    def summary(self) -> dict:
        with self._cond:
            limits = [limit for _, limit in self.history]
            return {"ceiling": self.ceiling, "limit": self.limit, "min_limit": min(limits),
                    "throttled": self.throttled, "peak_in_flight": self.peak_in_flight,
                    "history": [list(point) for point in self.history]}


def call_with_limit(limit: AdaptiveLimit, call: Callable[[], T], retries: int) -> T:
    """`call()` inside a slot of `limit`; a throttled answer (429/529) cuts the limit and is sent again, up to
    `retries` more times, after the server's Retry-After (or an exponential pause when it gives none)."""
    for attempt in range(retries + 1):
        pause = 0.0
        with limit.slot() as started:
            try:
                result = call()
            except LLMCallError as err:
                if not err.throttled or attempt == retries:
                    raise
                limit.throttle(started, err.retry_after)
                pause = 0.0 if err.retry_after is not None else min(MAX_BACKOFF, 0.5 * 2 ** attempt)
            else:
                limit.success()
                return result
        if pause:
            time.sleep(pause)
    raise AssertionError("unreachable")


# -- spending ----------------------------------------------------------------------------------------------
class Meter:
    """USD spent on fresh calls by one flow (sft, preference) in this process: one command."""

    def __init__(self) -> None:
        self.spent = 0.0
        self._lock = threading.Lock()

    def charge(self, usd: float) -> None:
        with self._lock:
            self.spent += usd


_METERS: dict[str, Meter] = {}
_METERS_LOCK = threading.Lock()


def meter(scope: str) -> Meter:
    with _METERS_LOCK:
        return _METERS.setdefault(scope, Meter())


def reset_spend(scope: str | None = None) -> None:
    """A new command (or test) starts with nothing spent."""
    with _METERS_LOCK:
        if scope is None:
            _METERS.clear()
        else:
            _METERS.pop(scope, None)


@dataclass
class Budget:
    limit_usd: float
    scope: str

    @property
    def meter(self) -> Meter:
        return meter(self.scope)

    def exhausted(self) -> bool:
        return self.meter.spent >= self.limit_usd


def stage_budget(llm: object, limit_usd: float | None, scope: str) -> Budget | None:
    """The budget of a flow's stage: `--budget` (the LLM resource's `budget_usd`) wins over the config's
    `llm.budget_usd`; None: no cap."""
    override = getattr(llm, "budget_usd", None)
    chosen = override if override is not None else limit_usd
    return None if chosen is None else Budget(float(chosen), scope)


class BudgetExceededError(RuntimeError):
    """A stage stopped sending requests at its budget. The message is one line, for a run's summary."""


def raise_if_budget_reached(stage: str, stats: dict | None) -> None:
    if not stats or not stats.get("skipped"):
        return
    raise BudgetExceededError(
        f"{stage}: LLM budget reached: spent ${stats['spent_usd']:.4f} of ${stats['budget_usd']:.4f} "
        f"({stats['scope']}); {stats['skipped']} requests left undone \u2014 answers so far are cached: raise "
        f"llm.budget_usd or --budget and rerun to send only those")


class LeaveThrottlingToTheLimit:
    """Mixed into an SDK client (anthropic, openai: both expose the `_should_retry` hook): 429 and 529 answers
    go to the backend's adaptive limit instead of being retried at the same concurrency."""

    def _should_retry(self, response) -> bool:
        if response.status_code in THROTTLE_STATUSES:
            return False
        return super()._should_retry(response)
