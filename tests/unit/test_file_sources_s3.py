"""An S3 object read through S3Reader (moto): transient failures are read through with ranged GETs that continue at
the exact byte; failures that go on become SourceUnavailableError, never a broken file; a missing object is said."""

from __future__ import annotations

import gzip
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from moto import mock_aws

from courier.sources.files import SourceUnavailableError, UnreadableFileError, open_file
from courier.sources.s3 import CHANGED_OBJECT_CODES, S3Reader, s3_opener

BUCKET = "courier-data-test"
MIB = 1 << 20


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        yield client


def some_bytes(size: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


class FailingBody:
    """A GetObject body that gives `fail_after` bytes, then raises `error` (or ends early when error is None)."""

    def __init__(self, body: Any, fail_after: int, error: Exception | None) -> None:
        self._body, self._left, self._error = body, fail_after, error

    def read(self, amt: int | None = None) -> bytes:
        if self._left <= 0:
            if self._error is None:
                return b""
            raise self._error
        data: bytes = self._body.read(self._left if amt is None else min(amt, self._left))
        self._left -= len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._body.close()


@dataclass
class FlakyS3:
    """The moto client, whose get_object answers fail as planned: one entry per call, in order; an entry is
    (bytes given before failing, the error; None: the body ends early) or an exception get_object raises."""

    s3: Any
    plan: list[Any] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    before_call: dict[int, Callable[[], Any]] = field(default_factory=dict)  # what happens just before call n (0 on)

    def get_object(self, **params: Any) -> Any:
        self.before_call.pop(len(self.calls), lambda: None)()
        self.calls.append(params)
        step = self.plan.pop(0) if self.plan else None
        if isinstance(step, Exception):
            raise step
        response = self.s3.get_object(**params)
        if step is not None:
            response["Body"] = FailingBody(response["Body"], *step)
        return response


def timeout() -> ReadTimeoutError:
    return ReadTimeoutError(endpoint_url=f"https://{BUCKET}.s3.amazonaws.com")


def test_a_read_timeout_mid_stream_is_read_through_from_the_byte_it_reached(s3: Any) -> None:
    # Given a 3 MiB object whose first answer times out after 1,500,000 bytes
    data = some_bytes(3 * MIB)
    s3.put_object(Bucket=BUCKET, Key="in/x.bin", Body=data)
    flaky, pauses = FlakyS3(s3, [(1_500_000, timeout())]), list[float]()
    # When it is read whole
    read = s3_opener(flaky, BUCKET, "in/x.bin", None, sleep=pauses.append)(0).read()
    # Then the bytes are exactly the object's: a second GET went on at the byte reached, from the same object
    assert read == data
    etag = s3.head_object(Bucket=BUCKET, Key="in/x.bin")["ETag"]
    assert flaky.calls == [
        {"Bucket": BUCKET, "Key": "in/x.bin"},
        {"Bucket": BUCKET, "Key": "in/x.bin", "Range": "bytes=1500000-", "IfMatch": etag},
    ]
    assert pauses == [0.25]


@pytest.mark.parametrize(
    "failure",
    [
        (MIB, None),
        (10, EndpointConnectionError(endpoint_url="https://s3")),
        (123_456, ConnectionResetError(104, "Connection reset by peer")),
        ClientError({"Error": {"Code": "SlowDown"}, "ResponseMetadata": {"HTTPStatusCode": 503}}, "GetObject"),
    ],
    ids=["body cut short", "endpoint connection", "connection reset", "503 slow down on re-opening"],
)
def test_transient_failures_of_every_kind_are_read_through(s3: Any, failure: Any) -> None:
    # Given an object whose reading fails once (a 503 comes when the object is opened again)
    data = some_bytes(2 * MIB + 17)
    s3.put_object(Bucket=BUCKET, Key="x.bin", Body=data)
    plan = [(700_000, timeout()), failure] if isinstance(failure, ClientError) else [failure]
    flaky = FlakyS3(s3, list(plan))
    # When it is read
    read = s3_opener(flaky, BUCKET, "x.bin", None, sleep=lambda _: None)(0).read()
    # Then it is the object's bytes
    assert read == data
    assert len(flaky.calls) == len(plan) + 1


def test_a_version_is_read_on_even_after_the_key_was_overwritten(s3: Any) -> None:
    # Given a versioned bucket, an object's first version, and a timeout after its first MiB
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    first = some_bytes(2 * MIB, seed=1)
    version = s3.put_object(Bucket=BUCKET, Key="x.bin", Body=first)["VersionId"]
    flaky = FlakyS3(s3, [(MIB, timeout())])
    stream = s3_opener(flaky, BUCKET, "x.bin", version, sleep=lambda _: None)(0)
    head = stream.read(MIB)
    # When the key is overwritten before the rest is read
    s3.put_object(Bucket=BUCKET, Key="x.bin", Body=b"another object")
    # Then the rest still comes from that version
    assert head + stream.read() == first
    assert flaky.calls[1] == {"Bucket": BUCKET, "Key": "x.bin", "VersionId": version, "Range": f"bytes={MIB}-"}


def test_an_object_overwritten_while_read_without_a_version_is_not_spliced(s3: Any) -> None:
    # Given an unversioned object read part way, then its connection dropped, and the object overwritten before the
    # read goes on (just before the ranged GET that continues it: the read-ahead thread makes it)
    s3.put_object(Bucket=BUCKET, Key="x.bin", Body=some_bytes(2 * MIB))
    overwrite = lambda: s3.put_object(Bucket=BUCKET, Key="x.bin", Body=some_bytes(2 * MIB, seed=2))  # noqa: E731
    flaky = FlakyS3(s3, [(MIB, timeout())], before_call={1: overwrite})
    stream = s3_opener(flaky, BUCKET, "x.bin", None, sleep=lambda _: None)(0)
    # When it is read
    first = stream.read(MIB)
    with pytest.raises(ClientError) as raised:
        stream.read()
    # Then the first part is the object begun, and S3 refuses its ETag for the rest: nothing of the new object
    assert first == some_bytes(2 * MIB)[:MIB]
    assert raised.value.response["Error"]["Code"] == "PreconditionFailed"


def test_a_continuation_with_the_events_etag_refuses_an_object_overwritten_since(s3: Any) -> None:
    # Given the ETag an S3 event gave for an object (unquoted), and the object overwritten since
    etag = s3.put_object(Bucket=BUCKET, Key="x.csv", Body=b"a\n1\n2\n")["ETag"].strip('"')
    assert list(open_file(s3_opener(s3, BUCKET, "x.csv", None, etag=etag), "x.csv", {"index": 1, "offset": 4})) == [
        (2, {"a": "2"}, "")
    ]
    s3.put_object(Bucket=BUCKET, Key="x.csv", Body=b"b\n7\n8\n9\n")
    # When the file is opened again at a mark of the first object
    with pytest.raises(ClientError) as raised:
        open_file(s3_opener(s3, BUCKET, "x.csv", None, etag=etag), "x.csv", {"index": 1, "offset": 4})
    # Then S3 refuses it: no offset of the old object is applied to the new one
    assert raised.value.response["Error"]["Code"] in CHANGED_OBJECT_CODES


def test_failures_that_go_on_make_the_source_unavailable_not_broken(s3: Any) -> None:
    # Given an object whose answers time out after a MiB, then at once again and again
    s3.put_object(Bucket=BUCKET, Key="x.csv", Body=b"a,b\n" + b"1,2\n" * 500_000)
    flaky, pauses = FlakyS3(s3, [(MIB, timeout())] + [(0, timeout()) for _ in range(10)]), list[float]()
    # When it is read
    with pytest.raises(SourceUnavailableError) as raised:
        s3_opener(flaky, BUCKET, "x.csv", None, sleep=pauses.append)(0).read()
    # Then after five failures in a row, with growing pauses, it is unavailable: not an OSError, not a broken file
    assert len(flaky.calls) == 1 + 4
    assert pauses == [0.25, 0.5, 1.0, 2.0]
    assert not isinstance(raised.value, OSError | UnreadableFileError)
    assert isinstance(raised.value.__cause__, ReadTimeoutError)
    assert "x.csv" in str(raised.value)


def test_failures_spread_over_a_long_read_do_not_add_up(s3: Any) -> None:
    # Given an object whose answers each time out after 300,000 bytes, eight times in all
    data = some_bytes(3 * MIB)
    s3.put_object(Bucket=BUCKET, Key="x.bin", Body=data)
    flaky = FlakyS3(s3, [(300_000, timeout()) for _ in range(8)])
    # When it is read: every failure came after some progress
    read = s3_opener(flaky, BUCKET, "x.bin", None, attempts=2, sleep=lambda _: None)(0).read()
    # Then it is read whole
    assert read == data
    assert len(flaky.calls) == 9


def test_an_unreachable_s3_at_opening_is_unavailable(s3: Any) -> None:
    flaky = FlakyS3(s3, [EndpointConnectionError(endpoint_url="https://s3") for _ in range(3)])
    with pytest.raises(SourceUnavailableError):
        s3_opener(flaky, BUCKET, "x.bin", None, attempts=3, sleep=lambda _: None)(0)
    assert len(flaky.calls) == 3


def test_a_missing_object_is_said_at_once(s3: Any) -> None:
    flaky, pauses = FlakyS3(s3), list[float]()
    with pytest.raises(ClientError) as raised:
        s3_opener(flaky, BUCKET, "gone.csv", None, sleep=pauses.append)(0)
    assert raised.value.response["Error"]["Code"] == "NoSuchKey"
    assert (len(flaky.calls), pauses) == (1, [])


def test_opening_at_the_end_of_an_object_reads_nothing(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="x.bin", Body=b"12345")
    assert s3_opener(s3, BUCKET, "x.bin", None)(5).read() == b""
    assert s3_opener(s3, BUCKET, "x.bin", None)(2).read() == b"345"


def test_the_reader_says_where_it_stands(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="x.bin", Body=b"0123456789")
    reader = S3Reader(s3, BUCKET, "x.bin", None, 3)
    buffer = bytearray(4)
    assert (reader.readinto(buffer), bytes(buffer), reader.tell()) == (4, b"3456", 7)
    reader.close()
    assert reader.closed


# Files over S3


def test_a_csv_read_from_s3_through_timeouts_gives_every_row_and_resumes_at_its_marks(s3: Any) -> None:
    # Given a 60,000-row CSV in S3 whose reading times out twice
    text = "profile_id,event_name\r\n" + "".join(f'u{n},"open\r\n{n}"\r\n' for n in range(60_000))
    s3.put_object(Bucket=BUCKET, Key="events.csv", Body=text.encode())
    flaky = FlakyS3(s3, [(100_000, timeout()), (700_000, timeout())])
    # When it is read with marks taken along the way
    source = open_file(s3_opener(flaky, BUCKET, "events.csv", None, sleep=lambda _: None), "events.csv")
    rows, marks = [], {}
    for row in source:
        rows.append(row)
        if row[0] % 20_000 == 0:
            marks[row[0]] = source.mark()
    # Then every row is there, once
    assert [record["profile_id"] for _, record, _ in rows] == [f"u{n}" for n in range(60_000)]
    assert rows[-1] == (60_000, {"profile_id": "u59999", "event_name": "open\r\n59999"}, "")
    # and a source opened at a mark (header from byte 0, rows with a ranged GET) gives exactly the rest
    again = FlakyS3(s3)
    resumed = list(open_file(s3_opener(again, BUCKET, "events.csv", None), "events.csv", marks[40_000]))
    assert resumed == rows[40_000:]
    assert [call.get("Range") for call in again.calls] == [None, f"bytes={marks[40_000]['offset']}-"]


def test_a_gzipped_file_read_through_a_timeout_decompresses_whole(s3: Any) -> None:
    text = "".join(f'{{"n": {n}, "pad": "{n * 7919 % 1_000_003}"}}\n' for n in range(100_000))
    data = gzip.compress(text.encode())
    s3.put_object(Bucket=BUCKET, Key="x.jsonl.gz", Body=data)
    flaky = FlakyS3(s3, [(len(data) // 3, timeout())])
    source = open_file(s3_opener(flaky, BUCKET, "x.jsonl.gz", None, sleep=lambda _: None), "x.jsonl.gz")
    assert [record["n"] for _, record, _ in source] == list(range(100_000))
    assert len(flaky.calls) == 2


def test_a_file_whose_storage_keeps_failing_is_unavailable_not_unreadable(s3: Any) -> None:
    # Given a gzipped CSV whose storage fails for good after its first MiB
    text = "a\n" + "".join(f"{n * 7919 % 1_000_003}\n" for n in range(600_000))
    data = gzip.compress(text.encode())
    s3.put_object(Bucket=BUCKET, Key="x.csv.gz", Body=data)
    flaky = FlakyS3(s3, [(MIB, timeout())] + [(0, timeout()) for _ in range(5)])
    source = open_file(s3_opener(flaky, BUCKET, "x.csv.gz", None, sleep=lambda _: None), "x.csv.gz")
    # When it is read, the rows stop with SourceUnavailableError: the door leaves the file to be tried again
    with pytest.raises(SourceUnavailableError):
        for _ in source:
            pass
