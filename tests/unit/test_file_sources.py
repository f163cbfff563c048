"""Files read as streams: CSV (BOM, CRLF, multi-line cells), JSON lines, JSON arrays, gzip, broken input; marks that
resume a file exactly where it stood, and the originals of rows read again."""

from __future__ import annotations

import gzip
import io
import json
from collections import deque
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from courier.model import Mark, Source, SourceRow
from courier.sources import files
from courier.sources.files import (
    NOT_RESUMABLE,
    FileSource,
    SourceUnavailableError,
    UnreadableFileError,
    open_file,
)
from courier.sources.records import UNFIT_NUMBER


class LocalFile:
    """An opener for open_file: the bytes from an offset, each opening recorded (its offset, its stream)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offsets: list[int] = []
        self.streams: list[io.BytesIO] = []

    def __call__(self, offset: int) -> io.BytesIO:
        stream = io.BytesIO(self.data)
        stream.seek(offset)
        self.offsets.append(offset)
        self.streams.append(stream)
        return stream


def rows_of(data: bytes, key: str) -> tuple[list[str] | None, list[SourceRow]]:
    source = open_file(LocalFile(data), key)
    return source.columns, list(source)


def rows_with_marks(source: FileSource) -> list[tuple[SourceRow, Mark]]:
    return [(row, source.mark()) for row in source]


@pytest.fixture(params=[1, 7, 64, files.BLOCK_BYTES], ids=lambda size: f"blocks of {size}")
def block_bytes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Lines read by blocks of this size: tiny blocks put every line end, quoted or not, on a block's edge."""
    size: int = request.param
    monkeypatch.setattr(files, "BLOCK_BYTES", size)
    return size


# Formats


def test_csv_with_bom_crlf_multiline_cell_and_non_ascii() -> None:
    data = '\ufeffevent_name,event_json\r\nпокупка,"{""note"":""two\r\nlines""}"\r\nopen,\r\n'.encode()
    columns, rows = rows_of(data, "appmetrica_events/x.csv")
    assert columns == ["event_name", "event_json"]
    assert rows == [
        (1, {"event_name": "покупка", "event_json": '{"note":"two\r\nlines"}'}, ""),
        (2, {"event_name": "open", "event_json": ""}, ""),
    ]


def test_header_names_are_stripped_and_blank_lines_before_it_skipped() -> None:
    columns, rows = rows_of(b"\r\n\n a , b\n1,2", "x.csv")
    assert columns == ["a", "b"]
    assert rows == [(1, {"a": "1", "b": "2"}, "")]


def test_an_empty_csv_has_no_columns_and_no_rows() -> None:
    assert rows_of(b"", "x.csv") == ([], [])


def test_gzipped_csv_is_decompressed_while_read() -> None:
    data = gzip.compress(b"a,b\n1,2\n3,4\n")
    columns, rows = rows_of(data, "appmetrica_events/x.csv.gz")
    assert columns == ["a", "b"]
    assert [record for _, record, _ in rows] == [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]


def test_a_csv_row_with_the_wrong_cell_count_is_refused_alone() -> None:
    _, rows = rows_of(b"a,b\n1,2,3\n4,5\n\n6\n", "x.csv")
    assert rows == [
        (1, {"a": "1", "b": "2"}, "row: has 3 cells, the header 2"),
        (2, {"a": "4", "b": "5"}, ""),
        (3, {"a": "6"}, "row: has 1 cells, the header 2"),
    ]


def test_json_lines_with_a_broken_line() -> None:
    _, rows = rows_of(b'{"a": 1}\n\nnot json\n[1]\n{"a": 2}\n', "x.jsonl")
    assert rows == [
        (1, {"a": 1}, ""),
        (2, "not json", "line: is not valid JSON"),
        (3, [1], "line: must be a JSON object, not list"),
        (4, {"a": 2}, ""),
    ]


@pytest.mark.parametrize(
    "line",
    [
        '{"a": 1}',
        '  {"a": 1}  ',
        '\t{"a": [1, 2.5, null, true]}\r',
        '{"a": 1} x',
        '{"a": 1}{"b": 2}',
        '{"a": NaN, "b": -Infinity}',
        '{"big": 123456789012345678901234567890}',
        '"text"',
        "12",
        '{"a": "\\u00e9\\ud83d\\ude00"}',
        '{"a": 1,}',
        '{"a" 1}',
        "[" * 100_000 + "]" * 100_000,
    ],
)
def test_a_json_line_is_read_as_json_loads_reads_it_without_nan_or_infinity(line: str) -> None:
    # Given one line of JSON lines, valid or not
    try:
        expected: Any = json.loads(line, parse_constant=lambda name: "not json")
    except (ValueError, RecursionError):
        expected = None
    # When it is read
    _, rows = rows_of(line.encode() + b"\n", "x.ndjson")
    # Then it is the record json.loads makes of it, or refused where json.loads refuses it or reads what is not JSON
    assert len(rows) == 1
    index, record, error = rows[0]
    if expected is None:
        assert (index, record, error) == (1, line.rstrip("\r"), "line: is not valid JSON")
    elif "not json" in str(expected):
        assert (index, record, error) == (1, line, f"line: {UNFIT_NUMBER}")
    else:
        not_an_object = f"line: must be a JSON object, not {type(expected).__name__}"
        assert (record, error) == (expected, "" if isinstance(expected, dict) else not_an_object)


def test_json_array_with_bom_is_streamed_item_by_item() -> None:
    data = b'\xef\xbb\xbf [{"a": 1.5, "b": {"c": true}}, 7, {"a": 2}]'
    _, rows = rows_of(data, "x.json")
    assert rows == [
        (1, {"a": 1.5, "b": {"c": True}}, ""),
        (2, 7, "record: must be a JSON object, not int"),
        (3, {"a": 2}, ""),
    ]


def test_a_json_file_that_is_not_an_array_is_refused() -> None:
    with pytest.raises(UnreadableFileError, match="one array of objects"):
        rows_of(b'{"a": 1}', "x.json")


def test_invalid_utf8_stops_the_file_with_the_row_it_reached() -> None:
    with pytest.raises(UnreadableFileError, match="not valid UTF-8 after row 5000"):
        rows_of(b"a\n" + b"ok\n" * 5000 + b"\xff\xfe\n", "x.csv")


def test_invalid_utf8_in_json_lines_says_the_line() -> None:
    with pytest.raises(UnreadableFileError, match="not valid UTF-8 after line 2"):
        rows_of(b'{"a": 1}\n{"a": 2}\n{"a": "\xff"}\n', "x.jsonl")


def test_broken_json_array_says_where() -> None:
    with pytest.raises(UnreadableFileError, match="after record 1"):
        rows_of(b'[{"a": 1}, {"a": ', "x.json")


def test_a_json_array_nested_too_deeply_is_refused_not_crashed() -> None:
    with pytest.raises(UnreadableFileError, match="nested too deeply"):
        rows_of(b"[" + b"[" * 200_000, "x.json")


def test_truncated_gzip_says_it_cannot_be_decompressed() -> None:
    with pytest.raises(UnreadableFileError, match="cannot be decompressed"):
        rows_of(gzip.compress(b"a\n" + b"1\n" * 1000)[:-20], "x.csv.gz")


def test_a_file_that_is_not_gzip_at_all_cannot_be_decompressed() -> None:
    with pytest.raises(UnreadableFileError, match="cannot be decompressed after the header"):
        rows_of(b"a,b\n1,2\n", "x.csv.gz")


@pytest.mark.parametrize("key", ["x.txt", "x.parquet", "x.csv.zip"])
def test_unsupported_types_are_named_before_anything_is_opened(key: str) -> None:
    opener = LocalFile(b"")
    with pytest.raises(UnreadableFileError, match="unsupported file type"):
        open_file(opener, key)
    assert opener.offsets == []


# Marks and resuming

CSV_DATA = (
    "\ufeffname,note\r\n"
    'а,"two\r\nlines, a comma and ""quotes"""\r\n'
    "\r\n"
    'b,"a lone \r return"\r\n'
    "c,d,extra\n"
    "ё,\n"
    '"e\n",f\r\n'
    "g,last without a line end"
).encode()
JSONL_DATA = (
    '\ufeff{"a": 1}\r\n\n{"a": "é"}\nnot json\n  \r\n[1, 2]\r\n {"a": 3} \n{"a": {"b": [1, 2, {"c": "\\n"}]}}'
).encode()


@pytest.mark.parametrize(
    "data",
    [CSV_DATA, CSV_DATA.replace(b"\r\n", b"\r").replace(b"\n", b"\r")],
    ids=["CRLF and LF", "CR only (Excel for Mac)"],
)
def test_every_csv_mark_resumes_with_exactly_the_rows_after_it(data: bytes, block_bytes: int) -> None:
    # Given a CSV with a BOM, quoted line ends and quotes, blank lines, and no line end at its end
    read = rows_with_marks(open_file(LocalFile(data), "x.csv"))
    rows = [row for row, _ in read]
    line_end = "\r\n" if b"\n" in data else "\r"
    assert [row[0] for row in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0][1] == {"name": "а", "note": f'two{line_end}lines, a comma and "quotes"'}
    assert rows[1][1] == {"name": "b", "note": "a lone \r return"}
    assert rows[2][2] == "row: has 3 cells, the header 2"
    for row, mark in read:
        # When the file is opened again at the mark taken after each row
        opener = LocalFile(data)
        again = open_file(opener, "x.csv", mark)
        # Then it has the header, and exactly the rows after that one, numbered on
        assert again.columns == ["name", "note"]
        assert list(again) == rows[row[0] :]
        # and the header was read alone from the start, the rows from the mark's byte
        assert mark["index"] == row[0]
        assert opener.offsets == [0, mark["offset"]]
        assert all(stream.closed for stream in opener.streams)
    assert read[-1][1] == {"index": 6, "offset": len(data)}


def test_the_offsets_of_csv_marks_are_where_the_next_rows_start() -> None:
    # Given a CSV whose rows are known by their bytes
    header, first, blank, second = b"\xef\xbb\xbfa,b\r\n", b'"x\r\n",y\r\n', b"\r\n", "é,z\n".encode()
    source = open_file(LocalFile(header + first + blank + second), "x.csv")
    # When it is read
    marks = [source.mark()] + [source.mark() for _ in source]
    # Then each mark is the index of the last row and the byte after it
    assert marks == [
        {"index": 0, "offset": len(header)},
        {"index": 1, "offset": len(header + first)},
        {"index": 2, "offset": len(header + first + blank + second)},
    ]


@pytest.mark.parametrize(
    "data", [JSONL_DATA, JSONL_DATA.replace(b"\r\n", b"\r").replace(b"\n", b"\r")], ids=["CRLF and LF", "CR only"]
)
def test_every_json_lines_mark_resumes_with_exactly_the_rows_after_it(data: bytes, block_bytes: int) -> None:
    # Given JSON lines with a BOM, blank lines, a broken line and no line end at the end
    read = rows_with_marks(open_file(LocalFile(data), "x.jsonl"))
    rows = [row for row, _ in read]
    assert rows == [
        (1, {"a": 1}, ""),
        (2, {"a": "é"}, ""),
        (3, "not json", "line: is not valid JSON"),
        (4, [1, 2], "line: must be a JSON object, not list"),
        (5, {"a": 3}, ""),
        (6, {"a": {"b": [1, 2, {"c": "\n"}]}}, ""),
    ]
    for row, mark in [((0, None, ""), {"index": 0, "offset": 0}), *read]:
        # When the file is opened again at each mark
        opener = LocalFile(data)
        again = list(open_file(opener, "x.jsonl", mark))
        # Then it reads from the mark's byte exactly the rows after it
        assert again == rows[row[0] :]
        assert opener.offsets == [mark["offset"]]
    assert read[-1][1] == {"index": 6, "offset": len(data)}


@pytest.mark.parametrize(
    ("key", "data"),
    [
        ("x.csv.gz", gzip.compress(CSV_DATA, mtime=0)),
        ("x.jsonl.gz", gzip.compress(JSONL_DATA, mtime=0)),
        ("x.json", b'[{"a": 1}, 2, {"a": 3}, {"a": 4}]'),
        ("x.json.gz", gzip.compress(b'[{"a": 1}, 2, {"a": 3}, {"a": 4}]', mtime=0)),
    ],
)
def test_gzip_and_json_arrays_resume_by_reading_again_and_skipping(key: str, data: bytes) -> None:
    # Given a file that cannot be resumed at a byte
    source = open_file(LocalFile(data), key)
    read = rows_with_marks(source)
    rows = [row for row, _ in read]
    assert not source.resumable
    for row, mark in read:
        # When it is opened again at each mark (whose offset says: not resumable)
        assert mark == {"index": row[0], "offset": NOT_RESUMABLE}
        opener = LocalFile(data)
        again = list(open_file(opener, key, mark))
        # Then it is read from the start and gives exactly the rows after the mark
        assert again == rows[row[0] :]
        assert opener.offsets == [0]


def test_a_mark_without_an_offset_resumes_a_plain_file_by_skipping() -> None:
    opener = LocalFile(b"a\n1\n2\n3\n")
    assert list(open_file(opener, "x.csv", {"index": 2})) == [(3, {"a": "3"}, "")]
    assert opener.offsets == [0]


def test_a_file_source_is_a_source() -> None:
    source: Source = open_file(LocalFile(b"a\n1\n"), "x.csv")
    assert (source.columns, list(source), source.mark()) == (["a"], [(1, {"a": "1"}, "")], {"index": 1, "offset": 4})


def test_closing_a_source_part_way_closes_its_stream() -> None:
    opener = LocalFile(b"a\n1\n2\n")
    with open_file(opener, "x.csv") as source:
        next(iter(source))
    assert [stream.closed for stream in opener.streams] == [True]


# Originals


def test_originals_of_csv_rows_are_their_records_with_every_column() -> None:
    # Given a CSV read past a mark, and bytes that cannot be read after the rows wanted
    data = b"a,b\n1,2\n3,4,5\n6,7\n8,9\n\xff\n"
    source = open_file(LocalFile(data), "x.csv")
    rows = iter(source)
    next(rows)
    start = source.mark()
    # When the originals of two rows after it are asked for
    originals = source.originals(start, {2, 4})
    # Then they are the rows' records, read from the mark up to the last wanted row (not to the broken bytes)
    assert originals == {2: {"a": "3", "b": "4"}, 4: {"a": "8", "b": "9"}}
    assert source.originals(start, set()) == {}


def test_originals_of_json_lines_keep_a_broken_lines_text() -> None:
    source = open_file(LocalFile(JSONL_DATA), "x.jsonl")
    marks = [mark for _, mark in rows_with_marks(source)]
    assert source.originals(marks[1], {3, 5}) == {3: "not json", 5: {"a": 3}}


def test_originals_of_a_gzipped_file_are_read_again_from_its_start() -> None:
    opener = LocalFile(gzip.compress(b"a\n1\n2\n3\n"))
    source = open_file(opener, "x.csv.gz")
    list(source)
    assert source.originals({"index": 1, "offset": NOT_RESUMABLE}, {3}) == {3: {"a": "3"}}
    assert opener.offsets == [0, 0]


# Storage errors are not broken files


class FailingStream(io.RawIOBase):
    """The file's bytes up to `fail_at`, then the error of a storage that stopped answering."""

    def __init__(self, data: bytes, fail_at: int, error: Exception) -> None:
        self._data, self._fail_at, self._error, self._position = data, fail_at, error, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._position >= self._fail_at:
            raise self._error
        chunk = self._data[self._position : min(self._fail_at, self._position + len(buffer))]
        buffer[: len(chunk)] = chunk
        self._position += len(chunk)
        return len(chunk)


@pytest.mark.parametrize(
    "error",
    [ReadTimeoutError(endpoint_url="https://s3.example"), SourceUnavailableError("S3 is not answering")],
    ids=["botocore ReadTimeoutError", "SourceUnavailableError"],
)
@pytest.mark.parametrize("key", ["x.csv", "x.csv.gz", "x.jsonl", "x.json.gz"])
def test_a_storage_error_while_reading_is_raised_as_is_never_as_a_broken_file(key: str, error: Exception) -> None:
    # Given a file whose storage fails part way through its rows (after the first MiB it gives)
    numbers = [n * 7919 % 1_000_003 for n in range(100_000 if key.endswith(".json.gz") else 400_000)]
    text = "a\n" + "".join(f"{n}\n" for n in numbers) if ".csv" in key else "".join(f'{{"a": {n}}}\n' for n in numbers)
    if key.endswith(".json.gz"):
        text = "[" + ",".join(f'{{"a": {n}}}' for n in numbers) + "]"
    data = gzip.compress(text.encode()) if key.endswith(".gz") else text.encode()
    fail_at = len(data) * 3 // 4 if key.endswith(".gz") else 2 * files.BLOCK_BYTES
    source = open_file(lambda _: io.BufferedReader(FailingStream(data, fail_at, error)), key)
    # When its rows are read
    with pytest.raises(type(error)) as raised:
        deque(source, maxlen=0)
    # Then the storage's error comes out: the file is not declared broken
    assert raised.value is error
    assert not isinstance(raised.value, UnreadableFileError)
