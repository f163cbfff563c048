"""What both destination emulators share: an HTTP server on 127.0.0.1, a log of requests, scripted failures,
a requests-per-second limit, and control routes for people (GET /_emulator/state, POST /_emulator/fail, /reset)."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

Answer = tuple[int, dict[str, str], Any]  # HTTP status, extra headers, JSON payload
RESET = 0  # a scripted "status" that drops the connection instead of answering
TRICKLE = -1  # a scripted "status": 200 headers, then a body that trickles in a byte at a time and never ends
TRICKLE_SECONDS = 60.0  # how long a trickling answer goes on at most (the client is expected to give up first)
Handled = tuple[int, dict[str, str], Any, int, int]  # an Answer, then the records carried and the records taken


class RefusalError(Exception):
    """An API error answer: the emulator's way of saying no, with the status and body the API would send."""

    def __init__(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(str(payload))
        self.status, self.payload, self.headers = status, payload, headers or {}


@dataclass
class ScriptedFailure:
    status: int  # RESET: the connection is closed without an answer
    retry_after: int | None = None
    body: str = ""
    after: int = 0  # requests answered normally before this failure
    taken: bool = False  # the request is applied (its records taken) before the failure is answered


@dataclass
class Request:
    """What a test reads about one request: where it went, how many records it carried, how it was answered."""

    path: str
    body: bytes
    headers: dict[str, str]
    status: int = 200
    rows: int = 0
    accepted: int = 0  # records the API took (all of them, or a batch's items answered with success)


class HttpEmulator:
    """Subclasses implement `handle` (the API) and `clear` / `state` (their stores)."""

    def __init__(self, port: int = 0, rate_limit: int | None = None, rate_status: int = 429, keep: bool = True) -> None:
        """`keep=False` (benchmarks) keeps no request bodies or records, only the counts."""
        self.keep = keep
        self.rate_limit, self.rate_status = rate_limit, rate_status
        self.delay = 0.0  # seconds before each answer: a slow destination
        self.answer_delay = 0.0  # seconds between applying a request and answering it: an answer late on its way back
        self.flaky_rate = 0.0  # the share of requests answered 503 at random (seeded: the same run every time)
        self._random = random.Random(0)
        self.lock = threading.RLock()
        self._requests: list[Request] = []
        self._failures: deque[ScriptedFailure] = deque()
        self._recent: deque[float] = deque()
        self._epoch = 0  # how many times it was reset: a request is answered in the state it arrived in
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def accepted(self) -> int:
        """Records taken so far, across requests."""
        with self.lock:
            return sum(request.accepted for request in self._requests)

    @property
    def requests(self) -> list[Request]:
        with self.lock:
            return list(self._requests)

    def fail_next(
        self,
        status: int,
        times: int = 1,
        retry_after: int | None = None,
        body: str = "",
        after: int = 0,
        taken: bool = False,
    ) -> None:
        """The next `times` requests (once `after` more have been answered normally) fail with `status`; with
        `taken`, after the API applied them (an answer lost on the way back)."""
        with self.lock:
            self._failures.extend(
                ScriptedFailure(status, retry_after, body, after if n == 0 else 0, taken) for n in range(times)
            )

    def reset(self) -> None:
        with self.lock:
            self._epoch += 1  # a request still waiting out a delay from before is not this state's: it is dropped
            self._requests.clear()
            self._failures.clear()
            self._recent.clear()
            self.delay = 0.0
            self.answer_delay = 0.0
            self.flaky_rate = 0.0
            self._random.seed(0)
            self.clear()

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            requests = [{"path": r.path, "status": r.status, "rows": r.rows} for r in self._requests]
            return {**self.state(), "requests": requests}

    def answer(self, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> Answer:
        epoch = self._epoch
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            if epoch != self._epoch:  # reset while it waited (the test that sent it is over): neither kept nor applied
                return 503, {}, self.error_payload(503, "the emulator was reset while this request waited")
            request = Request(path, body if self.keep else b"", headers)
            self._requests.append(request)
            try:
                self._throttle()
                if self.flaky_rate and self._random.random() < self.flaky_rate:
                    raise RefusalError(503, self.failure_payload(ScriptedFailure(503, body="flaky")))
                if self._failures and self._failures[0].after:
                    self._failures[0].after -= 1
                elif self._failures:
                    failure = self._failures.popleft()
                    extra = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
                    if 300 <= failure.status < 400:
                        extra["Location"] = self.url + "/moved" + path
                    if failure.taken:
                        _, _, _, request.rows, request.accepted = self.handle(path, query, headers, body)
                    page = failure.body.encode() if failure.body.startswith("<") else None  # a proxy's HTML page
                    raise RefusalError(failure.status, page or self.failure_payload(failure), extra)
                status, extra, payload, request.rows, request.accepted = self.handle(path, query, headers, body)
            except RefusalError as refusal:
                status, extra, payload = refusal.status, refusal.headers, refusal.payload
            request.status = status
        if self.answer_delay:
            time.sleep(self.answer_delay)
        return status, extra, payload

    def _throttle(self) -> None:
        if self.rate_limit is None:
            return
        now = time.monotonic()
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if len(self._recent) >= self.rate_limit:
            message = f"too many requests: {self.rate_limit} per second"
            raise RefusalError(self.rate_status, self.error_payload(self.rate_status, message), {"Retry-After": "1"})
        self._recent.append(now)

    # --- for subclasses ---------------------------------------------------------------------------------------
    def handle(self, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> Handled:
        """The answer to a request not refused whole (a batch may refuse some items); raise RefusalError otherwise."""
        raise NotImplementedError

    def error_payload(self, status: int, message: str) -> Any:
        return {"message": message}

    def failure_payload(self, failure: ScriptedFailure) -> Any:
        return self.error_payload(failure.status, failure.body or "scripted failure")

    def clear(self) -> None:
        raise NotImplementedError

    def state(self) -> dict[str, Any]:
        raise NotImplementedError


def _handler_for(emulator: HttpEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = 1 << 16  # one write per answer: split writes meet delayed ACKs and cost 40 ms a request

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (query strings hold keys)
            return

        def _reply(self, status: int, headers: dict[str, str], payload: Any) -> None:
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html" if isinstance(payload, bytes) else "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if urlsplit(self.path).path == "/_emulator/state":
                self._reply(200, {}, emulator.snapshot())
            else:
                self._reply(405, {}, {"message": "POST only"})

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if parts.path == "/_emulator/fail":
                spec = json.loads(body or b"{}")
                emulator.fail_next(int(spec.get("status", 503)), int(spec.get("times", 1)), spec.get("retry_after"))
                self._reply(200, {}, {"scripted": spec})
            elif parts.path == "/_emulator/reset":
                emulator.reset()
                self._reply(200, {}, {"reset": True})
            else:
                headers = {name.lower(): value for name, value in self.headers.items()}
                status, extra, payload = emulator.answer(parts.path, dict(parse_qsl(parts.query)), headers, body)
                if status == RESET:
                    self.close_connection = True
                    self.connection.close()
                    return
                if status == TRICKLE:
                    self._trickle()
                    return
                self._reply(status, extra, payload)

        def _trickle(self) -> None:
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            self.wfile.flush()
            until = time.monotonic() + TRICKLE_SECONDS
            try:
                while time.monotonic() < until:
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                return  # the client gave up

    return Handler
