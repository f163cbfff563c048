"""Field conversions shared by the Post API methods: each takes a JSON or CSV value and returns the text to send.

A conversion raises ValueError with a reason that never repeats the value (it may be personal data).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from courier.destinations.values import MAX_DEPTH, MAX_TEXT_CHARS, compact_json, parse_json, too_deep

UINT64_MAX = 2**64 - 1
WINDOW_SECONDS = 14 * 24 * 3600  # the Post API drops events older than 14 days (spec §8.1)
FUTURE_TOLERANCE_SECONDS = 24 * 3600
MILLISECONDS_FLOOR = 100_000_000_000  # 13 digits: year 5138 in seconds, 1973 in milliseconds


MAX_JSON_CHARS = 100_000


def text(value: Any) -> str:
    if isinstance(value, str):
        if len(value) > MAX_TEXT_CHARS:
            raise ValueError(f"is longer than {MAX_TEXT_CHARS} characters")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be text, not {type(value).__name__}")
    return str(value)


def _whole_number(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise ValueError("must be a whole number")


def whole_number(value: Any) -> str:
    number = _whole_number(value)
    if number < 0:
        raise ValueError("must not be negative")
    return value if isinstance(value, str) and value.isdigit() else str(number)


def application_id(value: Any) -> str:
    number = _whole_number(value)
    if number <= 0:
        raise ValueError("must be a positive number (the id from the app's settings in AppMetrica)")
    return str(number)


def device_id(value: Any) -> str:
    """appmetrica_device_id is a uint64 that overflows int64: kept as decimal text."""
    number = _whole_number(value)
    if not 0 < number <= UINT64_MAX:
        raise ValueError("must be an unsigned 64-bit number")
    return str(number)


def json_object(value: Any) -> str:
    """An object (JSON) or JSON text of an object (CSV); JSON text is forwarded as written."""
    if isinstance(value, dict):
        if too_deep(value):
            raise ValueError(f"is nested more than {MAX_DEPTH} levels")
        dumped = compact_json(value)
        if len(dumped) > MAX_JSON_CHARS:
            raise ValueError(f"is longer than {MAX_JSON_CHARS} characters")
        return dumped
    if isinstance(value, str):
        if len(value) > MAX_JSON_CHARS:
            raise ValueError(f"is longer than {MAX_JSON_CHARS} characters")
        if too_deep(value):  # counted on the text first: deep JSON is never parsed recursively
            raise ValueError(f"is nested more than {MAX_DEPTH} levels")
        try:
            parsed = parse_json(value)
        except (ValueError, RecursionError):
            raise ValueError("is not valid JSON") from None
        if isinstance(parsed, dict):
            return value
    raise ValueError("must be a JSON object")


def one_of(*allowed: str) -> Any:
    def check(value: Any) -> str:
        if value not in allowed:
            raise ValueError(f"must be one of: {', '.join(allowed)}")
        return str(value)

    return check


def _iso_seconds(value: str) -> int:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("must be Unix seconds or an ISO-8601 time such as 2026-11-22T10:00:00Z") from None
    if moment.tzinfo is None:  # a time without an offset is read as UTC, as the README says
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_timestamp(now: float) -> Any:
    """Unix seconds inside the Post API window; ISO-8601 converted; milliseconds refused."""
    oldest, latest = now - WINDOW_SECONDS, now + FUTURE_TOLERANCE_SECONDS
    low, high = str(int(oldest) + 1), str(int(latest))  # ten digits each until the year 2286

    def check(value: Any) -> str:
        if isinstance(value, str) and len(value) == len(low) == len(high) and low <= value <= high and value.isdigit():
            return value  # the hot path: Unix seconds inside the window, compared as text
        if isinstance(value, str):
            stripped = value.strip()
            seconds = int(stripped) if stripped.isdigit() else _iso_seconds(stripped)
        else:
            seconds = _whole_number(value)
        if seconds >= MILLISECONDS_FLOOR:
            raise ValueError("looks like milliseconds; the Post API takes Unix seconds (divide by 1000)")
        if seconds < oldest:
            raise ValueError(
                f"is older than the Post API's 14-day window (oldest accepted now: {_utc(oldest)}); "
                "AppMetrica would drop it silently"
            )
        if seconds > latest:
            raise ValueError(f"is in the future (latest accepted now: {_utc(latest)})")
        return value if isinstance(value, str) and value.isdigit() else str(seconds)

    return check


def convert_fields(
    record: Mapping[str, Any], conversions: Mapping[str, Callable[[Any], str]], out: dict[str, str] | None = None
) -> tuple[dict[str, str], list[str], set[str]]:
    """The record's fields that `conversions` knows, converted in the record's order after what `out` already
    holds (empty values count as absent), the reasons for those that failed, and their names."""
    out = {} if out is None else out
    errors: list[str] = []
    failed: set[str] = set()
    for name, value in record.items():
        convert = conversions.get(name)
        if convert is None or value is None or value == "":
            continue
        try:
            out[name] = convert(value)
        except ValueError as error:
            errors.append(f"{name}: {error}")
            failed.add(name)
    return out, errors, failed


def defaults(record: Mapping[str, Any], default_application_id: str) -> dict[str, str]:
    """What a prepared record starts with: the configured application id, first, when the record gives none."""
    given = record.get("application_id")
    return {"application_id": default_application_id} if default_application_id and given in (None, "") else {}


def require_application_id(out: dict[str, str], failed: set[str], errors: list[str]) -> None:
    if "application_id" not in out and "application_id" not in failed:
        errors.append("application_id: is required (or set APPMETRICA_APPLICATION_ID)")
