"""The types every layer shares: records, prepared records, sources, batches, senders, outcomes, destinations.

This module is the bottom of the layer: it imports nothing of Courier's, and everything else may import it."""

from __future__ import annotations

import csv
import enum
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


class CsvRow(dict[str, str]):
    """A CSV file's row: its fields (a dict, as every preparer reads a record), with its cells in the header's order
    and its line as written (no line end) when the row is that one line, else b"". A destination may forward that
    line when nothing in it changes. `columns` is the file's header, one tuple shared by all its rows."""

    __slots__ = ("cells", "columns", "line")

    def __init__(self, columns: tuple[str, ...], cells: list[str], line: bytes) -> None:
        super().__init__(zip(columns, cells))  # noqa: B905 - the source gives rows as wide as their header
        self.columns, self.cells, self.line = columns, cells, line


class CsvLine:
    """A prepared row that is a CSV line already: `columns` (shared by the file's rows) and the line to send, for the
    batch keyed `key`. What a Post API preparer gives for a row it forwards as written."""

    __slots__ = ("columns", "key", "line")

    def __init__(self, columns: tuple[str, ...], line: bytes, key: str) -> None:
        self.columns, self.line, self.key = columns, line, key

    def fields(self) -> dict[str, str]:
        """The line's fields, empty ones left out as a preparer leaves them (the rare path: a batch whose columns
        differ, a door that needs a dict)."""
        cells = next(csv.reader([self.line.decode()]))
        return {name: value for name, value in zip(self.columns, cells) if value}  # noqa: B905 - its own line


class CsvRun:
    """Consecutive lines of a CSV file, read a block at a time, each ending in one \\n (whatever ended it in the
    file), from `start` on; `first` is the index of the row at `start`. Their cells a column at a time
    (`by_column[c][r]`: row r's cell of column c), split at the first look, when each line is one row as wide as the
    header; None when some line is not (a blank one, broken CSV, a row over several lines). What a file source gives
    to a delivery that asks for runs: it `take`s the first n rows whole (having found each line one row, by
    `by_column` or otherwise), or none, and then the source gives the rows one by one."""

    __slots__ = ("_by_column", "_take", "columns", "data", "first", "lines", "start", "taken")

    def __init__(
        self,
        columns: tuple[str, ...],
        first: int,
        by_column: list[tuple[str, ...]] | Callable[[], list[tuple[str, ...]] | None],
        lines: list[bytes],
        start: int,
        take: Callable[[int], None],
        data: bytes | None = None,
    ) -> None:
        self.columns, self.first, self._by_column, self.lines, self.start = columns, first, by_column, lines, start
        self._take, self.taken = take, 0
        self.data = b"".join(lines) if data is None else data  # all the lines in one: what holds for it holds for each

    @property
    def by_column(self) -> list[tuple[str, ...]] | None:
        """The cells of all the block's lines (a run from `start` uses them from there), or None."""
        return self._by_column if isinstance(self._by_column, list) else self._by_column()

    def __len__(self) -> int:
        return len(self.lines) - self.start

    def take(self, count: int) -> None:
        """The first `count` rows are the caller's: the source stands after them (its mark says so)."""
        self._take(count)
        self.taken += count


class ForwardedLines:
    """A run a preparer forwards whole: each line as written (ending in \\n) behind `prefix` (the configured
    application id, or nothing), with `columns` sent, for the batch keyed `key`."""

    __slots__ = ("columns", "key", "lines", "prefix")

    def __init__(self, columns: tuple[str, ...], key: str, prefix: bytes, lines: list[bytes]) -> None:
        self.columns, self.key, self.prefix, self.lines = columns, key, prefix, lines


Fields = dict[str, Any] | CsvLine  # what a preparer gives to send: a record's fields, or a line as written


def field_map(fields: Fields) -> dict[str, Any]:
    return fields.fields() if isinstance(fields, CsvLine) else fields


Record = Mapping[str, Any]
# A prepared record: what to send (None when refused); then the reasons it was refused, or for a record sent,
# the values dropped from it (an invalid phone among valid ones). Reasons never quote a value. (None, []), no record
# and no reason, is a record a mapping's filter left out: neither sent nor refused, counted as skipped.
Prepared = tuple[dict[str, Any] | None, list[str]]
Preparer = Callable[[Record], Prepared]
# What a destination's preparer gives a delivery: the same, but a row may be a CSV line to forward as written.
PreparedRow = tuple[Fields | None, list[str]]
RowPreparer = Callable[[Record], PreparedRow]


@runtime_checkable
class RunPreparer(Protocol):
    """A row preparer that also takes a CSV run at once: the first `count` rows of it forwarded whole, or None when
    any of them is not sent as written (each row is then prepared alone)."""

    def __call__(self, record: Record) -> PreparedRow: ...

    def run(self, run: CsvRun, count: int) -> ForwardedLines | None: ...


# (index, record, parse error): where a source could not read a record, the error is set and the record is
# whatever it has of the original (a partial row, a line of text) so the rejected file can show it. Indexes grow by
# one from row to row; files count from 1, messages and request bodies from 0.
SourceRow = tuple[int, Any, str]

# Where a source stands between two rows: {"index": the last row read, "offset": the byte the next row starts at
# (files that can be resumed there)}. A continuation starts reading from a mark; a chunk is known by the mark it
# starts at, so it is the same chunk on every attempt.
Mark = dict[str, int]


class Source(Protocol):
    """Rows with their places, resumable from a mark and able to give back originals of rows it already gave."""

    columns: list[str] | None  # a CSV header (the rejected file's columns); None for JSON records

    def __iter__(self) -> Iterator[SourceRow]: ...

    def mark(self) -> Mark:
        """Where the source stands now: after the last row it gave."""
        ...

    def originals(self, start: Mark, indexes: set[int]) -> dict[int, Any]:
        """The records at these indexes as the user sent them, read again from `start` (the rare path: rows the
        destination refused go to rejected/ in their original form)."""
        ...


@runtime_checkable
class RunSource(Source, Protocol):
    """A source that can also give clean blocks of CSV rows as runs (CsvRun) among its rows."""

    def runs(self) -> Iterator[SourceRow | CsvRun]: ...


class Status(enum.Enum):
    DELIVERED = "delivered"
    REJECTED = "rejected"  # refused, by the destination or because it may already have arrived: never resent
    RETRY = "retry"  # not delivered now (outage, throttling, bad key): the message goes back to SQS


@dataclass(frozen=True)
class ItemResult:
    """One record's outcome inside a batch the destination answered item by item."""

    status: Status
    reason: str = ""
    destination_id: str = ""


@dataclass(frozen=True)
class SendResult:
    status: Status  # the whole request's; when `items` is set, each record's own status counts instead
    reason: str = ""
    requests: int = 1
    retries: int = 0
    items: tuple[ItemResult, ...] | None = None
    split: bool = False  # refused whole for rows it did not name: halving the batch finds them

    @property
    def settled_nothing(self) -> bool:
        """True when every record is still to retry: nothing reached the destination, the chunk is free again."""
        statuses = [item.status for item in self.items] if self.items is not None else [self.status]
        return all(status is Status.RETRY for status in statuses)

    def to_json(self) -> dict[str, Any]:
        items = None if self.items is None else [[i.status.value, i.reason, i.destination_id] for i in self.items]
        return {
            "status": self.status.value,
            "reason": self.reason,
            "requests": self.requests,
            "retries": self.retries,
            "items": items,
            "split": self.split,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SendResult:
        items = data.get("items")
        return cls(
            Status(data["status"]),
            data.get("reason", ""),
            int(data.get("requests", 0)),
            int(data.get("retries", 0)),
            None if items is None else tuple(ItemResult(Status(s), r, d) for s, r, d in items),
            bool(data.get("split")),
        )


class Batch(Protocol):
    """Prepared records bound for one request; `indexes` are their places in the source, in batch order."""

    key: str
    chars: int

    @property
    def indexes(self) -> Sequence[int]: ...

    @property
    def rows(self) -> int: ...

    def add(self, fields: Fields, index: int, original: Any) -> None: ...

    def records(self) -> list[Any]:
        """The records as sent, in batch order (a rejected file's fallback when the source cannot give originals)."""
        ...

    def sample(self, limit: int) -> list[str]:
        """The first rows as they would be sent (for `courier send --dry-run`)."""
        ...

    def subset(self, positions: list[int]) -> Batch:
        """A batch of the records at these positions (to split a refused batch, or retry only some records)."""
        ...


class LineBatch(Batch, Protocol):
    """A batch of CSV lines, which takes a forwarded run's lines at once."""

    def add_lines(self, lines: ForwardedLines, first_index: int, room: int, max_chars: int) -> int:
        """Adds the first lines, at most `room`, up to the one that brings the batch to `max_chars`; the number
        added (0 when the batch's columns are not the lines': each row is then added alone)."""
        ...


class Sender(Protocol):
    """Sends one batch as one request. Its caps say how large a batch the destination takes."""

    max_rows: int
    max_chars: int

    def send(self, batch: Batch, deadline: float) -> SendResult:
        """Never runs past `deadline` (epoch seconds): no request starts, nor waits for its answer, after it."""
        ...

    def may_resend(self, batch: Batch) -> bool:
        """Whether sending this batch twice changes nothing at the destination (then a possibly-sent batch is sent
        again rather than refused)."""
        ...


@dataclass(frozen=True)
class Field:
    """One field of an endpoint's record, declared once: validation, the command line's help and README's record
    format tables come from it."""

    name: str
    kind: str  # what the value is, in a few words: "text", "whole number", "one of: a, b", "JSON object", …
    description: str  # one line
    required: bool = False  # required on every record (a rule between fields, such as "one of", is in `rules`)


@dataclass(frozen=True)
class Api:
    """What a function needs to reach one API: its settings (variable → the template's parameter) and its secret."""

    title: str
    environment: tuple[tuple[str, str], ...]
    secret_variable: str  # the key's variable for local runs; `<it>_SECRET` names the secret in AWS
    secret_parameter: str  # the template parameter naming the Secrets Manager secret the function may read


@dataclass(frozen=True)
class Destination:
    name: str  # the function's name: its S3 prefix, its queue, its folder under rejected/ and reports/
    route: str  # the HTTPS route on the stack's REST API
    fields: frozenset[str]  # every field a record may carry; others are ignored and reported
    make_preparer: Callable[[Any, float], RowPreparer]  # (settings, now) → per-record validation
    batch_key: Callable[[dict[str, Any]], str]  # records with different keys never share a request
    new_batch: Callable[[str], Batch]
    make_sender: Callable[[Any], Sender]  # (settings) → the destination's client
    field_prefixes: tuple[str, ...] = ()  # families of fields, such as flat `attributes.<name>` columns
    result_id: str = ""  # what the destination calls the id it answers per record (shown by ?mode=sync)
    declared: tuple[Field, ...] = ()  # the record format, for people (README, the command line's help)
    rules: tuple[str, ...] = ()  # rules between fields, one line each ("exactly one of profile_id, …")
    summary: str = ""  # one line: what the endpoint does, and where it sends
    api: Api | None = None  # the API it calls: what the function needs to start (courier.doors.entry)

    def knows(self, name: str) -> bool:
        return name in self.fields or name.startswith(self.field_prefixes)
