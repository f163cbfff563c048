"""A CSV file's rows that nothing changes go out as their lines as written: the file source gives each row's line,
the Post API's row preparer forwards it (the configured application id put in front), and a CSV batch takes it as it
is. Every other row is prepared field by field, exactly as a dict of it would be."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest

from courier.destinations.appmetrica.csv_batch import CsvBatch
from courier.destinations.appmetrica.ecommerce import APPMETRICA_ECOMMERCE
from courier.destinations.appmetrica.events import make_event_preparer
from courier.destinations.appmetrica.revenue import APPMETRICA_REVENUE
from courier.model import CsvLine, CsvRow
from courier.settings import Settings
from courier.sources.files import FileSource

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC).timestamp()
STAMP = str(int(NOW) - 3600)
SETTINGS = Settings(APPMETRICA_APPLICATION_ID="1111")
HEADER = ("profile_id", "event_name", "event_timestamp", "session_type", "event_json")


def row(line: str, columns: tuple[str, ...] = HEADER) -> CsvRow:
    """The row as the file source gives it: its cells, and its line as written."""
    import csv

    return CsvRow(columns, next(csv.reader([line])), line.encode())


def prepare(record: Any, application_id: str = "1111") -> Any:
    return make_event_preparer(Settings(APPMETRICA_APPLICATION_ID=application_id), NOW)(record)


def test_a_row_nothing_changes_is_forwarded_as_written_behind_the_configured_application_id() -> None:
    # Given a row of known fields, its JSON quoted as the file wrote it
    line = f'u1,purchase,{STAMP},foreground,"{{""sku"":""A-1"",""qty"":2}}"'
    # When the events preparer takes it
    fields, errors = prepare(row(line))
    # Then it is the line itself, after the configured application id, for that application's batch
    assert errors == []
    assert isinstance(fields, CsvLine)
    assert fields.line == b"1111," + line.encode()
    assert fields.columns == ("application_id", *HEADER)
    assert fields.key == "1111"


def test_a_file_with_its_own_application_id_column_is_forwarded_unchanged() -> None:
    # Given a file whose rows carry their application id
    columns = ("application_id", "profile_id", "event_name", "event_timestamp")
    line = f"2222,u1,open,{STAMP}"
    # When the preparer takes a row, with another application configured
    fields, _ = prepare(row(line, columns))
    # Then the line goes as written, in the row's application's batch
    assert isinstance(fields, CsvLine)
    assert (fields.line, fields.columns, fields.key) == (line.encode(), columns, "2222")


@pytest.mark.parametrize(
    ("line", "columns"),
    [
        ("u1,purchase,2026-11-22T11:00:00Z,foreground,", HEADER),  # a time converted to Unix seconds
        (f"u1,purchase,{STAMP},sideways,", HEADER),  # a session type refused
        (f"u1,,{STAMP},foreground,", HEADER),  # a required field empty
        (f'u1,purchase,{STAMP},foreground,"{{""a"":NaN}}"', HEADER),  # not JSON
        (f'u1,purchase,{STAMP},foreground,"{{""a"":1e400}}"', HEADER),  # a float too large
        (f'u1,purchase,{STAMP},foreground,"[1]"', HEADER),  # JSON, not an object
        (f'u1,purchase,{STAMP},foreground," {{}}"', HEADER),  # JSON after a space
        (f'u1,purchase,{STAMP},foreground,"{"[a:" * 40}1{"}" * 40}"', HEADER),  # nested too deep
        (f"u1,{'x' * 10_001},{STAMP},,", HEADER),  # a text too long
        (f"u1,open,{STAMP},7", ("profile_id", "event_name", "event_timestamp", "appmetrica_device_id")),  # both ids
        (f",open,{STAMP},007", ("profile_id", "event_name", "event_timestamp", "appmetrica_device_id")),  # 007 → 7
        (f"u1,open,{STAMP},x", ("profile_id", "event_name", "event_timestamp", "shop")),  # a column not sent
        (f"u1,open,{STAMP},u2", ("profile_id", "event_name", "event_timestamp", "profile_id")),  # a column twice
        (f"u1,open,{STAMP}", ("profile_id", "event_name", "event_timestamp")),  # (no application configured)
    ],
)
def test_a_row_that_would_change_or_be_refused_is_prepared_as_its_dict_would_be(
    line: str, columns: tuple[str, ...]
) -> None:
    # Given a row that is not sent as written (or not at all)
    record = row(line, columns)
    application_id = "" if len(columns) == 3 else "1111"
    # When the preparer takes it
    fields, errors = prepare(record, application_id)
    # Then it gives what it gives for the same record as a plain dict: the fields, or the reasons
    assert not isinstance(fields, CsvLine)
    assert (fields, errors) == prepare(dict(record), application_id)


def test_a_revenue_row_nothing_changes_is_forwarded_too() -> None:
    # Given a revenue row whose every value is sent as written
    columns = ("profile_id", "event_timestamp", "revenue_event_type", "price", "currency", "product_id")
    line = f"u1,{STAMP},one_time_purchase,9.99,RUB,sku-1"
    # When revenue's preparer takes it
    fields, errors = APPMETRICA_REVENUE.make_preparer(SETTINGS, NOW)(row(line, columns))
    # Then it is the line, behind the configured application id
    assert errors == []
    assert isinstance(fields, CsvLine)
    assert fields.line == b"1111," + line.encode()


def test_an_endpoint_with_rules_between_its_fields_prepares_every_row_field_by_field() -> None:
    # Given an e-commerce row from a file (e-commerce checks its prices against each other)
    columns = ("profile_id", "event_timestamp", "ecom_event_type", "order_id", "price")
    record = row(f"u1,{STAMP},order_paid,o-1,10", columns)
    prepare_ecommerce = APPMETRICA_ECOMMERCE.make_preparer(SETTINGS, NOW)
    # When e-commerce's preparer takes it
    prepared = prepare_ecommerce(record)
    # Then it is prepared as its dict is, never forwarded
    assert not isinstance(prepared[0], CsvLine)
    assert prepared == prepare_ecommerce(dict(record))


def test_forwarded_lines_and_prepared_fields_make_the_same_body_as_fields_alone() -> None:
    # Given rows of one file: two forwarded, one prepared field by field (its time converted) between them
    lines = [f'u1,open,{STAMP},foreground,"{{""a"":1}}"', "u2,open,2026-11-22T11:00:00Z,,", f"u3,open,{STAMP},,"]
    prepared = [prepare(row(line))[0] for line in lines]
    assert [type(fields) for fields in prepared] == [CsvLine, dict, CsvLine]
    # When they go into one batch, and the same rows as dicts into another
    mixed, plain = CsvBatch("1111"), CsvBatch("1111")
    for index, (fields, line) in enumerate(zip(prepared, lines, strict=True)):
        mixed.add(fields, index, None)
        plain.add(prepare(dict(row(line)))[0], index, None)
    # Then both bodies read as the same CSV rows
    assert mixed.records() == plain.records()
    assert mixed.records()[1] == {
        "application_id": "1111",
        "profile_id": "u2",
        "event_name": "open",
        "event_timestamp": str(int(NOW) - 3600),
    }
    assert bytes(mixed.body()).splitlines()[1] == b"1111,u1,open," + STAMP.encode() + b',foreground,"{""a"":1}"'


def test_a_forwarded_line_joins_a_batch_with_other_columns_as_its_fields() -> None:
    # Given a batch that began with a row of other columns
    batch = CsvBatch("1111")
    batch.add(
        {"application_id": "1111", "appmetrica_device_id": "7", "event_name": "a", "event_timestamp": STAMP}, 0, None
    )
    # When a forwarded line of another file's columns joins it
    fields, _ = prepare(row(f"u1,open,{STAMP},,"))
    batch.add(fields, 1, None)
    # Then it is written in the batch's columns (its empty cells left out, as a prepared row's are)
    assert batch.records()[1] == {
        "application_id": "1111",
        "profile_id": "u1",
        "event_name": "open",
        "event_timestamp": STAMP,
    }


class Opener:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def __call__(self, offset: int) -> io.BytesIO:
        stream = io.BytesIO(self.data)
        stream.seek(offset)
        return stream


def test_the_file_source_gives_each_one_line_row_its_line_as_written() -> None:
    # Given a CSV with CRLF line ends, a quoted cell, a cell over two lines and a last line without an end
    data = b'a,b\r\n1,"x,y"\r\n2,"two\nlines"\r\n3,last'
    # When it is read
    with FileSource(Opener(data), "f.csv") as source:
        rows = [record for _, record, _ in source]
    # Then each row has its cells, and its line without the line end unless it took two lines
    assert [dict(record) for record in rows] == [
        {"a": "1", "b": "x,y"},
        {"a": "2", "b": "two\nlines"},
        {"a": "3", "b": "last"},
    ]
    assert [record.line for record in rows] == [b'1,"x,y"', b"", b"3,last"]
    assert all(record.columns == ("a", "b") for record in rows)


def test_forwarded_lines_after_a_narrower_row_go_in_as_written() -> None:
    # Given a batch of forwarded lines, then a row prepared field by field without its empty session_type and JSON
    batch = CsvBatch("1111")
    first = prepare(row(f'u1,open,{STAMP},foreground,"{{""a"":1}}"'))[0]
    batch.add(first, 0, None)
    narrower = prepare(row("u2,open,2026-11-22T11:00:00Z,,"))[0]
    assert isinstance(narrower, dict)
    assert "session_type" not in narrower
    batch.add(narrower, 1, None)
    # When another forwarded line follows
    last = prepare(row(f'u3,open,{STAMP},background,"{{""b"":2}}"'))[0]
    assert isinstance(last, CsvLine)
    batch.add(last, 2, None)
    # Then it is in the body as written, after the narrower row padded to every column
    lines = bytes(batch.body()).splitlines()
    assert lines[2] == b"1111,u2,open," + STAMP.encode() + b",,"
    assert lines[3] == last.line
