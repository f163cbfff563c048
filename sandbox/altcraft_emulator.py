"""A strict emulator of the Altcraft profiles API (../shared/specs/altcraft-api.md §12), on 127.0.0.1.

Written from the spec, not from Courier's code: token in the body, a Bearer header or the query (401 missing,
403 unknown); `db_id` required (404 unknown); matching keys enforced per mode, `profile_id` never creates, two
matches are 409; update functions applied with type checks; subscriptions validated per channel; batches answered
item by item; 10,000 items and 10 MB per batch. Profiles live in memory, so tests check the resulting profile.
"""

from __future__ import annotations

import copy
import json
import secrets
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
    ) -> None:
        super().__init__(port, rate_limit, keep=keep)
        self.tokens = tokens or {"sandbox-altcraft-token": {1}}  # token → databases it may write to
        self.max_items, self.max_bytes = max_items, max_bytes
        self._databases: dict[int, list[dict[str, Any]]] = {db: [] for dbs in self.tokens.values() for db in dbs}

    # --- what tests read and seed ------------------------------------------------------------------------------
    def profiles(self, db_id: int) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self._databases.get(db_id, []))

    def add_profile(self, db_id: int, fields: dict[str, Any]) -> str:
        with self.lock:
            profile = {"id": secrets.token_hex(12), **copy.deepcopy(fields)}
            self._databases[db_id].append(profile)
            return str(profile["id"])

    def clear(self) -> None:
        for profiles in self._databases.values():
            profiles.clear()

    def state(self) -> dict[str, Any]:
        return {"profiles": {db: len(profiles) for db, profiles in self._databases.items()}}

    def failure_payload(self, failure: ScriptedFailure) -> Any:
        return {"error": failure.status, "error_text": failure.body or "scripted failure"}

    # --- the API -----------------------------------------------------------------------------------------------
    def handle(self, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> Handled:
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

    def _database(self, request: dict[str, Any], headers: dict[str, str], query: dict[str, str]) -> int:
        bearer = headers.get("authorization", "")
        token = request.get("token") or bearer.removeprefix("Bearer ").strip() or query.get("token")
        if not token:
            raise _fail(401, "API token required")
        if token not in self.tokens:
            raise _fail(403, "No access: invalid API token")
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
