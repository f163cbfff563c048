"""Files streamed row by row: .csv, .jsonl/.ndjson, .json (an array), each optionally gzipped."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import ijson

from courier.delivery.pipeline import SourceRow

FORMATS = (".csv", ".jsonl", ".ndjson", ".json")
BOM = b"\xef\xbb\xbf"
csv.field_size_limit(16 * 1024 * 1024)  # one cell may hold a large event_json; the default 128 KiB is too small
_READ_ERRORS = (UnicodeDecodeError, OSError, EOFError, csv.Error, ijson.JSONError)


class UnreadableFileError(ValueError):
    """The file cannot be read past some point (bad encoding, broken JSON, bad gzip): the report says where."""


@dataclass
class OpenedFile:
    columns: list[str] | None  # the CSV header; None for JSON formats
    rows: Iterator[SourceRow]


def file_format(key: str) -> str:
    name = key.lower().removesuffix(".gz")
    for suffix in FORMATS:
        if name.endswith(suffix):
            return suffix
    raise UnreadableFileError(f"unsupported file type: expected one of {', '.join(FORMATS)}, optionally .gz")


def open_rows(stream: IO[bytes], key: str) -> OpenedFile:
    fmt = file_format(key)
    raw: IO[bytes] = gzip.GzipFile(fileobj=stream, mode="rb") if key.lower().endswith(".gz") else stream
    if fmt == ".json":
        return OpenedFile(None, _json_array_rows(raw))
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")  # utf-8-sig drops a BOM if there is one
    if fmt == ".csv":
        reader = csv.reader(text)
        try:
            header = next((row for row in reader if row), [])
        except _READ_ERRORS as error:
            raise _unreadable(error, "the header") from None
        header = [name.strip() for name in header]
        return OpenedFile(header, _csv_rows(reader, header))
    return OpenedFile(None, _json_line_rows(text))


def _unreadable(error: BaseException, where: str) -> UnreadableFileError:
    if isinstance(error, UnicodeDecodeError):
        return UnreadableFileError(f"the file is not valid UTF-8 after {where}")
    if isinstance(error, csv.Error | ijson.JSONError):
        return UnreadableFileError(f"the file cannot be parsed after {where}: {error}")
    return UnreadableFileError(f"the file cannot be decompressed after {where}: {error}")


def _csv_rows(reader: Iterator[list[str]], header: list[str]) -> Iterator[SourceRow]:
    width, index = len(header), 0
    try:
        for row in reader:
            if not row:
                continue  # a blank line
            index += 1
            if len(row) == width:
                yield index, dict(zip(header, row, strict=True)), ""
            else:  # kept as far as the header goes, so the rejected file shows the row
                yield index, dict(zip(header, row, strict=False)), f"row: has {len(row)} cells, the header {width}"
    except _READ_ERRORS as error:
        raise _unreadable(error, f"row {index}") from None


def _json_line_rows(text: IO[str]) -> Iterator[SourceRow]:
    index = 0
    try:
        for line in text:
            if not line.strip():
                continue
            index += 1
            try:
                record = json.loads(line)
            except ValueError:
                yield index, line.rstrip("\r\n"), "line: is not valid JSON"
                continue
            if isinstance(record, dict):
                yield index, record, ""
            else:
                yield index, record, f"line: must be a JSON object, not {type(record).__name__}"
    except _READ_ERRORS as error:
        raise _unreadable(error, f"line {index}") from None


class _Prefixed:
    """A stream with its first bytes already read (to look past a BOM and check the array opens)."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head, self._rest = head, rest

    def read(self, size: int = -1) -> bytes:
        if self._head:
            head, self._head = self._head, b""
            return head
        return self._rest.read(size)


def _json_array_rows(raw: IO[bytes]) -> Iterator[SourceRow]:
    index = 0
    try:
        head = raw.read(4096).removeprefix(BOM)
        if head.lstrip()[:1] != b"[":
            raise UnreadableFileError("a .json file must hold one array of objects (use .jsonl for one per line)")
        for record in ijson.items(_Prefixed(head, raw), "item", use_float=True):
            index += 1
            if isinstance(record, dict):
                yield index, record, ""
            else:
                yield index, record, f"record: must be a JSON object, not {type(record).__name__}"
    except _READ_ERRORS as error:
        raise _unreadable(error, f"record {index}") from None
