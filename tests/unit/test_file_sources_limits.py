"""Bounds kept while a file is read, not after: an over-long line, a huge CSV header, a gzip bomb, an over-large JSON
record. Large inputs are made as they are read, never held whole."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import time
import zlib
from collections import deque
from collections.abc import Iterator
from typing import Any

import pytest

from courier.sources import files
from courier.sources.files import (
    LONG_LINE,
    LONG_ROW,
    MAX_COLUMNS,
    MAX_LINE_BYTES,
    UnreadableFileError,
    open_file,
)
from tests.support import ROOT

MIB = 1 << 20
Parts = list[tuple[bytes, int]]


class LazyBytes(io.RawIOBase):
    """The bytes of `parts` ((piece, times) repeated in order) from `offset` on, made as they are read."""

    def __init__(self, parts: Parts, offset: int = 0) -> None:
        self._parts = [(piece, times) for piece, times in parts if piece and times]
        self._part, self._at = 0, offset  # the part read, the byte reached within it
        self.read_bytes = 0
        while self._part < len(self._parts) and self._at >= self._size(self._part):
            self._at -= self._size(self._part)
            self._part += 1

    def _size(self, part: int) -> int:
        piece, times = self._parts[part]
        return len(piece) * times

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._part >= len(self._parts):
            return 0
        piece = self._parts[self._part][0]
        start = self._at % len(piece)
        count = min(len(buffer), len(piece) - start, self._size(self._part) - self._at)
        buffer[:count] = piece[start : start + count]
        self._at += count
        self.read_bytes += count
        if self._at >= self._size(self._part):
            self._part, self._at = self._part + 1, 0
        return count


def lazy_opener(parts: Parts) -> Any:
    return lambda offset: io.BufferedReader(LazyBytes(parts, offset), 1 << 16)


def size_of(parts: Parts) -> int:
    return sum(len(piece) * times for piece, times in parts)


def long_line(size: int, end: bytes = b"\n") -> Parts:
    """One line of `size` bytes (its line end included), as parts."""
    body = size - len(end)
    return [(b"x" * MIB, body // MIB), (b"x" * (body % MIB), 1), (end, 1)]


# An over-long line


# key: (the lines before, the line after, the good rows' records, the refused row's record and error)
FORMS: dict[str, tuple[bytes, bytes, list[dict[str, Any]], Any, str]] = {
    "x.csv": (b"a,b\n1,2\n", b"3,4\n", [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}], {}, LONG_ROW),
    "x.jsonl": (b'{"a": 1}\n', b'{"a": 3}\n', [{"a": 1}, {"a": 3}], "", LONG_LINE),
}


@pytest.mark.parametrize("key", sorted(FORMS))
def test_a_line_longer_than_the_limit_is_refused_as_a_row_and_reading_goes_on(key: str) -> None:
    # Given a file with a 20 MiB line between two good ones
    before, after, (first, last), empty, refused = FORMS[key]
    parts = [(before, 1), *long_line(20 * MIB), (after, 1)]
    source = open_file(lazy_opener(parts), key)
    # When it is read
    read = [(row, source.mark()) for row in source]
    # Then the long line is one refused row holding none of its text, and the rows after it are read
    assert [row for row, _ in read] == [(1, first, ""), (2, empty, refused), (3, last, "")]
    assert refused.endswith(f"longer than {MAX_LINE_BYTES} bytes")
    # and the mark after it is the byte after its line end: the file resumes there
    mark = read[1][1]
    assert mark == {"index": 2, "offset": size_of(parts) - len(after)}
    assert list(open_file(lazy_opener(parts), key, mark)) == [(3, last, "")]


def test_a_line_of_exactly_the_limit_is_read_and_one_byte_more_is_refused() -> None:
    # Given JSON lines of MAX_LINE_BYTES bytes, line end included, then one byte longer
    def line(size: int) -> bytes:
        return b'{"a": "' + b"x" * (size - 10) + b'"}\n'

    parts = [(line(MAX_LINE_BYTES), 1), (line(MAX_LINE_BYTES + 1), 1), (b'{"b": 1}', 1)]
    # When they are read
    rows = list(open_file(lazy_opener(parts), "x.jsonl"))
    # Then the first is a record, the second refused
    assert [(index, error) for index, _, error in rows] == [(1, ""), (2, LONG_LINE), (3, "")]
    assert len(rows[0][1]["a"]) == MAX_LINE_BYTES - 10


def test_a_long_last_line_without_a_line_end_is_refused() -> None:
    parts = [(b"a\n1\n", 1), *long_line(17 * MIB, end=b"")]
    source = open_file(lazy_opener(parts), "x.csv")
    assert list(source) == [(1, {"a": "1"}, ""), (2, {}, LONG_ROW)]
    assert source.mark() == {"index": 2, "offset": size_of(parts)}


def test_a_long_line_in_a_gzipped_file_is_refused_too() -> None:
    text = b"a\n1\n" + b"y" * (17 * MIB) + b"\n2\n"
    rows = list(open_file(lambda _: io.BytesIO(gzip.compress(text, 1)), "x.csv.gz"))
    assert rows == [(1, {"a": "1"}, ""), (2, {}, LONG_ROW), (3, {"a": "2"}, "")]


CHILD = """
import json, time
from tests.unit.test_file_sources_limits import lazy_opener, long_line
from courier.sources.files import open_file
MIB = 1 << 20
result = {}
for key, before, after in [
    ("x.csv", b"a,b\\n1,2\\n", b"3,4\\n"),
    ("x.jsonl", b'{"a": 1}\\n', b'{"a": 3}\\n'),
]:
    parts = [(before, 1), *long_line(200 * MIB), (after, 1)]
    started = time.monotonic()
    result[key] = [[index, error] for index, _, error in open_file(lazy_opener(parts), key)]
    result[key + " seconds"] = time.monotonic() - started
# VmHWM: this process image's peak resident memory (ru_maxrss would carry the forking parent's over the exec)
peak_kib = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
result["peak_mib"] = peak_kib / 1024
print(json.dumps(result))
"""


def test_a_csv_row_running_on_over_many_lines_stops_the_file() -> None:
    # Given a CSV whose third row is millions of quoted cells, each holding a line end
    parts = [(b"a,b\n1,2\n", 1), (b"\r\n" * MIB, 9), (b"3,4\n", 1), (b'"\n",' * 1024, 10 * 1024)]
    source = open_file(lazy_opener(parts), "x.csv")
    # When it is read
    with pytest.raises(UnreadableFileError, match="after row 2: a row runs on past 16777216 bytes") as refused:
        deque(source, maxlen=0)
    # Then the rows before it were given (blank lines, however many, are no long row), and it stopped there
    assert source.mark()["index"] == 2
    assert "never closed" in str(refused.value)


def test_a_200_mib_line_is_read_in_bounded_memory() -> None:
    # Given a fresh interpreter that reads a CSV and JSON lines each holding a 200 MiB line, made as it is read
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers" / "common")])}
    # When it reads them
    done = subprocess.run(  # noqa: S603 - this interpreter, with the code above
        [sys.executable, "-c", CHILD], env=env, cwd=ROOT, capture_output=True, text=True, check=True, timeout=300
    )
    result = json.loads(done.stdout)
    # Then each long line was one refused row with the reading going on after it
    assert result["x.csv"] == [[1, ""], [2, LONG_ROW], [3, ""]]
    assert result["x.jsonl"] == [[1, ""], [2, LONG_LINE], [3, ""]]
    # and the process never held the line: its peak memory stayed far under the Lambda's
    assert result["peak_mib"] < 256, result
    assert result["x.csv seconds"] < 30, result
    print(f"peak {result['peak_mib']:.0f} MiB, {result['x.csv seconds']:.2f} s for the CSV")


# The CSV header


@pytest.mark.parametrize("quoted", [False, True], ids=["plain names", "quoted names"])
def test_a_header_of_a_million_columns_is_refused_before_it_is_parsed(quoted: bool) -> None:
    # Given a CSV whose header has 10^6 columns
    names = (f'"c{n}"' if quoted else f"c{n}" for n in range(10**6))
    data = ",".join(names).encode() + b"\n" + b"1\n"
    # When it is opened
    started = time.monotonic()
    with pytest.raises(UnreadableFileError, match=f"the header has more than {MAX_COLUMNS} columns"):
        open_file(lambda _: io.BytesIO(data), "x.csv")
    # Then it is refused at once, as a file that cannot be read
    assert time.monotonic() - started < 5


def test_a_header_of_the_most_columns_is_read_and_one_more_refused() -> None:
    most = ",".join(f"c{n}" for n in range(MAX_COLUMNS)).encode() + b"\n"
    assert len(open_file(lambda _: io.BytesIO(most), "x.csv").columns or []) == MAX_COLUMNS
    with pytest.raises(UnreadableFileError, match=f"the header has more than {MAX_COLUMNS} columns"):
        open_file(lambda _: io.BytesIO(b"extra," + most), "x.csv")


def test_a_header_whose_stray_quotes_hide_commas_is_refused_once_parsed() -> None:
    # Given 2,002 names whose quotes stand inside them (csv reads them as letters, the quick count as quoting)
    header = ",".join(['n"x', 'y"n'] * 1001).encode() + b"\n"
    # When it is opened, the parsed header is counted too
    with pytest.raises(UnreadableFileError, match=f"the header has more than {MAX_COLUMNS} columns \\(2002\\)"):
        open_file(lambda _: io.BytesIO(header), "x.csv")


def test_commas_inside_quoted_header_names_are_not_columns() -> None:
    header = ",".join(f'"name, {n}"' for n in range(MAX_COLUMNS)).encode() + b"\n"
    source = open_file(lambda _: io.BytesIO(header), "x.csv")
    assert source.columns is not None
    assert (len(source.columns), source.columns[7]) == (MAX_COLUMNS, "name, 7")


@pytest.mark.parametrize("end", [b"\n", b""], ids=["with a line end", "at the end of the file"])
def test_a_header_longer_than_the_line_limit_is_refused(end: bytes) -> None:
    parts = [(b"n" * MIB, 17), (end, 1), (b"1\n", 1)]
    with pytest.raises(UnreadableFileError, match=f"the header is longer than {MAX_LINE_BYTES} bytes"):
        open_file(lazy_opener(parts), "x.csv")


# Gzip bombs


@pytest.mark.parametrize(("key", "first"), [("x.csv.gz", b"a,b\n"), ("x.jsonl.gz", b'{"a": 1}\n')])
def test_a_gzip_bomb_is_refused_quickly(key: str, first: bytes) -> None:
    # Given a first line, then 1 GiB of zeros gzipped (1,024 members of 1 MiB each: about 1 MB in all)
    member = gzip.compress(bytes(MIB), 9)
    served: list[LazyBytes] = []

    def open_at(offset: int) -> io.BufferedReader:
        served.append(LazyBytes([(gzip.compress(first), 1), (member, 1024)], offset))
        return io.BufferedReader(served[-1])

    # When it is read
    started = time.monotonic()
    with pytest.raises(UnreadableFileError, match="refused as a likely decompression bomb"):
        list(open_file(open_at, key))
    # Then it was refused soon after 64 MiB came out: not decompressed whole
    assert time.monotonic() - started < 10
    assert served[0].read_bytes < 200 * 1024


ROW_OF_1_KIB = b"1," + b"2" * 1021 + b"\n"


def gzipped_rows(mebibytes: int, level: int = 6) -> bytes:
    """A CSV of `mebibytes` MiB of the same 1 KiB row, gzipped as one stream, made by pieces."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
    piece = ROW_OF_1_KIB * 1024
    data = compressor.compress(b"a,b\n") + b"".join(compressor.compress(piece) for _ in range(mebibytes))
    return data + compressor.flush()


def test_a_single_stream_gzip_bomb_of_rows_is_refused_after_the_rows_before_the_bound() -> None:
    # Given 128 MiB of the same row, gzipped as one stream (about 370 to 1)
    data = gzipped_rows(128)
    # When it is read
    source = open_file(lambda _: io.BytesIO(data), "x.csv.gz")
    with pytest.raises(UnreadableFileError, match="decompression bomb"):
        deque(source, maxlen=0)
    # Then the rows before the bound (64 MiB) were given, and it stopped there
    assert 60 * 1024 < source.mark()["index"] < 66 * 1024


def test_a_highly_compressed_file_under_the_bound_is_read() -> None:
    data = gzipped_rows(48)
    assert sum(1 for _ in open_file(lambda _: io.BytesIO(data), "x.csv.gz")) == 48 * 1024


def test_no_gzipped_file_decompresses_past_the_absolute_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "GZIP_RATIO_FROM", 0)
    monkeypatch.setattr(files, "MAX_GZIP_RATIO", 10**9)
    monkeypatch.setattr(files, "MAX_DECOMPRESSED_BYTES", 100_000)
    data = gzip.compress(os.urandom(300_000).hex().encode())
    with pytest.raises(UnreadableFileError, match="decompresses to more than 100000"):
        list(open_file(lambda _: io.BytesIO(data), "x.jsonl.gz"))


# JSON arrays


def test_a_json_array_record_larger_than_the_limit_is_refused() -> None:
    # Given an array whose second record is a 20 MiB string
    parts = [(b'[{"a": 1}, {"a": "', 1), (b"x" * MIB, 20), (b'"}]', 1)]
    source = open_file(lazy_opener(parts), "x.json")
    rows: Iterator[Any] = iter(source)
    # When it is read
    assert next(rows) == (1, {"a": 1}, "")
    # Then the large record stops the file, with where it stood
    with pytest.raises(UnreadableFileError, match="cannot be parsed after record 1"):
        next(rows)
