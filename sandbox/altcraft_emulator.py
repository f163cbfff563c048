"""A strict emulator of the Altcraft profiles API (../shared/specs/altcraft-api.md §12), on 127.0.0.1.

Written from the spec, not from Courier's code: token in the body, a Bearer header or the query (401 missing,
403 unknown); `db_id` required (404 unknown); matching keys enforced per mode, `profile_id` never creates, two
matches are 409; update functions applied with type checks; subscriptions validated per channel; batches answered
item by item; 10,000 items and 10 MB per batch. Profiles live in memory, so tests check the resulting profile.

`campaigns/triggers/import_and_start` and `…/import_and_start_batch` follow ../shared/specs/new-endpoints.md §B.2,
§B.3, §B.5 and the checklist §D.2: the profile is imported as `profiles/import` does, into the trigger's database
(`db_id` is not a parameter of these methods), then a launch of `trigger_id` is recorded (`triggers_started`).
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.http_emulator import Handled, HttpEmulator, RefusalError, ScriptedFailure

PREFIX = "/api/v1.1/profiles/"
METHODS = {
    "import": (False, False),
    "update": (True, False),
    "import_batch": (False, True),
    "update_batch": (True, True),
}  # name → (update only, batch)
MATCHING = {
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
ITEM_KEYS = ("phone", "profile_id", "field_value", "provider", "subscription_id")  # in a batch item, not data
STATUSES = {
    "subscribed": 0,
    "unsubscribed": 1,
    "complained": 2,
    "hardbounced": 3,
    "unconfirmed": 4,
    "suspended": 5,
    "invalid": 6,
}
CC_DATA = {"telegram_bot", "whatsapp", "viber", "notify"}
OK = "Successful operation"
TRIGGERS_PREFIX = "/api/v1.1/campaigns/triggers/"
TRIGGER_METHODS = {"import_and_start": False, "import_and_start_batch": True}  # name → batch
# §B.2: the import_and_start table lists five modes; the strict reading refuses the other six (inference)
TRIGGER_MATCHING = ("email", "email_profile", "phone", "profile_id", "custom")
TIMEOUT_KEYS = {"days": 86400, "hours": 3600, "minutes": 60}
DATA_URI = re.compile(r"data:([^;,]*)((?:;[^;,=]+=[^;,]*)*);base64,(.*)", re.DOTALL)
TRIGGER_FLAGS = ("skip_triggers", "skip_invalid_subscriptions", "detect_geo")


@dataclass(frozen=True)
class Attachment:
    name: str
    mimetype: str  # from the data URI, or the item's `mimetype` when given
    data: bytes
    file_key: str | None = None


@dataclass(frozen=True)
class TriggerLaunch:
    """One trigger campaign start the emulator recorded: which trigger, for which profile, when, with what."""

    trigger_id: int
    db_id: int  # the trigger's database, where the profile was imported
    profile_id: str
    matched_by: dict[str, Any]  # the matching mode and the key values that found or created the profile
    scheduled_at: float  # the request's time plus `timeout`
    content: dict[str, Any] | None = None
    custom_data: dict[str, Any] | None = None
    attachments: tuple[Attachment, ...] = ()
    skip_triggers: bool = False  # suppresses import-event triggers only, never this launch (inference, §B.2)
    batch: bool = False


def _fail(code: int, text: str) -> RefusalError:
    return RefusalError(code, {"error": code, "error_text": text})


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


class AltcraftEmulator(HttpEmulator):
    def __init__(
        self,
        tokens: dict[str, set[int]] | None = None,
        max_items: int = 10_000,
        max_bytes: int = 10 * 1024 * 1024,
        rate_limit: int | None = None,
        port: int = 0,
        keep: bool = True,
        triggers: dict[int, int] | None = None,
        max_attach_bytes: int = 100 * 1024 * 1024,
    ) -> None:
        super().__init__(port, rate_limit, keep=keep)
        self.tokens = tokens or {"sandbox-altcraft-token": {1}}  # token → databases it may write to
        self.max_items, self.max_bytes = max_items, max_bytes
        self._databases: dict[int, list[dict[str, Any]]] = {db: [] for dbs in self.tokens.values() for db in dbs}
        # trigger id → the database (the trigger's list_id) its imports go to; by default trigger 13, the documented
        # example id, on the lowest database (inference)
        self.triggers = dict(triggers) if triggers is not None else {13: min(self._databases)}
        for db in self.triggers.values():
            self._databases.setdefault(db, [])
        self.max_attach_bytes = max_attach_bytes  # "exception for files — 100 Mb" [DOC]
        self._launches: list[TriggerLaunch] = []
        self.warnings: list[str] = []
        self._trigger_settings()

    def _trigger_settings(self) -> None:
        """What a test may change for the trigger methods; `reset` (through `clear`) puts it back."""
        self.clock: Callable[[], float] = time.time
        self.inactive_triggers: set[int] = set()  # known but inactive: refused with error 400 (inference)

    # --- what tests read and seed ------------------------------------------------------------------------------
    def profiles(self, db_id: int) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self._databases.get(db_id, []))

    def add_profile(self, db_id: int, fields: dict[str, Any]) -> str:
        with self.lock:
            profile = {"id": secrets.token_hex(12), **copy.deepcopy(fields)}
            self._databases[db_id].append(profile)
            return str(profile["id"])

    @property
    def triggers_started(self) -> list[TriggerLaunch]:
        """Every trigger launch recorded by import_and_start(_batch), in order (none when `keep` is off)."""
        with self.lock:
            return list(self._launches)

    def started(self, trigger_id: int) -> list[str]:
        """The profile ids trigger `trigger_id` was started for, in order."""
        with self.lock:
            return [launch.profile_id for launch in self._launches if launch.trigger_id == trigger_id]

    def clear(self) -> None:
        for profiles in self._databases.values():
            profiles.clear()
        self._launches.clear()
        self.warnings.clear()
        self._trigger_settings()

    def state(self) -> dict[str, Any]:
        started: dict[int, int] = {}
        for launch in self._launches:
            started[launch.trigger_id] = started.get(launch.trigger_id, 0) + 1
        return {
            "profiles": {db: len(profiles) for db, profiles in self._databases.items()},
            "triggers_started": started,
            "warnings": list(self.warnings),
        }

    def failure_payload(self, failure: ScriptedFailure) -> Any:
        return {"error": failure.status, "error_text": failure.body or "scripted failure"}

    # --- the API -----------------------------------------------------------------------------------------------
    def handle(self, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> Handled:
        trigger_method = path.removeprefix(TRIGGERS_PREFIX).rstrip("/") if path.startswith(TRIGGERS_PREFIX) else ""
        if trigger_method in TRIGGER_METHODS:
            return self._import_and_start(TRIGGER_METHODS[trigger_method], query, headers, body)
        method = path.removeprefix(PREFIX).rstrip("/") if path.startswith(PREFIX) else ""
        if method not in METHODS:
            raise _fail(404, f"unknown method {path}")
        update, batch = METHODS[method]
        if headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise _fail(400, "Content-Type must be application/json")
        if len(body) > self.max_bytes:
            raise _fail(400, f"the request is larger than {self.max_bytes} bytes")
        try:
            request = json.loads(body)
        except ValueError:
            raise _fail(400, "the body is not valid JSON") from None
        if not isinstance(request, dict):
            raise _fail(400, "the body must be a JSON object")
        db = self._database(request, headers, query)
        if not batch:
            profile_id = self._apply(db, request, request, request.get("data"), update)
            return 200, {}, {"error": 0, "error_text": OK, "profile_id": profile_id}, 1, 1
        items = request.get("data")
        if not isinstance(items, list):
            raise _fail(400, "data must be an array of profiles")
        if len(items) > self.max_items:
            raise _fail(400, f"more than {self.max_items} profiles in one batch")
        results = []
        for item in items:
            try:
                if not isinstance(item, dict):
                    raise _fail(400, "a batch item must be an object")
                data = {k: v for k, v in item.items() if k not in ITEM_KEYS}
                profile_id = self._apply(db, request, item, data, update)
                results.append({"error": 0, "error_text": OK, "profile_id": profile_id})
            except RefusalError as refusal:
                results.append(refusal.payload)
        taken = sum(1 for result in results if result["error"] == 0)
        return 200, {}, {"error": 0, "error_text": OK, "result": results}, len(items), taken

    def _token(self, request: dict[str, Any], headers: dict[str, str], query: dict[str, str]) -> str:
        bearer = headers.get("authorization", "")
        token = request.get("token") or bearer.removeprefix("Bearer ").strip() or query.get("token")
        if not token:
            raise _fail(401, "API token required")
        if not isinstance(token, str) or token not in self.tokens:
            raise _fail(403, "No access: invalid API token")
        return token

    def _database(self, request: dict[str, Any], headers: dict[str, str], query: dict[str, str]) -> int:
        token = self._token(request, headers, query)
        db = request.get("db_id")
        if not isinstance(db, int) or isinstance(db, bool):
            raise _fail(400, "db_id is required (an integer)")
        if db not in self._databases:
            raise _fail(404, f"database {db} not found")
        if db not in self.tokens[token]:
            raise _fail(403, "No access to this database")
        return db

    def _apply(self, db: int, request: dict[str, Any], keys: dict[str, Any], data: Any, update: bool) -> str:
        """Finds the profile by matching (creating one on import), applies data on a copy, then stores it."""
        if not isinstance(data, dict):
            raise _fail(400, "data must be an object")
        matching = request.get("matching") or ("profile_id" if update and "profile_id" in keys else "email")
        needed = MATCHING.get(matching)
        if needed is None:
            raise _fail(400, f"unknown matching {matching}")
        lookup = {name: (request if name == "field_name" else keys).get(name) for name in needed}
        given = {name: value for name, value in lookup.items() if value not in (None, "")}
        if (matching.startswith("email_phone") and not given) or (
            not matching.startswith("email_phone") and len(given) < len(needed)
        ):
            raise _fail(400, f"matching {matching} requires {', '.join(needed)}")
        found = [p for p in self._databases[db] if _matches(p, matching, given)] if self.keep else []
        if len(found) > 1:
            raise _fail(409, "more than one profile matches")
        if not found and (update or matching == "profile_id"):
            raise _fail(404, "profile not found")
        profile = copy.deepcopy(found[0]) if found else {"id": secrets.token_hex(12)}
        skip = bool(request.get("skip_invalid_subscriptions"))
        for field, value in data.items():
            if field == "subscriptions":
                _subscribe(profile, value, skip, update)
            elif isinstance(value, dict) and "action" in value:
                _function(profile, field, value)
            else:
                _set(profile, field, value)
        if not self.keep:
            pass  # a benchmark: checked and answered, not stored
        elif found:
            self._databases[db][self._databases[db].index(found[0])] = profile
        else:
            self._databases[db].append(profile)
        return str(profile["id"])

    # --- campaigns/triggers/import_and_start(_batch) (new-endpoints.md §B.2, §B.3, §B.5, §D.2) -------------------
    def _import_and_start(self, batch: bool, query: dict[str, str], headers: dict[str, str], body: bytes) -> Handled:
        if headers.get("content-type", "").split(";")[0].strip() != "application/json":
            # XML is documented too (§B.1) but not emulated: the sandbox speaks JSON only, as its profile routes do
            raise _fail(400, "Content-Type must be application/json")
        if len(body) > self.max_attach_bytes:
            raise _fail(413, f"the request is larger than {self.max_attach_bytes} bytes")
        try:
            request = json.loads(body)
        except ValueError:
            raise _fail(400, "the body is not valid JSON") from None
        if not isinstance(request, dict):
            raise _fail(400, "the body must be a JSON object")
        token = self._token(request, headers, query)
        trigger = request.get("trigger_id")
        if not isinstance(trigger, int) or isinstance(trigger, bool):
            raise _fail(400, "trigger_id is required (an integer)")  # [DOC] int, required; "13" is refused (inference)
        if trigger not in self.triggers:
            raise _fail(404, f"trigger {trigger} not found")  # the code is undocumented: inference (§B.9)
        db = self.triggers[trigger]  # db_id is no parameter here: the import goes to the trigger's database (§D.2.4)
        if db not in self.tokens[token]:
            raise _fail(403, "No access to this trigger")  # inference
        if trigger in self.inactive_triggers:
            raise _fail(400, f"trigger {trigger} is not active")  # inference: the code is undocumented
        unknown = set(request) - (BATCH_PARAMETERS if batch else SINGLE_PARAMETERS)
        if unknown:
            # inference (strict reading): what the method's table does not list is refused, so a misplaced or
            # misspelt parameter (add_to_segments, a profile field outside data, ...) is not silently dropped
            raise _fail(400, f"unknown parameters: {', '.join(sorted(unknown))}")
        launch = _launch_options(request, self.clock())
        if not launch["attachments"] and len(body) > self.max_bytes:
            raise _fail(413, f"the request is larger than {self.max_bytes} bytes")  # §D.2.13 (413 is a choice)
        matching = request.get("matching", "email")  # "By default - email" [DOC]
        if matching not in TRIGGER_MATCHING:
            raise _fail(400, f"matching must be one of {', '.join(TRIGGER_MATCHING)}")
        if matching == "custom" and not (isinstance(request.get("field_name"), str) and request["field_name"]):
            raise _fail(400, "matching custom requires field_name")
        if not batch:
            data = request.get("data")
            if not isinstance(data, dict):
                raise _fail(400, "data is required (an object)")  # "Yes" [DOC]
            keys = {name: request[name] for name in ("email", "phone", "profile_id", "field_value") if name in request}
            profile_id, given = self._import_for_launch(db, request, matching, keys, data)
            self._record(trigger, db, profile_id, given, launch, request.get("custom_data"), batch)
            return 200, {}, {"error": 0, "error_text": OK, "profile_id": profile_id}, 1, 1
        items = request.get("data")
        if not isinstance(items, list) or not items:
            # EN "Yes", RU "Нет" [CONFLICT]: the strict reading makes it required (inference)
            raise _fail(400, 'data must be a non-empty array of {"data": {...}} items')
        if len(items) > self.max_items:
            # "not recommended" (scenario and add_batch pages), not forbidden: taken, with a warning (§D.2.13)
            self.warnings.append(
                f"import_and_start_batch: {len(items)} items, more than the recommended {self.max_items}"
            )
        results = []
        for item in items:
            try:
                results.append(self._batch_item(trigger, db, request, matching, item, launch))
            except RefusalError as refusal:
                results.append(refusal.payload)
        taken = sum(1 for result in results if result["error"] == 0)
        # the batch answer is undocumented (§B.3): per-item objects as profiles/add_batch answers (inference)
        return 200, {}, {"error": 0, "error_text": OK, "result": results}, len(items), taken

    def _batch_item(
        self, trigger: int, db: int, request: dict[str, Any], matching: str, item: Any, launch: dict[str, Any]
    ) -> dict[str, Any]:
        if not isinstance(item, dict):
            raise _fail(400, "a data array item must be an object")
        unknown = set(item) - DATA_ARRAY_KEYS
        if unknown:
            # inference: profile fields belong inside the item's own "data" object (§B.3), not beside it
            raise _fail(400, f"unknown keys in a data array item: {', '.join(sorted(unknown))}")
        if "custom_request" in item:
            # [DOC] only "when no matching specified"; a Mongo query is beyond this sandbox, so it is refused
            raise _fail(400, "custom_request is not supported by the emulator")
        data = item.get("data")
        if not isinstance(data, dict):
            raise _fail(400, "each data array item needs a data object with the profile's fields")
        # §D.2.8 (inference): item-level keys first, then data.email / data.phones for the email and phone modes;
        # top-level email / phone / profile_id / field_value are not used for a batch item
        keys = {name: item[name] for name in ("email", "phone", "profile_id", "field_value") if name in item}
        if matching in ("email", "email_profile") and "email" not in keys and "email" in data:
            keys["email"] = data["email"]
        if matching == "phone" and "phone" not in keys and data.get("phones"):
            phones = data["phones"]
            keys["phone"] = phones[0] if isinstance(phones, list) else phones
        custom_data = item.get("custom_data", request.get("custom_data"))  # per item overrides the root [DOC]
        if not isinstance(custom_data, dict | None):
            raise _fail(400, "custom_data must be an object")
        profile_id, given = self._import_for_launch(db, request, matching, keys, data)
        self._record(trigger, db, profile_id, given, launch, custom_data, True)
        return {"error": 0, "error_text": OK, "profile_id": profile_id}

    def _import_for_launch(
        self, db: int, request: dict[str, Any], matching: str, keys: dict[str, Any], data: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """Imports one profile as profiles/import does; answers its id and the keys it was matched by."""
        for name in ("email", "phone", "profile_id"):
            if name in keys and not isinstance(keys[name], str):
                raise _fail(400, f"{name} must be a string")
        value = keys.get("field_value")
        if value is not None and (not isinstance(value, str | int) or isinstance(value, bool)):
            raise _fail(400, "field_value must be a string or an integer")  # "int/string" [DOC]
        for address in (keys.get("email"), data.get("email")):
            if isinstance(address, str) and not _single_address(address):
                # [C-ALFA]: the real server takes "a@x;b@x" as one address and delivers nothing; strict: refused
                raise _fail(400, f"{address!r} is not one valid e-mail address")
        data = dict(data)
        if isinstance(data.get("phones"), str):
            data["phones"] = [data["phones"]]  # the batch example sends a string (§B.3): taken as one phone (inference)
        profile_id = self._apply(db, {**request, "matching": matching}, keys, data, False)
        needed = MATCHING[matching]
        given = {"matching": matching, **{n: (request if n == "field_name" else keys).get(n) for n in needed}}
        return profile_id, given

    def _record(
        self,
        trigger: int,
        db: int,
        profile_id: str,
        given: dict[str, Any],
        launch: dict[str, Any],
        custom_data: dict[str, Any] | None,
        batch: bool,
    ) -> None:
        if self.keep:
            self._launches.append(
                TriggerLaunch(
                    trigger_id=trigger,
                    db_id=db,
                    profile_id=profile_id,
                    matched_by=given,
                    scheduled_at=launch["scheduled_at"],
                    content=launch["content"],
                    custom_data=copy.deepcopy(custom_data),
                    attachments=launch["attachments"],
                    skip_triggers=launch["skip_triggers"],
                    batch=batch,
                )
            )


def _subs(profile: dict[str, Any], channel: str) -> list[dict[str, Any]]:
    return [s for s in profile.get("subscriptions", []) if s.get("channel") == channel]


def _sub_emails(profile: dict[str, Any]) -> set[Any]:
    return {s.get("email") or (s.get("email_data") or {}).get("email") for s in _subs(profile, "email")}


def _sub_phones(profile: dict[str, Any]) -> set[Any]:
    return {s.get("phone") for s in _subs(profile, "sms")}


def _matches(profile: dict[str, Any], matching: str, keys: dict[str, Any]) -> bool:
    email, phone = keys.get("email"), keys.get("phone")
    by_email = email is not None and matching in ("email", "email_profile", "email_phone")
    by_sub_email = email is not None and matching in ("email", "email_sub", "email_phone_sub")
    by_phone = phone is not None and matching in ("phone", "email_phone")
    by_sub_phone = phone is not None and matching in ("phone", "phone_sub", "email_phone_sub")
    if matching == "profile_id":
        return bool(profile["id"] == keys["profile_id"])
    if matching == "push_sub":
        return any(
            s.get("provider") == keys["provider"] and s.get("subscription_id") == keys["subscription_id"]
            for s in _subs(profile, "push")
        )
    if matching in ("custom", "custom_sub"):
        return _custom(profile.get(keys["field_name"]), keys["field_value"])
    return (
        (by_email and profile.get("email") == email)
        or (by_phone and phone in profile.get("phones", []))
        or (by_sub_email and "subscriptions" in profile and email in _sub_emails(profile))
        or (by_sub_phone and "subscriptions" in profile and phone in _sub_phones(profile))
    )


def _custom(stored: Any, wanted: Any) -> bool:
    if isinstance(stored, list):
        return str(wanted) in [str(item) for item in stored]
    return stored is not None and str(stored) == str(wanted)


def _set(profile: dict[str, Any], field: str, value: Any) -> None:
    if field == "email" and not (isinstance(value, str) and "@" in value):
        raise _fail(400, "email is not valid")
    if field == "phones" and not _strings(value):
        raise _fail(400, "phones must be an array of strings")
    if field in ("id", "_createtime", "_acid"):
        raise _fail(400, f"{field} is read-only")
    profile[field] = value


def _function(profile: dict[str, Any], field: str, spec: dict[str, Any]) -> None:
    action, current = spec.get("action"), profile.get(field)
    value: Any = spec.get("value")
    if action == "set":
        _set(profile, field, value)
    elif action == "unset":
        if field == "email":
            raise _fail(400, "unset is not allowed for email")
        profile.pop(field, None)
    elif action == "incr":
        if not _number(value) or (current is not None and not _number(current)):
            raise _fail(400, f"incr needs numbers ({field})")
        profile[field] = (current or 0) + value
    elif action in ("add", "delete"):
        if not _strings(value) or (current is not None and not isinstance(current, list)):
            raise _fail(400, f"{action} needs an array of strings on a tags field ({field})")
        tags = list(current or [])
        if action == "add":
            tags += [tag for tag in value if tag not in tags]
        else:
            tags = [tag for tag in tags if tag not in value]
        profile[field] = tags
    elif action == "upsert":
        submatch = spec.get("submatch")
        if not isinstance(submatch, str) or not submatch:
            raise _fail(400, f"upsert needs submatch ({field})")
        if isinstance(current, list):
            if not isinstance(value, dict):
                raise _fail(400, f"upsert on an array of objects needs an object value ({field})")
            kept = [
                item for item in current if not (isinstance(item, dict) and item.get(submatch) == value.get(submatch))
            ]
            profile[field] = [*kept, value]
        else:
            profile[field] = {**(current if isinstance(current, dict) else {}), submatch: value}
    else:
        raise _fail(400, f"unknown action for {field}")


def _subscription_problem(sub: Any, update: bool) -> str:
    if not isinstance(sub, dict):
        return "a subscription must be an object"
    channel = sub.get("channel")
    email = sub.get("email") or (sub.get("email_data") or {}).get("email")
    identity = {
        "email": isinstance(email, str) and "@" in email,
        "sms": isinstance(sub.get("phone"), str),
        "push": isinstance(sub.get("provider"), str) and isinstance(sub.get("subscription_id"), str),
    }
    if channel in CC_DATA:
        ok = isinstance(sub.get("cc_data"), dict) and bool(sub["cc_data"])
    elif channel in identity:
        ok = identity[channel]
    else:
        return f"unknown channel {channel}"
    if not ok:
        return f"the {channel} subscription lacks its identity fields"
    status = sub.get("status", 0)
    if not (status in STATUSES or (isinstance(status, int) and (-1 if update else 0) <= status <= 6)):
        return "invalid subscription status"
    return ""


def _subscribe(profile: dict[str, Any], subs: Any, skip: bool, update: bool) -> None:
    if not isinstance(subs, list):
        raise _fail(400, "subscriptions must be an array")
    stored = profile.setdefault("subscriptions", [])
    for sub in subs:
        problem = _subscription_problem(sub, update)
        if problem:
            if skip:
                continue
            raise _fail(400, problem)
        identity = {
            k: sub.get(k)
            for k in ("channel", "resource_id", "email", "phone", "provider", "subscription_id", "cc_data")
        }
        for position, old in enumerate(stored):
            if {k: old.get(k) for k in identity} == identity:
                stored[position] = {**old, **sub}
                break
        else:
            stored.append(dict(sub))


# --- import_and_start: what the documentation allows ----------------------------------------------------------------
SINGLE_PARAMETERS = {
    *("token", "data", "skip_triggers", "skip_invalid_subscriptions", "detect_geo"),
    *("matching", "email", "phone", "profile_id", "field_name", "field_value", "resource_id"),
    *("trigger_id", "timeout", "custom_data", "content", "attach"),
    "db_id",  # not a parameter of the method; tolerated and ignored (§D.2.4)
}
BATCH_PARAMETERS = SINGLE_PARAMETERS  # "the same table as §B.2" except for data [DOC]
DATA_ARRAY_KEYS = {"data", "email", "phone", "profile_id", "field_value", "custom_request", "custom_data"}  # §B.5
ATTACH_KEYS = {"data", "name", "file_key", "mimetype"}  # data + name [DOC]; file_key, mimetype from workflows (§B.2)


def _single_address(value: str) -> bool:
    return "@" in value and not any(separator in value for separator in ";, ")


def _launch_options(request: dict[str, Any], now: float) -> dict[str, Any]:
    """Checks the launch parameters (timeout, content, custom_data, attach, the flags, resource_id)."""
    for name in TRIGGER_FLAGS:
        if name in request and not isinstance(request[name], bool):
            raise _fail(400, f"{name} must be a boolean")  # bool [DOC]
    resource = request.get("resource_id")
    if resource is not None and (not isinstance(resource, int) or isinstance(resource, bool)):
        raise _fail(400, "resource_id must be an integer")
    for name in ("content", "custom_data"):
        if name in request and not isinstance(request[name], dict):
            raise _fail(400, f"{name} must be an object")
    timeout = request.get("timeout", {})
    if not isinstance(timeout, dict) or set(timeout) - set(TIMEOUT_KEYS):
        raise _fail(400, "timeout must be an object of days, hours and minutes")
    delay = 0
    for unit, value in timeout.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            # bounds are undocumented: missing keys count 0, negatives are refused (inference, §B.2)
            raise _fail(400, f"timeout.{unit} must be a non-negative integer")
        delay += value * TIMEOUT_KEYS[unit]
    return {
        "scheduled_at": now + delay,
        "content": copy.deepcopy(request.get("content")),
        "attachments": _attachments(request.get("attach")),
        "skip_triggers": bool(request.get("skip_triggers")),
    }


def _attachments(attach: Any) -> tuple[Attachment, ...]:
    """`attach`: "JSON objects array" [DOC]; the documented example is one bare object, also taken (inference)."""
    if attach is None:
        return ()
    items = [attach] if isinstance(attach, dict) else attach
    if not isinstance(items, list):
        raise _fail(400, "attach must be an array of files")
    files = []
    for item in items:
        if not isinstance(item, dict) or set(item) - ATTACH_KEYS:
            raise _fail(400, f"an attach item is an object of {', '.join(sorted(ATTACH_KEYS))}")
        name, uri = item.get("name"), item.get("data")
        if not isinstance(name, str) or not name:
            raise _fail(400, "an attached file needs a name")
        match = DATA_URI.fullmatch(uri) if isinstance(uri, str) else None
        if match is None:
            raise _fail(400, "an attached file's data must be a data: URI with base64 content")
        try:
            content = base64.b64decode(match.group(3), validate=True)
        except (binascii.Error, ValueError):
            raise _fail(400, "an attached file's base64 content is invalid") from None
        for optional in ("file_key", "mimetype"):
            if optional in item and not isinstance(item[optional], str):
                raise _fail(400, f"attach {optional} must be a string")
        files.append(Attachment(name, item.get("mimetype") or match.group(1), content, item.get("file_key")))
    return tuple(files)
