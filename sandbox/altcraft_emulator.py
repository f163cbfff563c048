"""A strict emulator of the Altcraft profiles API (docs/contracts/altcraft.md#emulator), on 127.0.0.1.

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

`campaigns/triggers/import_and_start` and `…/import_and_start_batch` follow docs/contracts/altcraft.md#trigger-launch,
docs/contracts/altcraft.md#trigger-batch and the checklist docs/contracts/altcraft.md#emulator: the profile is imported
as `profiles/import` does, into the trigger's database
(`db_id` is not a parameter of these methods), then a launch of `trigger_id` is recorded (`triggers_started`).
`workflows/import_and_start` and `…/import_and_start_batch` import the same way into the scenario's database and record
an enrolment of `workflow_id` (`enrolments`); `matching` is required there and `data` is not.

Four more methods, each from its guide page (cited where its rules are): `profiles/add` and `profiles/add_batch/`
insert without looking for the profile, so a resend makes a duplicate (only a duplicate of the unique `email` field
is refused); `profiles/delete` removes one profile found by one of its four modes (`deletions`), a second delete
answering 404; `subscriptions/set` adds or edits one subscription of a known profile (`subscription_changes`);
`goals/register` appends one goal event per goal to `goals`, every call counted. Bodies are JSON only (the pages
document XML too; the emulator does not speak it, as for the profile and trigger routes).
"""

from __future__ import annotations

import base64
import binascii
import copy
import ipaddress
import json
import re
import secrets
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlsplit

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
# Matching keys come from the "Matching" page (docs/contracts/altcraft.md#matching: provider + subscription_id for
# push_sub); `format` from the API-interaction page (#transport: "the response format can be chosen … via a
# parameter").
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
# The standard profile fields (docs/contracts/altcraft.md#standard-fields, the import page's example: `_os`, `_browser`
# too) and `subscriptions`; any other key of a profile's data is a custom field of the database.
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
API_PREFIX = "/api/v1.1/"
# docs/contracts/altcraft.md#trigger-launch: the import_and_start table lists five modes; the strict reading refuses the
# other six (inference)
TRIGGER_MATCHING = ("email", "email_profile", "phone", "profile_id", "custom")
TIMEOUT_KEYS = {"days": 86400, "hours": 3600, "minutes": 60}
DATA_URI = re.compile(r"data:([^;,]*)((?:;[^;,=]+=[^;,]*)*);base64,(.*)", re.DOTALL)
TRIGGER_FLAGS = ("skip_triggers", "skip_invalid_subscriptions", "detect_geo")
# The scenario (workflow) whose id the page's table shows, and the resource and pixel ids the pages' examples use:
# what a database holds unless the emulator is built with its own (inference)
DOC_WORKFLOW = 1
DOC_RESOURCES = frozenset({1, 3, 7, 24, 27})
DOC_PIXELS = frozenset({1})
_Record = TypeVar("_Record")


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
    # suppresses import-event triggers only, never this launch (inference, docs/contracts/altcraft.md#trigger-launch)
    skip_triggers: bool = False
    batch: bool = False


@dataclass(frozen=True)
class WorkflowEnrolment:
    """One profile engaged in a scenario by workflows/import_and_start(_batch)."""

    workflow_id: int
    db_id: int  # the scenario's database, where the profile was imported
    profile_id: str
    matched_by: dict[str, Any]
    enrolled_at: float  # the request's time (the scenario pages document no `timeout`)
    content: dict[str, Any] | None = None
    custom_data: dict[str, Any] | None = None
    attachments: tuple[Attachment, ...] = ()
    skip_triggers: bool = False  # suppresses import-event triggers and scenarios, never this enrolment (inference)
    batch: bool = False


@dataclass(frozen=True)
class Deletion:
    """One profile removed by profiles/delete: the profile as it was, its subscriptions with it."""

    db_id: int
    profile_id: str
    matched_by: dict[str, Any]  # the matching mode and the key values that found it
    profile: dict[str, Any]


@dataclass(frozen=True)
class SubscriptionChange:
    """One subscriptions/set call taken: which subscription, whether it was new, what the call sent."""

    db_id: int
    profile_id: str
    resource_id: int
    channel: str
    created: bool  # False: an existing subscription was edited
    fields: dict[str, Any]  # status (as its word), priority, custom_fields, cats, date, ip, url, as sent
    skip_triggers: bool = False


@dataclass(frozen=True)
class GoalEvent:
    """One goal registered by goals/register: one per call with `goal`, one per item of `goals`."""

    db_id: int
    pixel_id: int
    profile_id: str
    goal: str
    value: float | None
    registered_at: float  # `date` as a Unix time, else the request's time
    matched_by: dict[str, Any]
    origin: dict[str, str]  # referer, user_agent, accept_language, client_ip: those the call sent
    date: str | None = None  # as sent
    pixel_data: dict[str, Any] | None = None
    vendor: str | None = None
    is_test: bool = False
    skip_triggers: bool = False
    enrich_profile: bool = True  # the page's default; recorded, the profile is not enriched (not emulated)


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
        workflows: dict[int, int] | None = None,
        resources: set[int] | None = None,
        pixels: set[int] | None = None,
    ) -> None:
        super().__init__(port, rate_limit, keep=keep)
        self.tokens = tokens or {"sandbox-altcraft-token": {1}}  # token → databases it may write to
        self.max_items, self.max_bytes = max_items, max_bytes
        self._databases: dict[int, list[dict[str, Any]]] = {db: [] for dbs in self.tokens.values() for db in dbs}
        # trigger id → the database (the trigger's list_id) its imports go to; by default trigger 13, the documented
        # example id, on the lowest database (inference)
        self.triggers = dict(triggers) if triggers is not None else {13: min(self._databases)}
        # workflow (scenario) id → its database, like triggers; by default workflow 1, the documented example id
        self.workflows = dict(workflows) if workflows is not None else {DOC_WORKFLOW: min(self._databases)}
        for db in [*self.triggers.values(), *self.workflows.values()]:
            self._databases.setdefault(db, [])
        # the resources subscriptions/set may name and the pixels goals/register may name, in every database (their
        # link to one database is not emulated)
        self.resources = set(resources) if resources is not None else set(DOC_RESOURCES)
        self.pixels = set(pixels) if pixels is not None else set(DOC_PIXELS)
        self.max_attach_bytes = max_attach_bytes  # "exception for files — 100 Mb" [DOC]
        # database → the custom fields it declares; a database not named here declares DEFAULT_CUSTOM_FIELDS
        self.custom_fields = {db: set(names) for db, names in (custom_fields or {}).items()}
        # strict: an undeclared custom field refuses its profile; lenient: it is stored, with a warning
        self.strict = strict
        self._launches: list[TriggerLaunch] = []
        self._enrolments: list[WorkflowEnrolment] = []
        self._deletions: list[Deletion] = []
        self._subscription_changes: list[SubscriptionChange] = []
        self._goals: list[GoalEvent] = []
        self.warnings: list[str] = []
        self._settings()

    def _settings(self) -> None:
        """What a test may change for the trigger, scenario, delete and goal methods; `reset` (through `clear`) puts
        it back."""
        self.clock: Callable[[], float] = time.time
        self.inactive_triggers: set[int] = set()  # known but inactive: refused with error 400 (inference)
        self.inactive_workflows: set[int] = set()  # the same for scenarios (inference)
        # profiles/delete needs a token whose role may delete profiles: these tokens' roles may not (403)
        self.tokens_without_delete: set[str] = set()
        # goals/register: the page forbids arrays in pixel_data, its own example holds one; True takes arrays of
        # plain values
        self.allow_scalar_arrays_in_pixel_data = False
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

    def _listed(self, records: list[_Record]) -> list[_Record]:
        """A copy of one of the recorded lists, taken under the lock."""
        with self.lock:
            return list(records)

    def _profile_ids(self, records: list[Any], owner: str, wanted: int) -> list[str]:
        """The profile ids of the records whose `owner` attribute (trigger, scenario, database id) is `wanted`, in
        order."""
        with self.lock:
            return [record.profile_id for record in records if getattr(record, owner) == wanted]

    @property
    def triggers_started(self) -> list[TriggerLaunch]:
        """Every trigger launch recorded by import_and_start(_batch), in order (none when `keep` is off)."""
        return self._listed(self._launches)

    def started(self, trigger_id: int) -> list[str]:
        """The profile ids trigger `trigger_id` was started for, in order."""
        return self._profile_ids(self._launches, "trigger_id", trigger_id)

    @property
    def enrolments(self) -> list[WorkflowEnrolment]:
        """Every scenario enrolment recorded by workflows/import_and_start(_batch), in order."""
        return self._listed(self._enrolments)

    def enrolled(self, workflow_id: int) -> list[str]:
        """The profile ids engaged in scenario `workflow_id`, in order (a profile engaged twice is listed twice)."""
        return self._profile_ids(self._enrolments, "workflow_id", workflow_id)

    @property
    def deletions(self) -> list[Deletion]:
        """Every profile profiles/delete removed, in order."""
        return self._listed(self._deletions)

    def deleted(self, db_id: int) -> list[str]:
        """The ids of the profiles deleted from database `db_id`, in order."""
        return self._profile_ids(self._deletions, "db_id", db_id)

    def subscriptions(self, db_id: int, profile_id: str) -> list[dict[str, Any]]:
        """The subscriptions of one profile as stored ([] when the profile is not in the database)."""
        with self.lock:
            found = [p for p in self._databases.get(db_id, []) if p["id"] == profile_id]
            return copy.deepcopy(found[0].get("subscriptions", [])) if found else []

    @property
    def subscription_changes(self) -> list[SubscriptionChange]:
        """Every subscriptions/set call taken, in order."""
        return self._listed(self._subscription_changes)

    @property
    def goals(self) -> list[GoalEvent]:
        """Every goal registered by goals/register, in order: a resent call is counted again."""
        return self._listed(self._goals)

    def clear(self) -> None:
        for profiles in self._databases.values():
            profiles.clear()
        self._launches.clear()
        self._enrolments.clear()
        self._deletions.clear()
        self._subscription_changes.clear()
        self._goals.clear()
        self.warnings.clear()
        self._settings()

    def state(self) -> dict[str, Any]:
        started: dict[int, int] = {}
        for launch in self._launches:
            started[launch.trigger_id] = started.get(launch.trigger_id, 0) + 1
        enrolled: dict[int, int] = {}
        for enrolment in self._enrolments:
            enrolled[enrolment.workflow_id] = enrolled.get(enrolment.workflow_id, 0) + 1
        return {
            "profiles": {db: len(profiles) for db, profiles in self._databases.items()},
            "triggers_started": started,
            "workflows_started": enrolled,
            "deleted": len(self._deletions),
            "subscriptions_set": len(self._subscription_changes),
            "goals": len(self._goals),
            "warnings": list(self.warnings),
        }

    def failure_payload(self, failure: ScriptedFailure) -> Any:
        return {"error": failure.status, "error_text": failure.body or "scripted failure"}

    # --- the API -----------------------------------------------------------------------------------------------
    def _routes(self) -> dict[str, Callable[[dict[str, str], dict[str, str], bytes], Handled]]:
        """The methods answered outside profiles/{import,update}(_batch), by name (without a trailing slash)."""
        return {
            "campaigns/triggers/import_and_start": partial(self._import_and_start, TRIGGER, False),
            "campaigns/triggers/import_and_start_batch": partial(self._import_and_start, TRIGGER, True),
            "workflows/import_and_start": partial(self._import_and_start, WORKFLOW, False),
            "workflows/import_and_start_batch": partial(self._import_and_start, WORKFLOW, True),
            "profiles/add": partial(self._add, False),
            "profiles/add_batch": partial(self._add, True),
            "profiles/delete": self._delete,
            # no batch form: none is documented (the Subscriptions menu lists none), so subscriptions/set_batch is 404
            "subscriptions/set": self._set_subscription,
            "goals/register": self._register_goal,
        }

    def handle(self, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> Handled:
        name = path.removeprefix(API_PREFIX).rstrip("/") if path.startswith(API_PREFIX) else ""
        route = self._routes().get(name)
        if route is not None:
            return route(query, headers, body)
        method = path.removeprefix(PREFIX).rstrip("/") if path.startswith(PREFIX) else ""
        if method not in METHODS:
            raise _fail(404, f"unknown method {path}")
        update, batch = METHODS[method]
        request = _json_object(headers, body, self.max_bytes, too_large=400)
        db = self._database(request, headers, query)
        # inference (strict reading): a parameter the method's page does not list is refused, not ignored
        _refuse_unknown(request, PARAMETERS[method], f"profiles/{method}")
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

    # --- campaigns/triggers/import_and_start(_batch), workflows/import_and_start(_batch) ---------------------------
    # docs/contracts/altcraft.md#trigger-launch, #trigger-batch and #emulator; the scenario form:
    # https://guides.altcraft.com/en/developer-guide/automation-scenarios/28934227 (single),
    # https://guides.altcraft.com/en/v72/developer-guide/automation-scenarios/33063492 (batch)
    def _import_and_start(
        self, campaign: Campaign, batch: bool, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Handled:
        # XML is documented too (docs/contracts/altcraft.md#transport) but not emulated: the sandbox speaks JSON only,
        # as its profile routes do
        request = _json_object(headers, body, self.max_attach_bytes, too_large=413)
        token = self._token(request, headers, query)
        ident, db = self._campaign(campaign, request, token)
        unknown = set(request) - (campaign.batch if batch else campaign.single)
        if unknown:
            # inference (strict reading): what the method's table does not list is refused, so a misplaced or
            # misspelt parameter (add_to_segments, a profile field outside data, ...) is not silently dropped
            raise _fail(400, f"unknown parameters: {', '.join(sorted(unknown))}")
        if campaign is WORKFLOW:
            _check_format(request)
            if "db_id" in request and request["db_id"] != db:
                # one example of the scenario page sends db_id (the table does not list it): taken when it names
                # the scenario's database, refused otherwise rather than ignored (inference)
                raise _fail(400, f"db_id {request['db_id']!r} is not the database of workflow {ident}")
        launch = _launch_options(request, self.clock())
        if not launch["attachments"] and len(body) > self.max_bytes:
            # docs/contracts/altcraft.md#emulator (413 is a choice)
            raise _fail(413, f"the request is larger than {self.max_bytes} bytes")
        matching = _campaign_matching(campaign, request)
        if not batch:
            data = request.get("data", {} if campaign is WORKFLOW else None)  # "No" on the scenario page [DOC]
            if not isinstance(data, dict):
                raise _fail(400, "data is required (an object)" if campaign is TRIGGER else "data must be an object")
            keys: dict[str, Any] = {
                name: request[name] for name in ("email", "phone", "profile_id", "field_value") if name in request
            }
            profile_id, given = self._import_for_launch(db, request, matching, keys, campaign.implied(data))
            self._record(campaign, ident, db, profile_id, given, launch, request.get("custom_data"), batch)
            return 200, {}, {"error": 0, "error_text": OK, "profile_id": profile_id}, 1, 1
        return self._start_batch(campaign, ident, db, request, matching, launch)

    def _campaign(self, campaign: Campaign, request: dict[str, Any], token: str) -> tuple[int, int]:
        """The trigger (or scenario) the request names, and its database, checked."""
        ident = request.get(campaign.id_key)
        if not _integer(ident):
            raise _fail(400, f"{campaign.id_key} is required (an integer)")  # [DOC] int, required; "13" refused
        registry = self.triggers if campaign is TRIGGER else self.workflows
        inactive = self.inactive_triggers if campaign is TRIGGER else self.inactive_workflows
        if ident not in registry:
            # the code is undocumented: inference (docs/contracts/altcraft.md#answers)
            raise _fail(404, f"{campaign.kind} {ident} not found")
        # db_id is no parameter here: the import goes to the campaign's database (docs/contracts/altcraft.md#emulator)
        db = registry[ident]
        if db not in self.tokens[token]:
            raise _fail(403, f"No access to this {campaign.kind}")  # inference
        if ident in inactive:
            raise _fail(400, f"{campaign.kind} {ident} is not active")  # inference: the code is undocumented
        return ident, db

    def _start_batch(
        self,
        campaign: Campaign,
        ident: int,
        db: int,
        request: dict[str, Any],
        matching: str,
        launch: dict[str, Any],
    ) -> Handled:
        self._check_result_mode()
        items = request.get("data")
        if not isinstance(items, list) or not items:
            # EN "Yes", RU "Нет" [CONFLICT]: the strict reading makes it required (inference)
            raise _fail(400, 'data must be a non-empty array of {"data": {...}} items')
        if len(items) > self.max_items:
            # "not recommended" (scenario and add_batch pages), not forbidden: taken, with a warning
            # (docs/contracts/altcraft.md#emulator)
            self.warnings.append(
                f"{campaign.batch_method}: {len(items)} items, more than the recommended {self.max_items}"
            )
        results, taken = _per_item(
            items, lambda item: self._batch_item(campaign, ident, db, request, matching, item, launch)
        )
        # the batch answer is undocumented (docs/contracts/altcraft.md#trigger-batch): per-item objects as
        # profiles/add_batch answers (inference)
        return 200, {}, {"error": 0, "error_text": OK, "result": self._shaped(results)}, len(items), taken

    def _batch_item(
        self,
        campaign: Campaign,
        ident: int,
        db: int,
        request: dict[str, Any],
        matching: str,
        item: Any,
        launch: dict[str, Any],
    ) -> str:
        if not isinstance(item, dict):
            raise _fail(400, "a data array item must be an object")
        unknown = set(item) - DATA_ARRAY_KEYS
        if unknown:
            # inference: profile fields belong inside the item's own "data" object
            # (docs/contracts/altcraft.md#trigger-batch), not beside it
            raise _fail(400, f"unknown keys in a data array item: {', '.join(sorted(unknown))}")
        if "custom_request" in item:
            # [DOC] only "when no matching specified"; a Mongo query is beyond this sandbox, so it is refused
            raise _fail(400, "custom_request is not supported by the emulator")
        data = item.get("data")
        if not isinstance(data, dict):
            raise _fail(400, "each data array item needs a data object with the profile's fields")
        # docs/contracts/altcraft.md#emulator (inference): item-level keys first, then data.email / data.phones for the
        # email and phone modes; top-level email / phone / profile_id / field_value are not used for a batch item
        keys = {name: item[name] for name in ("email", "phone", "profile_id", "field_value") if name in item}
        if matching in ("email", "email_profile") and "email" not in keys and "email" in data:
            keys["email"] = data["email"]
        if matching == "phone" and "phone" not in keys and data.get("phones"):
            phones = data["phones"]
            keys["phone"] = phones[0] if isinstance(phones, list) else phones
        custom_data = item.get("custom_data", request.get("custom_data"))  # per item overrides the root [DOC]
        if not isinstance(custom_data, dict | None):
            raise _fail(400, "custom_data must be an object")
        profile_id, given = self._import_for_launch(db, request, matching, keys, campaign.implied(data))
        self._record(campaign, ident, db, profile_id, given, launch, custom_data, True)
        return profile_id

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
                # a community client: the real server takes "a@x;b@x" as one address, delivers nothing; strict: refused
                raise _fail(400, f"{address!r} is not one valid e-mail address")
        data = dict(data)
        if isinstance(data.get("phones"), str):
            # the batch example sends a string (docs/contracts/altcraft.md#trigger-batch): taken as one phone
            # (inference)
            data["phones"] = [data["phones"]]
        profile_id = self._apply(db, {**request, "matching": matching}, keys, data, False)
        needed = MATCHING[matching]
        given = {"matching": matching, **{n: (request if n == "field_name" else keys).get(n) for n in needed}}
        return profile_id, given

    def _record(
        self,
        campaign: Campaign,
        ident: int,
        db: int,
        profile_id: str,
        given: dict[str, Any],
        launch: dict[str, Any],
        custom_data: dict[str, Any] | None,
        batch: bool,
    ) -> None:
        if not self.keep:
            return
        shared: dict[str, Any] = {
            "db_id": db,
            "profile_id": profile_id,
            "matched_by": given,
            "content": launch["content"],
            "custom_data": copy.deepcopy(custom_data),
            "attachments": launch["attachments"],
            "skip_triggers": launch["skip_triggers"],
            "batch": batch,
        }
        if campaign is WORKFLOW:
            self._enrolments.append(WorkflowEnrolment(workflow_id=ident, enrolled_at=launch["scheduled_at"], **shared))
            return
        self._launches.append(TriggerLaunch(trigger_id=ident, scheduled_at=launch["scheduled_at"], **shared))

    # --- profiles/add, profiles/add_batch/ ----------------------------------------------------------------------
    # https://guides.altcraft.com/en/developer-guide/profiles/2195477 (add),
    # https://guides.altcraft.com/en/developer-guide/profiles/2195496 (add_batch)
    def _add(self, batch: bool, query: dict[str, str], headers: dict[str, str], body: bytes) -> Handled:
        request = _json_object(headers, body, self.max_bytes, too_large=400)
        db = self._database(request, headers, query)
        method = "add_batch" if batch else "add"
        _check_parameters(request, ADD_PARAMETERS, f"profiles/{method}")
        _check_flags(request, ("skip_triggers", "skip_invalid_subscriptions"))
        skip = bool(request.get("skip_invalid_subscriptions"))
        data = request.get("data")
        if not batch:
            # "Yes" in the table, though "if no data is specified — an empty profile will be created": data is
            # required, and {} makes the empty profile (the strict reading of both)
            if not isinstance(data, dict):
                raise _fail(400, "data is required (an object)")
            return 200, {}, {"error": 0, "error_text": OK, "profile_id": self._insert(db, data, skip)}, 1, 1
        self._check_result_mode()
        if not isinstance(data, list) or not data:
            raise _fail(400, "data must be a non-empty array of profiles")  # an empty batch adds nothing: refused
        if len(data) > self.max_items:
            raise _fail(400, f"more than {self.max_items} profiles in one batch")  # as import_batch (inference)
        results, taken = _per_item(data, lambda item: self._insert(db, _profile_object(item), skip))
        return 200, {}, {"error": 0, "error_text": OK, "result": self._shaped(results)}, len(data), taken

    def _insert(self, db: int, data: dict[str, Any], skip: bool) -> str:
        """A new profile with `data`: "the request does not look for existing records and adds any data other than
        those that duplicate the profile's unique field (email)" [DOC]."""
        profile: dict[str, Any] = {"id": secrets.token_hex(12)}
        for name, value in data.items():
            self._check_field(db, name)
            if name == "subscriptions":
                _subscribe(profile, value, skip)
            elif isinstance(value, dict) and "action" in value:
                # the add pages document plain values only; an update function on a profile that cannot exist yet
                # is refused (inference)
                raise _fail(400, f"update functions are not taken by profiles/add ({name})")
            else:
                _set(profile, name, value)
        email = profile.get("email")
        if isinstance(email, str) and not _single_address(email):
            raise _fail(400, f"{email!r} is not one valid e-mail address")
        if not self.keep:
            return str(profile["id"])  # a benchmark: checked and answered, not stored
        if email is not None and any(other.get("email") == email for other in self._databases[db]):
            raise _fail(409, f"a profile with email {email} already exists")  # the code is undocumented: inference
        self._databases[db].append(profile)
        return str(profile["id"])

    # --- profiles/delete: https://guides.altcraft.com/en/developer-guide/profiles/28936545 ------------------------
    def _delete(self, query: dict[str, str], headers: dict[str, str], body: bytes) -> Handled:
        request = _json_object(headers, body, self.max_bytes, too_large=400)
        db = self._database(request, headers, query)
        if self._token(request, headers, query) in self.tokens_without_delete:
            # "the role assigned to the token must allow deleting profiles" [DOC]; 403 is inference
            raise _fail(403, "No access: the token's role may not delete profiles")
        _check_parameters(request, DELETE_PARAMETERS, "profiles/delete")
        profile, given = self._find(db, request, DELETE_MATCHING)
        self._databases[db].remove(profile)
        self._deletions.append(Deletion(db, str(profile["id"]), given, profile))
        # the page's answer nests the id in `data`, unlike import and add
        return 200, {}, {"data": {"profile_id": profile["id"]}, "error": 0, "error_text": OK}, 1, 1

    def _find(self, db: int, request: dict[str, Any], modes: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The one stored profile a lookup method (delete, goals) names, and the keys it was found by. A deleted
        profile is no longer stored, so a second delete of it is "not found"."""
        matching = request.get("matching", "email")  # "By default - email" [DOC]
        if matching not in modes:
            # the page lists these modes only; the others are refused, not guessed (inference)
            raise _fail(400, f"matching must be one of {', '.join(modes)}")
        keys = _lookup_keys(request, matching)
        resource = request.get("resource_id")
        if resource is not None and not _integer(resource):
            raise _fail(400, "resource_id must be an integer")
        found = [p for p in self._databases[db] if _matches(_narrowed(p, resource), matching, keys)]
        if not found:
            raise _fail(404, "profile not found")  # the code is undocumented for these methods: inference
        if len(found) > 1:
            raise _fail(409, "more than one profile matches")  # as quick import documents it (inference)
        return found[0], {"matching": matching, **keys}

    # --- subscriptions/set: https://guides.altcraft.com/en/developer-guide/profiles/subscriptions/2195519 ---------
    def _set_subscription(self, query: dict[str, str], headers: dict[str, str], body: bytes) -> Handled:
        request = _json_object(headers, body, self.max_bytes, too_large=400)
        db = self._database(request, headers, query)
        # `matching` is unknown here: the method addresses the profile by profile_id only
        _check_parameters(request, SET_PARAMETERS, "subscriptions/set")
        profile_id, resource = request.get("profile_id"), request.get("resource_id")
        if not isinstance(profile_id, str) or not profile_id:
            raise _fail(400, "profile_id is required (a string)")
        if not _integer(resource):
            raise _fail(400, "resource_id is required (an integer)")
        identity = _subscription_identity(request)
        change = _subscription_fields(request)
        _check_flags(request, ("skip_triggers",))
        if resource not in self.resources:
            raise _fail(404, f"resource {resource} not found")  # the code is undocumented: inference
        profile = next((p for p in self._databases[db] if p["id"] == profile_id), None)
        if profile is None:
            raise _fail(404, "profile not found")  # inference
        created = _put_subscription(profile, {"resource_id": resource, **identity}, change)
        if self.keep:
            self._subscription_changes.append(
                SubscriptionChange(
                    db, profile_id, resource, identity["channel"], created, change, bool(request.get("skip_triggers"))
                )
            )
        # the answer could not be read; the bare envelope its sibling subscriptions/delete documents (inference)
        return 200, {}, {"error": 0, "error_text": OK}, 1, 1

    # --- goals/register: https://guides.altcraft.com/en/developer-guide/goals/2195843 ----------------------------
    def _register_goal(self, query: dict[str, str], headers: dict[str, str], body: bytes) -> Handled:
        request = _json_object(headers, body, self.max_bytes, too_large=400)
        db = self._database(request, headers, query)
        _check_parameters(request, GOAL_PARAMETERS, "goals/register")
        pixel = request.get("pixel_id")
        if not _integer(pixel):
            raise _fail(400, "pixel_id is required (an integer)")
        goals = _goal_items(request)
        details = _goal_details(request, self.allow_scalar_arrays_in_pixel_data)
        if pixel not in self.pixels:
            raise _fail(404, f"pixel {pixel} not found")  # the code is undocumented: inference
        # an unknown profile is 404: whether the real server creates one or drops the event is not documented
        profile, given = self._find(db, request, GOAL_MATCHING)
        at = _rfc3339(request["date"]) if "date" in request else None
        for goal, value in goals:
            if self.keep:
                self._goals.append(
                    GoalEvent(
                        **details,
                        db_id=db,
                        pixel_id=pixel,
                        profile_id=str(profile["id"]),
                        goal=goal,
                        value=value,
                        registered_at=self.clock() if at is None else at,
                        matched_by=dict(given),
                    )
                )
        # the answer could not be read; the bare envelope (inference)
        return 200, {}, {"error": 0, "error_text": OK}, 1, 1


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
    "db_id",  # not a parameter of the method; tolerated and ignored (docs/contracts/altcraft.md#emulator)
}
BATCH_PARAMETERS = SINGLE_PARAMETERS  # the batch page: "the same table" as the single launch's, except for data [DOC]
# docs/contracts/altcraft.md#trigger-batch
DATA_ARRAY_KEYS = {"data", "email", "phone", "profile_id", "field_value", "custom_request", "custom_data"}
# data + name [DOC]; file_key, mimetype from workflows (docs/contracts/altcraft.md#trigger-launch)
ATTACH_KEYS = {"data", "name", "file_key", "mimetype"}


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
            # bounds are undocumented: missing keys count 0, negatives are refused (inference,
            # docs/contracts/altcraft.md#trigger-launch)
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


# --- workflows/import_and_start(_batch): what the scenario pages allow ---------------------------------------------
# https://guides.altcraft.com/en/developer-guide/automation-scenarios/28934227: the trigger form's table with
# workflow_id for trigger_id, `format` and `custom_data`, and neither `resource_id` nor `timeout` (refused: a client
# must not believe it delayed or narrowed anything); db_id appears in one example (checked in _import_and_start)
WORKFLOW_PARAMETERS = frozenset(
    {
        *("token", "format", "content", "workflow_id", "matching", "profile_id", "email", "phone"),
        *("field_name", "field_value", "data", "skip_triggers", "skip_invalid_subscriptions", "detect_geo"),
        *("custom_data", "attach", "db_id"),
    }
)
# subscription keys that name a channel other than e-mail (see _implied_channels)
OTHER_IDENTITIES = frozenset({"phone", "provider", "subscription_id", "cc_data"})


@dataclass(frozen=True)
class Campaign:
    """What tells a trigger launch from a scenario enrolment; both import the profile the same way."""

    kind: str  # "trigger" or "workflow", as answers name it
    id_key: str  # the parameter naming it
    single: frozenset[str]  # the parameters of the single form
    batch: frozenset[str]  # those of the batch form
    batch_method: str  # the batch method's name, for warnings

    def implied(self, data: dict[str, Any]) -> dict[str, Any]:
        return _implied_channels(data) if self.kind == "workflow" else data


TRIGGER = Campaign(
    "trigger", "trigger_id", frozenset(SINGLE_PARAMETERS), frozenset(BATCH_PARAMETERS), "import_and_start_batch"
)
# the batch page's readable table is the single form's (cut before its end): the same parameters (inference)
WORKFLOW = Campaign(
    "workflow", "workflow_id", WORKFLOW_PARAMETERS, WORKFLOW_PARAMETERS, "workflows/import_and_start_batch"
)


def _campaign_matching(campaign: Campaign, request: dict[str, Any]) -> str:
    if "matching" not in request:
        if campaign is WORKFLOW:
            raise _fail(400, "matching is required")  # "Yes" on the scenario page, no default [DOC]
        return "email"  # "By default - email" [DOC]
    matching = request["matching"]
    # the scenario pages show email (and email_profile on the task page): the trigger form's five modes (inference)
    if matching not in TRIGGER_MATCHING:
        raise _fail(400, f"matching must be one of {', '.join(TRIGGER_MATCHING)}")
    if matching == "custom" and not (isinstance(request.get("field_name"), str) and request["field_name"]):
        raise _fail(400, "matching custom requires field_name")
    return str(matching)


def _implied_channels(data: dict[str, Any]) -> dict[str, Any]:
    """The scenario page's example subscription is `{"email": …, "resource_id": 7}`, without `channel`: a
    subscription without a channel, with an e-mail and no other channel's identity, is an e-mail subscription
    (inference); any other stays as sent (and is refused for its missing channel)."""
    subs = data.get("subscriptions")
    if not isinstance(subs, list):
        return data
    implied = [
        {"channel": "email", **sub}
        if isinstance(sub, dict)
        and "channel" not in sub
        and ("email" in sub or "email_data" in sub)
        and not OTHER_IDENTITIES & set(sub)
        else sub
        for sub in subs
    ]
    return {**data, "subscriptions": implied}


# --- what the add, delete, subscription and goal methods share -----------------------------------------------------
# `format`: "the response format can be chosen … via a parameter" (https://guides.altcraft.com/en/developer-guide/
# api-interaction), listed by the subscription and scenario pages; the emulator answers JSON only
def _check_format(request: dict[str, Any]) -> None:
    if "format" in request and request["format"] != "json":
        raise _fail(400, "format: the emulator answers JSON only")


def _refuse_unknown(request: dict[str, Any], allowed: set[str] | frozenset[str], method: str) -> None:
    unknown = set(request) - allowed
    if unknown:
        raise _fail(400, f"unknown parameters for {method}: {', '.join(sorted(unknown))}")


def _check_parameters(request: dict[str, Any], allowed: set[str] | frozenset[str], method: str) -> None:
    """Refuses a parameter the method's page does not list, and a `format` other than JSON."""
    _refuse_unknown(request, allowed, method)
    _check_format(request)


def _check_flags(request: dict[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        if name in request and not isinstance(request[name], bool):
            raise _fail(400, f"{name} must be a boolean")  # bool [DOC]


def _per_item(items: list[Any], apply: Callable[[Any], str]) -> tuple[list[dict[str, Any]], int]:
    """A batch answer's results, one per item in order ("result" with "occurring errors and profile IDs" [DOC]),
    and how many items were taken."""
    results = []
    for item in items:
        try:
            results.append({"error": 0, "error_text": OK, "profile_id": apply(item)})
        except RefusalError as refusal:
            results.append(refusal.payload)
    return results, sum(1 for result in results if result["error"] == 0)


def _profile_object(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise _fail(400, "a batch item must be an object")
    return item


# profiles/add (…/profiles/2195477) and add_batch (…/profiles/2195496): token, db_id, data, skip_triggers,
# skip_invalid_subscriptions; no matching (nothing is looked for)
ADD_PARAMETERS = frozenset({"token", "db_id", "data", "skip_triggers", "skip_invalid_subscriptions", "format"})
LOOKUP_KEYS = ("email", "phone", "profile_id", "field_name", "field_value")
# profiles/delete (…/profiles/28936545) lists four modes; goals/register (…/goals/2195843) five
DELETE_MATCHING = ("email", "phone", "profile_id", "custom")
GOAL_MATCHING = ("email", "email_profile", "phone", "profile_id", "custom")
DELETE_PARAMETERS = frozenset({"token", "db_id", "matching", *LOOKUP_KEYS, "resource_id", "format"})


def _lookup_keys(request: dict[str, Any], matching: str) -> dict[str, Any]:
    """The key values of `matching`, checked: the mode's keys all present, of their types, and no key of another
    mode (a request naming a profile two ways is refused, not resolved by one of them: inference)."""
    needed = MATCHING[matching]
    if any(request.get(name) in (None, "") for name in needed):
        raise _fail(400, f"matching {matching} requires {', '.join(needed)}")
    other = [name for name in LOOKUP_KEYS if name in request and name not in needed]
    if other:
        raise _fail(400, f"{', '.join(other)}: not a key of matching {matching}")
    keys = {name: request[name] for name in needed}
    for name in ("email", "phone", "profile_id", "field_name"):
        if name in keys and not isinstance(keys[name], str):
            raise _fail(400, f"{name} must be a string")
    value = keys.get("field_value")
    if value is not None and not (isinstance(value, str) or _integer(value)):
        raise _fail(400, "field_value must be a string or an integer")  # "int or string" [DOC]
    if "email" in keys and not _single_address(keys["email"]):
        raise _fail(400, f"{keys['email']!r} is not one valid e-mail address")
    return keys


def _narrowed(profile: dict[str, Any], resource: int | None) -> dict[str, Any]:
    """The profile as a lookup with `resource_id` sees it: "restricts email and phone matching to one resource's
    subscriptions" [DOC]; the profile's own fields still match."""
    if resource is None:
        return profile
    subs = [sub for sub in profile.get("subscriptions", []) if sub.get("resource_id") == resource]
    return {**profile, "subscriptions": subs}


# --- subscriptions/set (…/profiles/subscriptions/2195519) ------------------------------------------------------------
CHANNEL_IDENTITY = {
    "email": ("email",),
    "sms": ("phone",),
    "push": ("provider", "subscription_id"),
    "telegram_bot": ("cc_data",),
    "whatsapp": ("cc_data",),
    # viber and notify: from the subscription object page
    # (https://guides.altcraft.com/en/v72/developer-guide/objects/Subscription-status_2195807)
    "viber": ("cc_data",),
    "notify": ("cc_data",),
}
CC_DATA_KEY = {"telegram_bot": "id", "whatsapp": "phone", "viber": "phone", "notify": "phone"}
IDENTITY_KEYS = ("email", "phone", "provider", "subscription_id", "cc_data")
SET_PARAMETERS = frozenset(
    {
        *("token", "format", "db_id", "profile_id", "resource_id", "status", "priority", "custom_fields", "cats"),
        *("date", "ip", "url", "skip_triggers", "channel", *IDENTITY_KEYS),
    }
)
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _rfc3339(value: Any) -> float | None:
    """An RFC 3339 date-time ("2018-08-22T00:00:00.000Z") as a Unix time; None if it is not one."""
    if not isinstance(value, str) or not RFC3339.fullmatch(value):
        return None
    try:
        return datetime.fromisoformat(value.upper()).timestamp()
    except ValueError:
        return None  # "2018-02-30T…" has the shape but is no date


def _ip(value: Any) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _url(value: Any) -> bool:
    parts = urlsplit(value) if isinstance(value, str) else None
    return parts is not None and parts.scheme in ("http", "https") and bool(parts.netloc)


# the optional fields subscriptions/set writes, each with its check and what it must be
SET_FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    # "int" [DOC], 0 the highest; a negative priority is refused (inference)
    "priority": (lambda value: _integer(value) and value >= 0, "a non-negative integer"),
    "custom_fields": (lambda value: isinstance(value, dict), "an object"),
    "cats": (_strings, "an array of strings"),
    "date": (lambda value: _rfc3339(value) is not None, "an RFC 3339 date-time"),
    "ip": (_ip, "an IP address"),
    "url": (_url, "an http(s) URL"),
}


def _subscription_identity(request: dict[str, Any]) -> dict[str, Any]:
    """The channel and its identity fields: which of the profile's subscriptions in the resource is meant. The channel
    tables have no "Required" column; without them the call names no subscription, so they are required (inference),
    and another channel's identity field is refused."""
    channel = request.get("channel")
    if channel not in CHANNEL_IDENTITY:
        raise _fail(400, f"channel is required: one of {', '.join(CHANNEL_IDENTITY)}")
    needed = CHANNEL_IDENTITY[channel]
    other = [name for name in IDENTITY_KEYS if name in request and name not in needed]
    if other:
        raise _fail(400, f"{', '.join(other)}: not an identity field of the {channel} channel")
    for name in needed:
        value = request.get(name)
        if name == "cc_data":
            key = CC_DATA_KEY[channel]
            inner = value.get(key) if isinstance(value, dict) and set(value) == {key} else None
            if not ((isinstance(inner, str) and inner) or _integer(inner)):
                raise _fail(400, f'the {channel} channel needs cc_data {{"{key}": …}}')
        elif not isinstance(value, str) or not value:
            raise _fail(400, f"the {channel} channel needs {name} (a string)")
    if channel == "email" and not _single_address(request["email"]):
        raise _fail(400, f"{request['email']!r} is not one valid e-mail address")
    return {"channel": channel, **{name: request[name] for name in needed}}


def _subscription_fields(request: dict[str, Any]) -> dict[str, Any]:
    """What the call writes besides the identity, checked; `status` stored as its word (the pages' examples show
    words), and only when sent ("it overwrites the current one" [DOC])."""
    change: dict[str, Any] = {}
    if "status" in request:
        status = request["status"]
        words = list(STATUSES)
        if isinstance(status, str) and status in STATUSES:
            change["status"] = status
        elif _integer(status) and 0 <= status < len(words):
            change["status"] = words[status]
        else:
            # word or number 0–6 (…/objects/Subscription-status_2195807); -1 "unchanged" is a batch convention
            raise _fail(400, f"invalid subscription status {status!r}")
    for name, (check, what) in SET_FIELDS.items():
        if name in request:
            if not check(request[name]):
                raise _fail(400, f"{name} must be {what}")
            change[name] = copy.deepcopy(request[name])
    return change


def _put_subscription(profile: dict[str, Any], identity: dict[str, Any], change: dict[str, Any]) -> bool:
    """Writes the subscription keyed by (resource, channel, identity): an existing one gets only the fields sent, a
    new one is `subscribed` unless `status` says otherwise (the resource's double opt-in is not emulated; inference).
    True when it is new. Setting the same twice leaves the same state."""
    subs = profile.setdefault("subscriptions", [])
    for position, sub in enumerate(subs):
        own = {**sub, "email": sub.get("email") or (sub.get("email_data") or {}).get("email")}
        if all(own.get(name) == value for name, value in identity.items()):
            subs[position] = {**sub, **change}
            return False
    subs.append({**identity, "status": "subscribed", **change})
    return True


# --- goals/register (…/goals/2195843) ------------------------------------------------------------------------------
GOAL_FLAGS = ("skip_triggers", "enrich_profile", "is_test")
GOAL_ORIGIN = ("referer", "user_agent", "accept_language", "client_ip")
GOAL_PARAMETERS = frozenset(
    {
        *("token", "format", "db_id", "pixel_id", "goal", "goals", "value", "date", *GOAL_ORIGIN),
        *("matching", *LOOKUP_KEYS, "pixel_data", *GOAL_FLAGS, "vendor"),
    }
)  # the newer page's table is cut at "externa…": that parameter is unknown, so refused
GOAL_NAME_LIMIT = 128
# the pixel guide's characters for goal names (https://guides.altcraft.com/en/user-guide/pixels/9406180): Latin and
# Cyrillic letters, spaces and tabs, currency symbols and these; digits too, which the list omits but examples use
GOAL_NAME_MARKS = frozenset(" \t!#$%&*+-.,:;'=?@^_()[]/\\|")
PIXEL_DATA_LIMIT = 1024  # "at most 1 KB" [DOC], counted in bytes of compact UTF-8 JSON (inference)


def _goal_name(name: Any) -> str:
    if not isinstance(name, str) or not 0 < len(name) <= GOAL_NAME_LIMIT:
        raise _fail(400, f"a goal name is a string of 1 to {GOAL_NAME_LIMIT} characters")
    for char in name:
        letter = (char.isascii() and char.isalpha()) or "\u0400" <= char <= "\u04ff"
        if not (letter or char in "0123456789" or char in GOAL_NAME_MARKS or unicodedata.category(char) == "Sc"):
            raise _fail(400, f"goal name {name!r}: {char!r} is not allowed")
    return name


def _goal_value(value: Any) -> float | None:
    if value is not None and not _number(value):
        raise _fail(400, "a goal's value must be a number")  # float [DOC], negative allowed
    return None if value is None else float(value)


def _goal_items(request: dict[str, Any]) -> list[tuple[str, float | None]]:
    """The goals one call registers: `goal` (with `value`) or `goals`. The page marks both optional and does not say
    how they combine: exactly one of them is taken, and `value` only beside `goal` (inference)."""
    if ("goal" in request) == ("goals" in request):
        raise _fail(400, "one of goal and goals is required, not both")
    if "goal" in request:
        return [(_goal_name(request["goal"]), _goal_value(request.get("value")))]
    if "value" in request:
        raise _fail(400, "value goes with goal; each goals item carries its own")
    items = request["goals"]
    if not isinstance(items, list) or not items:
        raise _fail(400, 'goals must be a non-empty array of {"goal": …, "value": …} objects')
    goals = []
    for item in items:
        if not isinstance(item, dict) or "goal" not in item or set(item) - {"goal", "value"}:
            raise _fail(400, 'a goals item is {"goal": name, "value": number}, value optional')
        goals.append((_goal_name(item["goal"]), _goal_value(item.get("value"))))
    return goals


def _pixel_data_problem(data: Any, allow_arrays: bool) -> str:
    """ "Must not contain nested objects or arrays. At most 1 KB." [DOC] (the example's array: see
    allow_scalar_arrays_in_pixel_data)."""
    if not isinstance(data, dict):
        return "pixel_data must be an object"
    for key, value in data.items():
        if isinstance(value, dict):
            return f"pixel_data.{key}: nested objects are not allowed"
        if isinstance(value, list) and not (allow_arrays and not any(isinstance(v, dict | list) for v in value)):
            return f"pixel_data.{key}: arrays are not allowed"
    size = len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())
    return f"pixel_data is {size} bytes, more than {PIXEL_DATA_LIMIT}" if size > PIXEL_DATA_LIMIT else ""


def _goal_details(request: dict[str, Any], allow_arrays: bool) -> dict[str, Any]:
    """The goal event's other fields, checked, as GoalEvent takes them."""
    _check_flags(request, GOAL_FLAGS)
    for name in (*GOAL_ORIGIN, "vendor"):
        if name in request and not isinstance(request[name], str):
            raise _fail(400, f"{name} must be a string")
    if "client_ip" in request and not _ip(request["client_ip"]):
        raise _fail(400, "client_ip must be an IP address")
    if "date" in request and _rfc3339(request["date"]) is None:
        raise _fail(400, "date must be an RFC 3339 date-time")  # "2006-01-25T15:04:05+07:00" [DOC]
    problem = _pixel_data_problem(request["pixel_data"], allow_arrays) if "pixel_data" in request else ""
    if problem:
        raise _fail(400, problem)
    return {
        "origin": {name: request[name] for name in GOAL_ORIGIN if name in request},
        "date": request.get("date"),
        "pixel_data": copy.deepcopy(request.get("pixel_data")),
        "vendor": request.get("vendor"),
        "is_test": request.get("is_test", False),
        "skip_triggers": request.get("skip_triggers", False),
        "enrich_profile": request.get("enrich_profile", True),
    }
