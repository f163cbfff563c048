"""Mappings through the three doors: the examples in events/ (a CRM export with Russian column names, a payment
provider's webhooks) reach the emulators' stores in the destinations' own fields; refusals name the source field and
the rule; records a filter leaves out are counted as skipped; a missing or invalid mapping fails the file or message
with its reason and loses nothing."""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from demo.play import Samples
from sandbox.altcraft_emulator import AltcraftEmulator
from sandbox.appmetrica_emulator import AppMetricaEmulator
from sandbox.lambda_runtime import LambdaContext, api_gateway_event, drain, poll_once
from tests.conftest import ALTCRAFT_DB, APPLICATION_ID, Aws
from tests.support import csv_records, emf_lines, totals

EXAMPLES = ["appmetrica_profiles", "altcraft_profile_import", "appmetrica_revenue"]


def stored(function: str, appmetrica: AppMetricaEmulator, altcraft: AltcraftEmulator) -> Callable[[], int]:
    stores: dict[str, Callable[[], int]] = {
        "appmetrica_profiles": lambda: len(appmetrica.profiles(APPLICATION_ID)),
        "altcraft_profile_import": lambda: len(altcraft.profiles(ALTCRAFT_DB)),
        "appmetrica_revenue": lambda: len(appmetrica.revenue(APPLICATION_ID)),
    }
    return stores[function]


def handler_of(aws: Aws, function: str) -> Any:
    aws.serve(function)
    return importlib.import_module(f"functions.{function}.app").lambda_handler


def put_mapping(aws: Aws, function: str, name: str, text: str) -> None:
    aws.s3.put_object(Bucket=aws.stack.bucket, Key=f"mappings/{function}/{name}.yaml", Body=text.encode("utf-8"))


def rejected_errors(aws: Aws, prefix: str) -> list[str]:
    return [row["error"] for key in aws.keys(prefix) for row in csv_records(aws.object_text(key))]


def mapping_attribute(name: str) -> dict[str, Any]:
    return {"mapping": {"DataType": "String", "StringValue": name}}


@pytest.mark.parametrize("function", EXAMPLES)
def test_an_example_mapping_delivers_its_source_through_the_three_doors(
    aws: Aws, appmetrica: AppMetricaEmulator, altcraft: AltcraftEmulator, function: str
) -> None:
    # Given the function, its example mapping in the bucket and its samples in the user's own shape
    handler = handler_of(aws, function)
    mapped = Samples.of(function, int(time.time())).mapped
    assert mapped is not None
    put_mapping(aws, function, mapped.mapping, mapped.mapping_text)
    count = stored(function, appmetrica, altcraft)

    # When the example file is dropped in the mapping's folder
    key = f"{function}/{mapped.mapping}/{mapped.file_name}"
    aws.s3.put_object(Bucket=aws.stack.bucket, Key=key, Body=mapped.file_body)
    drain(aws.sqs, aws.queue_url(function), handler)
    # Then its good rows arrive, and the bad one is refused naming the source field and the rule
    report = json.loads(aws.object_text(f"reports/{key}.json"))
    assert (report["status"], report["delivered"], report["rejected"], report["pending"]) == ("complete", 2, 1, 0)
    assert report["read"] == report["delivered"] + report["rejected"] + report["skipped"]
    assert count() == 2
    [refused] = csv_records(aws.object_text(report["rejected_file"].split("/", 3)[3]))
    assert refused["error"].startswith(("Подписан на рассылку: ", "data.object."))

    # When the example message is sent with the attribute mapping
    aws.sqs.send_message(
        QueueUrl=aws.queue_url(function),
        MessageBody=json.dumps(mapped.message),
        MessageAttributes=mapping_attribute(mapped.mapping),
    )
    drain(aws.sqs, aws.queue_url(function), handler)
    # Then its good record arrives and the other is in rejected/sqs/ with the source field it came from
    assert count() == 3
    [message_error] = rejected_errors(aws, f"rejected/sqs/{function}/")
    assert message_error.startswith(("Дата регистрации (МСК): does not match", "data.object.currency → currency: "))

    # When the example call is made with ?mapping=
    route = aws.stack.functions[function].routes[0]
    event = api_gateway_event(route, json.dumps(mapped.request), query={"mapping": mapped.mapping})
    answer = handler(event, LambdaContext())
    body = json.loads(answer["body"])
    drain(aws.sqs, aws.queue_url(function), handler)
    # Then its good record is accepted and delivered, the bad one refused naming its source field (and the webhook
    # of another type skipped by the filter)
    assert answer["statusCode"] == 202
    assert body["accepted"] == 1
    [refusal] = body["rejected"]
    assert refusal["errors"][0].startswith(("Подписан на рассылку: ", "data.object.currency → currency: "))
    assert body["skipped"] == (1 if function == "appmetrica_revenue" else 0)
    assert count() == 4


def test_webhook_events_a_filter_leaves_out_are_skipped_and_counted_not_refused(
    aws: Aws, appmetrica: AppMetricaEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the payments mapping, which sends only succeeded payments
    handler = handler_of(aws, "appmetrica_revenue")
    mapped = Samples.of("appmetrica_revenue", int(time.time())).mapped
    assert mapped is not None
    put_mapping(aws, "appmetrica_revenue", "payments", mapped.mapping_text)
    # When a webhook file holding another event type is dropped, and a message of them sent
    key = f"appmetrica_revenue/payments/{mapped.file_name}"
    aws.s3.put_object(Bucket=aws.stack.bucket, Key=key, Body=mapped.file_body)
    others = [{"type": "customer.created", "data": {"object": {"id": "cus_9"}}}] * 2
    aws.sqs.send_message(
        QueueUrl=aws.queue_url("appmetrica_revenue"),
        MessageBody=json.dumps(others),
        MessageAttributes=mapping_attribute("payments"),
    )
    results = drain(aws.sqs, aws.queue_url("appmetrica_revenue"), handler)
    # Then the report counts the file's other event as skipped, not rejected
    report = json.loads(aws.object_text(f"reports/{key}.json"))
    assert (report["read"], report["delivered"], report["rejected"], report["skipped"]) == (4, 2, 1, 1)
    # And the message of skipped records is done: not retried, nothing in rejected/
    assert all(not result.failed for result in results)
    assert aws.keys("rejected/sqs/appmetrica_revenue/") == []
    # And the function's metrics count them as filtered: the file's one and the message's two
    assert totals(emf_lines(capsys.readouterr().out), "appmetrica_revenue")["RecordsFiltered"] == 3


MISSING_FIELDS = "fields:\n  profile_id: ID клиента\n  nickname: Ник\n"  # line 3: a field profiles do not have


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (None, "mapping crm not found"),
        (MISSING_FIELDS, "line 3: fields.nickname: appmetrica_profiles has no field nickname"),
        ("fields: [profile_id\n", "not valid YAML"),
    ],
    ids=["missing", "unknown field", "bad YAML"],
)
def test_a_file_whose_mapping_is_missing_or_invalid_fails_with_the_reason_and_comes_back(
    aws: Aws, appmetrica: AppMetricaEmulator, text: str | None, reason: str
) -> None:
    # Given a file under a mapping's folder, and that mapping invalid (a missing one is named by the message below)
    handler = handler_of(aws, "appmetrica_profiles")
    mapped = Samples.of("appmetrica_profiles", int(time.time())).mapped
    assert mapped is not None
    if text is not None:
        put_mapping(aws, "appmetrica_profiles", "crm", text)
        key = f"appmetrica_profiles/crm/{mapped.file_name}"
        aws.s3.put_object(Bucket=aws.stack.bucket, Key=key, Body=mapped.file_body)
    else:  # a missing mapping: named by a message's attribute (a folder of no mapping is a plain folder)
        aws.sqs.send_message(
            QueueUrl=aws.queue_url("appmetrica_profiles"),
            MessageBody=json.dumps(mapped.message),
            MessageAttributes=mapping_attribute("crm"),
        )
    # When the function takes the message
    result = poll_once(aws.sqs, aws.queue_url("appmetrica_profiles"), handler)
    # Then it fails and comes back, nothing was sent
    assert len(result.failed) == 1
    assert appmetrica.profiles(APPLICATION_ID) == []
    if text is not None:  # and the file's report says why, with the line
        report = json.loads(aws.object_text(f"reports/appmetrica_profiles/crm/{mapped.file_name}.json"))
        assert report["status"] == "retrying"
        assert reason in report["problem"]
    # When the mapping is fixed and the message comes back
    put_mapping(aws, "appmetrica_profiles", "crm", mapped.mapping_text)
    drain(aws.sqs, aws.queue_url("appmetrica_profiles"), handler)
    # Then its records are delivered: nothing was lost
    assert len(appmetrica.profiles(APPLICATION_ID)) >= 1


def test_a_call_naming_a_missing_or_unnameable_mapping_is_refused_whole(
    aws: Aws, appmetrica: AppMetricaEmulator
) -> None:
    # Given the profiles function and no mapping in the bucket
    handler = handler_of(aws, "appmetrica_profiles")
    route = aws.stack.functions["appmetrica_profiles"].routes[0]
    body = json.dumps([{"ID клиента": "crm-1", "E-mail": "a@example.com"}])
    for name, reason in (("crm", "mapping crm not found"), ("../appmetrica_events/x", "never '/' or '..'")):
        # When a call names it
        answer = handler(api_gateway_event(route, body, query={"mapping": name}), LambdaContext())
        # Then it is refused with the reason, and nothing is queued
        assert answer["statusCode"] == 400
        assert reason in json.loads(answer["body"])["error"]
    drain(aws.sqs, aws.queue_url("appmetrica_profiles"), handler)  # whatever was queued would be delivered here
    assert appmetrica.profiles(APPLICATION_ID) == []


def test_a_changed_mapping_is_used_from_the_next_call_on(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    # Given a mapping that takes the profile id from one column
    handler = handler_of(aws, "appmetrica_profiles")
    route = aws.stack.functions["appmetrica_profiles"].routes[0]
    put_mapping(aws, "appmetrica_profiles", "crm", "fields:\n  profile_id: id\n  attributes.city: city\n")
    record = json.dumps([{"id": "crm-1", "client": "crm-2", "city": "Тверь"}])

    def call() -> dict[str, Any]:
        answer = handler(api_gateway_event(route, record, query={"mapping": "crm", "mode": "sync"}), LambdaContext())
        return dict(json.loads(answer["body"]))

    assert call()["delivered"] == 1
    # When the mapping is replaced by one that reads another column
    put_mapping(aws, "appmetrica_profiles", "crm", "fields:\n  profile_id: client\n  attributes.city: city\n")
    call()
    # Then the next call uses it
    assert [profile["profile_id"] for profile in appmetrica.profiles(APPLICATION_ID)] == ["crm-1", "crm-2"]


def test_a_file_in_a_plain_folder_is_read_without_a_mapping(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    # Given a file in a folder no mapping is named after, in the destination's own fields
    handler = handler_of(aws, "appmetrica_profiles")
    key = "appmetrica_profiles/2026-11/profiles.csv"
    aws.s3.put_object(Bucket=aws.stack.bucket, Key=key, Body=b"profile_id,attributes.city\ncrm-1,Tver\n")
    # When the function reads it
    drain(aws.sqs, aws.queue_url("appmetrica_profiles"), handler)
    # Then it is delivered as it is
    assert json.loads(aws.object_text(f"reports/{key}.json"))["delivered"] == 1
