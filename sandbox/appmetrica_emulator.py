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
import time
from typing import Any

from sandbox.http_emulator import Handled, HttpEmulator, RefusalError, ScriptedFailure

MAX_ROWS = 100_000
WINDOW_SECONDS = 14 * 24 * 3600
SESSION_TYPES = {"foreground", "background"}
EVENT_PATHS = {"/logs/v1/import/events", "/logs/v1/import/events.csv"}
PROFILE_PATHS = {"/logs/v1/import/profiles", "/logs/v1/import/profiles.csv"}
HASHED_1PD = re.compile(r"appmetrica_1pd_(?:phone|email)_sha256_[0-9]|appmetrica_1pd_telegram_sha256")
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
OPTIONAL_INTS = ("mcc", "mnc")


class AppMetricaEmulator(HttpEmulator):
    def __init__(
        self, keys: dict[str, set[str]] | None = None, rate_limit: int | None = 30, port: int = 0, keep: bool = True
    ) -> None:
        super().__init__(port, rate_limit, keep=keep)
        self.keys = keys or {"sandbox-post-api-key": {"1111"}}  # post_api_key → application ids it may write to
        self._events: dict[str, list[dict[str, str]]] = {}
        self._profiles: dict[str, list[dict[str, Any]]] = {}  # rows, attributes parsed
        self.dropped: list[dict[str, Any]] = []
        self.poison: dict[str, str] = {}  # field → value: a request with such a row is refused whole (400)

    def events(self, application_id: str) -> list[dict[str, str]]:
        with self.lock:
            return list(self._events.get(application_id, []))

    def profiles(self, application_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self._profiles.get(application_id, []))

    def clear(self) -> None:
        self.poison.clear()
        self._events.clear()
        self._profiles.clear()
        self.dropped.clear()

    def state(self) -> dict[str, Any]:
        return {
            "events": {app: len(rows) for app, rows in self._events.items()},
            "profiles": {app: len(rows) for app, rows in self._profiles.items()},
            "dropped": list(self.dropped),
        }

    def error_payload(self, status: int, message: str) -> Any:
        return _refusal(status, message).payload

    def failure_payload(self, failure: ScriptedFailure) -> Any:
        return {"message": failure.body or "scripted"}

    def handle(self, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> Handled:
        rows = self._accept(path, query, body)
        return 200, {}, {"status": "ok", "rows": rows}, rows, rows

    def _accept(self, path: str, query: dict[str, str], body: bytes) -> int:
        if path not in EVENT_PATHS | PROFILE_PATHS:
            raise _refusal(404, f"no such method: {path}")
        key = query.get("post_api_key", "")
        if key not in self.keys:
            raise _refusal(403, "missing or invalid post_api_key")
        defaults = {k: v for k, v in query.items() if k != "post_api_key"}
        rows = _csv_rows(body, defaults) if path.endswith(".csv") else [defaults]
        if len(rows) > MAX_ROWS:
            raise _refusal(400, f"more than {MAX_ROWS} rows in one request")
        for number, row in enumerate(rows, start=1):
            if any(row.get(name) == value for name, value in self.poison.items()):
                raise _refusal(400, f"row {number}: refused")
            if not row.get("application_id", "").isdigit():
                raise _refusal(400, f"row {number}: application_id must be an integer")
            if row["application_id"] not in self.keys[key]:
                raise _refusal(403, f"row {number}: the key does not own application_id")
        if path in PROFILE_PATHS:
            profiles = [_check_profile(row, number) for number, row in enumerate(rows, start=1)]
            for row in profiles:
                if self.keep:
                    self._profiles.setdefault(row["application_id"], []).append(row)
            return len(rows)
        now = time.time()
        kept: list[dict[str, str]] = []
        for number, row in enumerate(rows, start=1):
            _check_event(row, number)
            timestamp = int(row["event_timestamp"])
            if timestamp < now - WINDOW_SECONDS:
                self.dropped.append({"row": row, "reason": "older than 14 days"})
            elif timestamp > now + 24 * 3600:
                self.dropped.append({"row": row, "reason": "in the future"})
            else:
                kept.append(row)
        for row in kept:
            if self.keep:
                self._events.setdefault(row["application_id"], []).append(row)
        return len(rows)


def _csv_rows(body: bytes, defaults: dict[str, str]) -> list[dict[str, str]]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _refusal(400, "the body is not UTF-8") from None
    if text.startswith("\ufeff"):
        raise _refusal(400, "the body starts with a byte order mark")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = []
    for row in reader:
        if None in row or None in row.values():
            raise _refusal(400, f"row {reader.line_num}: cell count differs from the header")
        rows.append({**defaults, **{k: v for k, v in row.items() if v != ""}})
    return rows


def _check_event(row: dict[str, str], number: int) -> None:
    def refuse(message: str) -> RefusalError:
        return _refusal(400, f"row {number}: {message}")

    for name in ("event_name", "event_timestamp"):
        if not row.get(name):
            raise refuse(f"{name} is required")
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
        return _refusal(400, f"row {number}: {message}")

    if not row.get("profile_id"):
        raise refuse("profile_id is required")
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


def _refusal(status: int, message: str) -> RefusalError:
    """The envelope other AppMetrica APIs use (the Post API documents no bodies; spec §9.1)."""
    kind = {400: "invalid_parameter", 403: "access_denied", 404: "not_found", 429: "quota"}.get(status, "error")
    return RefusalError(
        status, {"errors": [{"error_type": kind, "message": message}], "code": status, "message": message}
    )
