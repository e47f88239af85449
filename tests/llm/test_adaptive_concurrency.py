"""Adaptive concurrency: a server that answers 429 whenever more than 4 requests are in flight sees the
client settle at 4 or fewer, every request answered; Retry-After pauses every sender."""
import time

from refinery.llm.client import LLMClient
from refinery.llm.openai_backend import OpenAICompatibleBackend
from refinery.llm.types import LLMRequest, user
from tests.fakes.openai_server import FakeOpenAIServer


def _requests(n: int) -> list[LLMRequest]:
    return [LLMRequest(model="m", messages=(user(f"question {i}"),), max_tokens=16) for i in range(n)]


def _mean_limit(history: list[list[float]], since: float, until: float) -> float:
    """Time-weighted mean of the limit between two instants (history: [seconds, limit] at each change)."""
    total = 0.0
    for i, (t, limit) in enumerate(history):
        end = history[i + 1][0] if i + 1 < len(history) else until
        start, end = max(t, since), min(end, until)
        total += max(0.0, end - start) * limit
    return total / (until - since)


def test_a_server_limiting_concurrency_to_4_sees_the_client_settle_at_4():
    with FakeOpenAIServer(latency=0.03) as server:
        server.max_concurrent = 4
        backend = OpenAICompatibleBackend(f"{server.base_url}/v1", max_concurrency=16, max_retries=8)
        client = LLMClient(backend)
        t0 = time.monotonic()
        outcomes = client.generate(_requests(240), label="qa")
        elapsed = time.monotonic() - t0
        assert all(o.ok for o in outcomes), {o.error for o in outcomes}
        summary = client.concurrency_summary()
        answered = server.calls - server.throttled
        assert answered == 240
    assert summary["ceiling"] == 16 and summary["min_limit"] <= 4
    assert summary["history"][0] == [0.0, 16] and len(summary["history"]) > 2  # cut, then probed
    # after the first cuts the limit stays around the server's 4: probing to 5 costs one 429 and a halving
    settled = _mean_limit(summary["history"], elapsed / 4, elapsed)
    assert 2.0 <= settled <= 4.5, summary
    assert server.throttled <= 0.15 * 240, (server.throttled, summary)  # few 429s, not a retry storm
    assert client.usage_summary()["qa"]["failures"] == {}


def test_retry_after_pauses_every_sender():
    with FakeOpenAIServer(latency=0.05) as server:
        server.max_concurrent = 1
        server.retry_after_ms = 300
        backend = OpenAICompatibleBackend(f"{server.base_url}/v1", max_concurrency=2, max_retries=4)
        outcomes = LLMClient(backend).generate(_requests(2))
        assert all(o.ok for o in outcomes)
        records = server.records
    first_429 = next(r for r in records if r["fault"] == "429")
    later = [r["at"] - first_429["at"] for r in records if r["at"] > first_429["at"]]
    assert later and min(later) >= 0.29  # nobody sent anything during the server's Retry-After
    assert backend.limiter.summary()["limit"] >= 1
