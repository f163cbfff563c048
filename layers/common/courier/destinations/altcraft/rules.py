"""Altcraft's rules for a request (../shared/specs/altcraft-api.md §3–8, new-endpoints.md §B.2–B.5): matching modes
and their keys, standard fields, subscriptions per channel, update functions, a trigger campaign's launch. Each check
returns reasons that never quote a value (values may be personal data)."""

from __future__ import annotations

import binascii
import re
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, field_validator

from courier.destinations.values import MAX_DEPTH, MAX_TEXT_CHARS, parse_json, too_deep
from courier.sources.records import INT64_MAX

if TYPE_CHECKING:
    from courier.destinations.altcraft.methods import Method

# matching mode → the request keys it needs (§4); email_phone* need at least one of the two
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
# Several addresses in one value (new-endpoints §B.2, [C-ALFA]): nothing would be sent to any of them.
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


def key_problems(matching: str, keys: dict[str, Any], method: Method, default: bool = False) -> list[str]:
    """What is wrong with the matching mode and its key values (`default`: the mode is ALTCRAFT_MATCHING's)."""
    needed = MATCHING_KEYS.get(matching)
    if needed is None or matching not in method.matching_modes:
        modes = ", ".join(method.matching_modes)
        if needed is not None and default:
            return [f"matching: ALTCRAFT_MATCHING's mode {matching} is not one of {method.name}'s ({modes}): set one"]
        if needed is not None:
            return [f"matching: {matching} is not a mode of {method.name} (use one of: {modes})"]
        return [f"matching: unknown mode (use one of: {modes})"]
    if matching == "profile_id" and not method.by_profile_id:
        return ["matching: profile_id works with profile update only (an import cannot create a profile by id)"]
    present = [name for name in needed if keys.get(name) not in (None, "")]
    if matching in EITHER_KEY:
        if not present:
            return [f"matching: {matching} needs email or phone"]
    elif len(present) < len(needed):
        missing = [name for name in needed if name not in present]
        return [f"{name}: is required for matching {matching}" for name in missing]
    problems = []
    if "email" in present and (problem := email_problem("email", keys["email"])):
        problems.append(problem)
    if "phone" in present and not is_phone(keys["phone"]):
        problems.append("phone: is not a phone number (digits, optionally with a leading +)")
    for name in ("profile_id", "field_name", "provider", "subscription_id"):
        if name in present and not isinstance(keys[name], str):
            problems.append(f"{name}: must be text")
    if "field_value" in present and not (isinstance(keys["field_value"], str) or _is_number(keys["field_value"])):
        problems.append("field_value: must be text or a number")
    return problems


def function_problems(field: str, spec: dict[str, Any]) -> list[str]:
    """An update function {"action", "value", "submatch"} checked against the spec's rules (§6)."""
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
    if field in READ_ONLY_FIELDS or field.startswith(READ_ONLY_PREFIXES):
        return [f"data.{field}: is set by Altcraft and cannot be written"]
    if value is None:
        return [f'data.{field}: null is not a value (use {{"action": "unset"}} to remove a field)']
    if isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
        return [f"data.{field}: is longer than {MAX_TEXT_CHARS} characters"]
    if too_deep(value):
        return [f"data.{field}: is nested more than {MAX_DEPTH} levels"]
    if field == "email" and (problem := email_problem("data.email", value)):
        return [problem]
    if field == "phones" and not (is_phone(value) or (_is_text_list(value) and all(is_phone(p) for p in value))):
        return ["data.phones: must be an array of phone numbers"]
    if field in TEXT_FIELDS and not isinstance(value, str):
        return [f"data.{field}: must be text"]
    if field in DATE_FIELDS and not _date_ok(value):
        return [f"data.{field}: must be a date such as 1990-02-22 or 1990-02-22T21:00:00Z"]
    if field in TEXT_OR_NUMBER_FIELDS and not (isinstance(value, str) or _is_number(value)):
        return [f"data.{field}: must be text or a number"]
    if field == "_status" and not (isinstance(value, int) and not isinstance(value, bool)):
        return ["data._status: must be a whole number"]
    return []


def subscription_problems(position: int, sub: Any, method: Method) -> list[str]:
    """One element of data.subscriptions checked per channel (§7)."""
    where = f"data.subscriptions[{position}]"
    if not isinstance(sub, dict):
        return [f"{where}: must be an object"]
    channel = sub.get("channel")
    if channel not in CHANNELS:
        return [f"{where}.channel: must be one of: {', '.join(sorted(CHANNELS))}"]
    problems = []
    email_data = sub.get("email_data")
    email = sub.get("email") or (email_data.get("email") if isinstance(email_data, dict) else None)
    if channel == "email" and holds_several_addresses(email):
        problems.append(f"{where}.email: {SEVERAL_ADDRESSES}")
    elif channel == "email" and not is_email(email):
        problems.append(f"{where}: an email subscription needs email")
    if channel == "sms" and not is_phone(sub.get("phone")):
        problems.append(f"{where}: an sms subscription needs phone")
    if channel == "push" and not (isinstance(sub.get("provider"), str) and isinstance(sub.get("subscription_id"), str)):
        problems.append(f"{where}: a push subscription needs provider and subscription_id")
    if channel in CC_DATA_CHANNELS and not (isinstance(sub.get("cc_data"), dict) and sub["cc_data"]):
        problems.append(f"{where}: a {channel} subscription needs cc_data")
    if "resource_id" in sub and not (isinstance(sub["resource_id"], int) and sub["resource_id"] > 0):
        problems.append(f"{where}.resource_id: must be a positive whole number")
    if "status" in sub:
        status = sub["status"]
        lowest = -1 if method.unchanged_status else 0  # -1 leaves the status as it is (methods.py)
        numeric = isinstance(status, int) and not isinstance(status, bool) and lowest <= status <= 6
        if not (status in STATUSES or numeric):
            problems.append(f"{where}.status: must be one of {', '.join(STATUSES)} or {lowest} to 6")
    if "priority" in sub and not (isinstance(sub["priority"], int) and not isinstance(sub["priority"], bool)):
        problems.append(f"{where}.priority: must be a whole number")
    if "custom_fields" in sub and not isinstance(sub["custom_fields"], dict):
        problems.append(f"{where}.custom_fields: must be an object")
    if "cats" in sub and not _is_text_list(sub["cats"]):
        problems.append(f"{where}.cats: must be an array of strings")
    return problems


def is_function(value: Any) -> bool:
    return isinstance(value, dict) and "action" in value


def uses_non_idempotent(data: dict[str, Any]) -> bool:
    return any(is_function(value) and value.get("action") in NOT_IDEMPOTENT for value in data.values())


# --- a trigger campaign's launch (new-endpoints §B.2): pydantic models, their errors said without values ----------


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


def _from_text(value: Any) -> Any:
    """A CSV cell holds JSON as text; JSON records give the value itself."""
    if not isinstance(value, str):
        return value
    try:
        return parse_json(value)
    except (ValueError, RecursionError):
        raise ValueError("is not valid JSON") from None


def _json_object(value: Any) -> dict[str, Any]:
    value = _from_text(value)
    if not isinstance(value, dict):
        raise ValueError("must be a JSON object")
    if too_deep(value):
        raise ValueError(f"is nested more than {MAX_DEPTH} levels")
    return value


def _attachments(value: Any) -> Any:
    value = _from_text(value)
    return [value] if isinstance(value, dict) else value  # inference: the page's example is one bare object (§B.2)


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
    file_key: str | None = None  # inference: the scenario page's attach items carry these two as well (§B.6)
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


class Launch(BaseModel):
    """The launch part of an import_and_start body, in the body's order; `timeout`, `custom_data`, `content` and
    `attach` are left out when the record does not give them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trigger_id: Annotated[int, BeforeValidator(whole)]
    timeout: Annotated[Timeout | None, BeforeValidator(_from_text)] = None
    custom_data: Annotated[dict[str, Any] | None, BeforeValidator(_json_object)] = None
    content: Annotated[dict[str, Any] | None, BeforeValidator(_json_object)] = None
    attach: Annotated[list[Attachment] | None, BeforeValidator(_attachments)] = None

    def parameters(self) -> dict[str, Any]:
        """The body's launch parameters (JSON values)."""
        given: dict[str, Any] = {"trigger_id": self.trigger_id}
        if self.timeout is not None:
            given["timeout"] = self.timeout.model_dump()
        if self.custom_data is not None:
            given["custom_data"] = self.custom_data
        if self.content is not None:
            given["content"] = self.content
        if self.attach is not None:
            given["attach"] = [item.model_dump(exclude_none=True) for item in self.attach]
        return given


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


def launch_problems(given: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A record's launch parameters checked: (the body's launch parameters, or {} when refused; the reasons)."""
    try:
        return Launch.model_validate(given).parameters(), []
    except ValidationError as error:
        return {}, pydantic_problems(error)
