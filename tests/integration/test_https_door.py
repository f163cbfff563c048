"""Door 3: API Gateway REST proxy events → handler → the function's queue (moto) → handler → emulator."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from courier.destinations.appmetrica.events import APPMETRICA_EVENTS
from courier.doors import handle
from functions.appmetrica_events.app import lambda_handler
from sandbox.appmetrica_emulator import AppMetricaEmulator
from sandbox.lambda_runtime import LambdaContext, api_gateway_event, drain
from tests.conftest import APPLICATION_ID, Aws
from tests.support import csv_records, recent

ROUTE = "/appmetrica/events"


def call(body: str | bytes, **options: Any) -> tuple[int, dict[str, Any]]:
    response = lambda_handler(api_gateway_event(ROUTE, body, **options), LambdaContext())
    return response["statusCode"], json.loads(response["body"])


def events(*profiles: str, **extra: Any) -> list[dict[str, Any]]:
    return [{"profile_id": p, "event_name": "open", "event_timestamp": recent(), **extra} for p in profiles]


def test_accepted_records_are_queued_with_per_record_errors_then_delivered(
    aws: Aws, appmetrica: AppMetricaEmulator
) -> None:
    # Given a webhook call with two good records and one without an identifier
    body = [*events("a", "b"), {"event_name": "open", "event_timestamp": recent()}]
    # When it is posted
    status, answer = call(json.dumps(body))
    # Then the answer is 202 with the refused record's index and reason, and nothing is sent yet
    assert status == 202
    assert answer["accepted"] == 2
    assert answer["rejected"] == [
        {"index": 2, "errors": ["profile_id: one of profile_id and appmetrica_device_id is required"]}
    ]
    assert answer["request_id"]
    assert appmetrica.requests == []
    # And when the queue is processed, the accepted records arrive
    drain(aws.sqs, aws.queue_url("appmetrica_events"), lambda_handler)
    assert sorted(row["profile_id"] for row in appmetrica.events(APPLICATION_ID)) == ["a", "b"]
    # And the refused record is kept in rejected/
    [key] = aws.keys("rejected/https/appmetrica_events/")
    assert key.endswith(f"/{answer['request_id']}.csv")


def test_sync_mode_delivers_at_once_and_reports_the_outcome(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    status, answer = call(json.dumps(events("now")), query={"mode": "sync"})
    assert status == 200
    assert (answer["accepted"], answer["delivered"], answer["queued"], answer["rejected"]) == (1, 1, 0, [])
    assert [row["profile_id"] for row in appmetrica.events(APPLICATION_ID)] == ["now"]


def test_sync_mode_queues_what_the_destination_cannot_take_now(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    # Given the destination is down for the whole invocation
    appmetrica.fail_next(503, times=6)
    status, answer = call(json.dumps(events("later")), query={"mode": "sync"})
    # Then the records are queued, not lost, and the answer says so
    assert status == 202
    assert (answer["delivered"], answer["queued"]) == (0, 1)
    drain(aws.sqs, aws.queue_url("appmetrica_events"), lambda_handler)
    assert [row["profile_id"] for row in appmetrica.events(APPLICATION_ID)] == ["later"]


def test_sync_mode_reports_the_destinations_refusal(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    appmetrica.fail_next(400, body="bad batch")
    status, answer = call(json.dumps(events("x")), query={"mode": "sync"})
    assert status == 400
    # The answer gives the status in Courier's words; what AppMetrica wrote goes to the rejected file only
    assert answer["rejected"] == [{"index": 0, "errors": ["destination: AppMetrica answered 400"]}]


def test_a_csv_body_is_accepted(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    body = f"profile_id,event_name,event_timestamp\r\nc1,open,{recent()}\r\n"
    status, answer = call(body, content_type="text/csv; charset=utf-8", query={"mode": "sync"})
    assert (status, answer["delivered"]) == (200, 1)


def test_nothing_valid_is_400_with_the_same_per_record_errors(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    queue = aws.queue_url("appmetrica_events")
    drain(aws.sqs, queue, lambda_handler)  # the s3:TestEvent of the notification set-up
    status, answer = call(json.dumps([{"profile_id": "u", "event_name": "open", "event_timestamp": "soon"}]))
    assert status == 400
    assert answer["accepted"] == 0
    assert answer["rejected"][0]["index"] == 0
    assert answer["rejected"][0]["errors"][0].startswith("event_timestamp: must be Unix seconds or an ISO-8601")
    assert aws.sqs.receive_message(QueueUrl=queue).get("Messages", []) == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{not json", "the body is not valid JSON (send a JSON object, a JSON array, or text/csv)"),
        ('"just text"', "the body must be a JSON object or an array of objects"),
        (b"\xff\xfe\x00", "the body is not valid UTF-8"),
    ],
)
def test_an_unreadable_body_is_400(aws: Aws, appmetrica: AppMetricaEmulator, body: str | bytes, reason: str) -> None:
    status, answer = call(body)
    assert (status, answer["error"]) == (400, reason)


def test_a_body_over_the_limit_is_413(
    aws: Aws, appmetrica: AppMetricaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COURIER_MAX_BODY_BYTES", "1000")
    from courier.doors.services import reset_services

    reset_services()
    status, answer = call(json.dumps(events(*[f"u{n}" for n in range(50)])))
    assert status == 413
    assert "larger than 1000 bytes" in answer["error"]


def test_another_route_is_404(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    response = lambda_handler(api_gateway_event("/appmetrica/other", "{}"), LambdaContext())
    assert response["statusCode"] == 404


def test_sync_mode_prepares_each_record_once_and_a_refusal_shows_it_as_sent(
    aws: Aws, appmetrica: AppMetricaEmulator
) -> None:
    # Given a preparer that counts its calls, and a destination that refuses the request whole
    calls: list[Any] = []

    def counting(settings: Any, now: float) -> Any:
        prepare = APPMETRICA_EVENTS.make_preparer(settings, now)

        def count(record: Any) -> Any:
            calls.append(record)
            return prepare(record)

        return count

    destination = replace(APPMETRICA_EVENTS, make_preparer=counting)
    appmetrica.fail_next(400, body="bad batch")
    record = {"profile_id": "once", "event_name": "open", "event_timestamp": recent(), "extra": "kept"}
    # When it is posted with ?mode=sync
    response = handle(
        api_gateway_event(ROUTE, json.dumps([record]), query={"mode": "sync"}), LambdaContext(), destination
    )
    # Then the record was prepared once, and rejected/ shows it as the caller sent it (its unknown field too)
    assert response["statusCode"] == 400
    assert calls == [record]
    [key] = aws.keys("rejected/https/appmetrica_events/")
    [row] = csv_records(aws.object_text(key))
    assert json.loads(row["record"]) == record
    assert row["error"].startswith("destination: AppMetrica answered 400")
