"""The one client every generation method and judge calls: cache first, then the backend with bounded
concurrency (or its bulk path), every answer persisted the moment it arrives, usage and cost counted.

Structured outputs are parsed by a caller-supplied function (usually a pydantic model via
`json_parser`); an invalid answer is repaired once by showing the model its answer and the error,
then dropped with a reason.
"""
from __future__ import annotations

import json
import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence, TypeVar

from pydantic import BaseModel, ValidationError

from refinery.llm.cache import ResponseCache
from refinery.llm.limits import Budget
from refinery.llm.pricing import Pricing
from refinery.llm.progress import Progress
from refinery.llm.types import Backend, LLMCallError, LLMRequest, LLMResponse, Message, Usage

T = TypeVar("T")

REPAIR_PROMPT = (
    "Your previous answer could not be used: {error}\n"
    "Answer again, following the required format exactly and adding nothing else."
)


@dataclass
class Outcome:
    request: LLMRequest
    response: LLMResponse | None = None
    error: str | None = None  # stable reason: a call failure ("rate_limited", ...) or "invalid_output"
    detail: str = ""
    value: Any = None  # the parsed object, for structured calls
    repaired: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Ledger:
    """What a label (an asset, a method, a judge) cost: billed calls, cache hits, failures, tokens, USD.
    `failures` counts every failed request by reason, fresh or a terminal failure served from the cache;
    `retry_pending` those that were transient (not cached: the next run sends them again)."""

    calls: int = 0
    cache_hits: int = 0
    failures: Counter = field(default_factory=Counter)
    retry_pending: int = 0
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    invalid_outputs: int = 0
    repaired: int = 0
    budget_skipped: int = 0  # requests not sent because the budget was reached (not failures, not cached)

    def summary(self) -> dict:
        return {
            "calls": self.calls, "cache_hits": self.cache_hits, "failures": dict(self.failures),
            "retry_pending": self.retry_pending, "budget_skipped": self.budget_skipped,
            "invalid_outputs": self.invalid_outputs, "repaired": self.repaired,
            **self.usage.model_dump(), "cost_usd": round(self.cost_usd, 6),
        }


class LLMClient:
    def __init__(self, backend: Backend, cache: ResponseCache | None = None, pricing: Pricing | None = None,
                 retry_failed: bool = False):
        self.backend = backend
        self.cache = cache
        self.pricing = pricing or Pricing()
        self.retry_failed = retry_failed
        self._ledgers: dict[str, Ledger] = {}
        self._lock = threading.Lock()
        self.budgets: list[Budget] = []  # no request is sent once one of them is reached
        self.progress = Progress()  # the stage's live line; its name is the first label unless a flow sets it
        limiter = getattr(backend, "limiter", None)
        if limiter is not None:
            limiter.admit = self._over_budget  # checked again when a queued request gets its slot

    def add_budget(self, budget: Budget | None) -> None:
        if budget is not None:
            self.budgets.append(budget)

    def _over_budget(self) -> str | None:
        for b in self.budgets:
            if b.exhausted():
                return f"spent ${b.meter.spent:.4f} of ${b.limit_usd:.4f} ({b.scope})"
        return None

    def budget_summary(self) -> dict | None:
        """The tightest budget: spent, limit and the requests it left undone (None: no budget)."""
        if not self.budgets:
            return None
        b = min(self.budgets, key=lambda b: b.limit_usd - b.meter.spent)
        skipped = sum(ledger.budget_skipped for ledger in self._ledgers.values())
        return {"budget_usd": b.limit_usd, "spent_usd": round(b.meter.spent, 6), "scope": b.scope,
                "skipped": skipped}

    def concurrency_summary(self) -> dict | None:
        """The adaptive in-flight limit over time ([seconds, limit] at each change), when the backend has one."""
        limiter = getattr(self.backend, "limiter", None)
        return limiter.summary() if limiter is not None else None

    def finish(self) -> dict:
        """Ends the stage's progress line (logged once more with the totals); returns its counters."""
        return self.progress.close()

    def ledger(self, label: str = "") -> Ledger:
        with self._lock:
            return self._ledgers.setdefault(label, Ledger())

    def usage_summary(self) -> dict[str, dict]:
        return {label: ledger.summary() for label, ledger in sorted(self._ledgers.items())}

    # -- plain text -----------------------------------------------------------------------------
    def generate(self, requests: Sequence[LLMRequest], label: str = "") -> list[Outcome]:
        """One Outcome per request, in order. Identical requests are sent once."""
        ledger = self.ledger(label)
        progress = self.progress
        progress.name = progress.name or label
        keys = [r.cache_key() for r in requests]
        progress.add(len(set(keys)))
        results: dict[str, LLMResponse | LLMCallError] = {}
        todo: dict[str, LLMRequest] = {}
        for key, req in zip(keys, requests):
            if key in results or key in todo:
                continue
            hit = self.cache.get(key) if self.cache else None  # never a transient failure
            if isinstance(hit, LLMCallError) and self.retry_failed:
                hit = None
            if hit is None:
                todo[key] = req
            else:
                results[key] = hit
                with self._lock:
                    ledger.cache_hits += 1
                    if isinstance(hit, LLMCallError):
                        ledger.failures[hit.reason] += 1
                progress.update(cache_hit=True, failed=isinstance(hit, LLMCallError))
        for key, result in self._call(list(todo.items())):
            results[key] = result
            cost = self._account(ledger, todo[key], result)
            if self.cache:
                self.cache.put(key, result)  # skips transient failures
            skipped = isinstance(result, LLMCallError) and result.reason == "budget_exhausted"
            progress.update(failed=isinstance(result, LLMCallError) and not skipped, skipped=skipped, cost_usd=cost,
                            output_tokens=0 if isinstance(result, LLMCallError) else result.usage.output_tokens)
        return [self._outcome(req, results[key]) for key, req in zip(keys, requests)]

    def _call(self, items: list[tuple[str, LLMRequest]]) -> Iterable[tuple[str, LLMResponse | LLMCallError]]:
        if not items:
            return
        if self.backend.supports_batch:
            why = self._over_budget()  # a batch is submitted whole: the budget is checked before it
            if why:
                for key, _ in items:
                    yield key, LLMCallError("budget_exhausted", why)
                return
            for index, result in self.backend.complete_batch([req for _, req in items]):
                self._charge(items[index][1], result)
                yield items[index][0], result
            return
        with ThreadPoolExecutor(max_workers=max(1, self.backend.max_concurrency)) as pool:
            futures = {pool.submit(self._complete_one, req): key for key, req in items}
            for future in as_completed(futures):
                yield futures[future], future.result()

    def _complete_one(self, req: LLMRequest) -> LLMResponse | LLMCallError:
        why = self._over_budget()
        if why:
            return LLMCallError("budget_exhausted", why)
        try:
            result = self.backend.complete(req)
        except LLMCallError as err:
            return err
        self._charge(req, result)  # here, in the sending thread, before it takes the next request
        return result

    def _cost(self, req: LLMRequest, result: LLMResponse | LLMCallError) -> float:
        if isinstance(result, LLMCallError):
            return 0.0
        return self.pricing.cost(result.model or req.model, result.usage, batch=self.backend.supports_batch)

    def _charge(self, req: LLMRequest, result: LLMResponse | LLMCallError) -> None:
        cost = self._cost(req, result)
        if cost:
            for scope in {b.scope for b in self.budgets}:
                next(b for b in self.budgets if b.scope == scope).meter.charge(cost)

    def _account(self, ledger: Ledger, req: LLMRequest, result: LLMResponse | LLMCallError) -> float:
        """Counts one sent request (or one the budget held back); returns what it cost."""
        with self._lock:
            if isinstance(result, LLMCallError) and result.reason == "budget_exhausted":
                ledger.budget_skipped += 1
                return 0.0
            ledger.calls += 1
            if isinstance(result, LLMCallError):
                ledger.failures[result.reason] += 1
                ledger.retry_pending += result.retryable
                return 0.0
            ledger.usage = ledger.usage + result.usage
            cost = self._cost(req, result)
            ledger.cost_usd += cost
        return cost

    @staticmethod
    def _outcome(req: LLMRequest, result: LLMResponse | LLMCallError) -> Outcome:
        if isinstance(result, LLMCallError):
            return Outcome(req, error=result.reason, detail=result.detail)
        return Outcome(req, response=result)

    # -- structured -----------------------------------------------------------------------------
    def generate_structured(self, requests: Sequence[LLMRequest], parse: Callable[[str], T], label: str = "",
                            repair: bool = True) -> list[Outcome]:
        """Like `generate`, with `value = parse(prefill + text)`; `parse` raises ValueError (or a pydantic
        ValidationError) on an unusable answer. One repair round, then `error="invalid_output"`."""
        outcomes = self.generate(requests, label)
        failed: list[tuple[int, str]] = []
        for i, out in enumerate(outcomes):
            if out.ok:
                err = _try_parse(out, parse)
                if err:
                    failed.append((i, err))
        if repair and failed:
            fixes = [_repair_request(outcomes[i], err) for i, err in failed]
            for (i, _), fixed in zip(failed, self.generate(fixes, label)):
                if fixed.ok and not _try_parse(fixed, parse):
                    fixed.repaired = True
                    fixed.request = outcomes[i].request
                    outcomes[i] = fixed
        ledger = self.ledger(label)
        for i, err in failed:
            out = outcomes[i]
            with self._lock:
                if out.repaired:
                    ledger.repaired += 1
                else:
                    ledger.invalid_outputs += 1
                    out.error, out.detail = "invalid_output", err
        return outcomes


def full_text(out: Outcome) -> str:
    return (out.request.prefill or "") + (out.response.text if out.response else "")


def _try_parse(out: Outcome, parse: Callable[[str], Any]) -> str | None:
    try:
        out.value = parse(full_text(out))
        return None
    except (ValueError, ValidationError) as err:
        return _short_error(err)


def _short_error(err: Exception) -> str:
    if isinstance(err, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in err.errors()[:5])
    return str(err)[:300]


def _repair_request(out: Outcome, error: str) -> LLMRequest:
    req = out.request
    messages = req.messages + (Message(role="assistant", content=full_text(out) or "(empty)"),
                               Message(role="user", content=REPAIR_PROMPT.format(error=error)))
    return req.model_copy(update={"messages": messages})


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)


def extract_json(text: str) -> Any:
    """The JSON value in a model's answer: the whole text, a fenced block, or the first {...}/[...] span."""
    candidates = [text.strip(), *(m.group(1).strip() for m in _FENCE.finditer(text))]
    for opener, closer in ("{}", "[]"):
        start, end = text.find(opener), text.rfind(closer)
        if 0 <= start < end:
            candidates.append(text[start:end + 1])
    for cand in candidates:
        try:
            return json.loads(cand)
        except ValueError:
            continue
    raise ValueError("no JSON object found in the answer")


def json_parser(model: type[BaseModel]) -> Callable[[str], BaseModel]:
    """parse= for `generate_structured`: JSON somewhere in the text, validated by a pydantic model."""
    def parse(text: str) -> BaseModel:
        return model.model_validate(extract_json(text))
    return parse
