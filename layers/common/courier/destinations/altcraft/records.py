"""An Altcraft record → the request body without its token, validated: JSON records are the API's own body
({"matching", keys, options, "data"}); flat records (CSV rows, flat JSON) make every column a data field."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from courier.destinations.altcraft import rules
from courier.destinations.values import as_bool, as_number, split_list
from courier.model import Prepared, Preparer, Record
from courier.settings import Settings

BOOL_OPTIONS = ("skip_triggers", "skip_invalid_subscriptions", "detect_geo")
SEGMENT_OPTIONS = ("add_to_segments", "remove_from_segments")
CONTROL_FIELDS = frozenset(
    {"db_id", "matching", "resource_id", *rules.KEY_FIELDS, *BOOL_OPTIONS, *SEGMENT_OPTIONS} - {"email"}
)  # in a flat record every other column is a data field (email is both: a field and the matching key)
RECORD_FIELDS = frozenset(
    {"db_id", "matching", "resource_id", "data", *rules.KEY_FIELDS, *BOOL_OPTIONS, *SEGMENT_OPTIONS}
)


def _whole(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("must be a whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        raise ValueError("must be a whole number")
    if number <= 0:
        raise ValueError("must be a positive whole number")
    return number


def _ids(value: Any) -> list[int]:
    items = value if isinstance(value, list) else [v for v in str(value).split(";") if v.strip()]
    return [_whole(item) for item in items]


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("is not valid JSON") from None


# CSV header suffixes: `name:type`. Plain columns are text, except phones (';'-separated) and subscriptions (JSON).
COLUMN_TYPES: dict[str, Callable[[str], Any]] = {
    "string": lambda text: text,
    "number": as_number,
    "bool": as_bool,
    "tags": split_list,
    "json": _json,
    "incr": lambda text: {"action": "incr", "value": as_number(text)},
    "add": lambda text: {"action": "add", "value": split_list(text)},
    "delete": lambda text: {"action": "delete", "value": split_list(text)},
    "unset": lambda text: {"action": "unset"},
}
DEFAULT_COLUMNS: dict[str, Callable[[str], Any]] = {"phones": split_list, "subscriptions": _json}


def _flat_data(record: Record, errors: list[str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for column, value in record.items():
        if column in CONTROL_FIELDS or value is None or value == "":
            continue
        name, _, kind = column.partition(":")
        if not isinstance(value, str):  # flat JSON keeps its own types
            data[name] = value
            continue
        convert = COLUMN_TYPES.get(kind) if kind else DEFAULT_COLUMNS.get(name, COLUMN_TYPES["string"])
        if convert is None:
            errors.append(f"{column}: unknown type '{kind}' (use {', '.join(COLUMN_TYPES)})")
            continue
        try:
            data[name] = convert(value)
        except ValueError as error:
            errors.append(f"{column}: {error}")
    return data


def _check_data(data: dict[str, Any], update: bool, skip_invalid: bool, notes: list[str]) -> list[str]:
    """Problems with the data fields; normalises a bare phone to a list and leaves out invalid subscriptions
    when the record asks to skip them."""
    problems: list[str] = []
    for field, value in data.items():
        if field == "subscriptions":
            continue
        if field == "phones" and isinstance(value, str):
            data["phones"] = value = [value]  # a bare number is accepted as a one-item list
        problems += (
            rules.function_problems(field, value) if rules.is_function(value) else rules.field_problems(field, value)
        )
    subscriptions = data.get("subscriptions")
    if subscriptions is not None:
        if not isinstance(subscriptions, list):
            return [*problems, "data.subscriptions: must be an array"]
        kept = []
        for position, sub in enumerate(subscriptions):
            sub_problems = rules.subscription_problems(position, sub, update)
            if not sub_problems:
                kept.append(sub)
            elif skip_invalid:  # as the API would: left out, and said so
                notes.append(f"data.subscriptions[{position}]: an invalid subscription was left out")
            else:
                problems += sub_problems
        data["subscriptions"] = kept
    return problems


def make_altcraft_preparer(update: bool) -> Callable[[Settings, float], Preparer]:
    def make(settings: Settings, now: float) -> Preparer:
        default_db = settings.altcraft_db_id
        default_matching = settings.altcraft_matching

        def prepare(record: Record) -> Prepared:
            errors: list[str] = []
            notes: list[str] = []
            given = record.get("data")
            if given is not None and not isinstance(given, dict):
                return None, ["data: must be an object of profile fields"]
            data = dict(given) if isinstance(given, dict) else _flat_data(record, errors)
            body: dict[str, Any] = {}
            try:
                body["db_id"] = _whole(record.get("db_id") or default_db)
            except ValueError as error:
                errors.append(
                    f"db_id: {error} (or set ALTCRAFT_DB_ID)"
                    if default_db or record.get("db_id")
                    else "db_id: is required (or set ALTCRAFT_DB_ID)"
                )
            keys = {name: record[name] for name in rules.KEY_FIELDS if record.get(name) not in (None, "")}
            inferred = "profile_id" if update and "profile_id" in keys and "email" not in keys else default_matching
            matching = str(record.get("matching") or inferred)
            _derive_keys(matching, keys, data)
            errors += rules.key_problems(matching, keys, update)
            body["matching"] = matching
            body.update({name: keys[name] for name in rules.MATCHING_KEYS.get(matching, ()) if name in keys})
            for name, convert in (
                ("resource_id", _whole),
                *((o, as_bool) for o in BOOL_OPTIONS),
                *((o, _ids) for o in SEGMENT_OPTIONS),
            ):
                if record.get(name) not in (None, ""):
                    try:
                        body[name] = convert(record[name])
                    except ValueError as error:
                        errors.append(f"{name}: {error}")
            errors += _check_data(data, update, bool(body.get("skip_invalid_subscriptions")), notes)
            if not data and not update:
                errors.append("data: is required (the profile's fields)")
            if errors:
                return None, errors + notes
            body["data"] = data
            return body, notes

        return prepare

    return make


def _derive_keys(matching: str, keys: dict[str, Any], data: dict[str, Any]) -> None:
    """Key values a record does not give at the top level come from its own fields (CSV rows, batch items)."""
    wanted = rules.MATCHING_KEYS.get(matching, ())
    if "email" in wanted and "email" not in keys and isinstance(data.get("email"), str):
        keys["email"] = data["email"]
    phones = data.get("phones")
    if "phone" in wanted and "phone" not in keys and phones:
        keys["phone"] = phones[0] if isinstance(phones, list) else phones
    field_name = keys.get("field_name")
    if "field_value" in wanted and "field_value" not in keys and isinstance(field_name, str) and field_name in data:
        value = data[field_name]
        if not rules.is_function(value):
            keys["field_value"] = value
