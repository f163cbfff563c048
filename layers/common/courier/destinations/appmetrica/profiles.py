"""POST /logs/v1/import/profiles.csv: profile attributes, with first-party data hashed before it leaves."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from functools import partial
from hashlib import sha256  # as first_party.sha256_hex, without a call a value
from json.encoder import encode_basestring as encode_text  # what compact_json writes text with
from typing import Any

from courier.destinations.apis import APPMETRICA
from courier.destinations.appmetrica import fields as f
from courier.destinations.appmetrica.client import by_application, post_api_sender
from courier.destinations.appmetrica.csv_batch import CsvBatch, csv_cell
from courier.destinations.appmetrica.first_party import (
    SHA256_HEX,
    normalise_email,
    normalise_phone,
    normalise_telegram,
    sha256_hex,
)
from courier.destinations.values import as_bool, as_number, compact_json, parse_json
from courier.model import CsvRow, CsvRun, Destination, Field, ForwardedLines, Prepared, Preparer, Record
from courier.settings import Settings

FLAT_PREFIX = "attributes."
MAX_ATTRIBUTES = 100  # custom attributes per app (docs/contracts/appmetrica.md#profiles)
MAX_NAME = 200
MAX_TEXT = 200  # string values and profile_id (the SDK's limits)
# the Post API page names telegram_sha256 alone; both SDKs write telegram_sha256_0…9 like phone and e-mail
HASHED_NAME = re.compile(r"appmetrica_1pd_(?:phone|email)_sha256_[0-9]|appmetrica_1pd_telegram_sha256(?:_[0-9])?")
HASHED_PREFIX = "appmetrica_1pd"


class FirstParty:
    """One kind of first-party data: the raw field, how to normalise it, where its hashes go and how many."""

    def __init__(self, field: str, normalise: Callable[[str], str | None], names: list[str], what: str) -> None:
        self.field, self.normalise, self.names, self.what = field, normalise, names, what
        prefix = names[0].removesuffix("_0")
        # the names that carry this kind when given already hashed in attributes: both Telegram styles
        self.given = frozenset(
            name for name in (prefix, *(f"{prefix}_{i}" for i in range(10))) if HASHED_NAME.fullmatch(name)
        )
        self.first = f'"{names[0]}":"'  # the first hash's JSON member up to the hash
        self.csv_first = "," + self.first.replace('"', '""')  # the same in a CSV cell, after a comma

    def members(self, value: Any, notes: list[str]) -> list[str]:
        """The JSON members ('"name":"hash"') of the value's hashes; hashes are hex, so they go in as they are."""
        if isinstance(value, str) and ";" not in value:  # the usual cell: one value
            return [f'{self.first}{hashed}"'] if (hashed := self.hash(value, notes)) else []
        return [f'"{name}":"{hashed}"' for name, hashed in zip(self.names, self.hashes(value, notes), strict=False)]

    def hashes(self, value: Any, notes: list[str]) -> list[str]:
        """Hashes of the valid values, deduplicated in order, at most len(names); notes say what was dropped."""
        hashes: list[str] = []
        for raw in value if isinstance(value, list) else str(value).split(";"):
            if not isinstance(raw, str):
                notes.append(f"{self.field}: a value that is not text was dropped")
            elif (hashed := self.hash(raw, notes)) and hashed not in hashes:
                hashes.append(hashed)
        if len(hashes) > len(self.names):
            notes.append(f"{self.field}: only the first {len(self.names)} distinct values are sent")
        return hashes[: len(self.names)]

    def hash(self, raw: str, notes: list[str]) -> str:
        """One value's hash ('' for a blank value, and for one that is not valid, with a note)."""
        hashed = self.checked(raw)
        if hashed is None:
            notes.append(f"{self.field}: a value that is not {self.what} was dropped")
            return ""
        return hashed

    def checked(self, raw: str) -> str | None:
        """One value's hash: '' for a blank value, None for one that is not valid."""
        stripped = raw.strip()
        if not stripped:
            return ""
        if len(stripped) == 64 and SHA256_HEX.fullmatch(stripped):  # already hashed upstream, in either case
            return stripped.lower()
        normalised = self.normalise(raw)
        return None if normalised is None else sha256_hex(normalised)

    def csv_members(self, cell: str) -> str | None:
        """A file cell's members as a CSV cell holds them (quotes doubled), each after a comma: '' for a blank cell,
        None for one the general path sends with a note (a value dropped)."""
        if not cell:
            return ""
        if ";" not in cell:  # the usual cell: one value
            hashed = self.checked(cell)
            return hashed and f'{self.csv_first}{hashed}""'
        notes: list[str] = []
        members = self.members(cell, notes)
        return None if notes else "".join("," + member.replace('"', '""') for member in members)

    def csv_column(self, cells: Sequence[str]) -> list[str | None]:
        """Each cell's csv_members; the usual column (one value a cell, none hashed already, each valid or blank)
        in one pass, without a call a cell but the normaliser's."""
        if ";" not in "".join(cells) and 64 not in map(len, map(str.strip, cells)):
            normal = [self.normalise(cell) if cell else "" for cell in cells]
            if None not in normal:
                first = self.csv_first
                return [f'{first}{sha256(value.encode()).hexdigest()}""' if value else "" for value in normal]
        return list(map(self.csv_members, cells))


def first_party_kinds(settings: Settings) -> list[FirstParty]:
    strip_at = settings.appmetrica_telegram_strip_at
    telegram = "appmetrica_1pd_telegram_sha256"
    telegram_names = [f"{telegram}_{i}" for i in range(10)] if settings.appmetrica_telegram_sdk_names else [telegram]
    return [
        FirstParty("phone", normalise_phone, [f"appmetrica_1pd_phone_sha256_{i}" for i in range(10)], "a phone number"),
        FirstParty("email", normalise_email, [f"appmetrica_1pd_email_sha256_{i}" for i in range(10)], "an e-mail"),
        FirstParty(
            "telegram",
            partial(normalise_telegram, strip_at=True) if strip_at else normalise_telegram,
            telegram_names,
            "a Telegram login",
        ),
    ]


def attribute_problem(name: str, value: Any) -> str:
    """Why an attribute cannot be sent ('' when it can). Never quotes the value."""
    if not name or len(name) > MAX_NAME:
        return f"attributes: a name must have 1 to {MAX_NAME} characters"
    if name.startswith("appmetrica"):
        if not HASHED_NAME.fullmatch(name):
            return f"attributes.{name}: names starting with 'appmetrica' are reserved"
        if not (isinstance(value, str) and SHA256_HEX.fullmatch(value)):
            return f"attributes.{name}: must be a SHA-256 hash (64 hex characters)"
        return ""
    return _value_problem(name, value)


def _value_problem(name: str, value: Any) -> str:
    """Why a value cannot be sent as the attribute `name`, a valid name that is not reserved ('' when it can)."""
    if isinstance(value, str):  # the usual value first: none of the kinds below is text
        return "" if len(value) <= MAX_TEXT else f"attributes.{name}: text longer than {MAX_TEXT} characters"
    if isinstance(value, bool):
        return ""
    if isinstance(value, int | float):
        return "" if math.isfinite(value) else f"attributes.{name}: must be a finite number"
    kind = "null" if value is None else type(value).__name__
    return f"attributes.{name}: must be a string, number or boolean, not {kind}"


def _as_string(value: Any) -> Any:
    return value if isinstance(value, str) else f.text(value)


IDENTITY_FIELDS: dict[str, Callable[[Any], str]] = {"application_id": f.application_id, "profile_id": f.text}
COLUMN_TYPES: dict[str, Callable[[Any], Any]] = {
    "string": _as_string,
    "number": as_number,
    "counter": as_number,  # a counter's value is the change to apply, a number
    "bool": as_bool,
}


def flat_column(column: str) -> tuple[str, Callable[[Any], Any]]:
    """`attributes.<name>[:type]` → (name, conversion); ValueError names what is wrong with the header."""
    name, _, kind = column[len(FLAT_PREFIX) :].partition(":")
    convert = COLUMN_TYPES.get(kind or "string")
    if convert is None:
        raise ValueError(f"unknown type '{kind}' (use string, number, bool or counter)")
    if not name:
        raise ValueError("the attribute has no name")
    return name, convert


def make_profile_preparer(settings: Settings, now: float) -> ProfileRows:
    default_application_id = settings.appmetrica_application_id
    kinds = first_party_kinds(settings)
    columns: dict[str, tuple[str, Callable[[Any], Any]] | str] = {}  # each flat header parsed once
    plans: dict[tuple[str, ...], HeaderPlan | None] = {}  # each file's header once

    def column(key: str) -> tuple[str, Callable[[Any], Any]] | str:
        if key not in columns:
            try:
                columns[key] = flat_column(key)
            except ValueError as error:
                columns[key] = f"{key}: {error}"
        return columns[key]

    def prepare(record: Record) -> Prepared:
        notes: list[str] = []
        out, errors, failed = f.convert_fields(record, IDENTITY_FIELDS, f.defaults(record, default_application_id))
        f.require_application_id(out, failed, errors)
        if "profile_id" not in out and "profile_id" not in failed:
            errors.append("profile_id: is required (the profiles method matches profiles by profile_id)")
        elif len(out.get("profile_id", "")) > MAX_TEXT:
            errors.append(f"profile_id: longer than {MAX_TEXT} characters")
        if record.get("appmetrica_device_id") not in (None, ""):
            errors.append("appmetrica_device_id: the profiles method takes profile_id only")

        attributes, text = _given_attributes(record.get("attributes"), errors)
        for key, value in record.items():
            if not key.startswith(FLAT_PREFIX) or value is None or value == "":
                continue
            parsed = column(key)
            if isinstance(parsed, str):
                errors.append(parsed)
                continue
            name, convert = parsed
            try:
                attributes[name] = convert(value)
            except ValueError as error:
                errors.append(f"{key}: {error}")
            text = None
        errors.extend(problem for name, value in attributes.items() if (problem := attribute_problem(name, value)))
        hashed_given = bool(attributes) and any(name.startswith(HASHED_PREFIX) for name in attributes)
        if hashed_given and _lower_hashes(attributes):
            text = None  # a hash given in upper case goes lower-case, so the JSON is written again
        members: list[str] = []  # '"name":"hash"', joined to the JSON text as they are
        for kind in kinds:  # the hashes made here are valid by construction: not checked again
            value = record.get(kind.field)
            if value is None or value == "" or value == []:
                continue
            if hashed_given and any(name in attributes for name in kind.given):
                errors.append(f"{kind.field}: send it raw or already hashed in attributes, not both")
                continue
            members += kind.members(value, notes)
        count = len(attributes) + len(members)
        if count > MAX_ATTRIBUTES:
            errors.append(f"attributes: more than {MAX_ATTRIBUTES} attributes")
        if not count and not errors:
            errors.append("attributes: nothing to send")
        if errors:
            return None, errors + notes
        if not members:
            out["attributes"] = text if text is not None else compact_json(attributes)
        else:
            given = _members_json(attributes)
            out["attributes"] = "{" + ",".join([given, *members] if given else members) + "}"
        return out, notes

    def plan_of(header: tuple[str, ...]) -> HeaderPlan | None:
        if header not in plans:
            plans[header] = HeaderPlan.of(header, kinds, default_application_id)
        return plans[header]

    return ProfileRows(prepare, plan_of)


class ProfileRows:
    """A file's row by its header's plan when it has one and the row is one it takes; any other record, and every
    row the plan leaves (all that would be refused among them), by `prepare`, which says why. A run of rows the plan
    takes whole, without a note, goes out as the CSV lines the batch would write for them."""

    def __init__(self, prepare: Preparer, plan_of: Callable[[tuple[str, ...]], HeaderPlan | None]) -> None:
        self._prepare, self._plan_of = prepare, plan_of

    def __call__(self, record: Record) -> Prepared:
        if type(record) is CsvRow and (plan := self._plan_of(record.columns)) is not None:
            prepared = plan.cells(record.cells)
            if prepared is not None:
                return prepared
        return self._prepare(record)

    def run(self, run: CsvRun, count: int) -> ForwardedLines | None:
        """The run's first rows, up to `count`, as lines, as far as each is the plan's with no note and the same
        application id as the first; None when the first is not."""
        plan = self._plan_of(run.columns)
        if plan is None:
            return None
        by_column = run.by_column
        if by_column is None:
            return None  # some line of the block is not one row: the source reads them one by one
        return plan.lines(by_column, run.start, run.start + count)


# A flat column's plan: its position, name, JSON member up to the value, and conversion (None for text, sent as
# written)
FlatColumn = tuple[int, str, str, Callable[[Any], Any] | None]
IDS = ("application_id", "profile_id")  # the fields' order, but for a row that gives its id after its profile_id
FIRST_SLICE, MAX_SLICE = 64, 4096  # a run's rows are prepared a slice at a time, growing: little is lost at a stop


class HeaderPlan:
    """What the general path gives for a file's rows, read by position from their cells, for a header it reads no
    differently by position: distinct names, a profile_id, an application id given or configured, flat columns the
    plan takes. A row it cannot tell (any reason to refuse it, a device id, JSON attributes) goes to that path."""

    def __init__(self, header: tuple[str, ...], flat: list[FlatColumn], kinds: list[FirstParty], default: str) -> None:
        self.width, self.flat, self.default = len(header), flat, default
        self.profile = header.index("profile_id")
        self.own_id = header.index("application_id") if "application_id" in header else -1
        self.id_first = self.own_id < self.profile  # the fields' order when the row gives its application id
        self.blank = [header.index(name) for name in ("appmetrica_device_id", "attributes") if name in header]
        self.first_party = [(header.index(kind.field), kind) for kind in kinds if kind.field in header]
        # each attribute column's cell as its members in a CSV cell, each after a comma ('' for none, None to stop)
        self.csv_columns: list[tuple[int, Callable[[Sequence[str]], list[str | None]]]] = [
            (position, partial(_flat_csv_column, name, "," + member.replace('"', '""'), convert))
            for position, name, member, convert in flat
        ] + [(position, kind.csv_column) for position, kind in self.first_party]

    @classmethod
    def of(cls, header: tuple[str, ...], kinds: list[FirstParty], default_application_id: str) -> HeaderPlan | None:
        """The header's plan; None for a header the general path must read."""
        given = set(header)
        if len(given) != len(header) or "profile_id" not in given:
            return None
        if not ("application_id" in given or default_application_id):
            return None
        flat = _flat_plan(header)
        return None if flat is None else cls(header, flat, kinds, default_application_id)

    def cells(self, cells: Sequence[str]) -> Prepared | None:
        """What the general path gives for one row; None for a row it must see."""
        profile_id = cells[self.profile] if len(cells) == self.width else ""
        if not profile_id or len(profile_id) > MAX_TEXT:
            return None
        for position in self.blank:
            if cells[position]:
                return None
        application_id = self._application_id(cells[self.own_id]) if self.own_id >= 0 else self.default
        if application_id is None:
            return None
        if self.own_id >= 0 and cells[self.own_id] and not self.id_first:
            out = {"profile_id": profile_id, "application_id": application_id}
        else:
            out = {"application_id": application_id, "profile_id": profile_id}
        members = _flat_members(self.flat, cells)
        if members is None:
            return None
        notes: list[str] = []
        for position, kind in self.first_party:
            if value := cells[position]:
                members += kind.members(value, notes)
        if not 0 < len(members) <= MAX_ATTRIBUTES:
            return None
        out["attributes"] = "{" + ",".join(members) + "}"  # what the general path writes for the same attributes
        return out, notes

    def lines(self, by_column: list[tuple[str, ...]], start: int, end: int) -> ForwardedLines | None:
        """Rows `start` to `end` (not included) as the lines the batch would write for them, as far as the general
        path takes each without a note, for the first one's application; None when it would not take the first.
        Every step is a column at a time."""
        if not self.csv_columns or len(self.csv_columns) > MAX_ATTRIBUTES:
            return None  # (every row refused, or some maybe: the rows go by `cells`)
        lines: list[bytes] = []
        first: tuple[str, tuple[str, ...]] | None = None  # the run's application id and its fields' order
        size = FIRST_SLICE
        while start < end:
            stop = min(end, start + size)
            first, taken = self._slice(by_column, start, stop, first, lines)
            if first is None or taken < stop - start:
                break
            start, size = stop, min(size * 4, MAX_SLICE)
        if first is None or not lines:
            return None
        application_id, ids = first
        return ForwardedLines((*ids, "attributes"), by_application({"application_id": application_id}), b"", lines)

    def _slice(
        self,
        by_column: list[tuple[str, ...]],
        start: int,
        stop: int,
        first: tuple[str, tuple[str, ...]] | None,
        lines: list[bytes],
    ) -> tuple[tuple[str, tuple[str, ...]] | None, int]:
        """Adds the lines of rows `start` to `stop` to `lines` as far as they go; the run's application id and order
        (None when the first row is not the run's), and how many rows went."""
        ends = self._refused(by_column, start, stop)  # where each condition stops the slice
        if self.own_id < 0:
            first = first or (self.default, IDS)
        else:
            first = self._same_application(by_column[self.own_id][start:stop], first, ends)
            if first is None:
                return None, 0
        members = [csv_column(by_column[position][start:stop]) for position, csv_column in self.csv_columns]
        ends += [column.index(None) for column in members if None in column]
        count = min(ends)
        joined = list(map("".join, zip(*[column[:count] for column in members], strict=True)))  # a row's members
        if "" in joined:  # nothing to send
            count = joined.index("")
        profiles, joined = by_column[self.profile][start : start + count], joined[:count]
        if any(char in "".join(profiles) for char in ',"\r\n'):  # ids the CSV must quote
            profiles = tuple(map(csv_cell, profiles))
        before, after = (f"{first[0]},", ",") if first[1] == IDS else ("", f",{first[0]},")  # the id's neighbours
        lines += [
            f'{before}{profile_id}{after}"{{{cell[1:]}}}"\n'.encode()
            for profile_id, cell in zip(profiles, joined, strict=True)
        ]
        return first, count

    def _refused(self, by_column: list[tuple[str, ...]], start: int, stop: int) -> list[int]:
        """The slice's size, and the first row (counted from `start`) that some check on its ids or blank cells
        leaves to the general path."""
        ends = [stop - start]
        profiles = by_column[self.profile][start:stop]
        if not all(profiles) or max(map(len, profiles)) > MAX_TEXT:
            ends.append(next(row for row, cell in enumerate(profiles) if not cell or len(cell) > MAX_TEXT))
        for position in self.blank:
            if any(cells := by_column[position][start:stop]):
                ends.append(next(row for row, cell in enumerate(cells) if cell))
        return ends

    def _same_application(
        self, cells: tuple[str, ...], first: tuple[str, tuple[str, ...]] | None, ends: list[int]
    ) -> tuple[str, tuple[str, ...]] | None:
        """The run's application id and order, from its first row when `first` is None (None when that row has
        none); adds to `ends` the first row of another application, or without one."""
        converted = {cell: self._application_id(cell) for cell in set(cells)}  # a few distinct ones
        if first is None:
            application_id = converted[cells[0]]
            if application_id is None:
                return None
            first = (application_id, IDS if self.id_first or not cells[0] else IDS[::-1])
        others = [cell for cell, application_id in converted.items() if application_id != first[0]]
        if others:
            ends.append(min(map(cells.index, others)))
        return first

    def _application_id(self, cell: str) -> str | None:
        """A row's application id: its own cell's, or the configured one for a blank cell; None when neither."""
        if not cell:
            return self.default or None
        try:
            return f.application_id(cell)
        except ValueError:
            return None


def _flat_plan(header: tuple[str, ...]) -> list[FlatColumn] | None:
    """Each flat column's plan; None when a column is not one the plan takes: a bad header, a reserved name, a
    name twice."""
    flat: list[FlatColumn] = []
    for position, column in enumerate(header):
        if column.startswith(FLAT_PREFIX):
            try:
                name, convert = flat_column(column)
            except ValueError:
                return None
            if len(name) > MAX_NAME or name.startswith("appmetrica"):
                return None
            flat.append((position, name, encode_text(name) + ":", None if convert is _as_string else convert))
    return flat if len({name for _, name, *_ in flat}) == len(flat) else None


def _flat_members(flat: list[FlatColumn], cells: Sequence[str]) -> list[str] | None:
    """The flat columns' JSON members, as compact_json writes them; None when a value would be refused."""
    members: list[str] = []
    for position, name, member, convert in flat:
        if value := cells[position]:
            written = _flat_value(name, convert, value)
            if written is None:
                return None
            members.append(member + written)
    return members


def _flat_csv_column(
    name: str, csv_member: str, convert: Callable[[Any], Any] | None, cells: Sequence[str]
) -> list[str | None]:
    """A flat column's cells as their members in a CSV cell, each after a comma ('' for a blank cell, None when
    refused); text that is not too long in one pass."""
    if convert is None and max(map(len, cells)) <= MAX_TEXT:
        return [csv_member + encode_text(cell).replace('"', '""') if cell else "" for cell in cells]
    written = [_flat_value(name, convert, cell) if cell else "" for cell in cells]
    return [value and csv_member + value.replace('"', '""') for value in written]


def _flat_value(name: str, convert: Callable[[Any], Any] | None, cell: str) -> str | None:
    """A flat cell's value as compact_json writes it; None when it would be refused."""
    if convert is None:
        return encode_text(cell) if len(cell) <= MAX_TEXT else None
    try:
        converted = convert(cell)
    except ValueError:
        return None
    return None if _value_problem(name, converted) else compact_json(converted)


def _members_json(attributes: dict[str, Any]) -> str:
    """The attributes' JSON members, without the braces: text attributes written out (what compact_json writes,
    without its encoder's overhead on a small object), any other kind of value by compact_json."""
    if all(type(value) is str for value in attributes.values()):
        return ",".join([f"{encode_text(name)}:{encode_text(value)}" for name, value in attributes.items()])
    return compact_json(attributes)[1:-1]


def _lower_hashes(attributes: dict[str, Any]) -> bool:
    """Write the first-party hashes given in upper case in lower case, as the SDKs send them; whether any was."""
    changed = False
    for name, value in attributes.items():
        if name.startswith(HASHED_PREFIX) and isinstance(value, str) and value != (lower := value.lower()):
            attributes[name] = lower
            changed = True
    return changed


def _given_attributes(value: Any, errors: list[str]) -> tuple[dict[str, Any], str | None]:
    """The `attributes` field as a dict, and its JSON text when it came as text (to forward it unchanged)."""
    if value is None or value == "":
        return {}, None
    if isinstance(value, dict):
        return dict(value), None
    if isinstance(value, str):
        try:
            parsed = parse_json(value)
        except (ValueError, RecursionError):
            errors.append("attributes: is not valid JSON")
            return {}, None
        if isinstance(parsed, dict):
            return parsed, value
    errors.append("attributes: must be a JSON object of attribute names and values")
    return {}, None


DECLARED = (
    f.HEAD[0][0],  # application_id, as every Post API method declares it
    Field(
        "profile_id", f"text, at most {MAX_TEXT} characters", "the user's profile id, as the SDK sent it", required=True
    ),
    Field("appmetrica_device_id", "refused", "the profiles method matches profiles by profile_id only"),
    Field(
        "attributes",
        "JSON object",
        f"the profile's attributes: name → text (at most {MAX_TEXT} characters), number or boolean",
    ),
    Field(
        f"{FLAT_PREFIX}<name>[:type]",
        "text; :number, :counter (the change to apply) or :bool",
        "one attribute as its own CSV column, such as attributes.city or attributes.visits:counter",
    ),
    Field("phone", "text, several separated by ; (or a JSON array)", "phone numbers, hashed (SHA-256) here; up to 10"),
    Field(
        "email", "text, several separated by ; (or a JSON array)", "e-mail addresses, hashed (SHA-256) here; up to 10"
    ),
    Field("telegram", "text", "a Telegram login, hashed (SHA-256) here"),
)
RULES = (
    "application_id may be left out when APPMETRICA_APPLICATION_ID is set",
    f"at least one attribute (from attributes, its columns, phone, email or telegram), at most {MAX_ATTRIBUTES}",
    "names starting with appmetrica are reserved, but for the hashed first-party ones (appmetrica_1pd_…), "
    "which take SHA-256 hashes only",
    "phone, email and telegram come raw or already hashed in attributes, not both; an invalid value is dropped with a "
    "note and the rest is sent",
    "an empty value counts as absent; fields not listed here are not sent",
)

APPMETRICA_PROFILES = Destination(
    name="appmetrica_profiles",
    route="/appmetrica/profiles",
    fields=frozenset(declared.name for declared in DECLARED if not declared.name.startswith(FLAT_PREFIX)),
    make_preparer=make_profile_preparer,
    batch_key=by_application,
    new_batch=CsvBatch,
    make_sender=post_api_sender("/logs/v1/import/profiles.csv"),
    field_prefixes=(FLAT_PREFIX,),
    declared=DECLARED,
    rules=RULES,
    summary="Profile attributes, first-party data hashed, to the AppMetrica Post API's profiles.csv",
    api=APPMETRICA,
)
