"""Altcraft's rules for a request (docs/contracts/altcraft.md#import-update, docs/contracts/altcraft.md#trigger-launch):
matching modes
and their keys, standard fields, subscriptions per channel, update functions, a trigger campaign's launch. Each check
returns reasons that never quote a value (values may be personal data)."""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Protocol

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, field_validator

from courier.destinations.values import MAX_DEPTH, MAX_TEXT_CHARS, parse_json, too_deep
from courier.sources.records import INT64_MAX


class MethodRules(Protocol):
    """What the checks read of an API method (methods.Method has it), so that rules need not import methods."""

    @property
    def name(self) -> str: ...

    @property
    def matching_modes(self) -> tuple[str, ...]: ...

    @property
    def by_profile_id(self) -> bool: ...

    @property
    def unchanged_status(self) -> bool: ...

    @property
    def email_channel_implied(self) -> bool: ...


# matching mode → the request keys it needs (docs/contracts/altcraft.md#matching); email_phone* need at least one of the
# two
MATCHING_KEYS: dict[str, tuple[str, ...]] = {
    "email": ("email",),
    "email_profile": ("email",),
    "email_sub": ("email",),
    "phone": ("phone",),
    "phone_sub": ("phone",),
    "profile_id": ("profile_id",),
    "push_sub": ("provider", "subscription_id"),
    "custom": ("field_name", "field_value"),
    "custom_sub": ("field_name", "field_value"),
    "email_phone": ("email", "phone"),
    "email_phone_sub": ("email", "phone"),
}
EITHER_KEY = frozenset({"email_phone", "email_phone_sub"})
KEY_FIELDS = ("email", "phone", "profile_id", "field_name", "field_value", "provider", "subscription_id")

ACTIONS = frozenset({"set", "unset", "incr", "add", "delete", "upsert"})
NOT_IDEMPOTENT = frozenset({"incr", "add", "delete"})  # applying twice changes the profile twice
CHANNELS = frozenset({"email", "sms", "push", "telegram_bot", "whatsapp", "viber", "notify"})
CC_DATA_CHANNELS = frozenset({"telegram_bot", "whatsapp", "viber", "notify"})
STATUSES = {
    "subscribed": 0,
    "unsubscribed": 1,
    "complained": 2,
    "hardbounced": 3,
    "unconfirmed": 4,
    "suspended": 5,
    "invalid": 6,
}
TEXT_FIELDS = frozenset(
    {
        "_fname",
        "_lname",
        "_regip",
        "_ip",
        "_regcity",
        "_city",
        "_regcountry",
        "_country",
        "_regurl",
        "_region",
        "_tz",
        "_vendor",
        "_browser",
        "_os",
    }
)
DATE_FIELDS = frozenset({"_bdate", "_regdate"})
TEXT_OR_NUMBER_FIELDS = frozenset({"_sex", "_postal_code"})
READ_ONLY_FIELDS = frozenset(
    {
        "id",
        "db_id",
        "_acid",
        "_createtime",
        "_md5",
        "_emaildomain",
        "_domaingroup",
        "_xxh",
        "_xxm",
        "_lat",
        "_lon",
        "_is_test",
        "_is_desktop",
        "_confirm_exist",
    }
)
READ_ONLY_PREFIXES = ("_deliv_", "_open_", "_click_")
EMAIL = re.compile(r"[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+")  # one address: Altcraft reads "a@x.ru;b@y.ru" as one
# Several addresses in one value (docs/contracts/altcraft.md#trigger-launch, a community client): nothing would be sent
# to any of them.
SEVERAL_ADDRESSES = "holds several addresses (Altcraft reads a joined list as one address): send one record each"
PHONE = re.compile(r"\+?[0-9][0-9 ()\-]{5,20}")


def is_email(value: Any) -> bool:
    return isinstance(value, str) and EMAIL.fullmatch(value.strip()) is not None


def holds_several_addresses(value: Any) -> bool:
    """Two or more '@' and a ';' or ',' (checked without a regex: no backtracking on long text)."""
    return isinstance(value, str) and value.count("@") > 1 and (";" in value or "," in value)


def email_problem(where: str, value: Any) -> str | None:
    """The reason an e-mail value is refused, or None."""
    if is_email(value):
        return None
    if holds_several_addresses(value):
        return f"{where}: {SEVERAL_ADDRESSES}"
    return f"{where}: is not an e-mail address"


def is_phone(value: Any) -> bool:
    return isinstance(value, str) and PHONE.fullmatch(value.strip()) is not None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_text_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def key_problems(matching: str, keys: dict[str, Any], method: MethodRules, default: bool = False) -> list[str]:
    """What is wrong with the matching mode and its key values (`default`: the mode is ALTCRAFT_MATCHING's)."""
    if problem := _mode_problem(matching, method, default):
        return [problem]
    needed = MATCHING_KEYS[matching]
    present = [name for name in needed if keys.get(name) not in (None, "")]
    if matching in EITHER_KEY:
        if not present:
            return [f"matching: {matching} needs email or phone"]
    elif len(present) < len(needed):
        return [f"{name}: is required for matching {matching}" for name in needed if name not in present]
    return [problem for name in present if (problem := _KEY_CHECKS[name](keys[name]))]


def _mode_problem(matching: str, method: MethodRules, default: bool) -> str | None:
    known = matching in MATCHING_KEYS
    if known and matching in method.matching_modes:
        if matching == "profile_id" and not method.by_profile_id:
            return "matching: profile_id works with profile update only (an import cannot create a profile by id)"
        return None
    modes = ", ".join(method.matching_modes)
    if known and default:
        return f"matching: ALTCRAFT_MATCHING's mode {matching} is not one of {method.name}'s ({modes}): set one"
    if known:
        return f"matching: {matching} is not a mode of {method.name} (use one of: {modes})"
    return f"matching: unknown mode (use one of: {modes})"


def _text_key(name: str) -> Callable[[Any], str | None]:
    return lambda value: None if isinstance(value, str) else f"{name}: must be text"


# a present key's value → the reason it is refused, or None
_KEY_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "email": lambda value: email_problem("email", value),
    "phone": lambda value: (
        None if is_phone(value) else "phone: is not a phone number (digits, optionally with a leading +)"
    ),
    **{name: _text_key(name) for name in ("profile_id", "field_name", "provider", "subscription_id")},
    "field_value": lambda value: (
        None if isinstance(value, str) or _is_number(value) else "field_value: must be text or a number"
    ),
}


def function_problems(field: str, spec: dict[str, Any]) -> list[str]:
    """An update function {"action", "value", "submatch"} checked against the spec's rules
    (docs/contracts/altcraft.md#update-functions)."""
    action = spec.get("action")
    extra = set(spec) - {"action", "value", "submatch"}
    if action not in ACTIONS:
        return [f"data.{field}: unknown action (use one of: {', '.join(sorted(ACTIONS))})"]
    if extra:
        return [f"data.{field}: an update function takes action, value and submatch only"]
    value = spec.get("value")
    if action == "unset":
        return [f"data.{field}: unset is not allowed on email"] if field == "email" else []
    if "value" not in spec:
        return [f"data.{field}: {action} needs a value"]
    if action == "incr" and not _is_number(value):
        return [f"data.{field}: incr needs a number (a negative one decrements)"]
    if action in ("add", "delete") and not _is_text_list(value):
        return [f"data.{field}: {action} needs an array of strings"]
    if action == "upsert" and not (isinstance(spec.get("submatch"), str) and spec["submatch"]):
        return [f"data.{field}: upsert needs submatch (the property to match on)"]
    if action == "set" and field == "email" and (problem := email_problem("data.email", value)):
        return [problem]
    return []


def _date_ok(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def field_problems(field: str, value: Any) -> list[str]:
    """A plain `data` value checked against the standard field's type (a bare phone number is one phone)."""
    for check in _FIELD_CHECKS:
        if problem := check(field, value):
            return [problem]
    return []


def _read_only(field: str, value: Any) -> str | None:
    if field in READ_ONLY_FIELDS or field.startswith(READ_ONLY_PREFIXES):
        return f"data.{field}: is set by Altcraft and cannot be written"
    return None


def _null(field: str, value: Any) -> str | None:
    return f'data.{field}: null is not a value (use {{"action": "unset"}} to remove a field)' if value is None else None


def _size(field: str, value: Any) -> str | None:
    if isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
        return f"data.{field}: is longer than {MAX_TEXT_CHARS} characters"
    return f"data.{field}: is nested more than {MAX_DEPTH} levels" if too_deep(value) else None


def _email_field(field: str, value: Any) -> str | None:
    return email_problem("data.email", value) if field == "email" else None


def _phones(field: str, value: Any) -> str | None:
    if field != "phones" or is_phone(value) or (_is_text_list(value) and all(is_phone(p) for p in value)):
        return None
    return "data.phones: must be an array of phone numbers"


def _typed(fields: frozenset[str], ok: Callable[[Any], bool], what: str) -> Callable[[str, Any], str | None]:
    return lambda field, value: f"data.{field}: {what}" if field in fields and not ok(value) else None


# in order: the first problem found is the one said
_FIELD_CHECKS: tuple[Callable[[str, Any], str | None], ...] = (
    _read_only,
    _null,
    _size,
    _email_field,
    _phones,
    _typed(TEXT_FIELDS, lambda value: isinstance(value, str), "must be text"),
    _typed(DATE_FIELDS, _date_ok, "must be a date such as 1990-02-22 or 1990-02-22T21:00:00Z"),
    _typed(
        TEXT_OR_NUMBER_FIELDS, lambda value: isinstance(value, str) or _is_number(value), "must be text or a number"
    ),
    _typed(
        frozenset({"_status"}),
        lambda value: isinstance(value, int) and not isinstance(value, bool),
        "must be a whole number",
    ),
)


def subscription_problems(position: int, sub: Any, method: MethodRules) -> list[str]:
    """One element of data.subscriptions checked per channel (docs/contracts/altcraft.md#subscriptions)."""
    where = f"data.subscriptions[{position}]"
    if not isinstance(sub, dict):
        return [f"{where}: must be an object"]
    channel = sub.get("channel")
    if channel is None and method.email_channel_implied and "email" in sub:
        channel = "email"  # the scenario page's own example leaves channel out beside an e-mail (sent as given)
    if channel not in CHANNELS:
        return [f"{where}.channel: must be one of: {', '.join(sorted(CHANNELS))}"]
    needs = _CHANNEL_NEEDS[channel](channel, sub)
    problems = [f"{where}{needs}"] if needs else []
    lowest = -1 if method.unchanged_status else 0  # -1 leaves the status as it is (methods.py)
    for name, ok, what in _SUBSCRIPTION_FIELDS:
        if name in sub and not ok(sub[name], lowest):
            problems.append(f"{where}.{name}: " + what.format(statuses=", ".join(STATUSES), lowest=lowest))
    return problems


def _email_subscription(channel: str, sub: dict[str, Any]) -> str | None:
    email_data = sub.get("email_data")
    email = sub.get("email") or (email_data.get("email") if isinstance(email_data, dict) else None)
    if holds_several_addresses(email):
        return f".email: {SEVERAL_ADDRESSES}"
    return None if is_email(email) else ": an email subscription needs email"


def _cc_data(channel: str, sub: dict[str, Any]) -> str | None:
    return (
        None if isinstance(sub.get("cc_data"), dict) and sub["cc_data"] else f": a {channel} subscription needs cc_data"
    )


# a channel → what its subscription lacks (said after the subscription's place), or None
_CHANNEL_NEEDS: dict[str, Callable[[str, dict[str, Any]], str | None]] = {
    "email": _email_subscription,
    "sms": lambda channel, sub: None if is_phone(sub.get("phone")) else ": an sms subscription needs phone",
    "push": lambda channel, sub: (
        None
        if isinstance(sub.get("provider"), str) and isinstance(sub.get("subscription_id"), str)
        else ": a push subscription needs provider and subscription_id"
    ),
    **dict.fromkeys(CC_DATA_CHANNELS, _cc_data),
}


def _status_ok(status: Any, lowest: int) -> bool:
    return status in STATUSES or (isinstance(status, int) and not isinstance(status, bool) and lowest <= status <= 6)


# a subscription's optional field → its check (given the lowest numeric status) and what it must be
_SUBSCRIPTION_FIELDS: tuple[tuple[str, Callable[[Any, int], bool], str], ...] = (
    ("resource_id", lambda value, _: isinstance(value, int) and value > 0, "must be a positive whole number"),
    ("status", _status_ok, "must be one of {statuses} or {lowest} to 6"),
    ("priority", lambda value, _: isinstance(value, int) and not isinstance(value, bool), "must be a whole number"),
    ("custom_fields", lambda value, _: isinstance(value, dict), "must be an object"),
    ("cats", lambda value, _: _is_text_list(value), "must be an array of strings"),
)


def is_function(value: Any) -> bool:
    return isinstance(value, dict) and "action" in value


def uses_non_idempotent(data: dict[str, Any]) -> bool:
    return any(is_function(value) and value.get("action") in NOT_IDEMPOTENT for value in data.values())


# --- a trigger campaign's launch (docs/contracts/altcraft.md#trigger-launch) ----------------------------------------
# pydantic models, their errors said without values


def whole(value: Any) -> int:
    """A positive whole number, from JSON or from a CSV cell's text."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdigit() and value.strip().isascii() and len(value.strip()) < 20:
        number = int(value.strip())
    else:
        raise ValueError("must be a whole number")
    if number <= 0:
        raise ValueError("must be a positive whole number")
    if number > INT64_MAX:
        raise ValueError(f"must be at most {INT64_MAX}")
    return number


def from_text(value: Any) -> Any:
    """A CSV cell holds JSON as text; JSON records give the value itself."""
    if not isinstance(value, str):
        return value
    try:
        return parse_json(value)
    except (ValueError, RecursionError):
        raise ValueError("is not valid JSON") from None


def json_object(value: Any) -> dict[str, Any]:
    value = from_text(value)
    if not isinstance(value, dict):
        raise ValueError("must be a JSON object")
    if too_deep(value):
        raise ValueError(f"is nested more than {MAX_DEPTH} levels")
    return value


def _attachments(value: Any) -> Any:
    value = from_text(value)
    # inference: the page's example is one bare object (docs/contracts/altcraft.md#trigger-launch)
    return [value] if isinstance(value, dict) else value


DATA_URI = re.compile(r"data:[\w.+-]+/[\w.+-]+(?:;[\w.+-]+=[\w.+-]+)*;base64,([A-Za-z0-9+/=\s]*)", re.ASCII)


class Timeout(BaseModel):
    """How long after the import the trigger starts; missing parts are 0 (inference: the page shows all three)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    days: int = 0
    hours: int = 0
    minutes: int = 0

    @field_validator("days", "hours", "minutes")
    @classmethod
    def _not_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("must not be negative")
        return value


class Attachment(BaseModel):
    """A file for the message: `data` is a data: URI holding base64 (`data:text/csv;base64,SEVMTE8K`)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    data: str
    name: str
    # inference: the scenario page's attach items carry these two as well (docs/contracts/altcraft.md#trigger-launch)
    file_key: str | None = None
    mimetype: str | None = None

    @field_validator("data")
    @classmethod
    def _data_uri(cls, value: str) -> str:
        found = DATA_URI.fullmatch(value)
        try:
            if found is None:
                raise ValueError
            binascii.a2b_base64("".join(found.group(1).split()), strict_mode=True)
        except (ValueError, binascii.Error):
            raise ValueError("must be a data: URI with base64 content, such as data:text/csv;base64,SEVMTE8K") from None
        return value

    @field_validator("name")
    @classmethod
    def _named(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value


class _Launch(BaseModel):
    """What starts a campaign or a scenario for the profile, in the body's order; parameters the record does not
    give are left out."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def parameters(self) -> dict[str, Any]:
        """The body's launch parameters (JSON values)."""
        given: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, BaseModel):
                value = value.model_dump()
            elif name == "attach":
                value = [item.model_dump(exclude_none=True) for item in value]
            given[name] = value
        return given


class Launch(_Launch):
    """A trigger campaign's launch (campaigns/triggers/import_and_start)."""

    trigger_id: Annotated[int, BeforeValidator(whole)]
    timeout: Annotated[Timeout | None, BeforeValidator(from_text)] = None
    custom_data: Annotated[dict[str, Any] | None, BeforeValidator(json_object)] = None
    content: Annotated[dict[str, Any] | None, BeforeValidator(json_object)] = None
    attach: Annotated[list[Attachment] | None, BeforeValidator(_attachments)] = None


class WorkflowLaunch(_Launch):
    """A scenario's start (workflows/import_and_start): no timeout on its page (docs/contracts/altcraft.md)."""

    workflow_id: Annotated[int, BeforeValidator(whole)]
    content: Annotated[dict[str, Any] | None, BeforeValidator(json_object)] = None
    custom_data: Annotated[dict[str, Any] | None, BeforeValidator(json_object)] = None
    attach: Annotated[list[Attachment] | None, BeforeValidator(_attachments)] = None


LAUNCHES: dict[str, type[_Launch]] = {"trigger_id": Launch, "workflow_id": WorkflowLaunch}  # by the id they start


# pydantic's error types → the rule, said without the value (an error's `msg` is not used: it is pydantic's text)
RULES = {
    "missing": "is required",
    "extra_forbidden": "is not a parameter here",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "string_type": "must be text",
    "dict_type": "must be a JSON object",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "list_type": "must be a JSON array",
}


def pydantic_problems(error: ValidationError) -> list[str]:
    """Each error as `where: rule` (`attach[0].data: must be …`): the field and the rule, never the value."""
    problems = []
    for detail in error.errors(include_url=False, include_context=True, include_input=False):
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in detail["loc"]).lstrip(".")
        if detail["type"] == "value_error":
            rule = str(detail.get("ctx", {}).get("error", "is not valid"))  # our own ValueError texts
        else:
            rule = RULES.get(detail["type"], f"is not valid ({detail['type']})")
        problems.append(f"{where}: {rule}")
    return problems


def launch_problems(given: dict[str, Any], starts: str = "trigger_id") -> tuple[dict[str, Any], list[str]]:
    """A record's launch parameters checked: (the body's launch parameters, or {} when refused; the reasons).
    `starts` names what the launch starts (trigger_id, workflow_id)."""
    try:
        return LAUNCHES[starts].model_validate(given).parameters(), []
    except ValidationError as error:
        return {}, pydantic_problems(error)
