"""Control messages are trusted only as far as the function owns what they name: an S3 notification or a
continuation is acted on only for the function's own data bucket and its own prefix. Anything else, and any
malformed control message, is refused before a byte is read: logged with its reason, kept in rejected/sqs/ (except
for Courier's own outputs, where writing would feed a bucket-wide notification), and never retried."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from courier.destinations.appmetrica.events import APPMETRICA_EVENTS
from courier.doors.services import services_for
from functions.appmetrica_events.app import lambda_handler
from sandbox.appmetrica_emulator import AppMetricaEmulator
from sandbox.lambda_runtime import LambdaContext, drain, sqs_event
from tests.conftest import APPLICATION_ID, Aws
from tests.support import csv_records, recent

FUNCTION = "appmetrica_events"
QUEUE_ARN = f"arn:aws:sqs:us-east-1:123456789012:{FUNCTION}"
OTHER_BUCKET = "someone-elses-bucket"
READS = ("GetObject", "HeadObject", "SelectObjectContent", "GetObjectAttributes")


def events_csv(*names: str) -> bytes:
    ts = recent()
    return ("profile_id,event_name,event_timestamp\n" + "".join(f"{n},open,{ts}\n" for n in names)).encode()


def notification(bucket: str, key: str, **obj: Any) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": bucket}, "object": {"key": key, "eTag": "abc", **obj}},
            }
        ]
    }


def continuation(bucket: str, key: str, **changes: Any) -> dict[str, Any]:
    """A continuation as files.py writes one: part 1, after the first two rows (a re-read skipping them)."""
    body: dict[str, Any] = {
        "courier_continue": {"bucket": bucket, "key": key, "version_id": "", "etag": "", "sequencer": ""},
        "part": 1,
        "start": {"index": 2, "offset": -1},
        "before": {"read": 2, "delivered": 2, "rejected": 0, "rejected_reasons": {}},
        "rejected_files": [],
    }
    body.update(changes)
    return body


@pytest.fixture
def s3_reads(aws: Aws, appmetrica: AppMetricaEmulator) -> list[tuple[str, str, str]]:
    """Every S3 call the function makes that reads an object: (operation, bucket, key)."""
    calls: list[tuple[str, str, str]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        if model.name in READS:
            calls.append((model.name, params.get("Bucket", ""), params.get("Key", "")))

    services_for(APPMETRICA_EVENTS).s3.meta.events.register("before-parameter-build.s3", record)
    return calls


@pytest.fixture
def logged() -> Iterator[list[logging.LogRecord]]:
    """The courier logger's records (Powertools' logger does not propagate to pytest's capture)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.INFO)
    log = logging.getLogger("courier")
    log.addHandler(handler)
    yield records
    log.removeHandler(handler)


def handle(body: Any, message_id: str = "m-1") -> dict[str, Any]:
    text = body if isinstance(body, str) else json.dumps(body)
    message = {"MessageId": message_id, "ReceiptHandle": "r", "Body": text, "Attributes": {}}
    answer: dict[str, Any] = lambda_handler(sqs_event([message], QUEUE_ARN), LambdaContext())
    return answer


def rejected_for(aws: Aws, message_id: str) -> list[dict[str, str]]:
    keys = [key for key in aws.keys(f"rejected/sqs/{FUNCTION}/") if key.endswith(f"/{message_id}.csv")]
    assert len(keys) == 1, keys
    return csv_records(aws.object_text(keys[0]))


def refusals(records: list[logging.LogRecord]) -> list[dict[str, Any]]:
    return [vars(r) for r in records if r.getMessage() == "control message refused"]


def put_file(aws: Aws, bucket: str | None, key: str, body: bytes) -> str:
    """Puts a file in `bucket` (created first when it is another bucket), or in the data bucket when None; returns
    the bucket's name."""
    bucket = bucket or aws.stack.bucket
    if bucket == OTHER_BUCKET:
        aws.s3.create_bucket(Bucket=OTHER_BUCKET)
    aws.s3.put_object(Bucket=bucket, Key=key, Body=body)
    return bucket


def in_data_bucket(aws: Aws, body: Any) -> Any:
    """`body` with every "b", the tables' stand-in for a bucket's name, made the data bucket's name."""
    return json.loads(json.dumps(body).replace('"b"', json.dumps(aws.stack.bucket)))


def refused_unread(
    aws: Aws, appmetrica: AppMetricaEmulator, s3_reads: list[tuple[str, str, str]], body: Any
) -> list[dict[str, str]]:
    """Hands the function one control message, checks it is done with (not retried) with nothing read and nothing
    delivered, and returns the rows kept for it in rejected/sqs/."""
    assert handle(body) == {"batchItemFailures": []}
    assert s3_reads == []
    assert appmetrica.requests == []
    return rejected_for(aws, "m-1")


FOREIGN = [
    pytest.param(OTHER_BUCKET, "appmetrica_events/export.csv", "another bucket", id="another-bucket"),
    pytest.param(None, "appmetrica_profiles/export.csv", "outside the function's prefix", id="another-function"),
    pytest.param(None, "appmetrica_eventsX/export.csv", "outside the function's prefix", id="a-longer-prefix"),
    pytest.param(None, "export.csv", "outside the function's prefix", id="the-bucket-root"),
]
OUTPUTS = [
    pytest.param("reports/appmetrica_events/export.csv", id="reports"),
    pytest.param("rejected/appmetrica_events/export.csv", id="rejected"),
]


@pytest.mark.parametrize(("bucket", "key", "reason"), FOREIGN)
def test_a_notification_for_what_the_function_does_not_own_is_refused_unread(
    aws: Aws,
    appmetrica: AppMetricaEmulator,
    s3_reads: list[tuple[str, str, str]],
    logged: list[logging.LogRecord],
    bucket: str | None,
    key: str,
    reason: str,
) -> None:
    # Given a file of good events that would be delivered, in another bucket or outside the function's prefix
    bucket = put_file(aws, bucket, key, events_csv("a", "b"))
    # When a hand-written notification naming it arrives on the function's queue
    message_id = aws.sqs.send_message(
        QueueUrl=aws.queue_url(FUNCTION), MessageBody=json.dumps(notification(bucket, key))
    )["MessageId"]
    results = drain(aws.sqs, aws.queue_url(FUNCTION), lambda_handler)
    # Then nothing was read and nothing delivered
    assert s3_reads == []
    assert appmetrica.requests == []
    assert aws.keys("reports/") == []
    # And the message is done with (not retried, not in the dead-letter queue)
    assert all(result.failed == [] for result in results)
    assert aws.sqs.receive_message(QueueUrl=aws.dlq_url(FUNCTION)).get("Messages", []) == []
    # And the reason is logged with where the message pointed, and kept in rejected/ beside the message
    [refusal] = refusals(logged)
    assert reason in refusal["reason"]
    assert refusal["bucket"] == bucket
    [row] = rejected_for(aws, message_id)
    assert row["error"].startswith("message: refused, not read: ")
    assert reason in row["error"]
    assert json.loads(row["record"]) == notification(bucket, key)


@pytest.mark.parametrize("key", OUTPUTS)
def test_a_notification_for_courier_s_own_output_is_refused_unread_and_only_logged(
    aws: Aws,
    appmetrica: AppMetricaEmulator,
    s3_reads: list[tuple[str, str, str]],
    logged: list[logging.LogRecord],
    key: str,
) -> None:
    # Given a report or rejected file in the data bucket, and a notification naming it (as a notification set on
    # the whole bucket would send)
    aws.s3.put_object(Bucket=aws.stack.bucket, Key=key, Body=events_csv("a"))
    answer = handle(notification(aws.stack.bucket, key))
    # Then it is not read, not retried, and nothing is written: a rejected/ file would be notified in its turn
    assert answer == {"batchItemFailures": []}
    assert s3_reads == []
    assert appmetrica.requests == []
    assert aws.keys("reports/") + aws.keys("rejected/") == [key]
    [refusal] = refusals(logged)
    assert "Courier's own output" in refusal["reason"]
    assert refusal["prefix"] == key.split("/")[0] + "/"


def test_one_foreign_file_refuses_the_whole_notification(
    aws: Aws, appmetrica: AppMetricaEmulator, s3_reads: list[tuple[str, str, str]]
) -> None:
    own, foreign = notification(aws.stack.bucket, "appmetrica_events/a.csv"), notification(OTHER_BUCKET, "x.csv")
    aws.s3.put_object(Bucket=aws.stack.bucket, Key="appmetrica_events/a.csv", Body=events_csv("a"))
    rows = refused_unread(aws, appmetrica, s3_reads, {"Records": own["Records"] + foreign["Records"]})
    assert "another bucket" in rows[0]["error"]


def test_the_function_s_own_notification_is_still_read_and_delivered(
    aws: Aws, appmetrica: AppMetricaEmulator, s3_reads: list[tuple[str, str, str]]
) -> None:
    # The reads counter sees reads: the same hand-written notification for the function's own prefix is acted on
    key = "appmetrica_events/own.csv"
    aws.s3.put_object(Bucket=aws.stack.bucket, Key=key, Body=events_csv("a", "b"))
    etag = aws.s3.head_object(Bucket=aws.stack.bucket, Key=key)["ETag"].strip('"')
    assert handle(notification(aws.stack.bucket, key, eTag=etag)) == {"batchItemFailures": []}
    assert ("GetObject", aws.stack.bucket, key) in s3_reads
    assert [row["profile_id"] for row in appmetrica.events(APPLICATION_ID)] == ["a", "b"]
    assert aws.keys("rejected/") == []


@pytest.mark.parametrize(("bucket", "key", "reason"), FOREIGN[:2])
def test_a_continuation_for_what_the_function_does_not_own_is_refused_unread(
    aws: Aws,
    appmetrica: AppMetricaEmulator,
    s3_reads: list[tuple[str, str, str]],
    bucket: str | None,
    key: str,
    reason: str,
) -> None:
    bucket = put_file(aws, bucket, key, events_csv("a", "b", "c", "d"))
    rows = refused_unread(aws, appmetrica, s3_reads, continuation(bucket, key))
    assert reason in rows[0]["error"]


def test_a_well_formed_continuation_of_the_function_s_own_file_carries_on(
    aws: Aws, appmetrica: AppMetricaEmulator
) -> None:
    # Given a file of four rows whose first two an earlier part delivered
    key = "appmetrica_events/long.csv"
    aws.s3.put_object(Bucket=aws.stack.bucket, Key=key, Body=events_csv("a", "b", "c", "d"))
    # When the continuation that part would have written arrives
    assert handle(continuation(aws.stack.bucket, key)) == {"batchItemFailures": []}
    # Then the rest is delivered and the report counts the whole file
    assert [row["profile_id"] for row in appmetrica.events(APPLICATION_ID)] == ["c", "d"]
    report = json.loads(aws.object_text(f"reports/{key}.json"))
    assert (report["status"], report["part"], report["read"], report["delivered"]) == ("complete", 1, 4, 4)


CREATED = {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}
OWN_EVENT = notification("b", "appmetrica_events/a.csv")["Records"][0]
MALFORMED_NOTIFICATIONS: dict[str, Any] = {
    "no s3 part": {"Records": [CREATED]},
    "key is a number": {"Records": [{**CREATED, "s3": {"bucket": {"name": "b"}, "object": {"key": 7}}}]},
    "no bucket name": {"Records": [{**CREATED, "s3": {"bucket": {}, "object": {"key": "k"}}}]},
    "s3 is a list": {"Records": [{**CREATED, "s3": []}]},
    "no eventName": {"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "b"}, "object": {"key": "k"}}}]},
    "second event not an object": {"Records": [OWN_EVENT, 5]},
    "second event not from S3": {"Records": [OWN_EVENT, {"eventSource": "aws:sns"}]},
    "S3 event not first": {"Records": [{"profile_id": "u"}, OWN_EVENT]},
    "empty key": {"Records": notification("b", "")["Records"]},
    "versionId a number": {"Records": notification("b", "appmetrica_events/a.csv", versionId=3)["Records"]},
    "eTag not ASCII": {"Records": notification("b", "appmetrica_events/a.csv", eTag="é")["Records"]},
    "key too long": {"Records": notification("b", "appmetrica_events/" + "k" * 1100)["Records"]},
}


@pytest.mark.parametrize("name", list(MALFORMED_NOTIFICATIONS))
def test_a_malformed_notification_is_rejected_with_a_reason_not_crashed_on(
    aws: Aws, appmetrica: AppMetricaEmulator, s3_reads: list[tuple[str, str, str]], name: str
) -> None:
    [row] = refused_unread(aws, appmetrica, s3_reads, in_data_bucket(aws, MALFORMED_NOTIFICATIONS[name]))
    assert row["error"].startswith("message: refused, not read: ")


def test_a_key_with_a_lone_surrogate_is_rejected_not_crashed_on(
    aws: Aws, appmetrica: AppMetricaEmulator, s3_reads: list[tuple[str, str, str]]
) -> None:
    text = json.dumps(notification(aws.stack.bucket, "appmetrica_events/x.csv")).replace("x.csv", "\\ud800.csv")
    assert handle(text) == {"batchItemFailures": []}
    assert s3_reads == []
    [row] = rejected_for(aws, "m-1")
    assert "not valid Unicode" in row["error"]


MALFORMED_CONTINUATIONS: dict[str, dict[str, Any]] = {
    "file not an object": {"courier_continue": "appmetrica_events/a.csv"},
    "file without a key": {"courier_continue": {"bucket": "b"}},
    "file with an unknown field": {"courier_continue": {"bucket": "b", "key": "appmetrica_events/a.csv", "x": 1}},
    "key a number": {"courier_continue": {"bucket": "b", "key": 5}},
    "part text": {"part": "1"},
    "part a bool": {"part": True},
    "part a float": {"part": 1.0},
    "part zero": {"part": 0},
    "part missing": {"part": None},
    "start missing": {"start": None},
    "start index text": {"start": {"index": "2", "offset": -1}},
    "start offset below -1": {"start": {"index": 2, "offset": -5}},
    "start index huge": {"start": {"index": 10**30, "offset": -1}},
    "start with extra fields": {"start": {"index": 2, "offset": -1, "x": 0}},
    "before not an object": {"before": [2]},
    "before count negative": {"before": {"read": -1}},
    "before count text": {"before": {"delivered": "2"}},
    "before reasons not counts": {"before": {"rejected_reasons": {"x": "y"}}},
    "rejected_files not a list": {"rejected_files": "s3://b/rejected/x.csv"},
    "rejected_files elsewhere": {"rejected_files": ["s3://elsewhere/rejected/x.csv"]},
}


@pytest.mark.parametrize("name", list(MALFORMED_CONTINUATIONS))
def test_a_malformed_continuation_is_rejected_with_a_reason_not_crashed_on(
    aws: Aws, appmetrica: AppMetricaEmulator, s3_reads: list[tuple[str, str, str]], name: str
) -> None:
    key = "appmetrica_events/a.csv"
    put_file(aws, None, key, events_csv("a", "b", "c"))
    body = in_data_bucket(aws, continuation("b", key, **MALFORMED_CONTINUATIONS[name]))
    body = {k: v for k, v in body.items() if v is not None}
    [row] = refused_unread(aws, appmetrica, s3_reads, body)
    assert row["error"].startswith("message: refused, not read: ")


def test_continuation_numbers_that_are_not_json_numbers_are_refused(
    aws: Aws, appmetrica: AppMetricaEmulator, s3_reads: list[tuple[str, str, str]]
) -> None:
    text = json.dumps(continuation(aws.stack.bucket, "appmetrica_events/a.csv")).replace('"part": 1', '"part": NaN')
    assert handle(text) == {"batchItemFailures": []}
    assert s3_reads == []
    assert "part must be a whole number" in rejected_for(aws, "m-1")[0]["error"]


def test_records_that_merely_mention_records_are_records(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    # A record with a Records field that holds no S3 event is a record (refused by the destination's rules)
    assert handle({"Records": [{"profile_id": "u"}]}) == {"batchItemFailures": []}
    [row] = rejected_for(aws, "m-1")
    assert not row["error"].startswith("message: refused")
