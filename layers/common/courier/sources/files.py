"""Files streamed row by row: .csv, .jsonl/.ndjson, .json (an array), each optionally gzipped.

A file is a `Source` (courier.model): its rows come with their indexes, `mark()` says where it stands, and a file opened
again at a mark carries on from there. Plain .csv and .jsonl files are resumed at the byte their next row starts at;
gzipped files and .json arrays are read again from the start, skipping the rows already given.

Nothing is ever held whole: a line is read at most MAX_LINE_BYTES at a time, a CSV header is bounded in bytes and
columns, a gzipped file that decompresses far beyond its size is refused, a JSON array is decoded record by record.

Errors: a file that cannot be read past some point raises UnreadableFileError (the report says where); the storage
failing to deliver bytes (a dropped connection, a timeout) is NOT that: it raises what the opener raises, for S3
SourceUnavailableError (courier.sources.s3), and the file is to be tried again later."""

from __future__ import annotations

import codecs
import csv
import gc
import gzip
import io
import json
import math
import re
import zlib
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from functools import cache, partial
from itertools import chain, islice, repeat
from json.scanner import make_scanner
from operator import length_hint
from typing import IO, Any, Protocol, cast

from courier.model import CsvRow, CsvRun, Mark, SourceRow
from courier.sources.records import UNFIT_NUMBER, fit_row, object_row

FORMATS = (".csv", ".jsonl", ".ndjson", ".json")
RESUMABLE_FORMATS = frozenset({".csv", ".jsonl", ".ndjson"})  # uncompressed, they resume at a byte offset
NOT_RESUMABLE = -1  # a mark's offset where the file is resumed by reading it again and skipping rows
BLOCK_BYTES = 1 << 20  # lines are read in blocks of about this size, ended at a line end
CHUNK_BYTES = 1 << 16  # what a JSON array is read by
MAX_LINE_BYTES = 16 * 1024 * 1024  # one line (its line end included) longer than this is refused, never held
MAX_COLUMNS = 2000  # a CSV header with more columns than this is refused
MAX_RECORD_CHARS = 16 * 1024 * 1024  # one JSON record larger than this is refused rather than buffered
MAX_GZIP_RATIO = 200  # past GZIP_RATIO_FROM bytes, more than this many bytes out for one in is a decompression bomb
GZIP_RATIO_FROM = 64 * 1024 * 1024
MAX_DECOMPRESSED_BYTES = 20 * 1024 * 1024 * 1024  # no gzipped file decompresses to more than this
csv.field_size_limit(16 * 1024 * 1024)  # one cell may hold a large event_json; the default 128 KiB is too small

LONG_ROW = f"row: longer than {MAX_LINE_BYTES} bytes"
LONG_LINE = f"line: longer than {MAX_LINE_BYTES} bytes"
_BOM = codecs.BOM_UTF8
_JSON_SPACE = " \t\r\n"
_COMMA_OR_QUOTED = re.compile(rb'(,)|"[^"]*"')  # a quoted cell (a doubled quote in one splits it in two: same commas)
# What a broken file raises while read. Never OSError as a whole: a storage error (botocore's ReadTimeoutError is an
# OSError) must not be taken for a broken file. gzip raises BadGzipFile, zlib.error or EOFError (truncated).
_BROKEN = (UnicodeDecodeError, csv.Error, gzip.BadGzipFile, zlib.error, EOFError)


class _NotJsonError(ValueError):
    """NaN or Infinity (written so, or a number too large for a float), which Python's json reads and JSON has not."""


def _not_json(_: str) -> Any:
    raise _NotJsonError(UNFIT_NUMBER)


def _finite(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise _NotJsonError(UNFIT_NUMBER)
    return number


_JSON = json.JSONDecoder(parse_constant=_not_json, parse_float=_finite)
_scan_json = make_scanner(cast(Any, _JSON))  # the C scanner json.loads runs, without its two regex passes
# Bytes a line holds when a value may be unfit to send (courier.sources.records.unfit_value): a \u escape (of a lone
# surrogate or a non-character, among others) or a non-character written out (U+FFFE, U+FFFF in any plane end
# BF BE / BF BF; U+FDD0–U+FDEF start EF B7). Found by fast substring search, once per block: no regex on the hot path.
_SUSPECT_BYTES = (b"\\u", b"\xbf\xbe", b"\xbf\xbf", b"\xef\xb7")


class UnreadableFileError(ValueError):
    """The file cannot be read past some point (bad encoding, broken JSON, bad gzip): the report says where."""


class SourceUnavailableError(Exception):
    """The storage did not deliver the file's bytes now (connection dropped, timeouts, again and again): the file
    itself may be fine and is to be tried again later, never reported broken. Not an OSError, not a ValueError."""


class _LongLineError(Exception):
    """Raised into the CSV reader's line feed: the row it was reading has a line too long to read."""


class _Stream(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


Opener = Callable[[int], IO[bytes]]  # offset → a binary stream of the file from that byte


def file_format(key: str) -> str:
    name = key.lower().removesuffix(".gz")
    for suffix in FORMATS:
        if name.endswith(suffix):
            return suffix
    raise UnreadableFileError(f"unsupported file type: expected one of {', '.join(FORMATS)}, optionally .gz")


def open_file(open_at: Opener, key: str, start: Mark | None = None) -> FileSource:
    """The file `key` (its name gives the format) as a Source; from `start` (a mark it gave) when set. Opens the file
    now: a CSV header is read here, so errors of the storage and of the header raise here."""
    return FileSource(open_at, key, start)


class FileSource:
    """One pass over a file's rows; `mark()` at any point between them, `originals()` reads some again."""

    __slots__ = (
        "_base",
        "_blanks",
        "_block",
        "_format",
        "_give_runs",
        "_gzipped",
        "_header_bytes",
        "_header_commas",
        "_header_end",
        "_index",
        "_key",
        "_left",
        "_lines",
        "_open_at",
        "_row_from",
        "_rows",
        "_rows_seen",
        "_size",
        "_skip",
        "_stream",
        "_summed",
        "_summed_bytes",
        "_suspect",
        "columns",
    )

    def __init__(
        self,
        open_at: Opener,
        key: str,
        start: Mark | None = None,
        _header: tuple[list[str], int] | None = None,
    ) -> None:
        self._format = file_format(key)
        self._gzipped = key.lower().endswith(".gz")
        self._open_at, self._key = open_at, key
        self.columns: list[str] | None = None
        self._header_end = 0
        self._header_bytes = self._header_commas = -1  # while the header is read: its bytes and commas so far
        # Where the rows stand: the index of the last row given, and for resumable files the block of lines being
        # read (the bytes before it, its lines, the iterator the reader takes them from, the part already summed).
        self._index = self._skip = 0
        self._give_runs = False  # set by runs(): clean blocks of CSV lines come as CsvRuns
        self._suspect = False  # a block of JSON lines read so far held _SUSPECT_BYTES: its rows are looked at
        self._blanks = self._rows_seen = self._row_from = 0  # blank CSV rows; rows read and where the next began
        self._base = self._size = self._summed = self._summed_bytes = 0
        self._lines: list[bytes] = []
        self._block = b""  # the current block, which _lines split
        self._left: Iterator[bytes] = iter(self._lines)
        offset = 0
        if start is not None:
            self._index = int(start.get("index", 0))
            offset = int(start.get("offset", NOT_RESUMABLE)) if self.resumable else NOT_RESUMABLE
            if offset < 0:
                offset, self._skip, self._index = 0, self._index, 0  # read again from the start, skipping rows
        self._stream: _Stream | None = None
        self._rows: Iterator[SourceRow | CsvRun]
        if self._format == ".csv":
            reader: Iterator[list[str]] | None = None
            if _header is not None and self.resumable:  # known from an earlier opening (originals)
                self.columns, self._header_end = _header
            elif offset > 0:  # the header alone from the start, then the rows from the offset
                header_stream = self._open(0)
                try:
                    self.columns, _ = self._read_header(self._blocks(header_stream, at_start=True))
                finally:
                    header_stream.close()
            if self.columns is None:
                self._stream = stream = self._open(0)
                blocks = self._blocks(stream, at_start=True)
                try:
                    self.columns, reader = self._read_header(blocks)
                except BaseException:
                    stream.close()
                    raise
            else:
                offset = max(offset, self._header_end)
                self._stream = stream = self._open(offset)
                self._restart_at(offset)
                blocks = self._blocks(stream, at_start=False)
            self._rows = self._csv_rows(stream, blocks, reader, self.columns)
        else:
            self._stream = stream = self._open(offset)
            self._restart_at(offset)
            if self._format == ".json":
                self._rows = self._json_array_rows(stream)
            else:
                self._rows = self._json_line_rows(stream, at_start=offset == 0)
        if self._skip:
            self._rows = self._skipping(self._rows, self._skip)

    # The Source protocol

    @property
    def resumable(self) -> bool:
        """Whether marks carry a byte offset (plain .csv and .jsonl), rather than an index to skip to."""
        return self._format in RESUMABLE_FORMATS and not self._gzipped

    def __iter__(self) -> Iterator[SourceRow]:
        return cast(Iterator[SourceRow], self._rows)  # runs only after runs() asked for them

    def runs(self) -> Iterator[SourceRow | CsvRun]:
        """The rows, but a CSV file's block of lines that are each one row as wide as the header comes as a CsvRun
        (the hot path: no object per row until a row needs one)."""
        self._give_runs = self._format == ".csv"
        return self._rows

    def mark(self) -> Mark:
        """{"index": the last row given (0 before any), "offset": the byte the next row starts at, or -1 when the
        file is resumed by skipping rows (gzip, .json)}."""
        if self._index < self._skip:  # opened at a mark and not read past it yet: it stands at that mark
            return {"index": self._skip, "offset": NOT_RESUMABLE}
        return {"index": self._index, "offset": self._offset() if self.resumable else NOT_RESUMABLE}

    def originals(self, start: Mark, indexes: set[int]) -> dict[int, Any]:
        """The records at these indexes as rows gave them (a CSV row's dict of every column, a JSON object, a bad
        line's text), read again from `start`, up to the largest index."""
        if not indexes:
            return {}
        last, found = max(indexes), {}
        header = (self.columns, self._header_end) if self.columns is not None else None
        with FileSource(self._open_at, self._key, start, header) as again:
            for index, record, _ in again:
                if index in indexes:
                    found[index] = record
                if index >= last:
                    break
        return found

    def close(self) -> None:
        close = getattr(self._rows, "close", None)
        if close is not None:
            close()
        if self._stream is not None:
            self._stream.close()

    def __enter__(self) -> FileSource:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # Opening

    def _open(self, offset: int) -> _Stream:
        stream = self._open_at(offset)
        return _Gunzipped(stream) if self._gzipped else stream

    @staticmethod
    def _skipping(rows: Iterator[SourceRow | CsvRun], skip: int) -> Iterator[SourceRow | CsvRun]:
        for row in rows:
            if type(row) is CsvRun:
                if row.first <= skip:  # taken up to the row skipped to, when its lines are rows; the rest comes next
                    if row.by_column is not None:
                        row.take(min(len(row), skip - row.first + 1))
                    continue
            elif cast(SourceRow, row)[0] <= skip:
                continue
            yield row
            break
        yield from rows

    # Lines

    def _blocks(self, stream: _Stream, at_start: bool) -> Iterator[Iterator[bytes] | None]:
        """The stream's lines, a block at a time, as iterators the caller takes lines from: what it has taken is what
        `mark()` counts. A block ends at a line end (\\n, \\r or \\r\\n, as the csv module sees them); the unfinished
        line after it waits for the next read. None stands for a line too long to read, skipped to its end."""
        read = stream.read
        pending: list[bytes] = []  # the start of a line whose end is not read yet
        pending_size = 0
        data = b""
        while True:
            if not data:
                data = read(BLOCK_BYTES)
                if not data:
                    if pending:  # the last line, without a line end
                        self._next_block()
                        yield self._take(b"".join(pending), at_start)
                    return
            self._next_block()
            if pending:
                first = _first_line_end(data)
                if first and pending_size + first > MAX_LINE_BYTES:  # a line too long ends in this piece
                    self._base += pending_size + first
                    pending, pending_size, data, at_start = [], 0, data[first:], False
                    yield None
                    continue
            last = _last_line_end(data)
            if not last:  # no line end in this piece: the line goes on
                pending.append(data)
                pending_size += len(data)
                data = b""
                if pending_size > MAX_LINE_BYTES:  # too long: dropped, and the rest of it skipped
                    skipped, data = _skip_line(read)
                    self._base += pending_size + skipped
                    pending, pending_size, at_start = [], 0, False
                    yield None
                continue
            block = b"".join((*pending, data[:last])) if pending else data[:last]  # a whole slice is no copy
            pending, pending_size = ([data[last:]], len(data) - last) if last < len(data) else ([], 0)
            data = b""
            yield self._take(block, at_start)
            at_start = False

    def _take(self, block: bytes, at_start: bool) -> Iterator[bytes]:
        """The lines of a block, made the current block (a BOM at the start of the file dropped)."""
        if at_start and block.startswith(_BOM):
            block = block[len(_BOM) :]
            self._base += len(_BOM)
        if self._format != ".csv" and not self._suspect:
            self._suspect = any(suspect in block for suspect in _SUSPECT_BYTES)
        self._lines = block.splitlines(keepends=True)
        self._block = block  # its lines joined
        self._size = len(block)
        self._left = iter(self._lines)
        return self._left

    def _next_block(self) -> None:
        """The current block is all taken: the next starts after it."""
        self._base += self._size
        self._size = self._summed = self._summed_bytes = 0
        self._lines, self._block = [], b""
        self._left = iter(self._lines)

    def _taken(self) -> int:
        """How many lines of the current block were taken so far."""
        return len(self._lines) - length_hint(self._left)

    def _offset(self) -> int:
        """The byte after the lines taken so far (of the stream as read: decompressed for gzip)."""
        consumed = self._taken()
        if consumed > self._summed:  # the lines taken since the last time, summed once
            self._summed_bytes += sum(map(len, self._lines[self._summed : consumed]))
            self._summed = consumed
        return self._base + self._summed_bytes

    def _restart_at(self, offset: int) -> None:
        self._next_block()
        self._base = offset

    def _lines_of(self, blocks: Iterator[Iterator[bytes] | None]) -> Iterator[str]:
        """The blocks' lines decoded, for the csv module (chained: it pulls one line at a time)."""
        return chain.from_iterable(map(self._decoded, blocks))

    def _decoded(self, left: Iterator[bytes] | None) -> Iterator[str]:
        if left is None:
            raise _LongLineError
        if self._header_bytes >= 0:  # the header is being read: its lines are checked as they come
            return map(self._header_line, left)
        rows_seen = self._index + self._blanks
        if rows_seen != self._rows_seen:
            self._rows_seen, self._row_from = rows_seen, self._base
        elif self._base - self._row_from > MAX_LINE_BYTES:  # one row over many lines: its cells would pile up
            raise UnreadableFileError(
                f"the file cannot be parsed after row {self._index}: a row runs on past {MAX_LINE_BYTES} bytes "
                "(a quoted cell that is never closed?)"
            )
        return map(bytes.decode, left)

    # CSV

    def _read_header(self, blocks: Iterator[Iterator[bytes] | None]) -> tuple[list[str], Iterator[list[str]]]:
        """The first row that is not blank, and the reader that read it (it goes on with the rows). Sets where the
        rows start. Bounded as it is read: in bytes (blank lines before it included), and in columns before the csv
        module makes a string of each."""
        reader = csv.reader(self._lines_of(blocks))
        self._header_bytes, self._header_commas = 0, 0
        try:
            header = next((row for row in reader if row), [])
        except _LongLineError:
            raise UnreadableFileError(f"the header is longer than {MAX_LINE_BYTES} bytes") from None
        except _BROKEN as error:
            raise _unreadable(error, "the header") from None
        finally:
            self._header_bytes = -1
        if len(header) > MAX_COLUMNS:
            raise UnreadableFileError(f"the header has more than {MAX_COLUMNS} columns ({len(header)})")
        self._header_end = self._offset()
        return [name.strip() for name in header], reader

    def _header_line(self, line: bytes) -> str:
        if self._header_bytes >= 0:
            self._header_bytes += len(line)
            if self._header_bytes > MAX_LINE_BYTES:
                raise UnreadableFileError(f"the header is longer than {MAX_LINE_BYTES} bytes")
            self._header_commas += _commas_outside_quotes(line, MAX_COLUMNS - self._header_commas)
            if self._header_commas >= MAX_COLUMNS:
                raise UnreadableFileError(f"the header has more than {MAX_COLUMNS} columns")
        return line.decode()

    def _csv_rows(
        self,
        stream: _Stream,
        blocks: Iterator[Iterator[bytes] | None],
        reader: Iterator[list[str]] | None,
        header: list[str],
    ) -> Iterator[SourceRow | CsvRun]:
        width, names = len(header), tuple(header)
        try:
            while True:
                try:
                    if self._give_runs:  # between rows: the rest of this block, and the next, may come as runs
                        reader = yield from self._runs_of_blocks(blocks, names)
                        if reader is None:
                            return
                    elif reader is None:
                        reader = csv.reader(self._lines_of(blocks))
                    lines = reader.line_num  # type: ignore[attr-defined]
                    for row in reader:
                        read, lines = reader.line_num - lines, reader.line_num  # type: ignore[attr-defined]
                        if not row:
                            self._blanks += 1  # a blank line
                        elif len(row) == width:
                            self._index += 1
                            yield self._index, CsvRow(names, row, self._last_line() if read == 1 else b""), ""
                        else:  # kept as far as the header goes, so the rejected file shows the row
                            self._index += 1
                            error = f"row: has {len(row)} cells, the header {width}"
                            yield self._index, dict(zip(header, row, strict=False)), error
                        if self._give_runs and not length_hint(self._left):
                            break  # between rows at a block's end
                    else:
                        return
                except _LongLineError:  # the reader is dropped with its partial row; a new one goes on after it
                    reader = None
                    self._index += 1
                    yield self._index, {}, LONG_ROW
        except _BROKEN as error:
            raise _unreadable(error, f"row {self._index}") from None
        finally:
            stream.close()

    def _runs_of_blocks(
        self, blocks: Iterator[Iterator[bytes] | None], names: tuple[str, ...]
    ) -> Generator[SourceRow | CsvRun, None, Iterator[list[str]] | None]:
        """The rest of the current block, then whole blocks, whose lines are each one row as wide as the header, as
        runs, until a block is not: the reader to read that one with is returned (None at the end of the file)."""
        for left in chain([self._left], blocks):
            if left is None:  # a line too long: the csv module's reader says so
                return csv.reader(self._lines_of(chain([left], blocks)))
            columns, lines, data = self._clean_rows(len(names))
            start = 0
            while start < len(lines):
                run = CsvRun(names, self._index + 1, columns, lines, start, self._take_rows, data)
                yield run
                if not run.taken:  # the rows one by one, for the rest of the block
                    by_column = columns()
                    if by_column is None:  # some line is not one row: the csv module reads the rest
                        return csv.reader(self._lines_of(chain([left], blocks)))
                    for offset in range(start, len(lines)):
                        self._take_rows(1)
                        cells = [column[offset] for column in by_column]
                        yield self._index, CsvRow(names, cells, lines[offset][:-1]), ""
                    break
                start += run.taken
        return None

    def _clean_rows(self, width: int) -> tuple[Callable[[], list[tuple[str, ...]] | None], list[bytes], bytes]:
        """The current block's lines not taken yet, each ending in one \\n, all of them in one, and their cells a
        column at a time, split at the first call: None when some line is not one row as wide as the header (a
        blank one, broken CSV, a row over several lines)."""
        taken = self._taken()
        lines = self._lines[taken:]
        data = self._block if not taken else b"".join(lines)
        plain = b"\r" not in data and data.endswith(b"\n")  # else the rare file: \r\n, \r, no last \n
        columns = cache(partial(_columns_of, data if plain else None, lines, width))
        if not plain:
            lines = [line.rstrip(b"\r\n") + b"\n" for line in lines]
            data = b"".join(lines)
        return columns, lines, data

    def _take_rows(self, count: int) -> None:
        """The next `count` rows of the current block are taken: the source stands after them."""
        self._index += count
        next(islice(self._left, count - 1, None), None)

    def _last_line(self) -> bytes:
        """The line the reader took last, as written, without its line end."""
        line = self._lines[self._taken() - 1]
        return line.rstrip(b"\r\n")

    # JSON

    def _json_line_rows(self, stream: _Stream, at_start: bool) -> Iterator[SourceRow]:
        index, scan = self._index, _scan_json
        try:
            for left in self._blocks(stream, at_start):
                if left is None:
                    index += 1
                    self._index = index
                    yield index, "", LONG_LINE
                    continue
                for raw in left:
                    line = raw.decode()
                    try:  # the usual line: one compact object, then its line end
                        record, end = scan(line, 0)
                        clean = end == len(line) or not line[end:].strip(_JSON_SPACE)
                    except (StopIteration, ValueError, RecursionError):
                        clean = False
                    if not clean:  # the decoder decides (leading spaces, trailing text, broken JSON)
                        if not line.strip():
                            continue  # a blank line
                        try:
                            record = _JSON.decode(line)
                        except (ValueError, RecursionError) as error:
                            index += 1
                            self._index = index
                            problem = str(error) if isinstance(error, _NotJsonError) else "is not valid JSON"
                            yield index, line.rstrip("\r\n"), f"line: {problem}"
                            continue
                    index += 1
                    self._index = index
                    row = object_row(index, record, "line")
                    yield fit_row(row) if self._suspect else row
        except _BROKEN as error:
            raise _unreadable(error, f"line {index}") from None
        finally:
            stream.close()

    def _json_array_rows(self, stream: _Stream) -> Iterator[SourceRow]:
        index = self._index
        try:
            for record in _JsonArrayReader(stream).items():
                index += 1
                self._index = index
                yield fit_row(object_row(index, record))  # not the hot path: every record is looked at
        except UnreadableFileError:
            raise
        except (*_BROKEN, ValueError, RecursionError) as error:
            raise _unreadable(error, f"record {index}") from None
        finally:
            stream.close()


def _columns_of(plain: bytes | None, lines: list[bytes], width: int) -> list[tuple[str, ...]] | None:
    """The cells of `lines` a column at a time, when each is one row `width` cells wide, else None: split at commas
    where `plain` (all of them in one, no \\r) allows, else by one strict call of the csv module."""
    if not lines:
        return []
    with _collector_paused():
        by_column = _split_columns(plain, len(lines), width) if plain is not None else None
        if by_column is None:
            try:
                rows = list(csv.reader(map(bytes.decode, lines), strict=True))  # strict: a quote left open raises
            except (UnicodeDecodeError, csv.Error):
                return None
            if len(rows) != len(lines) or set(map(len, rows)) != {width}:
                return None
            by_column = list(zip(*rows, strict=True))
            del rows  # the row lists go before the collector could count them
    return by_column


def _split_columns(data: bytes, count: int, width: int) -> list[tuple[str, ...]] | None:
    """The csv module's cells of `count` lines (each ending in \\n, none in \\r), a column at a time, by splitting
    at commas, for the plainest lines: no quote before the last cell, which is either plain or quoted whole. Half
    the csv module's time on such lines; None for any other (the csv module reads them)."""
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return None
    rows = text.split("\n")
    rows.pop()  # after the last \n
    if len(rows) != count or "" in rows:  # a blank line is no row to the csv module
        return None
    cells = list(map(str.split, rows, repeat(","), repeat(width - 1)))
    del rows
    try:
        by_column = list(zip(*cells, strict=True))  # a line with fewer cells stops it
    except ValueError:
        return None
    finally:
        del cells
    if len(by_column) != width:  # every line with fewer cells
        return None
    last = by_column[-1]
    written = "".join(last)
    if written.count('"') != text.count('"'):  # a quote in another cell
        return None
    if '"' in written or "," in written:  # quoted, or more cells than the header has
        cells_of = {written: unquoted(written) for written in set(last)}  # each distinct cell once
        if None in cells_of.values():
            return None
        by_column[-1] = tuple(map(cells_of.__getitem__, last))
    return by_column


def unquoted(written: str) -> str | None:
    """The last cell of a line as the csv module reads it, if it is plain or quoted whole; else None (its line is
    not one row, or has more cells)."""
    if '"' not in written:
        return written if "," not in written else None
    inner = written[1:-1]
    if len(written) < 2 or written[0] != '"' or written[-1] != '"' or '"' in inner.replace('""', ""):
        return None
    return inner.replace('""', '"')


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a block's rows are made and dropped: thousands of lists with no
    cycles, which would set it off again and again (each full pass walks every live object) though none of them
    outlives the block's parsing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _commas_outside_quotes(line: bytes, enough: int) -> int:
    """The commas of a header line that are not inside a quoted name, counted up to `enough` (match by match, so a
    line of a million names makes no million objects at once)."""
    commas = line.count(b",")
    if commas < enough or b'"' not in line:
        return commas
    commas = 0
    for match in _COMMA_OR_QUOTED.finditer(line):
        if match.start(1) >= 0:
            commas += 1
            if commas >= enough:
                break
    return commas


def _first_line_end(data: bytes) -> int:
    """Where the first line of `data` ends (after its \\n, \\r or \\r\\n); 0 when it has no line end."""
    newline, ret = data.find(b"\n"), data.find(b"\r")
    if ret < 0 or 0 <= newline < ret:
        return newline + 1
    return ret + 2 if newline == ret + 1 else ret + 1


def _last_line_end(data: bytes) -> int:
    """Where the last line end of `data` ends; 0 when it has none."""
    return max(data.rfind(b"\n"), data.rfind(b"\r")) + 1


def _skip_line(read: Callable[[int], bytes]) -> tuple[int, bytes]:
    """Reads to the end of the current line in bounded pieces: the bytes skipped, and those read after them."""
    skipped = 0
    while True:
        data = read(BLOCK_BYTES)
        first = _first_line_end(data)
        if first or not data:
            return skipped + first, data[first:]
        skipped += len(data)


def _unreadable(error: BaseException, where: str) -> UnreadableFileError:
    if isinstance(error, UnicodeDecodeError):
        return UnreadableFileError(f"the file is not valid UTF-8 after {where}")
    if isinstance(error, RecursionError):
        return UnreadableFileError(f"the file cannot be parsed after {where}: its JSON is nested too deeply")
    if isinstance(error, csv.Error | ValueError):
        detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return UnreadableFileError(f"the file cannot be parsed after {where}: {detail}")
    return UnreadableFileError(f"the file cannot be decompressed after {where}: {error}")


class _Counted:
    """The compressed stream, counting what the decompressor took from it."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.count = 0

    def read(self, size: int = -1, /) -> bytes:
        data = self._stream.read(size)
        self.count += len(data)
        return data

    def seek(self, offset: int, /) -> int:
        raise io.UnsupportedOperation("a file is read once, from its start")

    def close(self) -> None:
        self._stream.close()


class _Gunzipped:
    """A gzipped stream decompressed as read, refused as soon as it looks like a decompression bomb."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._compressed = _Counted(stream)
        self._file = gzip.GzipFile(fileobj=self._compressed, mode="rb")
        self.decompressed = 0

    def read(self, size: int = -1, /) -> bytes:
        return self._counted(self._file.read(size))

    def _counted(self, data: bytes) -> bytes:
        self.decompressed += len(data)
        if self.decompressed > GZIP_RATIO_FROM:
            if self.decompressed > MAX_GZIP_RATIO * self._compressed.count:
                raise UnreadableFileError(
                    f"the file is refused as a likely decompression bomb: {self.decompressed} bytes decompressed "
                    f"from {self._compressed.count}, more than {MAX_GZIP_RATIO} to 1"
                )
            if self.decompressed > MAX_DECOMPRESSED_BYTES:
                raise UnreadableFileError(f"the file is refused: it decompresses to more than {MAX_DECOMPRESSED_BYTES}")
        return data

    def close(self) -> None:
        try:
            self._file.close()
        finally:
            self._compressed.close()


class _JsonArrayReader:
    """Objects of one top-level JSON array, decoded as the bytes arrive (the stdlib decoder, so any integer size)."""

    def __init__(self, raw: _Stream) -> None:
        self._raw = raw
        self._decode = codecs.getincrementaldecoder("utf-8-sig")().decode
        self._decoder = json.JSONDecoder()
        self._buffer, self._pos, self._eof = "", 0, False

    def _fill(self) -> bool:
        pending = len(self._buffer) - self._pos  # a large record is read on by larger pieces: fewer decode passes
        chunk = self._raw.read(CHUNK_BYTES if pending < BLOCK_BYTES else BLOCK_BYTES)
        self._eof = not chunk
        self._buffer = self._buffer[self._pos :] + self._decode(chunk, final=self._eof)
        self._pos = 0
        return not self._eof

    def _next_char(self) -> str:
        """The next character that is not white space, without consuming it; '' at the end of the file."""
        while True:
            while self._pos < len(self._buffer) and self._buffer[self._pos] in _JSON_SPACE:
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
