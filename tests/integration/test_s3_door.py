"""Door 1: files dropped under appmetrica_events/ in moto S3 → notification on the function's queue → handler →
the AppMetrica emulator over HTTP. Reports and rejected rows are read back from the bucket."""

from __future__ import annotations

import gzip
import json
from typing import Any

from functions.appmetrica_events.app import lambda_handler
from sandbox.appmetrica_emulator import AppMetricaEmulator
from sandbox.lambda_runtime import drain, poll_once
from tests.conftest import APPLICATION_ID, Aws
from tests.support import csv_records, recent, seed_sample_text

FUNCTION = "appmetrica_events"


def drop(aws: Aws, key: str, body: bytes) -> None:
    aws.s3.put_object(Bucket=aws.stack.bucket, Key=key, Body=body)


def run_queue(aws: Aws) -> None:
    drain(aws.sqs, aws.queue_url(FUNCTION), lambda_handler)


def report(aws: Aws, key: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(aws.object_text(f"reports/{key}.json"))
    return loaded


def test_the_seed_sample_arrives_as_exactly_its_two_rows(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    # Given the seed's events sample, timestamps moved into the window, dropped under appmetrica_events/
    text = seed_sample_text(recent(7200), recent(3600))
    drop(aws, "appmetrica_events/seed.csv", text.encode())
    # When the function processes its queue
    run_queue(aws)
    # Then the emulator holds exactly the two rows, field for field, sent in one request
    assert appmetrica.events(APPLICATION_ID) == csv_records(text)
    assert [request.rows for request in appmetrica.requests] == [2]
    assert report(aws, "appmetrica_events/seed.csv")["delivered"] == 2
    assert aws.keys("rejected/") == []


def test_a_messy_gzipped_csv_delivers_good_rows_once_and_explains_bad_ones(
    aws: Aws, appmetrica: AppMetricaEmulator
) -> None:
    # Given a gzipped CSV with a BOM, CRLF, a multi-line quoted cell, non-ASCII text, a stale row and a bad timestamp
    ts, stale = recent(), recent(20 * 24 * 3600)
    lines = [
        "profile_id,event_name,event_timestamp,event_json",
        f'u1,покупка,{ts},"{{\r\n  ""comment"": ""цена, руб.""\r\n}}"',
        f"u2,stale,{stale},",
        "u3,bad-time,yesterday,",
        f"u4,open,{ts},",
    ]
    body = gzip.compress(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    key = "appmetrica_events/2026/messy export.csv.gz"
    drop(aws, key, body)
    # When the function processes its queue
    run_queue(aws)
    # Then the good rows arrive once each, with the multi-line cell and the text intact
    received = appmetrica.events(APPLICATION_ID)
    assert [row["profile_id"] for row in received] == ["u1", "u4"]
    assert received[0]["event_name"] == "покупка"
    assert received[0]["event_json"] == '{\r\n  "comment": "цена, руб."\r\n}'
    # And the two bad rows are in rejected/ with their reasons, in the original columns
    rejected = csv_records(aws.object_text(f"rejected/{key}.csv"))
    assert [row["profile_id"] for row in rejected] == ["u2", "u3"]
    assert list(rejected[0]) == ["profile_id", "event_name", "event_timestamp", "event_json", "error"]
    assert rejected[0]["error"].startswith("event_timestamp: is older than the Post API's 14-day window")
    assert rejected[1]["error"].startswith("event_timestamp: must be Unix seconds or an ISO-8601 time")
    # And the report adds up
    result = report(aws, key)
    assert result["status"] == "complete"
    assert (result["read"], result["delivered"], result["rejected"], result["pending"]) == (4, 2, 2, 0)
    assert result["rejected_reasons"] == {"event_timestamp": 2}
    assert result["rejected_file"] == f"s3://{aws.stack.bucket}/rejected/{key}.csv"


def test_a_large_file_arrives_whole_in_requests_growing_to_50000_rows(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    ts = recent()
    body = "profile_id,event_name,event_timestamp\n" + "".join(f"u{n},open,{ts}\n" for n in range(120_000))
    drop(aws, "appmetrica_events/big.csv", body.encode())
    run_queue(aws)
    rows_per_request = [request.rows for request in appmetrica.requests]
    assert rows_per_request == [10_000, 20_000, 40_000, 50_000]
    received = appmetrica.events(APPLICATION_ID)
    assert len({row["profile_id"] for row in received}) == len(received) == 120_000
    assert report(aws, "appmetrica_events/big.csv")["requests"] == len(rows_per_request)


def test_json_lines_and_json_arrays_are_delivered(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    ts = recent()
    lines = [json.dumps({"profile_id": f"l{n}", "event_name": "open", "event_timestamp": ts}) for n in range(3)]
    drop(aws, "appmetrica_events/a.jsonl", "\n".join(lines).encode())
    array = [
        {
            "appmetrica_device_id": 12345678901234567890,
            "event_name": "x",
            "event_timestamp": ts,
            "event_json": {"level": 3},
            "unknown_field": 1,
        }
    ]
    drop(aws, "appmetrica_events/b.json", json.dumps(array).encode())
    run_queue(aws)
    received = appmetrica.events(APPLICATION_ID)
    assert sorted(row.get("profile_id", row.get("appmetrica_device_id", "")) for row in received) == [
        "12345678901234567890",
        "l0",
        "l1",
        "l2",
    ]
    device_row = next(row for row in received if "appmetrica_device_id" in row)
    assert device_row["event_json"] == '{"level":3}'
    assert report(aws, "appmetrica_events/b.json")["ignored_fields"] == ["unknown_field"]


def test_an_unsupported_file_is_reported_and_not_retried(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    drop(aws, "appmetrica_events/notes.txt", b"hello")
    results = drain(aws.sqs, aws.queue_url(FUNCTION), lambda_handler)
    assert all(result.failed == [] for result in results)
    result = report(aws, "appmetrica_events/notes.txt")
    assert result["status"] == "failed"
    assert result["problem"].startswith("unsupported file type")
    assert appmetrica.requests == []


def test_an_outage_keeps_the_message_until_the_destination_is_back(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    # Given the destination fails every try of one invocation
    queue = aws.queue_url(FUNCTION)
    run_queue(aws)  # the s3:TestEvent of the notification set-up
    appmetrica.fail_next(503, times=6)
    drop(aws, "appmetrica_events/outage.csv", f"profile_id,event_name,event_timestamp\nu1,open,{recent()}\n".encode())
    # When the function runs
    first = poll_once(aws.sqs, queue, lambda_handler)
    # Then the message is reported failed, stays on the queue, and the report says it is retrying
    assert len(first.failed) == 1
    assert report(aws, "appmetrica_events/outage.csv")["status"] == "retrying"
    # And once the destination is back, the next delivery completes
    second = poll_once(aws.sqs, queue, lambda_handler)
    assert second.failed == []
    assert [row["profile_id"] for row in appmetrica.events(APPLICATION_ID)] == ["u1"]
    assert report(aws, "appmetrica_events/outage.csv")["status"] == "complete"


def test_an_object_gone_before_it_was_read_is_reported_not_retried(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    drop(aws, "appmetrica_events/gone.csv", b"profile_id,event_name,event_timestamp\n")
    aws.s3.delete_object(Bucket=aws.stack.bucket, Key="appmetrica_events/gone.csv")
    results = drain(aws.sqs, aws.queue_url(FUNCTION), lambda_handler)
    assert all(result.failed == [] for result in results)
    assert report(aws, "appmetrica_events/gone.csv")["problem"].startswith("the object no longer exists")
