"""What the fake LLM HTTP servers share: a ThreadingHTTPServer on a free loopback port in a daemon
thread, bearer/x-api-key auth, call records, fixed latency, in-flight counting and a script of faults
consumed one per generation call, or a `fault_plan` deciding each request's fault from its body and
attempt number (deterministic: reruns see the same faults). Subclasses route requests and shape the
provider's JSON."""
from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

# Faults a test can script. Error statuses carry `retry-after-ms: 1` so SDK retries wait 1 ms: both
# SDKs treat `retry-after: 0` as "not given" and fall back to their 0.5 s exponential backoff.
# "malformed_json" is a well-formed reply whose text is broken JSON; "malformed_reply" a 200 whose body is
# not the provider's JSON at all (a proxy's error page); "slow" answers after `slow_seconds`.
FAULTS = {"400", "429", "500", "overloaded", "timeout", "malformed_json", "malformed_reply", "slow"}
MALFORMED_JSON = '{"answer": "unterminated, "score": 7,'
MALFORMED_REPLY = "<html><body>502 Bad Gateway</body></html>"
FaultPlan = Callable[[dict, int], "str | None"]  # (request body, attempt: earlier identical requests) -> fault


def seeded_faults(rates: dict[str, float], seed: int = 0, flaky_attempts: int | None = None) -> FaultPlan:
    """A fault plan drawing each attempt's fault from `rates` (fault -> probability) with a hash of the
    body, attempt number and seed: the same request fails the same way every time, and a retry (a later
    attempt) draws again. From attempt `flaky_attempts` on, no fault: the server has recovered."""
    unknown = set(rates) - FAULTS
    if unknown:
        raise ValueError(f"unknown faults {sorted(unknown)}")

    def plan(body: dict, attempt: int) -> str | None:
        if flaky_attempts is not None and attempt >= flaky_attempts:
            return None
        digest = hashlib.sha256(f"{seed}:{attempt}:{json.dumps(body, sort_keys=True)}".encode()).digest()
        draw, edge = int.from_bytes(digest[:8], "big") / 2 ** 64, 0.0
        for fault, rate in rates.items():
            edge += rate
            if draw < edge:
                return fault
        return None

    return plan


class Reject(Exception):
    """Raised by a responder to fail one request with an API error (a batch item becomes `errored`)."""

    def __init__(self, status: int, error_type: str, message: str):
        super().__init__(message)
        self.status, self.error_type, self.message = status, error_type, message


def default_responder(body: dict) -> str:
    """A deterministic answer derived from the last user turn."""
    last = next((m for m in reversed(body.get("messages", [])) if m.get("role") == "user"), {})
    content = last.get("content", "")
    if isinstance(content, list):
        content = " ".join(block.get("text", "") for block in content)
    return f"echo: {content}"


def words(text: str) -> int:
    """The fakes' token count: whitespace words, at least one."""
    return max(1, len(text.split()))


class FakeLLMServer:
    """Use as a context manager. `calls` counts generation requests, `records` holds every request
    (method, path, JSON body, and the fault served), `requests()` the generation bodies; `max_in_flight`
    is the most generation requests served at once; `responder`, `latency`, `fault_plan` and
    `echo_key_in_401` (reject every generation request with a 401 that quotes the key it got, as some
    servers do) may be changed at any time."""

    generation_path = ""  # the endpoint faults, latency and `calls` apply to

    def __init__(self, responder: Callable[[dict], str] = default_responder, latency: float = 0.0,
                 hang_seconds: float = 3.0, fault_plan: FaultPlan | None = None, slow_seconds: float = 0.3):
        self.responder = responder
        self.latency = latency
        self.hang_seconds = hang_seconds  # how long a "timeout" fault keeps the client waiting
        self.fault_plan = fault_plan
        self.slow_seconds = slow_seconds
        self.echo_key_in_401 = False
        self.count_tokens: Callable[[str], int] = words  # usage's token count (the OpenAI fake); e.g. a real tokenizer
        # a rate limit on concurrency: a generation request arriving while this many are served gets a 429
        self.max_concurrent: int | None = None
        self.retry_after_ms = 1  # what its 429s ask the client to wait
        self.throttled = 0
        self._attempts: dict[str, int] = {}
        self.records: list[dict] = []
        self.max_in_flight = 0
        self.in_flight_seconds = 0.0  # summed over generation requests: / busy window = mean concurrency
        self.busy_window: list[float] = []  # [first request arrived, last answered] (perf_counter)
        self._in_flight = 0
        self._faults: deque[str] = deque()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def calls(self) -> int:
        with self._lock:
            return sum(r["path"] == self.generation_path for r in self.records)

    def requests(self, path: str | None = None) -> list[dict]:
        """Bodies of the POSTs received on `path` (default: the generation endpoint), in arrival order."""
        with self._lock:
            return [r["json"] for r in self.records if r["path"] == (path or self.generation_path)]

    def inject(self, fault: str, times: int = 1) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {sorted(FAULTS)}")
        with self._lock:
            self._faults.extend([fault] * times)

    def __enter__(self) -> "FakeLLMServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- for subclasses -----------------------------------------------------------------------------
    def route(self, method: str, path: str, body: dict | None) -> tuple[int, Any, dict[str, str]]:
        """(status, JSON-able body or raw str, extra headers) for a non-generation request."""
        return 404, self.error_body(404, "not_found_error", f"no route {method} {path}"), {}

    def generate(self, body: dict, malformed: bool) -> Any:
        """The JSON reply to one generation request."""
        raise NotImplementedError

    def error_body(self, status: int, error_type: str, message: str) -> dict:
        raise NotImplementedError

    def reply_text(self, body: dict, malformed: bool) -> str:
        return MALFORMED_JSON if malformed else self.responder(body)

    # -- request handling -----------------------------------------------------------------------------
    def _handle(self, method: str, path: str, headers, raw: bytes) -> tuple[int, Any, dict[str, str]]:
        body = json.loads(raw) if raw else None
        record = {"method": method, "path": path, "json": body, "fault": None, "at": time.perf_counter()}
        with self._lock:
            self.records.append(record)
        auth = headers.get("authorization", "").removeprefix("Bearer ").strip() or headers.get("x-api-key")
        if not auth:
            return 401, self.error_body(401, "authentication_error", "missing API key"), {}
        if not (method == "POST" and path == self.generation_path):
            return self.route(method, path, body)
        if self.echo_key_in_401:
            return 401, self.error_body(401, "authentication_error", f"Incorrect API key provided: {auth}"), {}
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
            if fault is None and self.fault_plan:
                key = raw.decode()
                attempt = self._attempts[key] = self._attempts.get(key, -1) + 1
                fault = self.fault_plan(body, attempt)
            if fault is None and self.max_concurrent is not None and self._in_flight >= self.max_concurrent:
                self.throttled += 1
                record["fault"] = "429"
                return 429, self.error_body(429, "rate_limit_error", "too many requests in flight"), {
                    "retry-after-ms": str(self.retry_after_ms)}
            record["fault"] = fault
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            started = time.perf_counter()
            self.busy_window[:1] = self.busy_window[:1] or [started]
        try:
            time.sleep({"timeout": self.hang_seconds, "slow": self.slow_seconds}.get(fault or "", self.latency))
            return self._generation(body, fault)
        finally:
            with self._lock:
                self._in_flight -= 1
                ended = time.perf_counter()
                self.in_flight_seconds += ended - started
                self.busy_window[1:] = [ended]

    def _generation(self, body: dict, fault: str | None) -> tuple[int, Any, dict[str, str]]:
        fast_retry = {"retry-after": "0", "retry-after-ms": "1"}
        if fault == "429":
            return 429, self.error_body(429, "rate_limit_error", "rate limited"), fast_retry
        if fault == "500":
            return 500, self.error_body(500, "api_error", "internal error"), fast_retry
        if fault == "overloaded":
            return 529, self.error_body(529, "overloaded_error", "overloaded"), fast_retry
        if fault == "400":
            return 400, self.error_body(400, "invalid_request_error", "bad request"), {}
        if fault == "malformed_reply":
            return 200, MALFORMED_REPLY, {}  # served as application/json, as a misconfigured proxy does
        try:
            return 200, self.generate(body, malformed=fault == "malformed_json"), {}
        except Reject as err:
            return err.status, self.error_body(err.status, err.error_type, err.message), {}


def _handler(server: FakeLLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs' connection pools expect
        # headers and body go out in separate writes: with Nagle on, the client's delayed ACK adds ~40 ms
        disable_nagle_algorithm = True

        def _serve(self, method: str) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            status, payload, headers = server._handle(method, self.path.split("?")[0], self.headers, raw)
            data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
            try:
                self.send_response(status)
                content_type = headers.pop("content-type", "application/json")
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a "timeout" fault)

        def do_POST(self) -> None:
            self._serve("POST")

        def do_GET(self) -> None:
            self._serve("GET")

        def log_message(self, *args) -> None:
            pass

    return Handler
