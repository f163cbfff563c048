"""The CSV request builder, field by field, and the seed's sample body rebuilt byte for byte."""

from __future__ import annotations

import time

from courier.delivery.batching import Batcher
from courier.destinations.appmetrica.client import by_application
from courier.destinations.appmetrica.csv_batch import CsvBatch
from courier.destinations.appmetrica.events import make_event_preparer
from courier.settings import Settings
from tests.support import csv_records, recent, seed_sample_text


def test_the_seed_sample_body_is_rebuilt_exactly_from_its_two_rows() -> None:
    # Given the seed's two rows, timestamps moved into the window
    first, second = recent(7200), recent(3600)
    expected = seed_sample_text(first, second)
    prepare = make_event_preparer(Settings(), time.time())
    batch = CsvBatch("1111")
    # When each row is validated and added to a batch
    for index, record in enumerate(csv_records(expected)):
        fields, errors = prepare(record)
        assert errors == []
        assert fields is not None
        batch.add(fields, index)
    # Then the request body is the seed's body, byte for byte
    assert batch.body() == expected.encode("utf-8")
    assert batch.rows == 2


def test_quoting_follows_rfc_4180() -> None:
    batch = CsvBatch("1")
    batch.add({"a": 'say "hi"', "b": "x,y", "c": "line1\nline2", "d": "plain"}, 0)
    assert batch.body() == b'a,b,c,d\n"say ""hi""","x,y","line1\nline2",plain\n'


def test_non_ascii_is_utf8_without_bom() -> None:
    batch = CsvBatch("1")
    batch.add({"event_name": "покупка"}, 0)
    body = batch.body()
    assert not body.startswith(b"\xef\xbb\xbf")
    assert body == "event_name\nпокупка\n".encode()


def test_columns_are_the_union_of_the_batch_in_first_seen_order() -> None:
    # Given rows whose columns differ
    batch = CsvBatch("1")
    batch.add({"a": "1", "b": "2"}, 0)
    batch.add({"b": "3", "c": "4"}, 1)
    batch.add({"c": "5", "a": "6"}, 2)
    # Then the header is the union and every row is padded to it
    assert batch.body() == b"a,b,c\n1,2,\n,3,4\n6,,5\n"
    assert batch.records() == [{"a": "1", "b": "2"}, {"b": "3", "c": "4"}, {"a": "6", "c": "5"}]
    assert list(batch.indexes) == [0, 1, 2]


def test_the_batcher_says_full_at_the_row_cap() -> None:
    # Given a cap of 3 rows
    batcher = Batcher(by_application, CsvBatch, max_rows=3, max_chars=10**9)
    # When rows are added
    full = [batcher.add({"application_id": "1", "n": str(i)}, i) for i in range(3)]
    # Then the third fills the batch
    assert full == [False, False, True]
    assert [row["n"] for row in batcher.open["1"].records()] == ["0", "1", "2"]


def test_the_batcher_says_full_at_the_size_cap() -> None:
    # Given a cap of 40 characters
    batcher = Batcher(by_application, CsvBatch, max_rows=1000, max_chars=40)
    # When lines of 13 characters are added
    full = [batcher.add({"application_id": "1", "v": "x" * 10}, i) for i in range(4)]
    # Then the fourth line passes 40 and fills the batch
    assert full == [False, False, False, True]


def test_one_request_per_application_id() -> None:
    batcher = Batcher(by_application, CsvBatch, max_rows=100, max_chars=10**9)
    for i, app in enumerate(["1", "2", "1", "2", "1"]):
        assert batcher.add({"application_id": app, "n": str(i)}, i) is False
    batches = batcher.open
    assert {key: list(batch.indexes) for key, batch in batches.items()} == {"1": [0, 2, 4], "2": [1, 3]}
