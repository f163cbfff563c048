"""Exactly once, or rejected with a reason, or still retrying: duplicates, redeliveries, refusals, outages and files
longer than one invocation, through the real doors with the ledger table of the template (moto DynamoDB)."""

from __future__ import annotations

import copy
import gzip
import importlib
import json
import time
from collections import Counter
from typing import Any

import pytest

from functions.altcraft_profile_import.app import lambda_handler as import_handler
from functions.appmetrica_events.app import lambda_handler as events_handler
from infra.template import function_wirings, load_template
from sandbox.altcraft_emulator import AltcraftEmulator
from sandbox.appmetrica_emulator import AppMetricaEmulator
from sandbox.http_emulator import RESET, HttpEmulator
from sandbox.lambda_runtime import LambdaContext, api_gateway_event, drain, poll_once, sqs_event
from tests.conftest import ALTCRAFT_DB, APPLICATION_ID, Aws
from tests.support import csv_records, recent

EVENTS = "appmetrica_events"
ROUTES = {name: wiring.routes[0] for name, wiring in function_wirings(load_template()).items()}


def events_csv(count: int, start: int = 0) -> bytes:
    ts = recent()
    lines = "".join(f"u{n},open,{ts}\n" for n in range(start, start + count))
    return ("profile_id,event_name,event_timestamp\n" + lines).encode()


def profile_ids(appmetrica: AppMetricaEmulator) -> Counter[str]:
    return Counter(row["profile_id"] for row in appmetrica.events(APPLICATION_ID))


def report(aws: Aws, key: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(aws.object_text(f"reports/{key}.json"))
    return loaded


def received(aws: Aws, function: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = aws.sqs.receive_message(
        QueueUrl=aws.queue_url(function), MaxNumberOfMessages=10, AttributeNames=["All"]
    ).get("Messages", [])
    return messages


def test_a_duplicate_s3_notification_sends_nothing_the_second_time(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    # Given a dropped file, delivered
    drain(aws.sqs, aws.queue_url(EVENTS), events_handler)  # the s3:TestEvent
    aws.s3.put_object(Bucket=aws.stack.bucket, Key="appmetrica_events/once.csv", Body=events_csv(3))
    [notification] = received(aws, EVENTS)
    arn = f"arn:aws:sqs:us-east-1:123456789012:{EVENTS}"
    assert events_handler(sqs_event([notification], arn), LambdaContext()) == {"batchItemFailures": []}
    # When S3 announces the same object again (a new message with the same notification)
    duplicate = {**copy.deepcopy(notification), "MessageId": "another-message-id"}
    assert events_handler(sqs_event([duplicate], arn), LambdaContext()) == {"batchItemFailures": []}
    # Then nothing more was sent: one request, each event once
    assert len(appmetrica.requests) == 1
    assert profile_ids(appmetrica) == Counter({"u0": 1, "u1": 1, "u2": 1})


def test_a_redelivered_sqs_message_sends_nothing_the_second_time(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    ts = recent()
    aws.sqs.send_message(
        QueueUrl=aws.queue_url(EVENTS),
        MessageBody=json.dumps(
            [{"profile_id": f"m{n}", "event_name": "open", "event_timestamp": ts} for n in range(5)]
        ),
    )
    messages = [m for m in received(aws, EVENTS) if "Event" not in json.loads(m["Body"])]
    event = sqs_event(messages, f"arn:aws:sqs:us-east-1:123456789012:{EVENTS}")
    # When Lambda hands the same message over twice (a redelivery after a lost delete)
    events_handler(event, LambdaContext())
    events_handler(event, LambdaContext())
    # Then the records went out once
    assert len(appmetrica.requests) == 1
    assert set(profile_ids(appmetrica).values()) == {1}
    assert len(profile_ids(appmetrica)) == 5


def test_one_poison_record_in_40_is_rejected_and_39_delivered(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    # Given a destination that refuses (400) any request holding the poison row
    appmetrica.poison = {"profile_id": "u17"}
    aws.s3.put_object(Bucket=aws.stack.bucket, Key="appmetrica_events/poison.csv", Body=events_csv(40))
    # When the file is delivered
    drain(aws.sqs, aws.queue_url(EVENTS), events_handler)
    # Then the refused batch was split until the poison row was alone
    assert sorted(profile_ids(appmetrica)) == sorted(f"u{n}" for n in range(40) if n != 17)
    [row] = csv_records(aws.object_text("rejected/appmetrica_events/poison.csv.csv"))
    assert row["profile_id"] == "u17"
    assert row["error"].startswith("destination: AppMetrica answered 400")
    result = report(aws, "appmetrica_events/poison.csv")
    assert (result["read"], result["delivered"], result["rejected"], result["status"]) == (40, 39, 1, "complete")


def test_a_retried_file_resends_only_what_did_not_go_out(
    aws: Aws, altcraft: AltcraftEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a file of three batches, and Altcraft down for every try of the second batch
    monkeypatch.setenv("ALTCRAFT_BATCH_SIZE", "10")
    aws.serve("altcraft_profile_import")
    queue = aws.queue_url("altcraft_profile_import")
    drain(aws.sqs, queue, import_handler)  # the s3:TestEvent
    rows = "".join(f"p{n}@example.com,P{n}\n" for n in range(30))
    key = "altcraft_profile_import/three.csv"
    aws.s3.put_object(Bucket=aws.stack.bucket, Key=key, Body=("email,_fname\n" + rows).encode())
    altcraft.fail_next(503, times=6, after=1)
    # When the function runs: batch 1 goes out, batch 2 fails, the message comes back
    first = poll_once(aws.sqs, queue, import_handler)
    assert len(first.failed) == 1
    assert report(aws, key)["status"] == "retrying"
    # And runs again once Altcraft is back
    second = poll_once(aws.sqs, queue, import_handler)
    assert second.failed == []
    # Then every profile went out exactly once: batch 1 was not sent again
    sent = Counter(item["email"] for r in altcraft.requests if r.status == 200 for item in json.loads(r.body)["data"])
    assert len(sent) == 30
    assert set(sent.values()) == {1}
    result = report(aws, key)
    assert (result["status"], result["delivered"], result["duplicates_skipped"], result["read"]) == (
        "complete",
        20,
        10,
        30,
    )
    assert len(altcraft.profiles(ALTCRAFT_DB)) == 30


def test_a_file_longer_than_an_invocation_continues_exactly_once(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    # Given 250,000 rows and a slow destination, with invocations of 4 seconds
    appmetrica.delay = 0.5
    drain(aws.sqs, aws.queue_url(EVENTS), events_handler)  # the s3:TestEvent
    key = "appmetrica_events/long.csv"
    aws.s3.put_object(Bucket=aws.stack.bucket, Key=key, Body=events_csv(250_000))
    left: list[int] = []

    def invocation(event: dict[str, Any], context: Any) -> Any:
        answer = events_handler(event, context)
        left.append(context.get_remaining_time_in_millis())
        return answer

    # When the queue is worked as Lambda would, message after message
    rounds = drain(aws.sqs, aws.queue_url(EVENTS), invocation, max_rounds=20, context_timeout=4)
    # Then the file took several invocations, none overran its time, and each event arrived once
    assert len(rounds) >= 2
    assert all(remaining > 0 for remaining in left)
    counts = profile_ids(appmetrica)
    assert len(counts) == 250_000
    assert set(counts.values()) == {1}
    result = report(aws, key)
    assert result["status"] == "complete"
    assert result["read"] == result["delivered"] + result["duplicates_skipped"] + result["rejected"] + result["pending"]
    # And each continuation started where the last one stopped: nothing was read twice
    assert result["duplicates_skipped"] == 0
    assert result["read"] == 250_000


@pytest.mark.parametrize("fault", ["timeout", "reset"])
def test_a_lost_answer_is_not_sent_twice_to_appmetrica(
    aws: Aws, appmetrica: AppMetricaEmulator, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    # Given a request whose answer is lost: too slow to wait for, or a connection dropped without an answer
    if fault == "timeout":
        monkeypatch.setenv("COURIER_HTTP_READ_TIMEOUT_SECONDS", "0.3")
        appmetrica.delay = 1.0
    else:
        appmetrica.fail_next(RESET)
    key = f"appmetrica_events/{fault}.csv"
    aws.s3.put_object(Bucket=aws.stack.bucket, Key=key, Body=events_csv(3))
    # When the function runs
    results = drain(aws.sqs, aws.queue_url(EVENTS), events_handler)
    time.sleep(appmetrica.delay + 0.5)  # let the slow emulator finish the request the client stopped waiting for
    # Then the rows were sent once and no more: they wait in rejected/ with the reason, for a person to check
    assert all(result.failed == [] for result in results)
    assert len(appmetrica.requests) == 1
    assert max(profile_ids(appmetrica).values(), default=0) <= 1
    rejected = csv_records(aws.object_text(f"rejected/{key}.csv"))
    assert [row["profile_id"] for row in rejected] == ["u0", "u1", "u2"]
    assert all(row["error"].startswith("destination: possibly delivered") for row in rejected)


def test_a_dropped_connection_is_retried_when_sending_again_is_harmless(aws: Aws, altcraft: AltcraftEmulator) -> None:
    # Given an import of plain values (an upsert: the same result however often it is applied)
    altcraft.fail_next(RESET)
    aws.serve("altcraft_profile_import")
    record = {"email": "r@example.com", "data": {"email": "r@example.com", "_fname": "R"}}
    aws.sqs.send_message(QueueUrl=aws.queue_url("altcraft_profile_import"), MessageBody=json.dumps(record))
    # When the function runs
    drain(aws.sqs, aws.queue_url("altcraft_profile_import"), import_handler)
    # Then it was sent again and arrived
    assert [r.status for r in altcraft.requests] == [RESET, 200]
    assert [p["email"] for p in altcraft.profiles(ALTCRAFT_DB)] == ["r@example.com"]


@pytest.mark.slow
def test_a_million_rows_with_random_transient_failures_arrive_exactly_once(
    aws: Aws, appmetrica: AppMetricaEmulator
) -> None:
    # Given a million-row file and a destination that answers 503 to 40% of requests at random
    appmetrica.flaky_rate = 0.4
    drain(aws.sqs, aws.queue_url(EVENTS), events_handler)  # the s3:TestEvent
    key = "appmetrica_events/million.csv.gz"
    aws.s3.put_object(Bucket=aws.stack.bucket, Key=key, Body=gzip.compress(events_csv(1_000_000), compresslevel=1))
    # When the queue is worked until it is empty
    drain(aws.sqs, aws.queue_url(EVENTS), events_handler, max_rounds=50)
    # Then every event arrived once, and the report adds up
    counts = profile_ids(appmetrica)
    assert len(counts) == 1_000_000
    assert set(counts.values()) == {1}
    assert any(request.status == 503 for request in appmetrica.requests)
    result = report(aws, key)
    assert result["status"] == "complete"
    assert result["read"] == result["delivered"] + result["duplicates_skipped"] + result["rejected"] + result["pending"]


FOUR = {
    "appmetrica_events": [{"profile_id": f"e{n}", "event_name": "open", "event_timestamp": recent()} for n in range(3)],
    "appmetrica_profiles": [{"profile_id": f"p{n}", "attributes": {"n": n}} for n in range(3)],
    "altcraft_profile_import": [{"email": f"i{n}@example.com", "data": {"_fname": f"I{n}"}} for n in range(3)],
    "altcraft_profile_update": [
        {"email": f"u{n}@example.com", "data": {"visits": {"action": "incr", "value": 1}}} for n in range(3)
    ],
}


@pytest.mark.parametrize("function", list(FOUR))
def test_every_function_delivers_once_through_an_outage_and_a_redelivery(
    aws: Aws, appmetrica: AppMetricaEmulator, altcraft: AltcraftEmulator, function: str
) -> None:
    # Given records accepted at the HTTPS door, and a destination down for the first invocation's every try
    handler = importlib.import_module(f"functions.{function}.app").lambda_handler
    emulator: HttpEmulator = altcraft if function.startswith("altcraft") else appmetrica
    for n in range(3):
        altcraft.add_profile(ALTCRAFT_DB, {"email": f"u{n}@example.com", "visits": 0})
    aws.serve(function)
    queue = aws.queue_url(function)
    drain(aws.sqs, queue, handler)  # the s3:TestEvent
    response = handler(api_gateway_event(ROUTES[function], json.dumps(FOUR[function])), LambdaContext())
    assert response["statusCode"] == 202
    emulator.fail_next(503, times=6)
    [message] = received(aws, function)
    arn = f"arn:aws:sqs:us-east-1:123456789012:{function}"
    # When Lambda delivers the message: first during the outage, then after, then once more (a redelivery)
    outage = handler(sqs_event([message], arn), LambdaContext())
    after = handler(sqs_event([message], arn), LambdaContext())
    again = handler(sqs_event([message], arn), LambdaContext())
    # Then the records went out in exactly one successful request, and the redelivery sent nothing
    assert outage == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
    assert after == again == {"batchItemFailures": []}
    assert [r.status for r in emulator.requests].count(200) == 1
    assert emulator.accepted() == 3
    if function == "altcraft_profile_update":
        assert {p["email"]: p["visits"] for p in altcraft.profiles(ALTCRAFT_DB)} == {
            f"u{n}@example.com": 1 for n in range(3)
        }
