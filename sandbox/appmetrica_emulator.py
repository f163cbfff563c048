"""A strict emulator of the AppMetrica Post API (../shared/specs/appmetrica-post-api.md §11), on 127.0.0.1.

It is written from the spec, not from Courier's code, so it catches what Courier gets wrong:
403 for an unknown key or an application the key does not own; 400 for missing fields, both or neither of
profile_id / appmetrica_device_id, a bad session_type, event_json that is not a JSON object, more than 100,000
rows; profiles whose attributes are not a JSON object of scalars or whose appmetrica_1pd_* values are not SHA-256
hex; 429 past 30 requests per second; events older than 14 days are accepted but dropped, as the real API does.
Tests script failures with `fail_next`; people use GET /_emulator/state and POST /_emulator/fail.
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

MAX_ROWS = 100_000
WINDOW_SECONDS = 14 * 24 * 3600
SESSION_TYPES = {"foreground", "background"}
EVENT_PATHS = {"/logs/v1/import/events", "/logs/v1/import/events.csv"}
PROFILE_PATHS = {"/logs/v1/import/profiles", "/logs/v1/import/profiles.csv"}
HASHED_1PD = re.compile(r"appmetrica_1pd_(?:phone|email)_sha256_[0-9]|appmetrica_1pd_telegram_sha256")
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
OPTIONAL_INTS = ("mcc", "mnc")


class RefusalError(Exception):
    def __init__(self, status: int, error_type: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.error_type, self.message = status, error_type, message
        self.headers = headers or {}


@dataclass
class ScriptedFailure:
    status: int
    retry_after: int | None = None
    body: str = ""


@dataclass
class AppMetricaState:
    keys: dict[str, set[str]]  # post_api_key → application ids it may write to
    rate_limit: int = 30
    rate_status: int = 429
    events: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    profiles: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # rows, attributes parsed
    dropped: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    failures: deque[ScriptedFailure] = field(default_factory=deque)
    recent: deque[float] = field(default_factory=deque)


class AppMetricaEmulator:
    def __init__(self, keys: dict[str, set[str]] | None = None, rate_limit: int = 30, port: int = 0) -> None:
        self.state = AppMetricaState(keys=keys or {"sandbox-post-api-key": {"1111"}}, rate_limit=rate_limit)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> AppMetricaEmulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- what tests read and script -------------------------------------------------------------
    def events(self, application_id: str) -> list[dict[str, str]]:
        with self._lock:
            return list(self.state.events.get(application_id, []))

    def profiles(self, application_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.state.profiles.get(application_id, []))

    @property
    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.state.requests)

    def fail_next(self, status: int, times: int = 1, retry_after: int | None = None, body: str = "") -> None:
        with self._lock:
            self.state.failures.extend(ScriptedFailure(status, retry_after, body) for _ in range(times))

    def reset(self) -> None:
        with self._lock:
            self.state.events.clear()
            self.state.profiles.clear()
            self.state.dropped.clear()
            self.state.requests.clear()
            self.state.failures.clear()
            self.state.recent.clear()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "events": {app: len(rows) for app, rows in self.state.events.items()},
                "profiles": {app: len(rows) for app, rows in self.state.profiles.items()},
                "dropped": list(self.state.dropped),
                "requests": list(self.state.requests),
            }

    # --- the API --------------------------------------------------------------------------------
    def post(self, path: str, query: dict[str, str], body: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._lock:
            record = {"path": path, "rows": 0, "status": 200, "bytes": len(body)}
            self.state.requests.append(record)
            try:
                self._throttle()
                if self.state.failures:
                    failure = self.state.failures.popleft()
                    headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
                    raise _ScriptedError(failure, headers)
                rows = self._accept(path, query, body)
                record["rows"] = rows
                return 200, {}, {"status": "ok", "rows": rows}
            except _ScriptedError as scripted:
                record["status"] = scripted.failure.status
                return scripted.failure.status, scripted.headers, {"message": scripted.failure.body or "scripted"}
            except RefusalError as refusal:
                record["status"] = refusal.status
                envelope = {
                    "errors": [{"error_type": refusal.error_type, "message": refusal.message}],
                    "code": refusal.status,
                    "message": refusal.message,
                }
                return refusal.status, refusal.headers, envelope

    def _throttle(self) -> None:
        now = time.monotonic()
        recent = self.state.recent
        while recent and now - recent[0] >= 1.0:
            recent.popleft()
        if len(recent) >= self.state.rate_limit:
            raise RefusalError(
                self.state.rate_status, "quota", "too many requests: 30 per second per IP", {"Retry-After": "1"}
            )
        recent.append(now)

    def _accept(self, path: str, query: dict[str, str], body: bytes) -> int:
        if path not in EVENT_PATHS | PROFILE_PATHS:
            raise RefusalError(404, "not_found", f"no such method: {path}")
        key = query.get("post_api_key", "")
        if key not in self.state.keys:
            raise RefusalError(403, "access_denied", "missing or invalid post_api_key")
        defaults = {k: v for k, v in query.items() if k != "post_api_key"}
        rows = _csv_rows(body, defaults) if path.endswith(".csv") else [defaults]
        if len(rows) > MAX_ROWS:
            raise RefusalError(400, "invalid_parameter", f"more than {MAX_ROWS} rows in one request")
        for number, row in enumerate(rows, start=1):
            if not row.get("application_id", "").isdigit():
                raise RefusalError(400, "missing_parameter", f"row {number}: application_id must be an integer")
            if row["application_id"] not in self.state.keys[key]:
                raise RefusalError(403, "access_denied", f"row {number}: the key does not own application_id")
        if path in PROFILE_PATHS:
            profiles = [_check_profile(row, number) for number, row in enumerate(rows, start=1)]
            for row in profiles:
                self.state.profiles.setdefault(row["application_id"], []).append(row)
            return len(rows)
        now = time.time()
        kept: list[dict[str, str]] = []
        for number, row in enumerate(rows, start=1):
            _check_event(row, number)
            timestamp = int(row["event_timestamp"])
            if timestamp < now - WINDOW_SECONDS:
                self.state.dropped.append({"row": row, "reason": "older than 14 days"})
            elif timestamp > now + 24 * 3600:
                self.state.dropped.append({"row": row, "reason": "in the future"})
            else:
                kept.append(row)
        for row in kept:
            self.state.events.setdefault(row["application_id"], []).append(row)
        return len(rows)


class _ScriptedError(Exception):
    def __init__(self, failure: ScriptedFailure, headers: dict[str, str]) -> None:
        self.failure, self.headers = failure, headers


def _csv_rows(body: bytes, defaults: dict[str, str]) -> list[dict[str, str]]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise RefusalError(400, "invalid_parameter", "the body is not UTF-8") from None
    if text.startswith("\ufeff"):
        raise RefusalError(400, "invalid_parameter", "the body starts with a byte order mark")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = []
    for row in reader:
        if None in row or None in row.values():
            raise RefusalError(400, "invalid_parameter", f"row {reader.line_num}: cell count differs from the header")
        rows.append({**defaults, **{k: v for k, v in row.items() if v != ""}})
    return rows


def _check_event(row: dict[str, str], number: int) -> None:
    def refuse(message: str) -> RefusalError:
        return RefusalError(400, "invalid_parameter", f"row {number}: {message}")

    for name in ("event_name", "event_timestamp"):
        if not row.get(name):
            raise RefusalError(400, "missing_parameter", f"row {number}: {name} is required")
    for name in ("event_timestamp", *OPTIONAL_INTS):
        if name in row and not row[name].isdigit():
            raise refuse(f"{name} must be an integer")
    if ("profile_id" in row) == ("appmetrica_device_id" in row):
        raise refuse("send exactly one of profile_id and appmetrica_device_id")
    if "appmetrica_device_id" in row and not row["appmetrica_device_id"].isdigit():
        raise refuse("appmetrica_device_id must be a number")
    if "session_type" in row and row["session_type"] not in SESSION_TYPES:
        raise refuse("session_type must be foreground or background")
    if "event_json" in row:
        try:
            parsed = json.loads(row["event_json"])
        except ValueError:
            raise refuse("event_json is not JSON") from None
        if not isinstance(parsed, dict):
            raise refuse("event_json must be a JSON object")


def _check_profile(row: dict[str, str], number: int) -> dict[str, Any]:
    def refuse(message: str) -> RefusalError:
        return RefusalError(400, "invalid_parameter", f"row {number}: {message}")

    if not row.get("profile_id"):
        raise RefusalError(400, "missing_parameter", f"row {number}: profile_id is required")
    if "appmetrica_device_id" in row:
        raise refuse("the profiles method takes profile_id only")
    try:
        attributes = json.loads(row.get("attributes", ""))
    except ValueError:
        raise refuse("attributes must be JSON") from None
    if not isinstance(attributes, dict) or not attributes:
        raise refuse("attributes must be a non-empty JSON object")
    for name, value in attributes.items():
        if isinstance(value, dict | list) or value is None:
            raise refuse(f"attribute {name}: values must be strings, numbers or booleans")
        if name.startswith("appmetrica"):
            if not HASHED_1PD.fullmatch(name):
                raise refuse(f"attribute {name}: reserved name")
            if not (isinstance(value, str) and SHA256_HEX.fullmatch(value)):
                raise refuse(f"attribute {name}: must be 64 lowercase hex characters")
    return {"application_id": row["application_id"], "profile_id": row["profile_id"], "attributes": attributes}


def _handler_for(emulator: AppMetricaEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = 1 << 16  # one write per answer: split writes meet delayed ACKs and cost 40 ms a request

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (the query holds the key)
            return

        def _reply(self, status: int, headers: dict[str, str], payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def do_GET(self) -> None:
            if urlsplit(self.path).path == "/_emulator/state":
                self._reply(200, {}, emulator.snapshot())
            else:
                self._reply(405, {}, {"message": "POST only"})

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            body = self._body()
            if parts.path == "/_emulator/fail":
                spec = json.loads(body or b"{}")
                emulator.fail_next(int(spec.get("status", 503)), int(spec.get("times", 1)), spec.get("retry_after"))
                self._reply(200, {}, {"scripted": spec})
            elif parts.path == "/_emulator/reset":
                emulator.reset()
                self._reply(200, {}, {"reset": True})
            else:
                status, headers, payload = emulator.post(parts.path, dict(parse_qsl(parts.query)), body)
                self._reply(status, headers, payload)

    return Handler
