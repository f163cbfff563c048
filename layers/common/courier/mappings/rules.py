"""A mapping document: YAML read with its line numbers, validated by a pydantic model, compiled once into a
`CompiledMapping` that turns one source record into the destination's fields.

    fields:          destination field: a source field (a CSV column, a JSON key) or a JMESPath expression,
                     or {from: ..., trim, lower, split, decimal_comma, timestamp: {format, zone}, map: {...}}
    constants:       destination field: a value written as it is
    templates:       destination field: text with {source field} placeholders
    filter:          a JMESPath expression over the source record: records where it is false or empty are skipped
    unmapped:        drop (the default) or keep: what happens to source fields no rule names

Every problem with the document names its line and the rule; every refusal of a record names the source field and
the rule, never a value."""

from __future__ import annotations

import contextlib
import re
import string
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Mapping as Map
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jmespath
import yaml
from jmespath.exceptions import JMESPathError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from courier.model import Destination, PreparedRow, Record, RowPreparer

MAX_DOCUMENT_CHARS = 256 * 1024
_MISSING = object()
Getter = Callable[[Record], Any]
Step = Callable[[Any], Any]


class MappingError(ValueError):
    """A mapping that cannot be used: each problem names its line and the rule (`line 4: fields.x: ...`)."""

    def __init__(self, name: str, problems: Sequence[str]) -> None:
        self.name = name
        self.problems = list(problems)
        super().__init__(f"mapping {name} is invalid: " + "; ".join(self.problems))


# The document


class Timestamp(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: str = Field(description="a strptime format, such as %d.%m.%Y %H:%M")
    zone: str = Field("UTC", description="the IANA time zone of times that carry no offset, such as Europe/Moscow")

    @field_validator("format")
    @classmethod
    def _parses(cls, value: str) -> str:
        sample = datetime(2026, 11, 22, 10, 15, 30, tzinfo=UTC)
        try:
            datetime.strptime(sample.strftime(value), value)
        except ValueError:
            raise ValueError("is not a strptime format that reads back the times it writes") from None
        if "%" not in value:
            raise ValueError("has no % directive")
        return value

    @field_validator("zone")
    @classmethod
    def _known(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("is not a known IANA time zone (such as Europe/Moscow or UTC)") from None
        return value


class FieldRule(BaseModel):
    """One destination field taken from the source, then transformed in this order: split, trim, lower, map,
    decimal_comma, timestamp (after a split, each item)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: str | None = Field(None, alias="from", min_length=1)  # a field's name, else a JMESPath expression
    path: str | None = Field(None, min_length=1)  # a JMESPath expression only
    split: str | None = Field(None, min_length=1)
    trim: bool = False
    lower: bool = False
    map: dict[str, Any] | None = None
    decimal_comma: bool = False
    timestamp: Timestamp | None = None

    @property
    def origin(self) -> str:
        return self.source or self.path or ""

    def getter(self) -> Getter:
        return _getter(self.source) if self.source is not None else jmespath.compile(self.origin).search

    @model_validator(mode="after")
    def _one_source_and_one_conversion(self) -> FieldRule:
        if (self.source is None) == (self.path is None):
            raise ValueError("takes one of from (a source field) and path (a JMESPath expression)")
        chosen = [name for name in ("map", "decimal_comma", "timestamp") if getattr(self, name)]
        if len(chosen) > 1:
            raise ValueError(f"takes one of map, decimal_comma and timestamp, not {' and '.join(chosen)}")
        return self


class Document(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: dict[str, FieldRule] = Field(default_factory=dict)
    constants: dict[str, Any] = Field(default_factory=dict)
    templates: dict[str, str] = Field(default_factory=dict)
    filter: str | None = None
    unmapped: Literal["drop", "keep"] = "drop"

    @field_validator("fields", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        """`profile_id: Customer ID` is `profile_id: {from: Customer ID}`."""
        if isinstance(value, dict):
            return {field: {"from": rule} if isinstance(rule, str) else rule for field, rule in value.items()}
        return value


# Reading YAML with its lines


def _yaml_line(error: yaml.YAMLError) -> int:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    return int(mark.line) + 1 if mark is not None else 1


def _node_at(node: yaml.Node, loc: Sequence[Any]) -> yaml.Node:
    """The node of the document that `loc` (a pydantic error's location) names: for a key, the key itself."""
    for number, part in enumerate(loc):
        if isinstance(node, yaml.MappingNode):
            found = next(((key, value) for key, value in node.value if key.value == part), None)
            if found is None:
                return node
            node = found[0] if number == len(loc) - 1 else found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return node
    return node


def _reused(node: yaml.Node | None) -> int | None:
    """The line of the first node the document holds twice (through an alias), or None."""
    seen: set[int] = set()
    stack = [node] if node is not None else []
    while stack:
        item = stack.pop()
        if id(item) in seen:
            return int(item.start_mark.line) + 1
        seen.add(id(item))
        if isinstance(item, yaml.MappingNode):
            stack += [part for pair in item.value for part in pair]
        elif isinstance(item, yaml.SequenceNode):
            stack += item.value
    return None


def _duplicates(node: yaml.Node, where: str = "") -> list[str]:
    """Keys given twice in one mapping (YAML keeps the last silently): each with its line."""
    found: list[str] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                found.append(f"line {key.start_mark.line + 1}: {where}{name}: is given twice")
            seen.add(name)
            found += _duplicates(value, f"{where}{name}.")
    return found


def parse(text: str, destination: Destination, name: str = "mapping") -> CompiledMapping:
    """The mapping a YAML document describes for this destination; MappingError (every problem with its line)
    otherwise. Nothing is sent before this succeeds."""
    if len(text) > MAX_DOCUMENT_CHARS:
        raise MappingError(name, [f"line 1: the document is longer than {MAX_DOCUMENT_CHARS} characters"])
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            reused = _reused(node)
            if reused is not None:  # an alias: a document that could expand without bound
                raise MappingError(name, [f"line {reused}: aliases (*name) are not allowed in a mapping"])
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or "is not valid YAML"
        raise MappingError(name, [f"line {_yaml_line(error)}: not valid YAML: {problem}"]) from None
    if node is None or not isinstance(data, dict):
        line = node.start_mark.line + 1 if node is not None else 1
        raise MappingError(name, [f"line {line}: a mapping is a YAML mapping (fields:, constants:, …)"])
    problems = _duplicates(node)
    try:
        document = Document.model_validate(data)
    except ValidationError as error:
        for item in error.errors():
            loc = list(item["loc"])
            line = _node_at(node, loc).start_mark.line + 1
            where = ".".join(str(part) for part in loc) or "document"
            message = str(item["msg"]).removeprefix("Value error, ")
            if item["type"] == "extra_forbidden":
                message = "is not a rule a mapping knows"
            problems.append(f"line {line}: {where}: {message}")
    else:
        problems += _compile_problems(document, node, destination)
    if problems:
        raise MappingError(name, sorted(set(problems), key=_line_number))
    return CompiledMapping(name, document, destination)


def _line_number(problem: str) -> int:
    return int(problem.split(":", 1)[0].removeprefix("line "))


def _compile_problems(document: Document, node: yaml.Node, destination: Destination) -> list[str]:
    """Destination fields the endpoint does not know, a field set twice, expressions that do not compile."""
    problems = []

    def problem(loc: list[Any], text: str) -> None:
        problems.append(f"line {_node_at(node, loc).start_mark.line + 1}: {'.'.join(map(str, loc))}: {text}")

    seen: set[str] = set()
    for section in ("fields", "constants", "templates"):
        for field in getattr(document, section):
            if not destination.knows(field):
                problem([section, field], f"{destination.name} has no field {field} (see `courier fields`)")
            if field in seen:
                problem([section, field], "is set by another section too")
            seen.add(field)
    for field, rule in document.fields.items():
        if rule.path is not None:
            try:
                jmespath.compile(rule.path)
            except JMESPathError as error:
                problem(["fields", field, "path"], f"is not a JMESPath expression ({type(error).__name__})")
    for field, text in document.templates.items():
        try:
            for _, placeholder, spec, conversion in string.Formatter().parse(text):
                if placeholder is not None and (not placeholder or spec or conversion):
                    problem(["templates", field], "a placeholder is {source field}, without a format or a !")
        except ValueError:
            problem(["templates", field], "has an unmatched { or } (write {{ or }} for a brace)")
    if document.filter is not None:
        try:
            jmespath.compile(document.filter)
        except JMESPathError as error:
            problem(["filter"], f"is not a JMESPath expression ({type(error).__name__})")
    return problems


# Compiling


def _names_read(source: str) -> set[str]:
    """The source field names a rule may read: the text itself, and every field its JMESPath expression names."""
    names, stack = {source}, []
    with contextlib.suppress(JMESPathError):
        stack.append(jmespath.compile(source).parsed)
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "field":
                names.add(str(node.get("value")))
            stack.extend(node.get("children", []))
    return names


def _getter(source: str) -> Getter:
    """A source field by its exact name when the record has it (a CSV column, a top-level JSON key, any text);
    otherwise, when the text is a JMESPath expression, what it finds (`data.object.customer`)."""
    try:
        expression = jmespath.compile(source)
    except JMESPathError:
        return lambda record: record.get(source)

    def get(record: Record) -> Any:
        value = record.get(source, _MISSING)
        return expression.search(record) if value is _MISSING else value

    return get


# The directives read by a regular expression, in the order datetime takes them
_PARTS = {"%Y": ("Y", r"\d{4}"), "%m": ("m", r"\d{1,2}"), "%d": ("d", r"\d{1,2}")}
_PARTS |= {"%H": ("H", r"\d{1,2}"), "%M": ("M", r"\d{1,2}"), "%S": ("S", r"\d{1,2}")}
MAX_HOURS_HELD = 100_000  # local hours a timestamp rule keeps the Unix seconds of


def _pattern(fmt: str, directives: Sequence[str]) -> tuple[re.Pattern[str], itemgetter[Any]] | None:
    """The format as a regular expression, and what takes the values of `directives` from its groups, in that order
    ('' where the format has none), when it holds only those directives and literal text; None otherwise."""
    parts, order, at = [], [], 0
    for found in re.finditer(r"%.", fmt):
        if found.group() not in directives or found.group() in order:
            return None
        parts += [re.escape(fmt[at : found.start()]), f"({_PARTS[found.group()][1]})"]
        order.append(found.group())
        at = found.end()
    parts.append(re.escape(fmt[at:]))
    absent = [directive for directive in directives if directive not in order]
    parts += ["()"] * len(absent)
    order += absent
    return re.compile("".join(parts)), itemgetter(*(order.index(directive) for directive in directives))


def _timestamp(rule: Timestamp) -> Step:
    """Text in the stated format and zone → Unix seconds, as text (what the destinations take fastest).

    A format of year, month, day, hour, minute and second is read by a regular expression, and the Unix seconds of
    each local hour are kept (a zone's offset changes only on an hour boundary). When the format has the date and
    the hour first (`%d.%m.%Y %H:%M:%S`), the text up to the hour's place in a zero-padded time is a key to them, so
    a row whose hour was seen before only has its minutes and seconds read. Any other format goes through
    strptime."""
    zone = ZoneInfo(rule.zone)
    fmt = rule.format
    reason = f"does not match the timestamp format {fmt}"
    full = _pattern(fmt, tuple(_PARTS))
    hour_end = fmt.find("%H") + 2
    head = set(re.findall("%.", fmt[:hour_end])) <= {"%Y", "%m", "%d", "%H"} and hour_end > 1
    tail = _pattern(fmt[hour_end:], ("%M", "%S")) if head and full is not None else None
    width = hour_end + 2 * fmt[:hour_end].count("%Y")  # the text up to the hour, zero-padded
    hours: dict[tuple[str, ...], int] = {}  # (year, month, day, hour) → its Unix seconds
    prefixes: dict[str, int] = {}  # the text up to the hour → the same

    def hour_start(hour: tuple[str, ...]) -> int:
        defaults = (1900, 1, 1, 0)
        year, month, day, at = (int(part) if part else default for part, default in zip(hour, defaults, strict=True))
        try:
            seconds = int(datetime(year, month, day, at, tzinfo=zone).timestamp())
        except ValueError:
            raise ValueError(reason) from None
        if len(hours) >= MAX_HOURS_HELD:
            hours.clear()
            prefixes.clear()
        hours[hour] = seconds
        return seconds

    def parsed(text: str) -> str:
        try:
            moment = datetime.strptime(text, fmt)
        except ValueError:
            raise ValueError(reason) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        return str(int(moment.timestamp()))

    if full is None:
        return lambda value: parsed(_text(value, fmt).strip())
    fullmatch, ordered = full[0].fullmatch, full[1]
    tail_match, tail_ordered = tail if tail is not None else (None, None)

    def convert(text: Any) -> Any:
        if type(text) is not str:
            text = _text(text, fmt)
        if tail_match is not None and tail_ordered is not None:
            start = prefixes.get(text[:width])
            if start is not None and (rest := tail_match.fullmatch(text, width)) is not None:
                minute, second = tail_ordered(rest.groups())
                minutes, seconds = int(minute or 0), int(second or 0)
                if minutes < 60 and seconds < 60:  # the hot path: an hour seen before
                    return str(start + minutes * 60 + seconds)
        match = fullmatch(text) or fullmatch(text.strip())
        if match is None:
            return parsed(text.strip())
        parts = ordered(match.groups())
        hour = parts[:4]
        start = hours.get(hour)
        if start is None:
            start = hour_start(hour)
        if tail_match is not None and match.string is text:
            prefixes[text[:width]] = start
        minutes, seconds = int(parts[4] or 0), int(parts[5] or 0)
        if minutes > 59 or seconds > 59:
            raise ValueError(reason)
        return str(start + minutes * 60 + seconds)

    return convert


def _text(value: Any, fmt: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be text in the timestamp format {fmt}")
    return value


def _decimal_comma(value: Any) -> Any:
    """'1 234,50' → '1234.50': spaces (thin and no-break ones too) between thousands dropped, the comma a point."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a number written with a decimal comma")
    text = value.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace(",", ".")
    try:
        if not Decimal(text).is_finite():
            raise InvalidOperation
    except InvalidOperation:
        raise ValueError("must be a number written with a decimal comma, such as 1 234,50") from None
    return text


def _value_map(table: Map[str, Any]) -> Step:
    def convert(value: Any) -> Any:
        key = value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
        found = table.get(key, _MISSING)
        if found is _MISSING:
            raise ValueError("is not one of the values its map lists")
        return found

    return convert


def _steps(rule: FieldRule) -> list[Step]:
    steps: list[Step] = []
    if rule.trim:
        steps.append(lambda value: value.strip() if isinstance(value, str) else value)
    if rule.lower:
        steps.append(lambda value: value.lower() if isinstance(value, str) else value)
    if rule.map is not None:
        steps.append(_value_map(rule.map))
    if rule.decimal_comma:
        steps.append(_decimal_comma)
    if rule.timestamp is not None:
        steps.append(_timestamp(rule.timestamp))
    return steps


def _transform(rule: FieldRule) -> Step:
    steps = _steps(rule)

    def each(value: Any) -> Any:
        for step in steps:
            value = step(value)
        return value

    if rule.split is None:
        return each
    separator = rule.split

    def split(value: Any) -> Any:
        items = value if isinstance(value, list) else str(value).split(separator)
        return [each(item) for item in (i.strip() if isinstance(i, str) else i for i in items) if item != ""]

    return split


def _convert(out: dict[str, Any], errors: list[str], field: str, source: str, convert: Step, value: Any) -> None:
    """One transformed field into `out`, or the reason it is refused into `errors` (empty values stay out)."""
    if _empty(value):
        return
    try:
        value = convert(value)
    except ValueError as error:
        errors.append(f"{source}: {error} (mapped to {field})")
        return
    if not _empty(value):
        out[field] = value


def _fetcher(names: list[str]) -> Callable[[Record], tuple[Any, ...]] | None:
    """The values of these fields of a record, as a tuple (KeyError when one is missing)."""
    if len(names) == 1:
        name = names[0]
        return lambda record: (record[name],)
    return itemgetter(*names) if names else None


def _empty(value: Any) -> bool:
    """An absent value: None, '' (an empty cell), or [] (a split of nothing)."""
    return value is None or value == "" or value == []


class CompiledMapping:
    """A compiled mapping: `apply` turns a source record into the destination's fields; `preparer` puts it in
    front of the destination's own validation."""

    def __init__(self, name: str, document: Document, destination: Destination) -> None:
        self.name = name
        self.document = document
        self.destination = destination
        self._constants = dict(document.constants)
        # (destination field, source field, getter) of plain renames; then those with transforms
        self._renames: list[tuple[str, str, Getter]] = []
        self._converted: list[tuple[str, str, Getter, Step]] = []
        for field, rule in document.fields.items():
            if rule.split is None and not _steps(rule):
                self._renames.append((field, rule.origin, rule.getter()))
            else:
                self._converted.append((field, rule.origin, rule.getter(), _transform(rule)))
        self._plan_fetching({field for field, rule in document.fields.items() if rule.source is not None})
        self._templates = [(field, _template(text)) for field, text in document.templates.items()]
        self._filter = jmespath.compile(document.filter) if document.filter is not None else None
        self._keep = document.unmapped == "keep"
        self._used = {source for _, source, _ in self._renames} | {source for _, source, _, _ in self._converted}
        self._read = self._names_read()
        self.origins = self._origins()
        # (the destination's fields, []), (None, reasons) for a refused record, (None, []) for one the filter
        # skips. A source field that is missing or empty leaves its destination field out (its rules decide).
        self.apply = self._compiled()

    def _plan_fetching(self, named: set[str]) -> None:
        """When a record has every source named in `from` by its exact name (a CSV row always has: they are its
        header's), their values are fetched in one call; the renames among them become the destination's fields
        in another."""
        self._fetched = [field for field, _, _ in self._renames if field in named]
        fetched_converted = [item for item in self._converted if item[0] in named]
        self._fetch = _fetcher(
            [source for field, source, _ in self._renames if field in named]
            + [source for _, source, _, _ in fetched_converted]
        )
        self._by_path = [rename for rename in self._renames if rename[0] not in named]
        first = len(self._fetched)
        self._fetched_converted = [
            (first + n, field, source, convert) for n, (field, source, _, convert) in enumerate(fetched_converted)
        ]
        self._converted_by_path = [item for item in self._converted if item[0] not in named]

    def _names_read(self) -> set[str]:
        document = self.document
        return set().union(
            *(_names_read(source) for source in self._used),
            *(_names_read(placeholder) for placeholder in _placeholders(document.templates.values())),
            _names_read(document.filter) if document.filter is not None else set(),
        )

    def _origins(self) -> dict[str, str]:
        """Where each destination field comes from, for the reasons the destination gives (`Дата → event_timestamp`)."""
        origins = {field: source for field, source, _ in self._renames}
        origins |= {field: source for field, source, _, _ in self._converted}
        origins |= {field: "template" for field, _ in self._templates}
        return origins | dict.fromkeys(self._constants, "constant")

    def _compiled(self) -> Callable[[Record], tuple[dict[str, Any] | None, list[str]]]:
        """`apply`, with everything it reads bound as locals (it runs once a row)."""
        search = self._filter.search if self._filter is not None else None
        keep, used, constants = self._keep, self._used, self._constants
        fetch, fetched, by_path, renames = self._fetch, self._fetched, self._by_path, self._renames
        converted, templates = self._converted, self._templates
        fetched_converted, converted_by_path = self._fetched_converted, self._converted_by_path

        def apply(record: Record) -> tuple[dict[str, Any] | None, list[str]]:
            if search is not None and not search(record):
                return None, []
            out: dict[str, Any] = {k: v for k, v in record.items() if k not in used} if keep else {}
            left, left_converted = renames, converted
            errors: list[str] = []
            if fetch is not None:
                try:
                    values = fetch(record)
                except (KeyError, TypeError):  # some source is not there by its exact name (JSON, with paths)
                    pass
                else:  # the renames: the first values
                    if "" in values or None in values:
                        out.update((f, v) for f, v in zip(fetched, values, strict=False) if v is not None and v != "")
                    elif keep:
                        out.update(zip(fetched, values, strict=False))
                    else:
                        out = dict(zip(fetched, values, strict=False))
                    for at, field, source, convert in fetched_converted:
                        _convert(out, errors, field, source, convert, values[at])
                    left, left_converted = by_path, converted_by_path
            for field, _, get in left:
                value = get(record)
                if value is not None and value != "":
                    out[field] = value
            for field, source, get, convert in left_converted:
                _convert(out, errors, field, source, convert, get(record))
            for field, render in templates:
                try:
                    out[field] = render(record)
                except ValueError as error:
                    errors.append(f"{error} (template of {field})")
            if errors:
                return None, errors
            out.update(constants)
            return out, errors

        return apply

    def knows(self, name: str) -> bool:
        """Whether a source field is used: read by a rule, or passed through to a destination that knows it (a
        report lists the others as ignored)."""
        return name in self._read or (self._keep and self.destination.knows(name))

    def preparer(self, prepare: RowPreparer) -> RowPreparer:
        """The destination's preparer behind this mapping; its reasons name the source field a field came from."""
        apply, origins = self.apply, self.origins

        def prepare_mapped(record: Record) -> PreparedRow:
            fields, errors = apply(record)
            if fields is None:
                return None, errors
            prepared, reasons = prepare(fields)
            return (prepared, [_named(reason, origins) for reason in reasons]) if reasons else (prepared, reasons)

        return prepare_mapped


def _named(reason: str, origins: Map[str, str]) -> str:
    """`event_timestamp: is in the future` → `Дата (МСК) → event_timestamp: is in the future`."""
    field, colon, rest = reason.partition(": ")
    source = origins.get(field)
    return f"{source} → {field}: {rest}" if colon and source else reason


def _placeholders(texts: Iterable[str]) -> list[str]:
    return [name for text in texts for _, name, _, _ in string.Formatter().parse(text) if name]


def _template(text: str) -> Callable[[Record], str]:
    """Literal text and {source field} placeholders (a field name or a JMESPath expression, as in `fields`)."""
    pieces: list[str | tuple[str, Getter]] = []
    for literal, placeholder, _, _ in string.Formatter().parse(text):
        if literal:
            pieces.append(literal)
        if placeholder:
            pieces.append((placeholder, _getter(placeholder)))

    def render(record: Record) -> str:
        parts = []
        for piece in pieces:
            if isinstance(piece, str):
                parts.append(piece)
                continue
            value = piece[1](record)
            if _empty(value) or isinstance(value, dict | list):
                raise ValueError(f"{piece[0]}: is missing or not a single value")
            parts.append(str(value).lower() if isinstance(value, bool) else str(value))
        return "".join(parts)

    return render
