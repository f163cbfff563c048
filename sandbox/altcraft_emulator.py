"""A strict emulator of the Altcraft profiles API (../shared/specs/altcraft-api.md §12), on 127.0.0.1.

Written from the spec, not from Courier's code: token in the body, a Bearer header or the query (401 missing,
403 unknown); `db_id` required (404 unknown); matching keys enforced per mode, `profile_id` never creates, two
matches are 409; update functions applied with type checks; subscriptions validated per channel; batches answered
item by item; 10,000 items and 10 MB per batch. Profiles live in memory, so tests check the resulting profile.

Batches (`profiles/import_batch`, `profiles/update_batch`) as their pages print them (issue 15): each item of the
`data` array is a plain profile, its documented fields and `subscriptions`; the matching keys (`email`, `phone`,
`profile_id`, `field_name`, `field_value`, `resource_id`) are top-level request parameters only. Any other item key
is a custom field, and a custom field the database does not declare (`custom_fields`, else DEFAULT_CUSTOM_FIELDS)
refuses that item (strict, the default; inference: the pages do not say what a real instance does with one). The same
field check applies to every profile write (single import / update, and the import of import_and_start(_batch)), as
a database's fields do not depend on the method. Parameters a method's page does not
list (`skip_triggers` or `detect_geo` on update_batch, …) refuse the request. Subscription `status` / `priority` of
-1 mean "leave unchanged" on import and update, single and batch. `batch_result_mode` makes a batch answer's
`result` shorter than the items ("short") or reversed ("reordered"), so a client's mapping can be tested.

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
# The parameters each profile method's page lists; anything else refuses the request (strict reading, inference).
# Matching keys come from the "Matching" page (altcraft-api.md §4: provider + subscription_id for push_sub); `format`
# from the API-interaction page (§1: "the response format can be chosen … via a parameter").
MATCHING_KEYS = ("matching", "email", "phone", "profile_id", "field_name", "field_value", "provider", "subscription_id")
COMMON_PARAMETERS = {"token", "db_id", "data", "format", "resource_id", *MATCHING_KEYS}
PARAMETERS = {
    # profiles/import, profiles/update: the pages' table (seeds 003, 004): + triggers, geo, segments
    "import": COMMON_PARAMETERS
    | {"skip_triggers", "skip_invalid_subscriptions", "detect_geo", "add_to_segments", "remove_from_segments"},
    "update": COMMON_PARAMETERS
    | {"skip_triggers", "skip_invalid_subscriptions", "detect_geo", "add_to_segments", "remove_from_segments"},
    # import_batch (…/profiles/2195504): skip_invalid_subscriptions, skip_triggers, detect_geo; no segments
    "import_batch": COMMON_PARAMETERS | {"skip_invalid_subscriptions", "skip_triggers", "detect_geo"},
    # update_batch (…/profiles/2195501): skip_invalid_subscriptions only; no skip_triggers, no detect_geo
    "update_batch": COMMON_PARAMETERS | {"skip_invalid_subscriptions"},
}
# The standard profile fields (altcraft-api.md §8, the import page's example: `_os`, `_browser` too) and
# `subscriptions`; any other key of a profile's data is a custom field of the database.
STANDARD_FIELDS = {
    *("email", "phones", "subscriptions", "_fname", "_lname", "_bdate", "_sex", "_regdate", "_regip", "_ip"),
    *("_regcity", "_city", "_regcountry", "_country", "_regurl", "_region", "_postal_code", "_tz", "_vendor"),
    *("_browser", "_status", "_os"),
}
READ_ONLY = ("id", "_createtime", "_acid")
# The custom fields every database declares unless the emulator is built with its own `custom_fields`: the
# documentation's examples (`custom_field` on the import page, `custom_id` in the import_batch item, `CRM_ID` as
# the custom matching field, `checks`/`returns`/`category`/`myObject`/`myArrOfObject` on the functional-update
# page) and the fields Courier's own tests and samples write (`ltv`, `city_tags`, `interests`, `loyalty`,
# `promo_code`, `visits`; `subscribed` and `registered_at` of the CRM export's mapping).
DEFAULT_CUSTOM_FIELDS = frozenset(
    {
        *("custom_field", "custom_id", "CRM_ID", "checks", "returns", "category", "myObject", "myArrOfObject"),
        *("ltv", "city_tags", "interests", "loyalty", "promo_code", "visits", "subscribed", "registered_at"),
    }
)
BATCH_RESULT_MODES = ("normal", "short", "reordered")
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


def _json_object(headers: dict[str, str], body: bytes, limit: int, too_large: int) -> dict[str, Any]:
    """A request body as the JSON routes take it: application/json, at most `limit` bytes, one JSON object."""
    if headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise _fail(400, "Content-Type must be application/json")
    if len(body) > limit:
        raise _fail(too_large, f"the request is larger than {limit} bytes")
    try:
        request = json.loads(body)
    except ValueError:
        raise _fail(400, "the body is not valid JSON") from None
    if not isinstance(request, dict):
        raise _fail(400, "the body must be a JSON object")
    return request


def _fail(code: int, text: str) -> RefusalError:
    return RefusalError(code, {"error": code, "error_text": text})


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


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
        custom_fields: dict[int, set[str]] | None = None,
        strict: bool = True,
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
        # database → the custom fields it declares; a database not named here declares DEFAULT_CUSTOM_FIELDS
        self.custom_fields = {db: set(names) for db, names in (custom_fields or {}).items()}
        # strict: an undeclared custom field refuses its profile; lenient: it is stored, with a warning
        self.strict = strict
        self._launches: list[TriggerLaunch] = []
        self.warnings: list[str] = []
        self._trigger_settings()

    def _trigger_settings(self) -> None:
        """What a test may change for the trigger methods; `reset` (through `clear`) puts it back."""
        self.clock: Callable[[], float] = time.time
        self.inactive_triggers: set[int] = set()  # known but inactive: refused with error 400 (inference)
        # how a batch answer's `result` maps onto the items: "normal" one per item in order; "short" without the
        # last item's result (every item is still applied); "reordered" in reverse order
        self.batch_result_mode = "normal"

    def declared(self, db_id: int) -> set[str]:
        """The custom fields database `db_id` declares."""
        return set(self.custom_fields.get(db_id, DEFAULT_CUSTOM_FIELDS))

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
        request = _json_object(headers, body, self.max_bytes, too_large=400)
        db = self._database(request, headers, query)
        unknown = set(request) - PARAMETERS[method]
        if unknown:
            # inference (strict reading): a parameter the method's page does not list is refused, not ignored
            raise _fail(400, f"unknown parameters for profiles/{method}: {', '.join(sorted(unknown))}")
        if not batch:
            profile_id = self._apply(db, request, request, request.get("data"), update)
            return 200, {}, {"error": 0, "error_text": OK, "profile_id": profile_id}, 1, 1
        self._check_result_mode()
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
                profile_id = self._apply(db, request, _item_keys(request, item), item, update)
                results.append({"error": 0, "error_text": OK, "profile_id": profile_id})
            except RefusalError as refusal:
                results.append(refusal.payload)
        taken = sum(1 for result in results if result["error"] == 0)
        return 200, {}, {"error": 0, "error_text": OK, "result": self._shaped(results)}, len(items), taken

    def _shaped(self, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A batch answer's `result` as `batch_result_mode` says (the items were applied all the same)."""
        if self.batch_result_mode == "short":
            return results[:-1]
        if self.batch_result_mode == "reordered":
            return results[::-1]
        return results

    def _check_result_mode(self) -> None:
        if self.batch_result_mode not in BATCH_RESULT_MODES:
            # a test's mistake, answered before anything is applied rather than taken as "normal"
            raise _fail(500, f"batch_result_mode must be one of {', '.join(BATCH_RESULT_MODES)}")

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
        for field in data:
            self._check_field(db, field)  # the data is checked before the profile is looked for (inference)
        matching = request.get("matching") or ("profile_id" if update and "profile_id" in keys else "email")
        needed = MATCHING.get(matching)
        if needed is None:
            raise _fail(400, f"unknown matching {matching}")
        lookup = {name: (request if name == "field_name" else keys).get(name) for name in needed}
        given = {name: value for name, value in lookup.items() if value not in (None, "", [])}
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
                _subscribe(profile, value, skip)
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

    def _check_field(self, db: int, field: str) -> None:
        """A key of a profile's data is a standard field or a custom field the database declares (strict)."""
        if field in STANDARD_FIELDS or field in READ_ONLY or field in self.declared(db):
            return  # read-only fields are refused by _set with their own reason
        if self.strict:
            # inference: the pages say nothing of an undeclared field; refused, so a stray key cannot hide
            raise _fail(400, f"unknown field {field}: not a standard field nor a custom field of database {db}")
        self.warnings.append(f"database {db}: undeclared custom field {field} stored")

    # --- campaigns/triggers/import_and_start(_batch) (new-endpoints.md §B.2, §B.3, §B.5, §D.2) -------------------
    def _import_and_start(self, batch: bool, query: dict[str, str], headers: dict[str, str], body: bytes) -> Handled:
        # XML is documented too (§B.1) but not emulated: the sandbox speaks JSON only, as its profile routes do
        request = _json_object(headers, body, self.max_attach_bytes, too_large=413)
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
            keys: dict[str, Any] = {
                name: request[name] for name in ("email", "phone", "profile_id", "field_value") if name in request
            }
            profile_id, given = self._import_for_launch(db, request, matching, keys, data)
            self._record(trigger, db, profile_id, given, launch, request.get("custom_data"), batch)
            return 200, {}, {"error": 0, "error_text": OK, "profile_id": profile_id}, 1, 1
        self._check_result_mode()
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
        return 200, {}, {"error": 0, "error_text": OK, "result": self._shaped(results)}, len(items), taken

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
    phones = phone if isinstance(phone, list) else [] if phone is None else [phone]  # a batch item: any of its phones
    by_email = email is not None and matching in ("email", "email_profile", "email_phone")
    by_sub_email = email is not None and matching in ("email", "email_sub", "email_phone_sub")
    by_phone = bool(phones) and matching in ("phone", "email_phone")
    by_sub_phone = bool(phones) and matching in ("phone", "phone_sub", "email_phone_sub")
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
        or (by_phone and any(number in profile.get("phones", []) for number in phones))
        or (by_sub_email and "subscriptions" in profile and email in _sub_emails(profile))
        or (by_sub_phone and "subscriptions" in profile and any(n in _sub_phones(profile) for n in phones))
    )


def _item_keys(request: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """The matching keys of one batch item (inference: the pages list the keys only as top-level parameters and
    show each item as a plain profile, so an item is matched by its own fields):
    - email, email_profile, email_sub: the item's own `email` field;
    - phone, phone_sub: any number in the item's `phones` (a profile holding one of them matches);
    - email_phone, email_phone_sub: both of the above, either may be absent;
    - custom, custom_sub: the item's field named by the top-level `field_name`, `data[field_name]`;
    - profile_id, push_sub: no profile field holds the key, so only the top-level parameters.
    A key that is not a plain value (a function such as {"action": "set", …}) is no key. When the item does not hold
    its key, the top-level parameter of the same name applies, as the page's table lists it (so every such item
    addresses the same profile)."""
    keys = {name: request[name] for name in MATCHING_KEYS if name in request and name != "matching"}
    email, phones = item.get("email"), item.get("phones")
    if isinstance(email, str) and email:
        keys["email"] = email
    if _strings(phones) and phones:
        keys["phone"] = list(phones)
    field_name = request.get("field_name")
    if isinstance(field_name, str) and field_name in item:
        value = item[field_name]
        if isinstance(value, str | int) and not isinstance(value, bool):
            keys["field_value"] = value
        elif _strings(value) and value:
            keys["field_value"] = ", ".join(value)  # tags: "Values are recorded as a string: "tag-1, tag-2"" [DOC]
    return keys


def _custom(stored: Any, wanted: Any) -> bool:
    if isinstance(stored, list) and isinstance(wanted, str) and ", " in wanted:
        return all(tag in [str(item) for item in stored] for tag in wanted.split(", "))  # a combination of tags
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


def _subscription_problem(sub: Any) -> str:
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
    # -1 = "leave unchanged": the update_batch page (EN) and the import_batch page (RU) say so; taken on import and
    # update, single and batch alike (inference for the single methods, whose pages do not mention it)
    if not ((isinstance(status, str) and status in STATUSES) or (_integer(status) and -1 <= status <= 6)):
        return "invalid subscription status"
    priority = sub.get("priority", -1)
    if not (_integer(priority) and priority >= -1):
        return "invalid subscription priority"  # "int" [DOC]; below -1 refused (inference)
    return ""


def _subscribe(profile: dict[str, Any], subs: Any, skip: bool) -> None:
    if not isinstance(subs, list):
        raise _fail(400, "subscriptions must be an array")
    stored = profile.setdefault("subscriptions", [])
    for sub in subs:
        problem = _subscription_problem(sub)
        if problem:
            if skip:
                continue
            raise _fail(400, problem)
        identity = {
            k: sub.get(k)
            for k in ("channel", "resource_id", "email", "phone", "provider", "subscription_id", "cc_data")
        }
        # status / priority of -1 leave the stored value (or, on a new subscription, the default) as it is
        sub = {k: v for k, v in sub.items() if not (k in ("status", "priority") and v == -1)}
        for position, old in enumerate(stored):
            if {k: old.get(k) for k in identity} == identity:
                stored[position] = {**old, **sub}
                break
        else:
            stored.append(sub)


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
