"""The SQS door's plain messages share requests, and the ledger knows per message what went out: redeliveries in any
grouping, a message held by another invocation, per-item failures, and records the HTTPS door prepared."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import boto3
import pytest

from courier.delivery.ledger import SENDING, DynamoLedger, Entry
from courier.destinations.appmetrica.csv_batch import CsvBatch
from courier.doors.services import reset_services
from functions.altcraft_profile_import.app import lambda_handler as import_handler
from functions.appmetrica_events.app import lambda_handler as events_handler
from functions.appmetrica_profiles.app import lambda_handler as profiles_handler
from sandbox.altcraft_emulator import AltcraftEmulator
from sandbox.appmetrica_emulator import AppMetricaEmulator
from sandbox.lambda_runtime import LambdaContext, api_gateway_event, sqs_event
from tests.conftest import ALTCRAFT_DB, APPLICATION_ID, Aws
from tests.support import recent

EVENTS = "appmetrica_events"


def messages(aws: Aws, function: str, bodies: list[Any]) -> list[dict[str, Any]]:
    """Messages as the event source mapping receives them (sent to the queue, then received)."""
    url = aws.queue_url(function)
    for body in bodies:
        aws.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
    received: list[dict[str, Any]] = []
    while len(received) < len(bodies):
        got = aws.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]
        ).get("Messages", [])
        received += [m for m in got if "Event" not in json.loads(m["Body"])]
    return received


def invoke(handler: Any, function: str, batch: list[dict[str, Any]]) -> set[str]:
    """One invocation with these messages; the ids it reports failed."""
    answer = handler(sqs_event(batch, f"arn:aws:sqs:us-east-1:123456789012:{function}"), LambdaContext())
    return {item["itemIdentifier"] for item in answer["batchItemFailures"]}


def event(n: int) -> dict[str, Any]:
    return {"profile_id": f"u{n}", "event_name": "open", "event_timestamp": recent()}


def delivered(appmetrica: AppMetricaEmulator) -> Counter[str]:
    return Counter(row["profile_id"] for row in appmetrica.events(APPLICATION_ID))


def test_three_hundred_single_event_messages_go_in_one_request(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    # Given 300 messages of one event each, handed to one invocation
    batch = messages(aws, EVENTS, [event(n) for n in range(300)])
    # When the function runs
    failed = invoke(events_handler, EVENTS, batch)
    # Then one request carried them all, each event once, and no message comes back
    assert failed == set()
    assert [request.rows for request in appmetrica.requests] == [300]
    assert delivered(appmetrica) == Counter({f"u{n}": 1 for n in range(300)})


def test_redelivered_messages_regrouped_send_only_what_never_went_out(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    # Given 30 messages of two events, delivered in a first invocation
    batch = messages(aws, EVENTS, [[event(2 * n), event(2 * n + 1)] for n in range(30)])
    assert invoke(events_handler, EVENTS, batch[:20]) == set()
    # When SQS hands over a subset of them again, grouped with the ten never processed
    again = batch[5:15] + batch[20:]
    failed = invoke(events_handler, EVENTS, again)
    # Then only the new messages' events went out: every event exactly once, in two requests in all
    assert failed == set()
    assert delivered(appmetrica) == Counter({f"u{n}": 1 for n in range(60)})
    assert [request.rows for request in appmetrica.requests] == [40, 20]


def test_a_message_another_invocation_holds_is_left_for_later(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    # Given three messages, one of which another invocation is sending right now (its ledger entry is live)
    batch = messages(aws, EVENTS, [event(0), event(1), event(2)])
    ledger = DynamoLedger(aws.stack.table, boto3.client("dynamodb"))
    held = Entry(SENDING, lease=time.time() + 600, end=1, sent=b"\x01", attempt="another-invocation")
    assert ledger.write_many([(f"sqs:{batch[1]['MessageId']}", held, "")]) == {f"sqs:{batch[1]['MessageId']}"}
    # When this invocation gets all three
    failed = invoke(events_handler, EVENTS, batch)
    # Then it sends the two others and names only the held one as failed
    assert failed == {batch[1]["MessageId"]}
    assert delivered(appmetrica) == Counter({"u0": 1, "u2": 1})


def test_a_message_killed_in_flight_is_not_sent_twice(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    # Given a message whose event an earlier invocation sent and then died (its entry left sending, lease over)
    [message] = messages(aws, EVENTS, [[event(0), event(1)]])
    ledger = DynamoLedger(aws.stack.table, boto3.client("dynamodb"))
    dead = Entry(SENDING, lease=time.time() - 1, end=2, sent=b"\x01", attempt="dead-invocation")
    ledger.write_many([(f"sqs:{message['MessageId']}", dead, "")])
    # When the message comes back
    failed = invoke(events_handler, EVENTS, [message])
    # Then the possibly-sent event is rejected as such, the other one is sent, and the message is done
    assert failed == set()
    assert delivered(appmetrica) == Counter({"u1": 1})
    [rejected_key] = aws.keys(f"rejected/sqs/{EVENTS}/")
    assert "possibly delivered" in aws.object_text(rejected_key)


def test_partial_failure_names_exactly_the_messages_with_records_to_retry(aws: Aws, altcraft: AltcraftEmulator) -> None:
    # Given three messages of two profiles each, sharing one batch request, and Altcraft failing the request whole
    # once (503) after the first of two requests
    aws.monkeypatch.setenv("ALTCRAFT_BATCH_SIZE", "4")
    aws.serve("altcraft_profile_import")
    bodies = [
        [{"email": f"p{2 * n + k}@example.com", "data": {"_fname": f"P{2 * n + k}"}} for k in range(2)]
        for n in range(3)
    ]
    batch = messages(aws, "altcraft_profile_import", bodies)
    altcraft.fail_next(503, times=6, after=1)
    # When one invocation delivers them
    failed = invoke(import_handler, "altcraft_profile_import", batch)
    # Then the messages whose profiles all went out are done; only the one left waiting comes back
    stored = {p["email"] for p in altcraft.profiles(ALTCRAFT_DB)}
    assert stored == {f"p{n}@example.com" for n in range(4)}
    assert failed == {batch[2]["MessageId"]}
    # And when it comes back, only its own profiles are sent
    assert invoke(import_handler, "altcraft_profile_import", [batch[2]]) == set()
    sent = Counter(item["email"] for r in altcraft.requests if r.status == 200 for item in json.loads(r.body)["data"])
    assert sent == Counter({f"p{n}@example.com": 1 for n in range(6)})


def test_records_the_https_door_queued_go_out_as_it_prepared_them(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    # Given a profile with a raw phone posted to the HTTPS door, which prepares (hashes) it and queues it
    aws.serve("appmetrica_profiles")
    record = {"profile_id": "crm-1", "phone": "+7 916 012-34-56", "attributes": {"city": "Moscow"}}
    answer = profiles_handler(api_gateway_event("/appmetrica/profiles", json.dumps(record)), LambdaContext())
    assert answer["statusCode"] == 202
    [queued] = [
        m
        for m in aws.sqs.receive_message(
            QueueUrl=aws.queue_url("appmetrica_profiles"),
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )["Messages"]
        if "Event" not in json.loads(m["Body"])
    ]
    assert queued["MessageAttributes"]["courier-prepared"]["StringValue"] == "1"
    [prepared] = json.loads(queued["Body"])
    assert "+7 916" not in queued["Body"]  # hashed before it was queued
    # When the SQS door delivers the queued message
    assert invoke(profiles_handler, "appmetrica_profiles", [queued]) == set()
    # Then AppMetrica got the record byte for byte as the HTTPS door prepared it: not prepared a second time
    expected = CsvBatch(APPLICATION_ID)
    expected.add(prepared, 0)
    [request] = appmetrica.requests
    assert request.body == bytes(expected.body())


def test_the_ledger_writes_each_entry_with_one_conditional_put_and_a_held_entry_fails_only_itself(aws: Aws) -> None:
    # Given 250 new entries, one of which another invocation wrote first
    calls: Counter[str] = Counter()
    client = boto3.client("dynamodb")
    client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.update([model.name]))
    ledger = DynamoLedger(aws.stack.table, client)
    entry = Entry(SENDING, lease=time.time() + 600, end=1, sent=b"\x01", attempt="this-invocation")
    held = Entry(SENDING, lease=time.time() + 600, end=1, sent=b"\x01", attempt="another-invocation")
    assert ledger.write_many([("sqs:m150", held, "")]) == {"sqs:m150"}
    calls.clear()
    # When this invocation writes all 250
    written = ledger.write_many([(f"sqs:m{n}", entry, "") for n in range(250)])
    # Then each was one PutItem (a write unit, where a transaction's item costs two), the held one read back once,
    # and only the held one was refused
    assert calls == Counter({"PutItem": 250, "GetItem": 1})
    assert written == {f"sqs:m{n}" for n in range(250)} - {"sqs:m150"}
    found = ledger.read_many([f"sqs:m{n}" for n in range(250)])
    assert set(found) == written | {"sqs:m150"}
    assert found["sqs:m150"].attempt == "another-invocation"


def test_a_ledger_write_whose_answer_was_lost_is_known_as_its_own(aws: Aws) -> None:
    # Given a write that reached the table but whose answer was lost, so that its retry finds the entry already there
    ledger = DynamoLedger(aws.stack.table, boto3.client("dynamodb"))
    entry = Entry(SENDING, lease=time.time() + 600, end=1, sent=b"\x01", attempt="this-invocation")
    assert ledger.write_many([("sqs:lost", entry, "")]) == {"sqs:lost"}
    # When the same write is made again
    written = ledger.write_many([("sqs:lost", entry, "")])
    # Then it counts as written (the entry is this attempt's), while another attempt's same write is refused
    assert written == {"sqs:lost"}
    other = Entry(SENDING, lease=time.time() + 600, end=1, sent=b"\x01", attempt="another-invocation")
    assert ledger.write_many([("sqs:lost", other, "")]) == set()


@pytest.mark.parametrize(
    "fault", ["stale receipt handles", pytest.param("the call fails", marks=pytest.mark.denied_by_role)]
)
def test_messages_whose_back_off_cannot_be_set_are_still_named_for_retry(
    aws: Aws, appmetrica: AppMetricaEmulator, fault: str
) -> None:
    # Given two messages that must come back (another invocation holds them), whose back-off fails: SQS no longer
    # knows their receipt handles, or the call itself fails (here: a queue that is not the function's, which its role
    # does not allow)
    batch = messages(aws, EVENTS, [event(0), event(1)])
    ledger = DynamoLedger(aws.stack.table, boto3.client("dynamodb"))
    held = Entry(SENDING, lease=time.time() + 600, end=1, sent=b"\x01", attempt="another-invocation")
    ledger.write_many([(f"sqs:{message['MessageId']}", held, "") for message in batch])
    if fault == "stale receipt handles":
        batch = [{**message, "ReceiptHandle": f"gone-{n}"} for n, message in enumerate(batch)]
    else:
        aws.monkeypatch.setenv("INGEST_QUEUE_URL", aws.queue_url(EVENTS) + "-gone")
        reset_services()
    # When the function runs
    failed = invoke(events_handler, EVENTS, batch)
    # Then it still answers, naming both, and sent nothing
    assert failed == {message["MessageId"] for message in batch}
    assert appmetrica.requests == []
