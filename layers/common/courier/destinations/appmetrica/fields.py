"""What the Post API's event-like methods (events, revenue, ad revenue, e-commerce) share: the field conversions,
each taking a JSON or CSV value and returning the text to send, and the row rules (the application id and its
default, exactly one of the two user ids, the 14-day window, the device fields) in one preparer, `RowFormat`.

A conversion raises ValueError with a reason that never repeats the value (it may be personal data).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from itertools import repeat
from json.scanner import make_scanner
from operator import itemgetter, ne
from typing import Any, cast

from courier.destinations.appmetrica.csv_batch import csv_cell
from courier.destinations.values import MAX_DEPTH, MAX_TEXT_CHARS, compact_json, parse_json, too_deep
from courier.model import (
    CsvLine,
    CsvRow,
    CsvRun,
    Field,
    ForwardedLines,
    Prepared,
    PreparedRow,
    Preparer,
    Record,
    RowPreparer,
)
from courier.settings import Settings
from courier.sources.files import unquoted
from courier.sources.records import INT64_MAX, MAX_DIGITS, UINT64_MAX

Conversion = Callable[[Any], str]

# What the Post API's int fields hold is not documented ("int"); the bounds are those of the Logs API's columns
# (inference, README): application_id UInt32, mcc and mnc UInt16, quantities Int64, the device id UInt64.
UINT16_MAX, UINT32_MAX = 2**16 - 1, 2**32 - 1
# the Post API drops events older than 14 days (docs/contracts/appmetrica.md#time-window)
WINDOW_SECONDS = 14 * 24 * 3600
FUTURE_TOLERANCE_SECONDS = 24 * 3600
MILLISECONDS_FLOOR = 100_000_000_000  # 13 digits: year 5138 in seconds, 1973 in milliseconds


MAX_JSON_CHARS = 100_000


def text(value: Any) -> str:
    if isinstance(value, str):
        if len(value) > MAX_TEXT_CHARS:
            raise ValueError(f"is longer than {MAX_TEXT_CHARS} characters")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be text, not {type(value).__name__}")
    return str(value)


def _digits(chars: str) -> bool:
    """ASCII digits only: str.isdigit also takes '²' and other scripts' digits, which int() refuses or misreads."""
    return chars.isdigit() and chars.isascii()


def _whole_number(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _digits(value.strip()):
        if len(value.strip()) > MAX_DIGITS:  # never parsed
            raise ValueError(f"has more than {MAX_DIGITS} digits, more than any field holds")
        return int(value.strip())
    raise ValueError("must be a whole number")


def whole_number_up_to(maximum: int, minimum: int = 0) -> Conversion:
    """A whole number from `minimum` to `maximum` (the field's size)."""
    too_small = "must not be negative" if minimum == 0 else f"must be at least {minimum}"

    def check(value: Any) -> str:
        number = _whole_number(value)
        if number < minimum:
            raise ValueError(too_small)
        if number > maximum:
            raise ValueError(f"must be at most {maximum}")
        return value if isinstance(value, str) and _digits(value) else str(number)

    return check


whole_number = whole_number_up_to(INT64_MAX)


def application_id(value: Any) -> str:
    number = _whole_number(value)
    if not 0 < number <= UINT32_MAX:
        raise ValueError("must be a positive number (the id from the app's settings in AppMetrica)")
    return str(number)


def device_id(value: Any) -> str:
    """appmetrica_device_id is a uint64 that overflows int64: kept as decimal text."""
    number = _whole_number(value)
    if not 0 < number <= UINT64_MAX:
        raise ValueError("must be an unsigned 64-bit number")
    return str(number)


def json_object(value: Any) -> str:
    """An object (JSON) or JSON text of an object (CSV); JSON text is forwarded as written."""
    if isinstance(value, dict):
        if too_deep(value):
            raise ValueError(f"is nested more than {MAX_DEPTH} levels")
        dumped = compact_json(value)
        if len(dumped) > MAX_JSON_CHARS:
            raise ValueError(f"is longer than {MAX_JSON_CHARS} characters")
        return dumped
    if isinstance(value, str):
        if len(value) > MAX_JSON_CHARS:
            raise ValueError(f"is longer than {MAX_JSON_CHARS} characters")
        if too_deep(value):  # counted on the text first: deep JSON is never parsed recursively
            raise ValueError(f"is nested more than {MAX_DEPTH} levels")
        try:
            parsed = parse_json(value)
        except (ValueError, RecursionError):
            raise ValueError("is not valid JSON") from None
        if isinstance(parsed, dict):
            return value
    raise ValueError("must be a JSON object")


def one_of(*allowed: str, hint: str = "") -> Conversion:
    reason = f"must be one of: {', '.join(allowed)}" + (f" ({hint})" if hint else "")

    def check(value: Any) -> str:
        if value not in allowed:
            raise ValueError(reason)
        return str(value)

    check.allowed = frozenset(allowed)  # type: ignore[attr-defined]  # what a forwarded line is checked with
    return check


def _iso_seconds(value: str) -> int:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("must be Unix seconds or an ISO-8601 time such as 2026-11-22T10:00:00Z") from None
    if moment.tzinfo is None:  # a time without an offset is read as UTC, as the README says
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_timestamp(now: float) -> Any:
    """Unix seconds inside the Post API window; ISO-8601 converted; milliseconds refused."""
    oldest, latest = now - WINDOW_SECONDS, now + FUTURE_TOLERANCE_SECONDS
    low, high = str(int(oldest) + 1), str(int(latest))  # ten digits each until the year 2286

    def check(value: Any) -> str:
        if isinstance(value, str) and keeps(value):
            return value  # the hot path: Unix seconds inside the window, compared as text
        if isinstance(value, str):
            stripped = value.strip()
            seconds = int(stripped) if _digits(stripped) else _iso_seconds(stripped)
        else:
            seconds = _whole_number(value)
        if seconds >= MILLISECONDS_FLOOR:
            raise ValueError("looks like milliseconds; the Post API takes Unix seconds (divide by 1000)")
        if seconds < oldest:
            raise ValueError(
                f"is older than the Post API's 14-day window (oldest accepted now: {_utc(oldest)}); "
                "AppMetrica would drop it silently"
            )
        if seconds > latest:
            raise ValueError(f"is in the future (latest accepted now: {_utc(latest)})")
        return value if isinstance(value, str) and _digits(value) else str(seconds)

    def keeps(value: str) -> bool:
        return len(value) == len(low) == len(high) and low <= value <= high and _digits(value)  # '²' too: not ASCII

    def keeps_all(values: Sequence[str]) -> bool:  # keeps for every cell that is not blank, a column at once
        given = set(values)  # each distinct time once (a file's times repeat)
        given.discard("")
        if not given:
            return True
        same_length = len(low) == len(high) and set(map(len, given)) == {len(low)}
        return same_length and low <= min(given) and max(given) <= high and _digits("".join(given))

    check.keeps = keeps  # type: ignore[attr-defined]  # what a forwarded line is checked with: the hot path
    keeps.keeps_all = keeps_all  # type: ignore[attr-defined]  # and a run of them
    keeps.bounds = (low, high)  # type: ignore[attr-defined]  # and a block of lines, by a pattern
    return check


def convert_fields(
    record: Mapping[str, Any], conversions: Mapping[str, Callable[[Any], str]], out: dict[str, str] | None = None
) -> tuple[dict[str, str], list[str], set[str]]:
    """The record's fields that `conversions` knows, converted in the record's order after what `out` already
    holds (empty values count as absent), the reasons for those that failed, and their names."""
    out = {} if out is None else out
    errors: list[str] = []
    failed: set[str] = set()
    for name, value in record.items():
        convert = conversions.get(name)
        if convert is None or value is None or value == "":
            continue
        try:
            out[name] = convert(value)
        except ValueError as error:
            errors.append(f"{name}: {error}")
            failed.add(name)
    return out, errors, failed


def defaults(record: Mapping[str, Any], default_application_id: str) -> dict[str, str]:
    """What a prepared record starts with: the configured application id, first, when the record gives none."""
    given = record.get("application_id")
    return {"application_id": default_application_id} if default_application_id and given in (None, "") else {}


def require_application_id(out: dict[str, str], failed: set[str], errors: list[str]) -> None:
    if "application_id" not in out and "application_id" not in failed:
        errors.append("application_id: is required (or set APPMETRICA_APPLICATION_ID)")


at_least_one = whole_number_up_to(INT64_MAX, minimum=1)  # revenue's `quantity`


# decimal(10,8): "a decimal fraction with 10 digits before and 8 digits after the decimal point"
# (docs/contracts/appmetrica.md#decimal)
INTEGER_DIGITS, FRACTION_DIGITS = 10, 8
_PLAIN_DECIMAL = re.compile(r"-?[0-9]{1,10}(?:\.[0-9]{1,8})?")
_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?")
_DECIMAL_HELP = "must be a decimal number such as 12.5"


def decimal(negative: bool = False) -> Conversion:
    """A decimal(10,8) amount. Text already in that form is forwarded as written; other numbers (JSON numbers,
    `1e-4`, `+2`, `.5`, `2.50000000000`) are written in plain notation without trailing zeros. Never rounded: a
    value with more digits is refused."""

    def check(value: Any) -> str:
        if isinstance(value, str) and _PLAIN_DECIMAL.fullmatch(value) and (negative or value[0] != "-"):
            return value  # the usual cell
        plain = _plain_decimal(value)
        if plain.startswith("-") and not negative:
            raise ValueError("must not be negative")
        return plain

    return check


def _plain_decimal(value: Any) -> str:
    if isinstance(value, bool):
        raise ValueError(f"{_DECIMAL_HELP}, not a boolean")
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("must be a finite decimal number")
        number = Decimal(repr(value))  # the shortest text of the float: 0.1 stays 0.1
    elif isinstance(value, str):
        stripped = value.strip()
        if len(stripped) > 64 or not _DECIMAL_TEXT.fullmatch(stripped):
            raise ValueError(_DECIMAL_HELP)
        number = Decimal(stripped)
    else:
        raise ValueError(f"{_DECIMAL_HELP}, not {type(value).__name__}")
    if number.is_zero():
        return "0"
    sign, digits, finite_exponent = number.as_tuple()
    exponent = int(finite_exponent)  # never 'n' or 'F': NaN and infinities were refused above
    while exponent < 0 and digits[-1] == 0:  # trailing zeros after the point carry nothing
        digits, exponent = digits[:-1], exponent + 1
    if len(digits) + exponent > INTEGER_DIGITS:
        raise ValueError(f"has more than {INTEGER_DIGITS} digits before the decimal point (decimal(10,8))")
    if -exponent > FRACTION_DIGITS:
        raise ValueError(f"has more than {FRACTION_DIGITS} digits after the decimal point (decimal(10,8))")
    return format(Decimal((sign, digits, exponent)), "f")


# The currencies AppMetrica lists as supported (docs/contracts/appmetrica.md#currencies), and those it lists as not
# supported.
_LISTED = """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTC BTN BWP BYR BYN BZD CAD CDF
CHF CLF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GGP GHS GIP GMD GNF GTQ GYD
HKD HNL HRK HTG HUF IDR ILS IMP INR IQD IRR ISK JEP JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD
LSL LTL LVL LYD MAD MDL MGA MKD MMK MNT MOP MRO MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP
PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLL SOS SRD STD SVC SYP SZL THB TJS TMT TND TOP TRY TTD
TWD TZS UAH UGX USD UYU UZS VEF VND VUV WST XAF XAG XAU XCD XDR XOF XPF YER ZAR ZMK ZMW ZWL
"""
_LISTED_UNSUPPORTED = "BOV CHE CHW COU MRU MXV SSP STN USN USS UYI VES XAL XBA XBB XBC XBD XCP XFU XPD XPT XSU XUA"
CURRENCIES = frozenset(_LISTED.split())  # 168 codes
UNSUPPORTED_CURRENCIES = frozenset(_LISTED_UNSUPPORTED.split())


def currency(value: Any) -> str:
    """A code of AppMetrica's currency list, in any case, forwarded as written (inference: the documentation's
    samples send `usd` in lower case, and the golden client cases keep it)."""
    if not isinstance(value, str):
        raise ValueError("must be a currency code such as USD")
    stripped = value.strip()
    code = stripped.upper()
    if code in CURRENCIES:
        return stripped
    if code in UNSUPPORTED_CURRENCIES:
        raise ValueError("is a currency AppMetrica does not support (see its list of currencies)")
    raise ValueError("must be a three-letter currency code from AppMetrica's list, such as USD or RUB")


_NOT_IN_ITEMS = re.compile(r'[,\[\]"\r\n]')
MAX_ITEMS = 100  # inference: the documentation gives no limit on the Post API's arrays


def item(value: Any) -> str:
    """One element of a Post API array: text without commas, brackets or quotes (the array form has no escaping)."""
    converted = text(value).strip()
    if not converted:
        raise ValueError("must not be empty")
    if _NOT_IN_ITEMS.search(converted):
        raise ValueError("must not contain commas, brackets or quotes (write several values as [a,b])")
    return converted


def array_of(element: Conversion) -> Conversion:
    """The Post API's array: one value, or several written `[a,b]` (brackets, commas, no quotes: the only form the
    documentation shows, for product_promo_codes); a JSON array is written in that form. Every element goes through
    `element`; text already in the form is forwarded as written."""

    def convert(value: Any) -> str:
        if isinstance(value, list):
            items = value
        elif isinstance(value, str) and (stripped := value.strip()).startswith("[") and stripped.endswith("]"):
            items = stripped[1:-1].split(",")
        else:
            return element(value)
        if not items or len(items) > MAX_ITEMS:
            raise ValueError(f"must have 1 to {MAX_ITEMS} values")
        converted = []
        for one in items:
            try:
                converted.append(element(one.strip() if isinstance(one, str) else one))  # `[a, b]` is `[a,b]`
            except ValueError as error:
                raise ValueError(f"a value in the list {error}") from None
        return "[" + ",".join(converted) + "]"

    return convert


def array_length(converted: str) -> int:
    """How many values an `array_of` result holds (its elements never contain a comma)."""
    return converted.count(",") + 1 if converted.startswith("[") else 1


# "The maximum size is 30 KB. If the value exceeds this limit, it will be truncated by AppMetrica"
# (docs/contracts/appmetrica.md#payload).
MAX_PAYLOAD_BYTES = 30_000  # inference: 30 KB read as 30,000 bytes (the stricter reading), so nothing is truncated


def payload(value: Any) -> str:
    """A JSON object (inference: "additional information presented as key-value pairs") of at most 30 KB: refused
    above that rather than sent for AppMetrica to cut, which would leave broken JSON."""
    if isinstance(value, str) and len(value) > MAX_PAYLOAD_BYTES:
        raise ValueError("is larger than 30 KB; AppMetrica would truncate it")
    converted = json_object(value)
    if len(converted) * 4 > MAX_PAYLOAD_BYTES and len(converted.encode()) > MAX_PAYLOAD_BYTES:
        raise ValueError("is larger than 30 KB; AppMetrica would truncate it")
    return converted


# The rows' shared fields. Each endpoint's own fields come in a RowFormat; these surround them.

ID_FIELDS = frozenset(["profile_id", "appmetrica_device_id"])
HEAD: tuple[tuple[Field, Conversion | None], ...] = (
    (
        Field(
            "application_id",
            "whole number",
            "the app's id in AppMetrica (its Settings); may be left out when APPMETRICA_APPLICATION_ID is set",
            required=True,
        ),
        application_id,
    ),
    (Field("profile_id", "text", "the user's profile id, as the AppMetrica SDK sent it"), text),
    (
        Field("appmetrica_device_id", "whole number (unsigned 64-bit)", "AppMetrica's device id, as the SDK sent it"),
        device_id,
    ),
    (
        Field(
            "event_timestamp",
            "Unix seconds, or an ISO-8601 time (UTC when it has no offset)",
            "when it happened: within the last 14 days, at most a day ahead",
            required=True,
        ),
        None,  # made for each `now` (the window moves)
    ),
)
DEVICE: tuple[tuple[Field, Conversion], ...] = (
    (
        Field(
            "session_type",
            "one of: foreground, background",
            "foreground counts the user in the Events report; background (AppMetrica's default) counts the device",
        ),
        one_of("foreground", "background"),
    ),
    (Field("ios_ifa", "text", "iOS advertising id (IDFA), as received from the device"), text),
    (Field("ios_ifv", "text", "iOS vendor id (IDFV), as received from the device"), text),
    (Field("google_aid", "text", "Google advertising id, as received from the device"), text),
    (Field("windows_aid", "text", "Windows advertising id, as received from the device"), text),
    (Field("os_name", "text", "ios, android or windows"), text),
    (Field("os_version", "text", "the operating system's version"), text),
    (Field("device_manufacturer", "text", "the device's maker"), text),
    (Field("device_model", "text", "the device's model"), text),
    (Field("device_type", "text", "phone, tablet or unknown"), text),
    (Field("device_locale", "text", "the device's locale, such as en_US"), text),
    (Field("app_version_name", "text", "the app's version"), text),
    (Field("app_package_name", "text", "the app's package name or bundle id"), text),
    (Field("connection_type", "text", "wifi, cell or unknown"), text),
    (Field("operator_name", "text", "the mobile operator"), text),
    (Field("mcc", "whole number, 0–65535", "mobile country code"), whole_number_up_to(UINT16_MAX)),
    (Field("mnc", "whole number, 0–65535", "mobile network code"), whole_number_up_to(UINT16_MAX)),
    (Field("device_ipv6", "text", "the device's IPv6 address; IPv4 as ::ffff:a.b.c.d"), text),
)
RULES = (
    "exactly one of profile_id and appmetrica_device_id: the Post API takes only one",
    "event_timestamp at most 14 days old (AppMetrica drops older rows silently) and at most a day ahead; "
    "milliseconds are refused",
    "application_id may be left out when APPMETRICA_APPLICATION_ID is set",
    "an empty value counts as absent; fields not listed here are not sent",
)
BOTH_IDS = "profile_id: send exactly one of profile_id and appmetrica_device_id, not both"
NO_ID = "profile_id: one of profile_id and appmetrica_device_id is required"

# A rule between an endpoint's own fields, run on a row whose every field is valid: the reasons it breaks.
RowCheck = Callable[[dict[str, str]], list[str]]


class RowFormat:
    """One Post API method's row: its own fields, each declared once with its conversion, between the shared head
    (application_id, the two user ids, event_timestamp) and the shared device fields; and its own rules, if any."""

    def __init__(self, own: tuple[tuple[Field, Conversion], ...], check: RowCheck | None = None) -> None:
        every = (*HEAD, *own, *DEVICE)
        self.declared = tuple(declared for declared, _ in every)
        self.names = frozenset(declared.name for declared in self.declared)
        self.check = check
        self._conversions = {declared.name: convert for declared, convert in every if convert is not None}
        # application_id has its own message (it may come from the configuration), and event_timestamp comes last
        self._required = (*(declared.name for declared, _ in own if declared.required), "event_timestamp")

    def preparer(self, settings: Settings, now: float) -> RowPreparer:
        """Per-record validation for rows stamped at `now`'s window. Rules between the endpoint's own fields are
        checked once every field is valid."""
        conversions = {**self._conversions, "event_timestamp": event_timestamp(now)}
        required, check = self._required, self.check
        default_application_id = settings.appmetrica_application_id

        def prepare(record: Record) -> tuple[dict[str, str] | None, list[str]]:
            out, errors, failed = convert_fields(record, conversions, defaults(record, default_application_id))
            require_application_id(out, failed, errors)
            has_profile, has_device = "profile_id" in out, "appmetrica_device_id" in out
            if has_profile and has_device:
                errors.append(BOTH_IDS)
            elif not (has_profile or has_device or failed & ID_FIELDS):
                errors.append(NO_ID)
            for name in required:
                if name not in out and name not in failed:
                    errors.append(f"{name}: is required")
            return (None, errors) if errors else (out, errors)

        if check is None:  # events: nothing more per row, so a row that changes in nothing is forwarded as written
            return _Forwarding(prepare, conversions, required, default_application_id)

        def prepare_checked(record: Record) -> Prepared:
            out, errors = prepare(record)
            if out is not None and (broken := check(out)):
                return None, broken
            return out, errors

        return prepare_checked


class _Forwarding:
    """`prepare`, but a CSV file's row that its conversions leave as it is goes out as its line as written (the
    configured application id put in front when the file has no such column): no dict, nothing re-encoded; a run of
    such rows goes out whole, checked a column at a time. Every other row, and every row that would be refused, is
    prepared by `prepare` (the reasons come from it alone)."""

    def __init__(
        self,
        prepare: Preparer,
        conversions: Mapping[str, Conversion],
        required: tuple[str, ...],
        default_application_id: str,
    ) -> None:
        self._prepare, self._conversions, self._required = prepare, conversions, required
        self._default_application_id = default_application_id
        self._compiled: dict[tuple[str, ...], _LineCheck | None] = {}

    def __call__(self, record: Record) -> PreparedRow:
        if type(record) is CsvRow and record.line:
            check = self._check(record.columns)
            if check is not None and (line := check.row(record)) is not None:
                return line, []
        return self._prepare(record)

    def run(self, run: CsvRun, count: int) -> ForwardedLines | None:
        check = self._check(run.columns)
        return check.run(run, count) if check is not None else None

    def _check(self, columns: tuple[str, ...]) -> _LineCheck | None:
        compiled = self._compiled
        if columns not in compiled:
            compiled[columns] = _LineCheck.of(columns, self._conversions, self._required, self._default_application_id)
        return compiled[columns]


class _LineCheck:
    """For a header of known fields, each once, with every required one and an id column: the checks of a row's
    cells by position, and of a run's cells by column, that hold exactly when `prepare` would send the row as
    written."""

    def __init__(
        self, columns: tuple[str, ...], conversions: Mapping[str, Conversion], required: tuple[str, ...], default: str
    ) -> None:
        names = set(columns)
        self.checks = [(at, keeps) for at, name in enumerate(columns) if (keeps := _keeps(conversions[name]))]
        self.column_checks = [(at, _all_keep(keeps, conversions[columns[at]])) for at, keeps in self.checks]
        needed = [columns.index(name) for name in (*required, "application_id") if name in names]
        self.ids = [columns.index(name) for name in sorted(ID_FIELDS & names)]  # appmetrica_device_id first
        self.needed = needed + self.ids if len(self.ids) == 1 else needed
        self.needed_cells = itemgetter(*self.needed, self.needed[0])  # two or more: a tuple, whatever the count
        self.own_id = columns.index("application_id") if "application_id" in names else -1
        self.default = default
        self.prefix = b"" if self.own_id >= 0 else (csv_cell(default) + ",").encode()
        self.sent_columns = columns if self.own_id >= 0 else ("application_id", *columns)
        self.lines_pattern = (
            self._lines_pattern(columns, conversions) if self.own_id < 0 and len(self.ids) == 1 else None
        )
        last = len(columns) - 1
        self.last_needed = last in self.needed
        self.last_check = next((check for at, check in self.column_checks if at == last), None)

    def _lines_pattern(self, columns: tuple[str, ...], conversions: Mapping[str, Conversion]) -> re.Pattern[str] | None:
        """A pattern a block's line matches (after a \\n) exactly when each cell but the last passes `row`'s checks,
        and none of them is quoted; the last cell is its group, checked once per distinct cell. None when some cell
        but the last has a check no pattern holds."""
        cells = []
        for at, name in enumerate(columns[:-1]):
            cell = _cell_pattern(conversions[name])
            if cell is None:
                return None
            cells.append(f"(?:{cell})" if at in self.needed else f"(?:{cell})?")
        return re.compile("\n" + "".join(f"{cell}," for cell in cells) + '("[^\n]*|[^,"\n]*)(?=\n)')

    @classmethod
    def of(
        cls, columns: tuple[str, ...], conversions: Mapping[str, Conversion], required: tuple[str, ...], default: str
    ) -> _LineCheck | None:
        names = set(columns)
        if len(names) != len(columns) or not names <= conversions.keys() or not set(required) <= names:
            return None
        if not ID_FIELDS & names or ("application_id" not in names and not default):
            return None
        return cls(columns, conversions, required, default)

    def row(self, row: CsvRow) -> CsvLine | None:
        line, cells = row.line, row.cells
        if not _plain_line(line) or not all(self.needed_cells(cells)):
            return None
        if len(self.ids) == 2 and bool(cells[self.ids[0]]) == bool(cells[self.ids[1]]):
            return None
        for position, keeps in self.checks:
            value = cells[position]
            if value and not keeps(value):
                return None  # refused, or sent otherwise than written (a time converted, a number normalised)
        own_id = self.own_id
        return CsvLine(self.sent_columns, self.prefix + line, cells[own_id] if own_id >= 0 else self.default)

    def run(self, run: CsvRun, count: int) -> ForwardedLines | None:
        """The first `count` rows of the run, when every one of them passes `row`; else None."""
        start, end = run.start, run.start + count
        lines = run.lines[start:end]
        if not lines or not (_all_plain(run.data) or all(map(_plain_line, lines))):
            return None  # a line too long, or with more brackets than JSON may nest: `row` prepares it from its fields
        if self.lines_pattern is not None and self._lines_pass(run, lines):
            return ForwardedLines(self.sent_columns, self.default, self.prefix, lines)
        by_column = run.by_column
        if by_column is None:
            return None  # some line of the block is not one row: the source reads them one by one
        columns = [cells[start:end] for cells in by_column]  # the whole block: the same tuples, no copy
        if not all(map(all, map(columns.__getitem__, self.needed))):
            return None
        if len(self.ids) == 2 and not all(map(ne, map(bool, columns[self.ids[0]]), map(bool, columns[self.ids[1]]))):
            return None
        if not all(keeps_all(columns[position]) for position, keeps_all in self.column_checks):
            return None
        key = self.default
        if self.own_id >= 0:
            keys = set(columns[self.own_id])
            if len(keys) != 1:
                return None  # rows for several applications: each goes to its own batch
            key = keys.pop()
        return ForwardedLines(self.sent_columns, key, self.prefix, lines)

    def _lines_pass(self, run: CsvRun, lines: list[bytes]) -> bool:
        """Each line is one row whose cells pass `row`'s checks, found with no cell made but the last ones (the
        hot path: no line split). False also when the pattern cannot tell (a cell quoted, say): the columns can."""
        assert self.lines_pattern is not None
        data = run.data if len(lines) == len(run.lines) else b"".join(lines)
        try:
            text = data.decode()
        except UnicodeDecodeError:
            return False
        last_cells = self.lines_pattern.findall("\n" + text)
        if len(last_cells) != len(lines):  # each match starts at a line's start and ends at its end
            return False
        given = [unquoted(cell) for cell in set(last_cells)]
        if None in given or (self.last_needed and "" in given):
            return False
        return self.last_check is None or self.last_check(cast(list[str], given))


def _cell_pattern(convert: Conversion) -> str | None:
    """A pattern of the unquoted cells (not blank) that `convert` keeps as written, or None when none is written."""
    plain = '[^,"\n]+'
    if convert is text:
        return plain
    allowed: frozenset[str] | None = getattr(convert, "allowed", None)
    if allowed is not None:
        written = [value for value in allowed if value and not set(value) & set(',"\n\r')]  # others are quoted
        return "|".join(re.escape(value) for value in sorted(written, key=len, reverse=True)) or None
    bounds: tuple[str, str] | None = getattr(getattr(convert, "keeps", None), "bounds", None)
    if bounds is not None and len(bounds[0]) == len(bounds[1]) and bounds[0] <= bounds[1]:
        return digits_between(*bounds)
    return None


def digits_between(low: str, high: str) -> str:
    """A pattern of the strings of ASCII digits as long as `low` and `high` (as long as each other) that lie from
    `low` to `high`, compared as text."""
    if low == high:
        return low
    same = next(at for at, (a, b) in enumerate(zip(low, high, strict=True)) if a != b)
    a, b, rest = int(low[same]), int(high[same]), len(low) - same - 1
    any_rest = f"[0-9]{{{rest}}}" if rest else ""
    if low[same + 1 :] == "0" * rest and high[same + 1 :] == "9" * rest:
        return f"{low[:same]}[{a}-{b}]{any_rest}"
    parts = [f"{a}(?:{digits_between(low[same + 1 :], '9' * rest)})"]
    if b - a > 1:
        parts.append(f"[{a + 1}-{b - 1}]{any_rest}")
    parts.append(f"{b}(?:{digits_between('0' * rest, high[same + 1 :])})")
    return f"{low[:same]}(?:{'|'.join(parts)})"


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("too large for a float")
    return number


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# JSON as parse_json reads it, in one pass: NaN, Infinity and floats too large (1e400) refused while parsing
_SCAN_JSON = make_scanner(cast(Any, json.JSONDecoder(parse_float=_finite_float, parse_constant=_no_constant)))


def _plain_line(line: bytes) -> bool:
    """What holds for every cell of a line that holds for the line: no text too long, no JSON too deep. Then `text`
    keeps every text cell as it is, and a JSON cell is parsed without recursing deep."""
    return len(line) <= MAX_TEXT_CHARS and line.count(b"{") + line.count(b"[") <= MAX_DEPTH


def _all_plain(data: bytes) -> bool:
    """_plain_line for every line of `data` (lines ending in \\n), in two passes over it, or False (then look line
    by line): a line of more than MAX_TEXT_CHARS would hold a whole one of the windows of half that size, each of
    which holds a line end; and no line keeps more than MAX_DEPTH characters once all but brackets are deleted."""
    half = MAX_TEXT_CHARS // 2
    if not all(data.find(b"\n", at, at + half) >= 0 for at in range(0, len(data) - half + 1, half)):
        return False
    return _DEEP.search(data.translate(None, _NOT_BRACKETS)) is None


_NOT_BRACKETS = bytes(range(256)).translate(None, b"{[\n")
_DEEP = re.compile(rb"[^\n]{%d}" % (MAX_DEPTH + 1))


def _json_object_texts(values: Sequence[str]) -> bool:
    """_json_object_text for every cell that is not blank, of plain lines (no more brackets than JSON may nest, as
    `_LineCheck.run` found): each distinct text once (a file's event parameters repeat), the scanner run over them in
    one pass."""
    given = list(set(filter(None, values)))
    if not given:
        return True
    try:
        parsed = list(map(_SCAN_JSON, given, repeat(0)))  # a StopIteration (not JSON) only ends it early
    except ValueError:
        return False
    if len(parsed) != len(given) or list(map(itemgetter(1), parsed)) != list(map(len, given)):
        return False
    return set(map(type, map(itemgetter(0), parsed))) == {dict}


def _json_object_text(value: str) -> bool:
    """json_object's test on a cell of a plain line: compact JSON text of an object, forwarded as written."""
    try:
        parsed, end = _SCAN_JSON(value, 0)  # raw_decode without its wrapper
    except (StopIteration, ValueError):
        return False
    return end == len(value) and type(parsed) is dict


def _keeps(convert: Conversion) -> Callable[[str], bool] | None:
    """Whether `convert` leaves a cell of a plain line as written and refuses nothing in it: None when it always does
    (text), else a test; the cheap ones are written out, the rest run the conversion."""
    if convert is text:
        return None
    if convert is json_object:
        return _json_object_text
    allowed: frozenset[str] | None = getattr(convert, "allowed", None)
    if allowed is not None:
        return allowed.__contains__
    keeps: Callable[[str], bool] | None = getattr(convert, "keeps", None)
    return keeps or partial(_converts_to_itself, convert)


def _all_keep(keeps: Callable[[str], bool], convert: Conversion) -> Callable[[Sequence[str]], bool]:
    """`keeps` (of `convert`) for a column of cells, blank ones left out: the cheap ones run over the column at once."""
    if keeps is _json_object_text:
        return _json_object_texts
    allowed: frozenset[str] | None = getattr(convert, "allowed", None)
    if allowed is not None:
        allowed_or_blank = allowed | {""}
        return allowed_or_blank.issuperset
    keeps_all: Callable[[Sequence[str]], bool] | None = getattr(keeps, "keeps_all", None)
    if keeps_all is not None:
        return keeps_all
    return lambda values: all(map(keeps, filter(None, values)))


def _converts_to_itself(convert: Conversion, value: str) -> bool:
    try:
        return convert(value) == value
    except ValueError:
        return False
