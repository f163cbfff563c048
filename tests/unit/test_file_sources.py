"""Files read as streams: CSV (BOM, CRLF, multi-line cells), JSON lines, JSON arrays, gzip, broken input."""

from __future__ import annotations

import gzip
import io
from typing import Any

import pytest

from courier.sources.files import UnreadableFileError, open_rows


def rows_of(data: bytes, key: str) -> tuple[list[str] | None, list[tuple[int, Any, str]]]:
    opened = open_rows(io.BytesIO(data), key)
    return opened.columns, list(opened.rows)


def test_csv_with_bom_crlf_multiline_cell_and_non_ascii() -> None:
    data = '\ufeffevent_name,event_json\r\nпокупка,"{""note"":""two\r\nlines""}"\r\nopen,\r\n'.encode()
    columns, rows = rows_of(data, "appmetrica_events/x.csv")
    assert columns == ["event_name", "event_json"]
    assert rows == [
        (1, {"event_name": "покупка", "event_json": '{"note":"two\r\nlines"}'}, ""),
        (2, {"event_name": "open", "event_json": ""}, ""),
    ]


def test_gzipped_csv_is_decompressed_while_read() -> None:
    data = gzip.compress(b"a,b\n1,2\n3,4\n")
    columns, rows = rows_of(data, "appmetrica_events/x.csv.gz")
    assert columns == ["a", "b"]
    assert [record for _, record, _ in rows] == [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]


def test_a_csv_row_with_the_wrong_cell_count_is_refused_alone() -> None:
    _, rows = rows_of(b"a,b\n1,2,3\n4,5\n\n", "x.csv")
    assert rows == [(1, {"a": "1", "b": "2"}, "row: has 3 cells, the header 2"), (2, {"a": "4", "b": "5"}, "")]


def test_json_lines_with_a_broken_line() -> None:
    _, rows = rows_of(b'{"a": 1}\n\nnot json\n[1]\n{"a": 2}\n', "x.jsonl")
    assert rows == [
        (1, {"a": 1}, ""),
        (2, "not json", "line: is not valid JSON"),
        (3, [1], "line: must be a JSON object, not list"),
        (4, {"a": 2}, ""),
    ]


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
    with pytest.raises(UnreadableFileError, match="not valid UTF-8 after row"):
        rows_of(b"a\n" + b"ok\n" * 5000 + b"\xff\xfe\n", "x.csv")


def test_broken_json_array_says_where() -> None:
    with pytest.raises(UnreadableFileError, match="after record 1"):
        rows_of(b'[{"a": 1}, {"a": ', "x.json")


def test_truncated_gzip_says_it_cannot_be_decompressed() -> None:
    with pytest.raises(UnreadableFileError, match="cannot be decompressed"):
        rows_of(gzip.compress(b"a\n" + b"1\n" * 1000)[:-20], "x.csv.gz")


@pytest.mark.parametrize("key", ["x.txt", "x.parquet", "x.csv.zip"])
def test_unsupported_types_are_named(key: str) -> None:
    with pytest.raises(UnreadableFileError, match="unsupported file type"):
        open_rows(io.BytesIO(b""), key)
