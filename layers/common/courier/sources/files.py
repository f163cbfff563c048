"""Files streamed row by row: .csv, .jsonl/.ndjson, .json (an array), each optionally gzipped."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, cast

from courier.delivery.pipeline import SourceRow

FORMATS = (".csv", ".jsonl", ".ndjson", ".json")
CHUNK_BYTES = 1 << 16
MAX_RECORD_CHARS = 16 * 1024 * 1024  # one JSON record larger than this is refused rather than buffered
csv.field_size_limit(16 * 1024 * 1024)  # one cell may hold a large event_json; the default 128 KiB is too small
_READ_ERRORS = (UnicodeDecodeError, OSError, EOFError, csv.Error)


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
    raw = cast(IO[bytes], gzip.GzipFile(fileobj=stream, mode="rb")) if key.lower().endswith(".gz") else stream
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
    if isinstance(error, csv.Error | ValueError):
        detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return UnreadableFileError(f"the file cannot be parsed after {where}: {detail}")
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


class _JsonArrayReader:
    """Objects of one top-level JSON array, decoded as the bytes arrive (the stdlib decoder, so any integer size)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._decode = codecs.getincrementaldecoder("utf-8-sig")().decode
        self._decoder = json.JSONDecoder()
        self._buffer, self._pos, self._eof = "", 0, False

    def _fill(self) -> bool:
        chunk = self._raw.read(CHUNK_BYTES)
        self._eof = not chunk
        self._buffer = self._buffer[self._pos :] + self._decode(chunk, final=self._eof)
        self._pos = 0
        return not self._eof

    def _next_char(self) -> str:
        """The next character that is not white space, without consuming it; '' at the end of the file."""
        while True:
            while self._pos < len(self._buffer) and self._buffer[self._pos] in " \t\r\n":
                self._pos += 1
            if self._pos < len(self._buffer) or not self._fill():
                return self._buffer[self._pos : self._pos + 1]

    def items(self) -> Iterator[Any]:
        if self._next_char() != "[":
            raise UnreadableFileError("a .json file must hold one array of objects (use .jsonl for one per line)")
        self._pos += 1
        if self._next_char() == "]":
            return
        while True:
            self._next_char()
            yield self._value()
            separator = self._next_char()
            self._pos += 1
            if separator == "]":
                return
            if separator != ",":
                raise ValueError("expected ',' or ']' between records")

    def _value(self) -> Any:
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buffer, self._pos)
            except json.JSONDecodeError:
                if self._eof or len(self._buffer) - self._pos > MAX_RECORD_CHARS:
                    raise
                self._fill()
                continue
            if end == len(self._buffer) and not self._eof:  # a number may go on in the next chunk
                self._fill()
                continue
            self._pos = end
            return value


def _json_array_rows(raw: IO[bytes]) -> Iterator[SourceRow]:
    index = 0
    try:
        for record in _JsonArrayReader(raw).items():
            index += 1
            if isinstance(record, dict):
                yield index, record, ""
            else:
                yield index, record, f"record: must be a JSON object, not {type(record).__name__}"
    except (*_READ_ERRORS, ValueError) as error:
        if isinstance(error, UnreadableFileError):
            raise
        raise _unreadable(error, f"record {index}") from None
