"""appmetrica_profiles through its three doors (moto + the emulator over HTTP), and no personal data anywhere."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from courier.destinations.appmetrica.first_party import sha256_hex
from courier.observability import logger
from functions.appmetrica_profiles.app import lambda_handler
from sandbox.appmetrica_emulator import AppMetricaEmulator
from sandbox.lambda_runtime import LambdaContext, api_gateway_event, drain
from tests.conftest import APPLICATION_ID, Aws
from tests.support import ROOT, csv_records, everything_logged

FUNCTION = "appmetrica_profiles"
PHONE_HASH = sha256_hex("79160123456")
RAW_PERSONAL_DATA = [
    "+7 (916) 012-34-56",
    "8 (916) 012 34 56",
    "916) 012",
    "Test.User+promo",
    "GoogleMail",
    "@Durov",
    "ivan.petrov@ya.ru",
    "ivan-petrov",
    "79160123456",
    "12012083849",
    "not-a-phone",
]


@pytest.fixture
def profiles(aws: Aws) -> Aws:
    aws.serve(FUNCTION)
    return aws


def run_queue(aws: Aws) -> None:
    drain(aws.sqs, aws.queue_url(FUNCTION), lambda_handler)


def received(appmetrica: AppMetricaEmulator) -> dict[str, dict[str, Any]]:
    return {row["profile_id"]: row["attributes"] for row in appmetrica.profiles(APPLICATION_ID)}


def test_a_typed_csv_with_raw_first_party_data_arrives_hashed_and_typed(
    profiles: Aws, appmetrica: AppMetricaEmulator
) -> None:
    # Given the sample CRM export: typed attribute columns and raw phones, e-mails and a Telegram login
    key = "appmetrica_profiles/crm export.csv"
    body = (ROOT / "events" / FUNCTION / "sample_profiles.csv").read_bytes()
    profiles.s3.put_object(Bucket=profiles.stack.bucket, Key=key, Body=body)
    # When the function processes its queue
    run_queue(profiles)
    # Then each profile arrives with typed attributes and only hashes of its first-party data
    got = received(appmetrica)
    assert got["crm-1001"] == {
        "loyalty_level": "gold",
        "lifetime_value": 15230.5,
        "subscribed": True,
        "purchases": 1,
        "appmetrica_1pd_phone_sha256_0": PHONE_HASH,
        "appmetrica_1pd_email_sha256_0": sha256_hex("testuser@gmail.com"),
        "appmetrica_1pd_telegram_sha256": sha256_hex("@durov"),
    }
    assert got["crm-1002"]["appmetrica_1pd_email_sha256_0"] == sha256_hex("ivan-petrov@yandex.ru")
    assert got["crm-1003"] == {"loyalty_level": "bronze", "lifetime_value": 0, "subscribed": False, "purchases": 1}
    # And the report counts the dropped value without quoting it
    report = json.loads(profiles.object_text(f"reports/{key}.json"))
    assert (report["read"], report["delivered"], report["rejected"]) == (3, 3, 0)
    assert report["dropped_values"] == {"phone: a value that is not a phone number was dropped": 1}


def test_json_records_on_the_queue_deliver(profiles: Aws, appmetrica: AppMetricaEmulator) -> None:
    record = {
        "profile_id": "q1",
        "attributes": {"plan": "pro", "seats": 5},
        "phone": ["+7 (916) 012-34-56", "8 (916) 012 34 56"],
    }
    profiles.sqs.send_message(QueueUrl=profiles.queue_url(FUNCTION), MessageBody=json.dumps(record))
    run_queue(profiles)
    assert received(appmetrica) == {"q1": {"plan": "pro", "seats": 5, "appmetrica_1pd_phone_sha256_0": PHONE_HASH}}


def test_the_https_door_queues_only_hashes(profiles: Aws, appmetrica: AppMetricaEmulator) -> None:
    # Given a webhook call with a raw phone and a reserved attribute name
    body = [
        {"profile_id": "w1", "phone": "+7 (916) 012-34-56", "attributes": {"tier": 2}},
        {"profile_id": "w2", "attributes": {"appmetrica_secret": 1}},
    ]
    response = lambda_handler(api_gateway_event("/appmetrica/profiles", json.dumps(body)), LambdaContext())
    answer = json.loads(response["body"])
    # Then the answer names the refused record, and the queue holds no raw phone
    assert response["statusCode"] == 202
    assert answer["rejected"] == [
        {"index": 1, "errors": ["attributes.appmetrica_secret: names starting with 'appmetrica' are reserved"]}
    ]
    queued = profiles.sqs.receive_message(
        QueueUrl=profiles.queue_url(FUNCTION), MaxNumberOfMessages=10, VisibilityTimeout=0
    )["Messages"]
    assert not any("916" in message["Body"] for message in queued)
    # And the record is delivered from the queue
    run_queue(profiles)
    assert received(appmetrica) == {"w1": {"tier": 2, "appmetrica_1pd_phone_sha256_0": PHONE_HASH}}


def test_sync_mode_delivers_profiles(profiles: Aws, appmetrica: AppMetricaEmulator) -> None:
    body = "profile_id,attributes.score:number\r\ns1,7\r\n"
    event = api_gateway_event("/appmetrica/profiles", body, content_type="text/csv", query={"mode": "sync"})
    response = lambda_handler(event, LambdaContext())
    assert (response["statusCode"], json.loads(response["body"])["delivered"]) == (200, 1)
    assert received(appmetrica) == {"s1": {"score": 7}}


def test_no_raw_personal_data_in_any_log_request_report_or_answer(
    profiles: Aws,
    appmetrica: AppMetricaEmulator,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    request: pytest.FixtureRequest,
) -> None:
    caplog.set_level(logging.DEBUG)
    for harness in ("botocore", "boto3", "urllib3", "s3transfer"):  # the test's own AWS calls carry the bodies it sends
        caplog.set_level(logging.INFO, logger=harness)
    logger.setLevel(logging.DEBUG)
    request.addfinalizer(lambda: logger.setLevel(logging.INFO))
    # Given personal data through every door, with failures on the way (a refused batch, an outage)
    csv_body = (ROOT / "events" / FUNCTION / "sample_profiles.csv").read_bytes()
    profiles.s3.put_object(Bucket=profiles.stack.bucket, Key="appmetrica_profiles/a.csv", Body=csv_body)
    appmetrica.fail_next(400, body="refused")
    appmetrica.fail_next(503, times=6)
    run_queue(profiles)
    record = {"profile_id": "x", "phone": "+7 (916) 012-34-56", "email": "ivan.petrov@ya.ru", "telegram": "@Durov"}
    profiles.sqs.send_message(
        QueueUrl=profiles.queue_url(FUNCTION), MessageBody=json.dumps([record, {**record, "profile_id": ""}])
    )
    run_queue(profiles)
    response = lambda_handler(
        api_gateway_event(
            "/appmetrica/profiles", json.dumps([record, {"phone": "not-a-phone"}]), query={"mode": "sync"}
        ),
        LambdaContext(),
    )
    run_queue(profiles)
    # Then no raw value is in the logs, the requests AppMetrica got, the reports, or the HTTPS answer
    reports = "".join(profiles.object_text(key) for key in profiles.keys("reports/"))
    requests = json.dumps(appmetrica.profiles(APPLICATION_ID))
    logs = capsys.readouterr().out + everything_logged(caplog.records)
    for place, text in {"logs": logs, "requests": requests, "reports": reports, "answer": response["body"]}.items():
        leaked = [value for value in RAW_PERSONAL_DATA if value in text]
        assert leaked == [], place
    assert appmetrica.profiles(APPLICATION_ID)  # the run did deliver, so the check looked at real traffic


def test_rows_the_destination_refuses_keep_the_form_they_were_sent_in(
    profiles: Aws, appmetrica: AppMetricaEmulator
) -> None:
    # Given a profiles file with raw first-party data and flat attribute columns, one of whose rows AppMetrica refuses
    appmetrica.poison = {"profile_id": "crm-2"}
    header = "profile_id,phone,email,attributes.city,attributes.ltv:number"
    rows = [f"crm-{n},8 916 012-34-5{n},user{n}@example.com,Moscow {n},{n}.5" for n in range(4)]
    key = "appmetrica_profiles/refused.csv"
    profiles.s3.put_object(Bucket=profiles.stack.bucket, Key=key, Body="\n".join([header, *rows]).encode())
    # When the function processes its queue
    run_queue(profiles)
    # Then the refused row is in rejected/ with all its original columns, as the user wrote them, plus the reason
    [refused] = csv_records(profiles.object_text(f"rejected/{key}.csv"))
    assert {name: refused[name] for name in header.split(",")} == dict(
        zip(header.split(","), rows[2].split(","), strict=True)
    )
    assert refused["error"].startswith("destination: AppMetrica answered 400")
    assert sorted(received(appmetrica)) == ["crm-0", "crm-1", "crm-3"]
