"""A strict emulator of the AppMetrica Post API (docs/contracts/appmetrica.md#emulator), on 127.0.0.1.

It is written from the spec, not from Courier's code, so it catches what Courier gets wrong:
403 for an unknown key or an application the key does not own; 400 for missing fields, both or neither of
profile_id / appmetrica_device_id, a bad session_type, event_json that is not a JSON object, more than 100,000
rows; profiles whose attributes are not a JSON object of scalars or whose appmetrica_1pd_* values are not SHA-256
hex; 429 past 30 requests per second; events older than 14 days are accepted but dropped, as the real API does.
Tests script failures with `fail_next`; people use GET /_emulator/state and POST /_emulator/fail.

Revenue, ad revenue and e-commerce (`/logs/v1/import/{revenue,adrevenue,ecommerce}[.csv]`) follow
docs/contracts/appmetrica.md (revenue, ad revenue, e-commerce, the emulator section): required fields, enumerations,
decimal(10,8) amounts,
the documented currency list, exactly one identity, the 14-day window, 100,000 rows; 200 with an empty body.
`doc_compat` also takes what the documentation's own samples do (both ids, CSV quoting inside the query string).
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.http_emulator import Handled, HttpEmulator, RefusalError, ScriptedFailure

MAX_ROWS = 100_000
WINDOW_SECONDS = 14 * 24 * 3600
SESSION_TYPES = {"foreground", "background"}
EVENT_PATHS = {"/logs/v1/import/events", "/logs/v1/import/events.csv"}
PROFILE_PATHS = {"/logs/v1/import/profiles", "/logs/v1/import/profiles.csv"}
# the Post API page names telegram_sha256 alone; both SDKs write telegram_sha256_0…9
# (docs/contracts/appmetrica.md#first-party)
HASHED_1PD = re.compile(r"appmetrica_1pd_(?:phone|email)_sha256_[0-9]|appmetrica_1pd_telegram_sha256(?:_[0-9])?")
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
OPTIONAL_INTS = ("mcc", "mnc")


class AppMetricaEmulator(HttpEmulator):
    def __init__(
        self, keys: dict[str, set[str]] | None = None, rate_limit: int | None = 30, port: int = 0, keep: bool = True
    ) -> None:
        super().__init__(port, rate_limit, keep=keep)
        self.keys = keys or {"sandbox-post-api-key": {"1111"}}  # post_api_key → application ids it may write to
        self._events: dict[str, list[dict[str, str]]] = {}
        self._profiles: dict[str, list[dict[str, Any]]] = {}  # rows, attributes parsed
        self.dropped: list[dict[str, Any]] = []
        self.poison: dict[str, str] = {}  # field → value: a request with such a row is refused whole (400)
        self._revenue: dict[str, list[dict[str, Any]]] = {}
        self._ad_revenue: dict[str, list[dict[str, Any]]] = {}
        self._ecommerce: dict[str, list[dict[str, Any]]] = {}
        self._purchase_stores = {"revenue": self._revenue, "adrevenue": self._ad_revenue, "ecommerce": self._ecommerce}
        self.flagged: list[dict[str, Any]] = []  # rows doc_compat took although strict reading refuses them
        self._settings()

    def _settings(self) -> None:
        """What a test may change for the purchase methods; `reset` (through `clear`) puts it back."""
        self.clock: Callable[[], float] = time.time  # "now" for the 14-day window of the purchase methods
        self.doc_compat = False  # take what the documented samples do: both ids, CSV-quoted query values
        self.known_ids: set[str] | None = None  # ids "seen by the SDK"; None: every id is known
        self.max_body_bytes = 1 << 30  # 1 GB [DOC]; larger bodies are answered 413 (inference: the code is a choice)

    def revenue(self, application_id: str) -> list[dict[str, Any]]:
        """In-app revenue rows taken for the application: column → value, defaults filled in."""
        with self.lock:
            return [dict(row) for row in self._revenue.get(application_id, [])]

    def ad_revenue(self, application_id: str) -> list[dict[str, Any]]:
        """Ad revenue rows taken for the application: column → value, defaults filled in."""
        with self.lock:
            return [dict(row) for row in self._ad_revenue.get(application_id, [])]

    def ecommerce(self, application_id: str) -> list[dict[str, Any]]:
        """E-commerce rows taken for the application: column → value; prices resolved along the fallback chain,
        array fields (`*_internal_*`, `product_promo_codes`) as lists of strings."""
        with self.lock:
            return [dict(row) for row in self._ecommerce.get(application_id, [])]

    def events(self, application_id: str) -> list[dict[str, str]]:
        with self.lock:
            return list(self._events.get(application_id, []))

    def profiles(self, application_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self._profiles.get(application_id, []))

    def clear(self) -> None:
        self.poison.clear()
        self._events.clear()
        self._profiles.clear()
        self.dropped.clear()
        for store in self._purchase_stores.values():
            store.clear()
        self.flagged.clear()
        self._settings()

    def state(self) -> dict[str, Any]:
        return {
            "events": {app: len(rows) for app, rows in self._events.items()},
            "profiles": {app: len(rows) for app, rows in self._profiles.items()},
            "revenue": {app: len(rows) for app, rows in self._revenue.items()},
            "ad_revenue": {app: len(rows) for app, rows in self._ad_revenue.items()},
            "ecommerce": {app: len(rows) for app, rows in self._ecommerce.items()},
            "dropped": list(self.dropped),
            "flagged": list(self.flagged),
        }

    def error_payload(self, status: int, message: str) -> Any:
        return _refusal(status, message).payload

    def failure_payload(self, failure: ScriptedFailure) -> Any:
        return {"message": failure.body or "scripted"}

    def handle(self, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> Handled:
        method = PURCHASE_PATHS.get(path)
        if method is not None:
            rows = self._accept_purchases(method, path, query, body)
            # docs/contracts/appmetrica.md#emulator: 200 with an empty body (no body is documented); the base sends
            # bytes as text/html
            return 200, {}, b"", rows, rows
        rows = self._accept(path, query, body)
        return 200, {}, {"status": "ok", "rows": rows}, rows, rows

    def _accept(self, path: str, query: dict[str, str], body: bytes) -> int:
        if path not in EVENT_PATHS | PROFILE_PATHS:
            raise _refusal(404, f"no such method: {path}")
        key = query.get("post_api_key", "")
        if key not in self.keys:
            raise _refusal(403, "missing or invalid post_api_key")
        defaults = {k: v for k, v in query.items() if k != "post_api_key"}
        rows = _csv_rows(body, defaults) if path.endswith(".csv") else [defaults]
        if len(rows) > MAX_ROWS:
            raise _refusal(400, f"more than {MAX_ROWS} rows in one request")
        for number, row in enumerate(rows, start=1):
            if any(row.get(name) == value for name, value in self.poison.items()):
                raise _refusal(400, f"row {number}: refused")
            if not row.get("application_id", "").isdigit():
                raise _refusal(400, f"row {number}: application_id must be an integer")
            if row["application_id"] not in self.keys[key]:
                raise _refusal(403, f"row {number}: the key does not own application_id")
        if path in PROFILE_PATHS:
            profiles = [_check_profile(row, number) for number, row in enumerate(rows, start=1)]
            for row in profiles:
                if self.keep:
                    self._profiles.setdefault(row["application_id"], []).append(row)
            return len(rows)
        now = time.time()
        kept: list[dict[str, str]] = []
        for number, row in enumerate(rows, start=1):
            _check_event(row, number)
            timestamp = int(row["event_timestamp"])
            if timestamp < now - WINDOW_SECONDS:
                self.dropped.append({"row": row, "reason": "older than 14 days"})
            elif timestamp > now + 24 * 3600:
                self.dropped.append({"row": row, "reason": "in the future"})
            else:
                kept.append(row)
        for row in kept:
            if self.keep:
                self._events.setdefault(row["application_id"], []).append(row)
        return len(rows)

    # --- revenue, ad revenue, e-commerce (docs/contracts/appmetrica.md#emulator)
    # -------------------------------------------
    def _accept_purchases(self, method: Purchase, path: str, query: dict[str, str], body: bytes) -> int:
        key = query.get("post_api_key", "")
        if key not in self.keys:
            raise _refusal(403, "missing or invalid post_api_key")
        if len(body) > self.max_body_bytes:
            raise _refusal(413, f"the body is larger than {self.max_body_bytes} bytes")
        defaults = {k: _unquoted(v) if self.doc_compat else v for k, v in query.items() if k != "post_api_key"}
        defaults = {k: v for k, v in defaults.items() if v != ""}
        # docs/contracts/appmetrica.md#emulator: a .csv path with an empty body carries its one record in the query
        # string, as the documented
        # samples do; a path without .csv ignores any body
        rows = _csv_table(body, defaults) if path.endswith(".csv") and body else [defaults]
        if len(rows) > MAX_ROWS:
            raise _refusal(400, f"more than {MAX_ROWS} rows in one request")  # inference: the events limit applies
        checked: list[dict[str, Any]] = []
        for number, row in enumerate(rows, start=1):
            if any(row.get(name) == value for name, value in self.poison.items()):
                raise _refusal(400, f"row {number}: refused")
            if not DIGITS.fullmatch(row.get("application_id", "")):
                raise _refusal(400, f"row {number}: application_id must be an integer")
            if row["application_id"] not in self.keys[key]:
                raise _refusal(403, f"row {number}: the key does not own application_id")
            checked.append(_check_purchase(method, row, number, self.doc_compat))
        now = self.clock()
        for row in checked:
            identity = row.get("profile_id", row.get("appmetrica_device_id", ""))
            timestamp = int(row["event_timestamp"])
            reason = ""
            if timestamp < now - WINDOW_SECONDS:
                reason = "older than 14 days"
            elif timestamp > now + 24 * 3600:
                reason = "in the future"  # inference: more than a day ahead is dropped, as the events route does
            elif self.known_ids is not None and identity not in self.known_ids:
                reason = "an identifier the SDK never sent"  # [DOC] restriction; silent handling is an inference
            if reason:
                self.dropped.append({"method": method.name, "row": row, "reason": reason})
                continue
            if "profile_id" in row and "appmetrica_device_id" in row:
                self.flagged.append(
                    {"method": method.name, "row": row, "reason": "both profile_id and appmetrica_device_id"}
                )
            if self.keep:
                self._purchase_stores[method.name].setdefault(row["application_id"], []).append(row)
        return len(rows)


def _csv_rows(body: bytes, defaults: dict[str, str]) -> list[dict[str, str]]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _refusal(400, "the body is not UTF-8") from None
    if text.startswith("\ufeff"):
        raise _refusal(400, "the body starts with a byte order mark")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = []
    for row in reader:
        if None in row or None in row.values():
            raise _refusal(400, f"row {reader.line_num}: cell count differs from the header")
        rows.append({**defaults, **{k: v for k, v in row.items() if v != ""}})
    return rows


def _check_event(row: dict[str, str], number: int) -> None:
    def refuse(message: str) -> RefusalError:
        return _refusal(400, f"row {number}: {message}")

    for name in ("event_name", "event_timestamp"):
        if not row.get(name):
            raise refuse(f"{name} is required")
    for name in ("event_timestamp", *OPTIONAL_INTS):
        if name in row and not row[name].isdigit():
            raise refuse(f"{name} must be an integer")
    if ("profile_id" in row) == ("appmetrica_device_id" in row):
        raise refuse("send exactly one of profile_id and appmetrica_device_id")
    if "appmetrica_device_id" in row and not row["appmetrica_device_id"].isdigit():
        raise refuse("appmetrica_device_id must be a number")
    if "session_type" in row and row["session_type"] not in SESSION_TYPES:
        raise refuse("session_type must be foreground or background")
    if "event_json" in row:
        try:
            parsed = json.loads(row["event_json"])
        except ValueError:
            raise refuse("event_json is not JSON") from None
        if not isinstance(parsed, dict):
            raise refuse("event_json must be a JSON object")


def _check_profile(row: dict[str, str], number: int) -> dict[str, Any]:
    def refuse(message: str) -> RefusalError:
        return _refusal(400, f"row {number}: {message}")

    if not row.get("profile_id"):
        raise refuse("profile_id is required")
    if "appmetrica_device_id" in row:
        raise refuse("the profiles method takes profile_id only")
    try:
        attributes = json.loads(row.get("attributes", ""))
    except ValueError:
        raise refuse("attributes must be JSON") from None
    if not isinstance(attributes, dict) or not attributes:
        raise refuse("attributes must be a non-empty JSON object")
    for name, value in attributes.items():
        if isinstance(value, dict | list) or value is None:
            raise refuse(f"attribute {name}: values must be strings, numbers or booleans")
        if name.startswith("appmetrica"):
            if not HASHED_1PD.fullmatch(name):
                raise refuse(f"attribute {name}: reserved name")
            if not (isinstance(value, str) and SHA256_HEX.fullmatch(value)):
                raise refuse(f"attribute {name}: must be 64 lowercase hex characters")
    return {"application_id": row["application_id"], "profile_id": row["profile_id"], "attributes": attributes}


def _refusal(status: int, message: str) -> RefusalError:
    """The envelope other AppMetrica APIs use (the Post API documents no bodies;
    docs/contracts/appmetrica.md#answers)."""
    kind = {400: "invalid_parameter", 403: "access_denied", 404: "not_found", 429: "quota"}.get(status, "error")
    return RefusalError(
        status, {"errors": [{"error_type": kind, "message": message}], "code": status, "message": message}
    )


# --- revenue, ad revenue, e-commerce: what the documentation allows ------------------------------------------------
DIGITS = re.compile(r"[0-9]+")
DECIMAL = re.compile(r"[0-9]{1,10}(?:\.[0-9]{1,8})?")  # decimal(10,8) [DOC]; no exponent, no bare ".5" (inference)
SIGNED_DECIMAL = re.compile(r"-?[0-9]{1,10}(?:\.[0-9]{1,8})?")  # inference: refunds may be negative (price only)
# more digits are milliseconds, not the seconds the API expects (docs/contracts/appmetrica.md#emulator)
MAX_TIMESTAMP = 9_999_999_999
MAX_DEVICE_ID = 2**64 - 1
PAYLOAD_BYTES = 30 * 1024  # "The maximum size is 30 KB" [DOC]; KB = 1,024 bytes is an inference
# docs/contracts/appmetrica.md#currencies: the 168 supported codes; the 23 "unsupported" ones (MRU, VES, ...) are simply
# not in the list
SUPPORTED_CURRENCIES = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTC BTN BWP BYR BYN BZD CAD
    CDF CHF CLF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GGP GHS GIP GMD GNF GTQ
    GYD HKD HNL HRK HTG HUF IDR ILS IMP INR IQD IRR ISK JEP JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR
    LRD LSL LTL LVL LYD MAD MDL MGA MKD MMK MNT MOP MRO MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK
    PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLL SOS SRD STD SVC SYP SZL THB TJS TMT TND TOP TRY
    TTD TWD TZS UAH UGX USD UYU UZS VEF VND VUV WST XAF XAG XAU XCD XDR XOF XPF YER ZAR ZMK ZMW ZWL"""
CURRENCIES = frozenset(SUPPORTED_CURRENCIES.split())
REVENUE_EVENT_TYPES = frozenset(
    {"one_time_purchase", "trial_started", "intro_started", "promo_started", "subscription_converted"}
    | {"subscription_started", "subscription_renewed", "cancellation", "uncancellation", "expired", "billing_issues"}
    | {"refund"}
    # docs/contracts/appmetrica.md#revenue; the export's names (trial_subscription_started, ...) are refused
)
# docs/contracts/appmetrica.md#ad-revenue
AD_TYPES = frozenset({"native", "banner", "rewarded", "interstitial", "mrec", "other"})
ECOM_EVENT_TYPES = frozenset(
    {"SHOW_SCREEN", "SHOW_PRODUCT_CARD", "SHOW_PRODUCT_DETAILS", "ADD_TO_CART", "REMOVE_FROM_CART", "BEGIN_CHECKOUT"}
    | {"PURCHASE"}
)  # docs/contracts/appmetrica.md#ecommerce, upper case exactly as listed (inference: lower case is refused)
DEVICE_FIELDS = (
    "session_type",
    "ios_ifa",
    "ios_ifv",
    "google_aid",
    "windows_aid",
    "os_name",
    "os_version",
    "device_manufacturer",
    "device_model",
    "device_type",
    "device_locale",
    "app_version_name",
    "app_package_name",
    "connection_type",
    "operator_name",
    "mcc",
    "mnc",
    "device_ipv6",
)
IDENTITY_FIELDS = ("application_id", "profile_id", "appmetrica_device_id", "event_timestamp")
PRICES = ("cart_item_price", "actual_price", "original_price")  # the e-commerce fallback chain, first to last
PRICE_PARTS = ("currency", "value", "internal_currency", "internal_value")
PATHS_N = tuple(f"{kind}_category_path_{n}" for kind in ("product", "screen") for n in range(1, 11))


@dataclass(frozen=True)
class Purchase:
    """One of the three methods: its documented columns and what each must look like."""

    name: str
    columns: tuple[str, ...]  # every documented column; others (account_id) are ignored, not stored
    required: tuple[str, ...]
    integers: tuple[str, ...]
    decimals: tuple[str, ...]
    enums: tuple[tuple[str, frozenset[str]], ...]
    currencies: tuple[str, ...]
    arrays: tuple[str, ...] = ()
    signed: tuple[str, ...] = ()  # decimals that may be negative


REVENUE = Purchase(
    name="revenue",
    columns=(
        *IDENTITY_FIELDS,
        *("revenue_event_type", "price", "currency", "product_id", "quantity", "payload", "transaction_id"),
        "order_id",
        *DEVICE_FIELDS,
    ),
    # currency and product_id: required in the request format, not starred in the table [CONFLICT]; strict reading
    required=("application_id", "revenue_event_type", "event_timestamp", "price", "currency", "product_id"),
    integers=("event_timestamp", "quantity", "mcc", "mnc"),
    decimals=("price",),
    signed=("price",),
    enums=(("revenue_event_type", REVENUE_EVENT_TYPES),),
    currencies=("currency",),
)
AD_REVENUE = Purchase(
    name="adrevenue",
    columns=(
        *IDENTITY_FIELDS,
        *("revenue", "currency", "ad_type", "ad_network", "ad_unit_id", "ad_unit_name", "ad_placement_id"),
        *("ad_placement_name", "precision", "payload"),
        *DEVICE_FIELDS,
    ),
    required=("application_id", "event_timestamp", "revenue", "currency", "ad_type"),
    integers=("event_timestamp", "mcc", "mnc"),
    decimals=("revenue",),
    enums=(("ad_type", AD_TYPES),),  # precision is an open set ("For example, ..."): not checked
    currencies=("currency",),
)
ECOMMERCE = Purchase(
    name="ecommerce",
    columns=(
        *IDENTITY_FIELDS,
        *("ecom_event_type", "order_id", "product_name", "cart_item_quantity"),
        *(
            f"{price}_{part}"
            for price in PRICES
            for part in ("currency", "value", "internal_currency", "internal_value")
        ),
        *("payload", "product_payload", "product_promo_codes", "product_sku", "screen_name", "screen_payload"),
        *PATHS_N,
        *DEVICE_FIELDS,
    ),
    required=(
        *("application_id", "event_timestamp", "ecom_event_type", "order_id", "product_name", "cart_item_quantity"),
        *("original_price_currency", "original_price_value"),
    ),
    integers=("event_timestamp", "cart_item_quantity", "mcc", "mnc"),
    # typed <int> but every sample is a decimal (0.5, 0.7, 1.05) [CONFLICT]: decimals accepted (inference)
    decimals=tuple(f"{price}_value" for price in PRICES),
    enums=(("ecom_event_type", ECOM_EVENT_TYPES),),
    currencies=tuple(f"{price}_currency" for price in PRICES),
    arrays=(*(f"{price}_internal_{part}" for price in PRICES for part in ("currency", "value")), "product_promo_codes"),
)
PURCHASE_PATHS = {
    f"/logs/v1/import/{method.name}{suffix}": method
    for method in (REVENUE, AD_REVENUE, ECOMMERCE)
    for suffix in ("", ".csv")
}


def _unquoted(value: str) -> str:
    """doc_compat: the samples copy CSV quoting into the query string (`payload="{""key"":""value_1""}"`)."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('""', '"')
    return value


def _csv_table(body: bytes, defaults: dict[str, str]) -> list[dict[str, str]]:
    """RFC 4180, the first line a header of names in any order; blank lines skipped; a row whose cell count differs
    from the header's, or a header naming a column twice, is refused (docs/contracts/appmetrica.md#emulator) — never
    repaired."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _refusal(400, "the body is not UTF-8") from None
    if text.startswith("\ufeff"):
        raise _refusal(400, "the body starts with a byte order mark")  # inference, as the events route
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, [])
        if not any(header):
            raise _refusal(400, "the body has no header line")
        if len(set(header)) != len(header):
            raise _refusal(400, "the header names a column twice")
        rows = []
        for cells in reader:
            if not cells:
                continue
            if len(cells) != len(header):
                raise _refusal(400, f"line {reader.line_num}: {len(cells)} cells, the header has {len(header)}")
            rows.append({**defaults, **{name: value for name, value in zip(header, cells, strict=True) if value}})
    except csv.Error as error:
        raise _refusal(400, f"line {reader.line_num}: {error}") from None
    return rows


def _array(value: str) -> list[str]:
    """`[a,b]` or a bare scalar (the samples give both; inference, docs/contracts/appmetrica.md#ecommerce)."""
    if value.startswith("[") and value.endswith("]"):
        inner = value[1:-1]
        return [item.strip() for item in inner.split(",")] if inner.strip() else []
    return [value]


def _truncated(value: str) -> str:
    data = value.encode()
    return value if len(data) <= PAYLOAD_BYTES else data[:PAYLOAD_BYTES].decode("utf-8", errors="ignore")


def _check_purchase(method: Purchase, row: dict[str, str], number: int, doc_compat: bool) -> dict[str, Any]:
    """The row as stored: documented columns only, defaults filled in; RefusalError (400) for what
    docs/contracts/appmetrica.md#emulator forbids."""

    def refuse(message: str) -> RefusalError:
        return _refusal(400, f"row {number}: {message}")

    for name in method.required:
        if not row.get(name):
            raise refuse(f"{name} is required")
    has_profile, has_device = "profile_id" in row, "appmetrica_device_id" in row
    if not has_profile and not has_device:
        raise refuse("one of profile_id and appmetrica_device_id is required")
    if has_profile and has_device and not doc_compat:
        raise refuse("send only one of profile_id and appmetrica_device_id")
    if has_device:
        device = row["appmetrica_device_id"]
        if not (re.fullmatch(r"[0-9]{1,20}", device) and int(device) <= MAX_DEVICE_ID):
            raise refuse("appmetrica_device_id must be an unsigned 64-bit decimal number")
    for name in method.integers:
        if name in row and not DIGITS.fullmatch(row[name]):
            raise refuse(f"{name} must be an integer")
    if int(row["event_timestamp"]) > MAX_TIMESTAMP:
        raise refuse("event_timestamp must be in seconds")
    if "quantity" in row and int(row["quantity"]) < 1:
        raise refuse("quantity must be at least 1")  # inference
    for name in method.decimals:
        pattern = SIGNED_DECIMAL if name in method.signed else DECIMAL
        if name in row and not pattern.fullmatch(row[name]):
            raise refuse(f"{name} must be a decimal(10,8) number")
    for name, allowed in method.enums:
        if row[name] not in allowed:
            raise refuse(f"{name} must be one of {', '.join(sorted(allowed))}")
    if row.get("session_type", "background") not in SESSION_TYPES:
        raise refuse("session_type must be foreground or background")
    for name in method.currencies:
        if name in row and row[name].upper() not in CURRENCIES:  # case-insensitive: the samples send usd (inference)
            raise refuse(f"{name}: {row[name]} is not a supported currency")
    stored: dict[str, Any] = {name: row[name] for name in method.columns if name in row}
    stored.setdefault("session_type", "background")  # "Default value is background" [DOC]
    if method is REVENUE:
        stored.setdefault("quantity", "1")  # "Default value: 1" [DOC]
    for name in ("payload", "product_payload", "screen_payload"):
        if name in stored:
            stored[name] = _truncated(stored[name])  # longer values "will be truncated" [DOC], not refused
    for name in method.arrays:
        if name in stored:
            stored[name] = _array(stored[name])
    for price in PRICES if method is ECOMMERCE else ():
        currencies, values = stored.get(f"{price}_internal_currency"), stored.get(f"{price}_internal_value")
        if (currencies is None) != (values is None) or len(currencies or []) != len(values or []):
            # inference: the i-th internal currency goes with the i-th internal value
            raise refuse(f"{price}_internal_currency and {price}_internal_value must pair one to one")
        if any(not DECIMAL.fullmatch(value) for value in values or []):
            raise refuse(f"{price}_internal_value must hold decimal numbers")  # inference
    if method is ECOMMERCE:
        # docs/contracts/appmetrica.md#emulator: cart_item_price_* ← actual_price_* ← original_price_*, field by field
        # [DOC], stored resolved
        for part in PRICE_PARTS:
            for later, earlier in (("actual_price", "original_price"), ("cart_item_price", "actual_price")):
                if f"{later}_{part}" not in stored and f"{earlier}_{part}" in stored:
                    stored[f"{later}_{part}"] = stored[f"{earlier}_{part}"]
    return stored
