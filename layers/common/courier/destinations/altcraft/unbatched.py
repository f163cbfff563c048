"""The Altcraft methods with no batch form, one record a request: profiles/delete, subscriptions/set and
goals/register (docs/contracts/altcraft.md#delete, #subscription-set, #goal-register). A record is the method's own
body (a CSV row's columns are its parameters, JSON text where a parameter is an object or an array), checked here
as a whole: an unknown parameter is refused, never passed on. Reasons never quote a value."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from datetime import datetime
from typing import Any

from courier.destinations.altcraft import rules
from courier.destinations.values import MAX_TEXT_CHARS, as_bool, as_number
from courier.model import Prepared, Preparer, Record
from courier.settings import Settings

Check = Callable[[Any], Any]  # a parameter's value → the value sent; ValueError (our words) when it cannot be


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be text")
    if len(value) > MAX_TEXT_CHARS:
        raise ValueError(f"is longer than {MAX_TEXT_CHARS} characters")
    return value


def _non_negative(value: Any) -> int:
    """0 or more (a priority: 0 is the highest)."""
    if value in (0, "0"):
        return 0
    return rules.whole(value)


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError("must be a number")
    if isinstance(value, int | float):
        return value
    return as_number(value)


def _bool(value: Any) -> bool:
    return value if isinstance(value, bool) else as_bool(value)


def _email(value: Any) -> str:
    problem = rules.email_problem("", value)
    if problem:
        raise ValueError(problem.removeprefix(": "))
    return str(value).strip()


def _phone(value: Any) -> str:
    if not rules.is_phone(value):
        raise ValueError("is not a phone number (digits, optionally with a leading +)")
    return str(value).strip()


def _text_or_number(value: Any) -> str | int | float:
    if isinstance(value, str) or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    raise ValueError("must be text or a number")


def _rfc3339(value: Any) -> str:
    text = _text(value)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("must be an RFC 3339 time such as 2006-01-25T15:04:05+07:00") from None
    if moment.tzinfo is None:
        raise ValueError("must say its offset (2006-01-25T15:04:05+07:00, or Z for UTC)")
    return text


KEY_CHECKS: dict[str, Check] = {
    "email": _email,
    "phone": _phone,
    "profile_id": _text,
    "field_name": _text,
    "field_value": _text_or_number,
}


def _check(record: Record, checks: dict[str, Check], errors: list[str]) -> dict[str, Any]:
    """The record's parameters checked one by one, in `checks`' order (the body's); empty cells are absent."""
    given = {name: value for name, value in record.items() if value not in (None, "")}
    errors += [f"{name}: is not a parameter here" for name in given if name not in checks]
    body: dict[str, Any] = {}
    for name, check in checks.items():
        if name in given:
            try:
                body[name] = check(given[name])
            except ValueError as error:
                errors.append(f"{name}: {error}")
    return body


def _db_id(body: dict[str, Any], default: str, errors: list[str]) -> None:
    """The record's db_id, or ALTCRAFT_DB_ID; placed first, as every page shows it."""
    if "db_id" in body or not default:
        if "db_id" not in body:
            errors.append("db_id: is required (or set ALTCRAFT_DB_ID)")
        return
    try:
        body["db_id"] = rules.whole(default)
    except ValueError as error:
        errors.append(f"db_id: ALTCRAFT_DB_ID {error}")


def matching_of(record: Record, body: dict[str, Any], modes: tuple[str, ...], errors: list[str]) -> str:
    """The record's matching mode: the one it names, or the one its keys belong to. A record whose keys belong to two
    modes, or to none, is refused: the request never finds more than the record says."""
    by_keys: dict[tuple[str, ...], str] = {}  # modes that share keys (email, email_profile) count once, the first
    for mode in modes:
        if any(record.get(name) not in (None, "") for name in rules.MATCHING_KEYS[mode]):
            by_keys.setdefault(rules.MATCHING_KEYS[mode], mode)
    keyed = list(by_keys.values())
    named = body.get("matching")
    if named is not None and named not in modes:
        errors.append(
            f"matching: {'unknown mode' if named not in rules.MATCHING_KEYS else named + ' is not a mode here'}"
            f" (use one of: {', '.join(modes)})"
        )
        return ""
    if named is None:
        if not keyed:
            errors.append("matching: no key to find the profile by (give " + _keys_of(modes) + ")")
            return ""
        if len(keyed) > 1:
            errors.append(f"matching: keys of several modes ({', '.join(keyed)}): give the keys of one")
            return ""
        named = keyed[0]
    others = [mode for mode in keyed if rules.MATCHING_KEYS[mode] != rules.MATCHING_KEYS[named]]
    if others:
        errors.append(f"matching: {named} is named, but the record also has keys of {', '.join(others)}")
    missing = [name for name in rules.MATCHING_KEYS[named] if record.get(name) in (None, "")]
    errors += [f"{name}: is required for matching {named}" for name in missing]
    return named


def _keys_of(modes: tuple[str, ...]) -> str:
    seen: dict[tuple[str, ...], None] = {}
    for mode in modes:
        seen.setdefault(rules.MATCHING_KEYS[mode], None)
    return ", or ".join(" and ".join(keys) for keys in seen)


def _preparer(
    checks: dict[str, Check], modes: tuple[str, ...] | None, problems: Callable[[dict[str, Any], str], list[str]]
) -> Callable[[Settings, float], Preparer]:
    """A method's preparer: each parameter checked, the database defaulted, the profile's matching inferred (`modes`;
    None: the method takes none), then the method's own rules between fields."""
    order = tuple(checks)

    def make(settings: Settings, now: float) -> Preparer:
        default_db = settings.altcraft_db_id

        def prepare(record: Record) -> Prepared:
            errors: list[str] = []
            body = _check(record, checks, errors)
            _db_id(body, default_db, errors)
            matching = matching_of(record, body, modes, errors) if modes is not None else ""
            errors += problems(body, matching)
            if errors:
                return None, errors
            if modes is not None:
                body["matching"] = matching
            return _ordered(body, order), []

        return prepare

    return make


def _ordered(body: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    return {name: body[name] for name in order if name in body}


# --- profiles/delete ------------------------------------------------------------------------------------------------
DELETE_MODES = ("email", "phone", "profile_id", "custom")  # the four the page lists
DELETE_CHECKS: dict[str, Check] = {
    "db_id": rules.whole,
    "matching": _text,
    **KEY_CHECKS,
    "resource_id": rules.whole,
}


def _delete_problems(body: dict[str, Any], matching: str) -> list[str]:
    if "resource_id" in body and matching not in ("email", "phone"):
        return ["resource_id: narrows e-mail and phone matching only"]
    return []


make_delete_preparer = _preparer(DELETE_CHECKS, DELETE_MODES, _delete_problems)


# --- subscriptions/set ----------------------------------------------------------------------------------------------
# channel → the fields that say which of the profile's subscriptions in the resource is meant
IDENTITY = {
    "email": ("email",),
    "sms": ("phone",),
    "push": ("provider", "subscription_id"),
    "telegram_bot": ("cc_data",),
    "whatsapp": ("cc_data",),
    "viber": ("cc_data",),
    "notify": ("cc_data",),
}
CC_DATA_KEY = {"telegram_bot": "id", "whatsapp": "phone", "viber": "phone", "notify": "phone"}
IDENTITY_FIELDS = ("email", "phone", "provider", "subscription_id", "cc_data")


def _status(value: Any) -> str | int:
    """A word or its number, sent as given (both are documented)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if value in rules.STATUSES or (type(value) is int and value in rules.STATUSES.values()):
        return value  # type: ignore[no-any-return]
    raise ValueError(f"must be one of {', '.join(rules.STATUSES)} (or 0 to 6)")


def _categories(value: Any) -> list[str]:
    value = rules.from_text(value) if isinstance(value, str) and value.lstrip().startswith("[") else value
    items = [item.strip() for item in value.split(";") if item.strip()] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) and item for item in items):
        raise ValueError("must be an array of category names (or names separated by ';')")
    return items


# the documented example's order (the subscription status page): its keys sorted, after the token
SUBSCRIPTION_CHECKS: dict[str, Check] = {
    "cats": _categories,
    "cc_data": rules.json_object,
    "channel": _text,
    "custom_fields": rules.json_object,
    "date": _rfc3339,
    "db_id": rules.whole,
    "email": _email,
    "ip": _text,
    "phone": _phone,
    "priority": _non_negative,
    "profile_id": _text,
    "provider": _text,
    "resource_id": rules.whole,
    "skip_triggers": _bool,
    "status": _status,
    "subscription_id": _text,
    "url": _text,
}


def _identity_problems(body: dict[str, Any]) -> list[str]:
    channel = body.get("channel")
    if channel is None:
        return ["channel: is required (email, sms, push, telegram_bot, whatsapp, viber or notify)"]
    if channel not in IDENTITY:
        return [f"channel: unknown channel (use one of: {', '.join(IDENTITY)})"]
    wanted = IDENTITY[channel]
    problems = [f"{name}: is required for channel {channel}" for name in wanted if name not in body]
    problems += [
        f"{name}: is not a field of channel {channel}"
        for name in IDENTITY_FIELDS
        if name in body and name not in wanted
    ]
    key = CC_DATA_KEY.get(channel)
    if key and "cc_data" in body and body["cc_data"].get(key) in (None, ""):
        problems.append(f"cc_data: must hold {key} for channel {channel}")
    return problems


def _subscription_problems(body: dict[str, Any], matching: str) -> list[str]:
    missing = [f"{name}: is required" for name in ("profile_id", "resource_id") if name not in body]
    return missing + _identity_problems(body)


make_subscription_preparer = _preparer(SUBSCRIPTION_CHECKS, None, _subscription_problems)


# --- goals/register -------------------------------------------------------------------------------------------------
GOAL_MODES = ("email", "email_profile", "phone", "profile_id", "custom")
MAX_GOAL_NAME = 128
GOAL_PUNCTUATION = frozenset("!#$%&*+-.,:;'=?@^_()[]/\\| \t")
MAX_PIXEL_DATA_BYTES = 1024


def _goal_name(value: Any) -> str:
    """Letters (Latin, Cyrillic), digits, spaces and tabs, currency signs and the listed punctuation; at most 128."""
    name = _text(value)
    if not name.strip() or len(name) > MAX_GOAL_NAME:
        raise ValueError(f"must be 1 to {MAX_GOAL_NAME} characters")
    for ch in name:
        latin_or_cyrillic = (ch.isascii() and ch.isalnum()) or "\u0400" <= ch <= "\u04ff"
        if not (latin_or_cyrillic or ch in GOAL_PUNCTUATION or unicodedata.category(ch) == "Sc"):
            raise ValueError(
                "holds a character a goal name may not (letters, digits, spaces and ! # $ % & * + - . , "
                ": ; ' = ? @ ^ _ ( ) [ ] / \\ | only)"
            )
    return name


def _goals(value: Any) -> list[dict[str, Any]]:
    items = rules.from_text(value)
    if not isinstance(items, list) or not items:
        raise ValueError('must be a JSON array of {"goal": name, "value": number}')
    goals = []
    for position, item in enumerate(items):
        if not isinstance(item, dict) or "goal" not in item or set(item) - {"goal", "value"}:
            raise ValueError(f'item {position} must be {{"goal": name, "value": number}} (value may be left out)')
        try:
            goal: dict[str, Any] = {"goal": _goal_name(item["goal"])}
            if "value" in item:
                goal["value"] = _number(item["value"])
        except ValueError as error:
            raise ValueError(f"item {position}: {error}") from None
        goals.append(goal)
    return goals


def _pixel_data(value: Any) -> dict[str, Any]:
    """A flat object (no nested object or array) of at most 1 KB, as compact UTF-8 JSON."""
    data = rules.json_object(value)
    if any(isinstance(item, dict | list) for item in data.values()):
        raise ValueError("must be flat: no object or array inside")
    if len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()) > MAX_PIXEL_DATA_BYTES:
        raise ValueError(f"is larger than {MAX_PIXEL_DATA_BYTES} bytes")
    return data


GOAL_CHECKS: dict[str, Check] = {
    "db_id": rules.whole,
    "pixel_id": rules.whole,
    "matching": _text,
    **KEY_CHECKS,
    "goal": _goal_name,
    "goals": _goals,
    "value": _number,
    "date": _rfc3339,
    "pixel_data": _pixel_data,
    "skip_triggers": _bool,
    "enrich_profile": _bool,
    "is_test": _bool,
    "vendor": _text,
    "referer": _text,
    "user_agent": _text,
    "accept_language": _text,
    "client_ip": _text,
}


def _goal_problems(body: dict[str, Any]) -> list[str]:
    problems = [] if "pixel_id" in body else ["pixel_id: is required (the pixel the goal belongs to)"]
    if "goal" not in body and "goals" not in body:
        problems.append("goal: one goal, or goals (several with their values), is required")
    if "goal" in body and "goals" in body:
        problems.append("goals: give goal or goals, not both")
    if "value" in body and "goal" not in body:
        problems.append("value: goes with goal (each of goals carries its own value)")
    return problems


make_goal_preparer = _preparer(GOAL_CHECKS, GOAL_MODES, lambda body, matching: _goal_problems(body))
