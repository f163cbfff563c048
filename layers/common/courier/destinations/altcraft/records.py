"""An Altcraft record → the request body without its token, validated: JSON records are the API's own body
({"matching", keys, options, "data"}); flat records (CSV rows, flat JSON) make every column a data field."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from courier.destinations.altcraft import rules
from courier.destinations.altcraft.methods import BOOL_OPTIONS, SEGMENT_OPTIONS, Method
from courier.destinations.values import as_bool, as_number, split_list
from courier.model import Prepared, Preparer, Record
from courier.settings import Settings


def record_fields(method: Method) -> frozenset[str]:
    """Every field a record of this method may carry: its body's parameters."""
    return frozenset(method.body)


def control_fields(method: Method) -> frozenset[str]:
    """A flat record's columns that are not data fields (email is both: a field and the matching key). db_id is
    never a data field, even for a method that takes none (then the record is refused for it)."""
    return frozenset({*method.body, "db_id"} - {"data", "email"})


def _ids(value: Any) -> list[int]:
    items = value if isinstance(value, list) else [v for v in str(value).split(";") if v.strip()]
    return [rules.whole(item) for item in items]


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


def _flat_data(record: Record, control: frozenset[str], errors: list[str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for column, value in record.items():
        if column in control or value is None or value == "":
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


def _check_data(data: dict[str, Any], method: Method, skip_invalid: bool, notes: list[str]) -> list[str]:
    """Problems with the data fields; normalises a bare phone to a list (where the method wants one) and leaves out
    invalid subscriptions when the record asks to skip them."""
    problems: list[str] = []
    for field, value in data.items():
        if field == "subscriptions":
            continue
        if field == "phones" and isinstance(value, str) and method.phones_list:
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
            sub_problems = rules.subscription_problems(position, sub, method)
            if not sub_problems:
                kept.append(sub)
            elif skip_invalid:  # as the API would: left out, and said so
                notes.append(f"data.subscriptions[{position}]: an invalid subscription was left out")
            else:
                problems += sub_problems
        data["subscriptions"] = kept
    return problems


def make_altcraft_preparer(method: Method) -> Callable[[Settings, float], Preparer]:
    control = control_fields(method)
    options: list[tuple[str, Callable[[Any], Any]]] = [
        (name, convert)
        for name, convert in (
            ("resource_id", rules.whole),
            *((o, as_bool) for o in BOOL_OPTIONS),
            *((o, _ids) for o in SEGMENT_OPTIONS),
        )
        if method.takes(name)
    ]
    launches = method.launch

    def make(settings: Settings, now: float) -> Preparer:
        default_db = settings.altcraft_db_id
        default_matching = settings.altcraft_matching

        def prepare(record: Record) -> Prepared:
            errors: list[str] = []
            notes: list[str] = []
            given = record.get("data")
            if given is not None and not isinstance(given, dict):
                return None, ["data: must be an object of profile fields"]
            data = dict(given) if isinstance(given, dict) else _flat_data(record, control, errors)
            body: dict[str, Any] = {}
            if method.takes("db_id"):
                try:
                    body["db_id"] = rules.whole(record.get("db_id") or default_db)
                except ValueError as error:
                    errors.append(
                        f"db_id: {error} (or set ALTCRAFT_DB_ID)"
                        if default_db or record.get("db_id")
                        else "db_id: is required (or set ALTCRAFT_DB_ID)"
                    )
            elif record.get("db_id") not in (None, ""):  # inference: refused rather than ignored, so nobody
                # believes a profile went to a database it did not go to (docs/contracts/altcraft.md#trigger-launch: the
                # trigger's own database)
                errors.append(f"db_id: {method.name} imports into the trigger's own database: leave db_id out")
            if launches:
                launch, problems = rules.launch_problems(
                    {n: record[n] for n in launches if record.get(n) not in (None, "")}, launches[0]
                )
                body.update(launch)
                errors += problems
            if method.matches:
                _match(record, method, default_matching, data, body, errors)
            for name, convert in options:
                if record.get(name) not in (None, ""):
                    try:
                        body[name] = convert(record[name])
                    except ValueError as error:
                        errors.append(f"{name}: {error}")
            errors += _check_data(data, method, bool(body.get("skip_invalid_subscriptions")), notes)
            if not data and method.creates and method.needs_data:
                errors.append("data: is required (the profile's fields)")
            if errors:
                return None, errors + notes
            body["data"] = data
            return {name: body[name] for name in method.body if name in body}, notes

        return prepare

    return make


def _match(
    record: Record, method: Method, default: str, data: dict[str, Any], body: dict[str, Any], errors: list[str]
) -> None:
    """The matching mode and its keys into the body: the record's, or ALTCRAFT_MATCHING's with keys taken from the
    profile's own fields."""
    keys = {name: record[name] for name in rules.KEY_FIELDS if record.get(name) not in (None, "")}
    by_id = method.by_profile_id and "profile_id" in keys and "email" not in keys
    matching = str(record.get("matching") or ("profile_id" if by_id else default))
    _derive_keys(matching, keys, data)
    errors += rules.key_problems(matching, keys, method, default=not (record.get("matching") or by_id))
    body["matching"] = matching
    body.update({name: keys[name] for name in rules.MATCHING_KEYS.get(matching, ()) if name in keys})


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
