"""Door 2: records sent to the function's queue in moto SQS → handler (Lambda-shaped event) → emulator over HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.appmetrica_events.app import lambda_handler
from sandbox.appmetrica_emulator import AppMetricaEmulator
from sandbox.lambda_runtime import PollResult, drain, poll_once
from tests.conftest import APPLICATION_ID, Aws
from tests.support import csv_records, recent

FUNCTION = "appmetrica_events"


def send(aws: Aws, body: Any) -> str:
    text = body if isinstance(body, str) else json.dumps(body)
    message_id: str = aws.sqs.send_message(QueueUrl=aws.queue_url(FUNCTION), MessageBody=text)["MessageId"]
    return message_id


def run_queue(aws: Aws) -> list[PollResult]:
    return drain(aws.sqs, aws.queue_url(FUNCTION), lambda_handler)


def test_an_object_and_an_array_both_deliver(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    ts = recent()
    send(aws, {"profile_id": "one", "event_name": "open", "event_timestamp": ts})
    send(aws, [{"profile_id": f"many-{n}", "event_name": "open", "event_timestamp": ts} for n in range(3)])
    results = run_queue(aws)
    assert all(result.failed == [] for result in results)
    assert sorted(row["profile_id"] for row in appmetrica.events(APPLICATION_ID)) == [
        "many-0",
        "many-1",
        "many-2",
        "one",
    ]


def test_iso_times_are_converted_to_unix_seconds(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    send(aws, {"profile_id": "u", "event_name": "open", "event_timestamp": moment.isoformat().replace("+00:00", "Z")})
    run_queue(aws)
    assert [row["event_timestamp"] for row in appmetrica.events(APPLICATION_ID)] == [str(int(moment.timestamp()))]


def test_milliseconds_are_refused_with_a_clear_reason_in_rejected(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    # Given a message with one good record and one in milliseconds
    ts = recent()
    message_id = send(
        aws,
        [
            {"profile_id": "ok", "event_name": "open", "event_timestamp": ts},
            {"profile_id": "ms", "event_name": "open", "event_timestamp": ts * 1000},
        ],
    )
    # When the function processes it
    results = run_queue(aws)
    # Then the good record is delivered, the message is done, and the refused one is in rejected/ with its reason
    assert all(result.failed == [] for result in results)
    assert [row["profile_id"] for row in appmetrica.events(APPLICATION_ID)] == ["ok"]
    [key] = aws.keys("rejected/sqs/appmetrica_events/")
    assert key.endswith(f"/{message_id}.csv")
    [row] = csv_records(aws.object_text(key))
    assert json.loads(row["record"])["profile_id"] == "ms"
    assert row["error"] == "event_timestamp: looks like milliseconds; the Post API takes Unix seconds (divide by 1000)"


def test_a_body_that_is_not_json_is_kept_in_rejected_and_not_retried(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    send(aws, "profile_id=u&event_name=open")
    results = run_queue(aws)
    assert all(result.failed == [] for result in results)
    [key] = aws.keys("rejected/sqs/appmetrica_events/")
    [row] = csv_records(aws.object_text(key))
    assert row == {
        "record": "profile_id=u&event_name=open",
        "error": "message: the body is not JSON (expected a record or an array of records)",
    }
    assert appmetrica.requests == []


def test_a_message_that_cannot_be_delivered_now_is_reported_failed_alone(
    aws: Aws, appmetrica: AppMetricaEmulator
) -> None:
    # Given two messages and a destination whose key is refused for the first application only
    ts = recent()
    run_queue(aws)  # the s3:TestEvent of the notification set-up
    blocked = send(aws, {"application_id": "3333", "profile_id": "u", "event_name": "open", "event_timestamp": ts})
    send(aws, {"profile_id": "fine", "event_name": "open", "event_timestamp": ts})
    # When the function processes the batch once
    results = drain(aws.sqs, aws.queue_url(FUNCTION), lambda_handler, max_rounds=1)
    # Then only the blocked message is reported failed (it goes back to the queue); the other is delivered
    assert results[0].failed == [blocked]
    assert [row["profile_id"] for row in appmetrica.events(APPLICATION_ID)] == ["fine"]


def test_a_message_refused_every_time_ends_in_the_dead_letter_queue(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    run_queue(aws)
    send(aws, {"application_id": "3333", "profile_id": "u", "event_name": "open", "event_timestamp": recent()})
    drain(aws.sqs, aws.queue_url(FUNCTION), lambda_handler, max_rounds=10)
    dead = aws.sqs.receive_message(QueueUrl=aws.dlq_url(FUNCTION), MaxNumberOfMessages=10).get("Messages", [])
    assert [json.loads(message["Body"])["application_id"] for message in dead] == ["3333"]


def test_an_invocation_that_raises_fails_its_batch_and_says_what_it_raised(aws: Aws) -> None:
    # Given a message on the queue (after the stack's own S3 test event) and a handler that raises (a bug, a client
    # that cannot connect)
    drain(aws.sqs, aws.queue_url("appmetrica_events"), lambda_handler)
    aws.sqs.send_message(QueueUrl=aws.queue_url("appmetrica_events"), MessageBody="{}")

    def raising(event: Any, context: Any) -> Any:
        raise ConnectionRefusedError("http://127.0.0.1:1/?post_api_key=secret")

    # When the event source mapping's stand-in invokes it
    result = poll_once(aws.sqs, aws.queue_url("appmetrica_events"), raising)
    # Then the whole batch failed, as in Lambda, and the result names the error's kind, never its text
    assert (result.received, len(result.failed), result.error) == (1, 1, "ConnectionRefusedError")
