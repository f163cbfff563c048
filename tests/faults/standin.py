"""A counting stand-in for AppMetrica's Post API, on 127.0.0.1, that misbehaves on request.

It counts every row it *takes*, per `profile_id`, whatever it answers afterwards: a 500 sent after the rows were
taken still counts them, because the real API may well have stored them. Rows older than the Post API's 14-day window
are taken and silently dropped, as the real API does (they are counted in `dropped`, never in `delivered`).

Misbehaviour is scripted with `Rule`s: answer with any status after taking the rows (or without taking them), reset
the connection, trickle a body forever, redirect, throttle, delay. `after_answers(n, callback)` runs `callback` on the
server thread right after the n-th answer left, so a test can SIGKILL the invocation that is about to read it.
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.faults.sockets import LocalServer, request_body, reset

WINDOW_SECONDS = 14 * 24 * 3600
MAX_ROWS = 100_000
IMPORT_PATHS = frozenset({"/logs/v1/import/events.csv", "/logs/v1/import/profiles.csv"})
REDIRECT_PREFIX = "/moved"  # where redirects point; whatever lands there is recorded as a followed redirect
_ID = re.compile(r"^(.*\D)(\d+)$")


@dataclass(frozen=True)
class Rule:
    """What the stand-in does with an import request."""

    status: int = 200
    take: bool = True  # the rows count as received (the destination stored them), whatever the answer says
    reset: bool = False  # the connection is reset (RST) instead of answered
    delay: float = 0.0  # seconds between reading the request and answering
    trickle: bool = False  # 200 and its headers, then the body one byte every `trickle_interval` seconds, forever
    trickle_interval: float = 1.0
    redirect: bool = False  # answer `status` (301/302) with a Location on this server; nothing is taken
    retry_after: int | None = None
    body: str = ""

    def describe(self) -> str:
        if self.reset:
            return "reset" + (" after taking" if self.take else "")
        if self.trickle:
            return "trickle"
        return f"{self.status}" + (" after taking" if self.take and self.status != 200 else "")


OK = Rule()


def after_taking(status: int) -> Rule:
    """The rows are stored, then the answer says `status` (a 500/502/504 from a proxy in front of a healthy API)."""
    return Rule(status=status, take=True, body=f"injected {status} after the rows were taken")


def not_taken(status: int, retry_after: int | None = None) -> Rule:
    """A refusal that stores nothing (429, 503)."""
    return Rule(status=status, take=False, retry_after=retry_after, body=f"injected {status}")


@dataclass
class _Scripted:
    rule: Rule
    times: int | None  # None: until `until`
    until: float = 0.0  # time.monotonic() deadline for a time window
    after: int = 0  # import requests answered normally before this one applies


@dataclass
class Received:
    """One import request as the stand-in saw it."""

    number: int
    invocation: int  # the harness's invocation number when the request arrived (0: none running)
    method: str
    path: str
    at: float  # time.monotonic()
    rule: str
    status: int  # what was answered (0: reset; -1: trickled)
    rows: int = 0
    taken: int = 0
    runs: list[tuple[str, int, int]] = field(default_factory=list)  # (id prefix, first n, last n) in arrival order
    error: str = ""


class AppMetricaStandIn(LocalServer):
    def __init__(self, post_api_key: str, application_id: str) -> None:
        self.post_api_key = post_api_key
        self.application_id = application_id
        self.lock = threading.RLock()
        self.delivered: Counter[str] = Counter()  # rows stored, by profile_id
        self.dropped: Counter[str] = Counter()  # rows taken but outside the 14-day window (silently lost)
        self.received: list[Received] = []
        self.follows: list[Received] = []  # requests that followed a redirect
        self.invocation = 0  # set by the harness when an invocation starts
        self._script: list[_Scripted] = []
        self._answered = 0
        self._hooks: list[tuple[int, Callable[[], None]]] = []
        super().__init__(_handler_for(self), "appmetrica-standin")

    # --- scripting ----------------------------------------------------------------------------------------------
    def script(self, rule: Rule, times: int = 1, after: int = 0) -> None:
        """The next `times` import requests (once `after` more were answered normally) get `rule`."""
        with self.lock:
            self._script.append(_Scripted(rule, times, after=after))

    def script_for(self, rule: Rule, seconds: float) -> None:
        """Every import request in the next `seconds` gets `rule` (a throttle, an outage)."""
        with self.lock:
            self._script.append(_Scripted(rule, None, until=time.monotonic() + seconds))

    def always(self, rule: Rule) -> None:
        self.script_for(rule, 24 * 3600.0)

    def after_answers(self, count: int, callback: Callable[[], None]) -> None:
        """`callback()` runs on the server thread right after the `count`-th import answer (from now) was sent."""
        with self.lock:
            self._hooks.append((self._answered + count, callback))

    def _rule(self) -> Rule:
        with self.lock:
            now = time.monotonic()
            self._script = [s for s in self._script if (s.times is None and s.until > now) or (s.times or 0) > 0]
            if not self._script:
                return OK
            first = self._script[0]
            if first.after:
                first.after -= 1
                return OK
            if first.times is not None:
                first.times -= 1
            return first.rule

    # --- reading ------------------------------------------------------------------------------------------------
    def delivered_total(self) -> int:
        with self.lock:
            return sum(self.delivered.values())

    def requests(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def summary(self, limit: int = 40) -> str:
        lines = []
        for r in self.requests()[:limit]:
            runs = ", ".join(f"{p}{a}..{b}" for p, a, b in r.runs[:3]) + (" …" if len(r.runs) > 3 else "")
            error = f" ({r.error})" if r.error else ""
            lines.append(
                f"  req {r.number} inv {r.invocation} {r.method} {r.path}: {r.rule} → {r.status}, "
                f"{r.rows} rows, {r.taken} taken [{runs}]{error}"
            )
        more = len(self.received) - limit
        if more > 0:
            lines.append(f"  … {more} more requests")
        return "\n".join(lines) or "  (no requests)"

    # --- serving ------------------------------------------------------------------------------------------------
    def _take(self, request: Received, body: bytes, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """Validates like the Post API and stores the rows; (status, payload) of a normal answer."""
        if query.get("post_api_key") != self.post_api_key:
            return 403, {"message": "missing or invalid post_api_key"}
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return 400, {"message": "the body is not UTF-8"}
        reader = csv.DictReader(io.StringIO(text, newline=""))
        defaults = {k: v for k, v in query.items() if k != "post_api_key"}
        rows: list[dict[str, str]] = []
        for row in reader:
            if None in row or None in row.values():
                return 400, {"message": f"row {reader.line_num}: cell count differs from the header"}
            rows.append({**defaults, **{k: v for k, v in row.items() if v != ""}})
        request.rows = len(rows)
        if len(rows) > MAX_ROWS:
            return 400, {"message": f"more than {MAX_ROWS} rows"}
        for number, row in enumerate(rows, start=1):
            if row.get("application_id") != self.application_id:
                return 403, {"message": f"row {number}: the key does not own this application_id"}
            if not row.get("profile_id") and not row.get("appmetrica_device_id"):
                return 400, {"message": f"row {number}: profile_id or appmetrica_device_id is required"}
            if request.path.endswith("events.csv") and not (
                row.get("event_name") and row.get("event_timestamp", "").isdigit()
            ):
                return 400, {"message": f"row {number}: event_name and event_timestamp (seconds) are required"}
        now = time.time()
        with self.lock:
            for row in rows:
                key = row.get("profile_id") or row.get("appmetrica_device_id", "")
                stamp = row.get("event_timestamp", "")
                if stamp.isdigit() and int(stamp) < now - WINDOW_SECONDS:
                    self.dropped[key] += 1
                else:
                    self.delivered[key] += 1
            request.taken = len(rows)
            request.runs = _runs(row.get("profile_id", "") for row in rows)
        return 200, {"status": "ok", "rows": len(rows)}

    def _answered_one(self) -> None:
        with self.lock:
            self._answered += 1
            due = [hook for hook in self._hooks if hook[0] <= self._answered]
            self._hooks = [hook for hook in self._hooks if hook[0] > self._answered]
        for _, callback in due:
            callback()

    def _wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)


def _runs(ids: Any) -> list[tuple[str, int, int]]:
    """Consecutive ids (prefix + number) folded into runs, in order."""
    runs: list[tuple[str, int, int]] = []
    for value in ids:
        match = _ID.match(value)
        if match is None:
            runs.append((value, -1, -1))
            continue
        prefix, number = match.group(1), int(match.group(2))
        if runs and runs[-1][0] == prefix and runs[-1][2] == number - 1:
            runs[-1] = (prefix, runs[-1][1], number)
        else:
            runs.append((prefix, number, number))
    return runs


def _handler_for(standin: AppMetricaStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (query strings hold the key)
            return

        def _body(self) -> bytes:
            return request_body(self)

        def _reply(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            body = self._body() if self.command == "POST" else b""
            query = dict(parse_qsl(parts.query))
            with standin.lock:
                request = Received(
                    number=len(standin.received) + len(standin.follows) + 1,
                    invocation=standin.invocation,
                    method=self.command,
                    path=parts.path,
                    at=time.monotonic(),
                    rule="",
                    status=200,
                )
            if parts.path.startswith(REDIRECT_PREFIX):  # a client that followed a redirect: a page that says 200
                request.rule = "redirect target"
                with standin.lock:
                    standin.follows.append(request)
                self._reply(200, {"status": "ok", "note": "this is where the redirect pointed"})
                return
            if parts.path not in IMPORT_PATHS or self.command != "POST":
                request.rule, request.status = "unknown", 404
                with standin.lock:
                    standin.received.append(request)
                self._reply(404, {"message": f"no such method: {self.command} {parts.path}"})
                return
            rule = standin._rule()
            request.rule = rule.describe()
            with standin.lock:
                standin.received.append(request)
            status, payload = 200, dict[str, Any]()
            if rule.take:
                status, payload = standin._take(request, body, query)
                if status != 200:  # a refusal of the content itself wins over the scripted answer
                    request.status, request.error = status, str(payload.get("message", ""))
                    self._reply(status, payload)
                    standin._answered_one()
                    return
            if rule.delay:
                standin._wait(rule.delay)
            if rule.reset:
                request.status = 0
                self.close_connection = True
                reset(self.connection)
                return
            if rule.trickle:
                request.status = -1
                self._trickle(rule.trickle_interval)
                return
            if rule.redirect:
                request.status = rule.status
                location = f"{standin.url}{REDIRECT_PREFIX}{parts.path}" + (f"?{parts.query}" if parts.query else "")
                self._reply(rule.status, {"message": "moved"}, {"Location": location})
                standin._answered_one()
                return
            if rule.status != 200:
                request.status = rule.status
                extra = {"Retry-After": str(rule.retry_after)} if rule.retry_after is not None else {}
                self._reply(rule.status, {"message": rule.body or "injected"}, extra)
                standin._answered_one()
                return
            request.status = status
            try:
                self._reply(200, payload or {"status": "ok"})
            except OSError as error:  # the client gave up (a timeout) before the answer
                request.error = f"answer not delivered: {type(error).__name__}"
                self.close_connection = True
                return
            standin._answered_one()

        def _trickle(self, interval: float) -> None:
            """200 with a long body that never ends: a byte now and then, so no read timeout ever fires."""
            self.close_connection = True
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "10000000")
                self.end_headers()
                self.wfile.write(b"{")
                self.wfile.flush()
                deadline = time.monotonic() + 900
                while not standin._stopping.is_set() and time.monotonic() < deadline:
                    standin._wait(interval)
                    self.wfile.write(b" ")
                    self.wfile.flush()
            except OSError:
                return

    return Handler
