"""Signed webhooks, hostile input through the HTTPS and SQS doors, and no secret or personal data in anything the
functions say."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from courier.doors.signatures import sign
from functions.altcraft_profile_import.app import lambda_handler as import_handler
from functions.appmetrica_events.app import lambda_handler as events_handler
from functions.appmetrica_profiles.app import lambda_handler as profiles_handler
from sandbox.altcraft_emulator import AltcraftEmulator
from sandbox.appmetrica_emulator import AppMetricaEmulator
from sandbox.lambda_runtime import LambdaContext, api_gateway_event, drain, sqs_event
from tests.conftest import ALTCRAFT_TOKEN, POST_API_KEY, Aws
from tests.log_capture import everything_at_debug
from tests.support import recent

ROUTE = "/appmetrica/events"
SECRET = "whsec-test-0123456789abcdef"


def signed_call(body: bytes, timestamp: int | None = None, secret: str = SECRET, **headers: str) -> dict[str, Any]:
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    event = api_gateway_event(
        ROUTE,
        body.decode(),
        headers={"X-Courier-Timestamp": stamp, "X-Courier-Signature": sign(secret, stamp, body, path=ROUTE), **headers},
    )
    answer: dict[str, Any] = events_handler(event, LambdaContext())
    return answer


@pytest.fixture
def signing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_SIGNING_SECRET", SECRET)


def one_event() -> bytes:
    return json.dumps({"profile_id": "s1", "event_name": "open", "event_timestamp": recent()}).encode()


def test_a_correctly_signed_call_is_accepted(aws: Aws, appmetrica: AppMetricaEmulator, signing: None) -> None:
    assert signed_call(one_event())["statusCode"] == 202


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("unsigned", "the call is not signed (X-Courier-Timestamp and X-Courier-Signature are required)"),
        ("wrong secret", "the signature does not match"),
        ("body changed", "the signature does not match"),
        ("an hour old", "the signature's timestamp is more than 5 minutes old"),
    ],
)
def test_unsigned_wrong_and_stale_calls_are_refused_with_401(
    aws: Aws, appmetrica: AppMetricaEmulator, signing: None, case: str, reason: str
) -> None:
    # Given a call that is not signed as it should be
    drain(aws.sqs, aws.queue_url("appmetrica_events"), events_handler)  # the s3:TestEvent
    body = one_event()
    if case == "unsigned":
        answer = events_handler(api_gateway_event(ROUTE, body.decode()), LambdaContext())
    elif case == "wrong secret":
        answer = signed_call(body, secret="guess")
    elif case == "body changed":
        stamp = str(int(time.time()))
        headers = {"X-Courier-Timestamp": stamp, "X-Courier-Signature": sign(SECRET, stamp, body, path=ROUTE)}
        answer = events_handler(api_gateway_event(ROUTE, body.decode() + " ", headers=headers), LambdaContext())
    else:
        answer = signed_call(body, timestamp=int(time.time()) - 3600)
    # Then it is refused and nothing is queued
    assert (answer["statusCode"], json.loads(answer["body"])["error"]) == (401, reason)
    assert aws.sqs.receive_message(QueueUrl=aws.queue_url("appmetrica_events")).get("Messages", []) == []


NASTY_BODIES: list[str | bytes] = [
    "",
    " ",
    "null",
    "true",
    "0",
    "-1e400",
    "1" * 5000,
    '"x"',
    "[]",
    "[[]]",
    "{}",
    "[1, 2, 3]",
    "[" * 5000 + "]" * 5000,
    '{"a":' * 3000 + "1" + "}" * 3000,
    b"\xff\xfe\xfd",
    b"\x00\x01\x02binary",
    "\ufeff{}",
    '{"profile_id": "u", "event_name": "x", "event_timestamp": 1e400}',
    '{"profile_id": "u", "event_name": "x", "event_timestamp": ' + "9" * 5000 + "}",
    '{"profile_id": {"$ne": 1}, "event_name": "x", "event_timestamp": 0}',
    '{"profile_id": "u", "appmetrica_device_id": "-1", "event_name": "x", "event_timestamp": "now"}',
    '{"profile_id": "u", "event_name": "x", "event_timestamp": "2026-02-30T00:00:00Z"}',
    '{"profile_id": "' + "u" * 20000 + '", "event_name": "x", "event_timestamp": 1}',
    '{"event_json": ' + '{"a":' * 40 + "1" + "}" * 40 + ', "profile_id": "u", "event_name": "x"}',
    '[{"profile_id": "=cmd|\' /C calc\'!A0", "event_name": "x"}]',
    'profile_id,event_name\n=HYPERLINK("x"),y\n',
    '{"application_id": "1111111111111111111111111111111111111111", "profile_id": "u"}',
    '{"__proto__": {"polluted": true}}',
    "\x1b[31mred",
    "<?xml version='1.0'?><x/>",
]


@pytest.mark.parametrize("body", NASTY_BODIES, ids=range(len(NASTY_BODIES)))
@pytest.mark.parametrize("content_type", ["application/json", "text/csv"])
def test_hostile_bodies_get_a_4xx_and_deliver_nothing(
    aws: Aws, appmetrica: AppMetricaEmulator, body: str | bytes, content_type: str
) -> None:
    answer = events_handler(
        api_gateway_event(ROUTE, body, content_type=content_type, query={"mode": "sync"}), LambdaContext()
    )
    assert 400 <= answer["statusCode"] < 500
    assert appmetrica.requests == []


@pytest.mark.parametrize("body", [b for b in NASTY_BODIES if isinstance(b, str)], ids=range(28))
def test_hostile_messages_are_rejected_not_crashed_on(aws: Aws, appmetrica: AppMetricaEmulator, body: str) -> None:
    arn = "arn:aws:sqs:us-east-1:123456789012:appmetrica_events"
    message = {"MessageId": "m-1", "ReceiptHandle": "r", "Body": body, "Attributes": {}}
    assert events_handler(sqs_event([message], arn), LambdaContext()) == {"batchItemFailures": []}
    assert appmetrica.requests == []


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=json_values | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_fuzzed_bodies_never_crash_the_https_door(aws: Aws, appmetrica: AppMetricaEmulator, payload: Any) -> None:
    body = payload if isinstance(payload, str) else json.dumps(payload)
    answer = events_handler(api_gateway_event(ROUTE, body), LambdaContext())
    assert answer["statusCode"] in (202, 400, 413)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    record=st.dictionaries(
        st.sampled_from(
            [
                "profile_id",
                "event_name",
                "event_timestamp",
                "event_json",
                "application_id",
                "session_type",
                "mcc",
                "appmetrica_device_id",
            ]
        ),
        json_values,
        max_size=8,
    )
)
def test_fuzzed_records_never_crash_the_sqs_door(aws: Aws, appmetrica: AppMetricaEmulator, record: Any) -> None:
    arn = "arn:aws:sqs:us-east-1:123456789012:appmetrica_events"
    message = {"MessageId": "m-2", "ReceiptHandle": "r", "Body": json.dumps(record), "Attributes": {}}
    answer = events_handler(sqs_event([message], arn), LambdaContext())
    assert answer["batchItemFailures"] in ([], [{"itemIdentifier": "m-2"}])


def test_an_unreachable_destination_leaks_no_key_token_or_personal_data(
    aws: Aws, appmetrica: AppMetricaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a destination nobody answers at, a real-looking key, and personal data in the records; every logger at
    # DEBUG, all their output captured (Powertools' own lines included)
    logs = everything_at_debug()
    monkeypatch.setenv("APPMETRICA_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("COURIER_RETRY_BASE_SECONDS", "0")
    aws.serve("appmetrica_profiles")
    record = {"profile_id": "crm-1", "phone": "+7 (916) 012-34-56", "email": "ivan.petrov@ya.ru", "telegram": "@Durov"}
    aws.sqs.send_message(QueueUrl=aws.queue_url("appmetrica_profiles"), MessageBody=json.dumps([record]))
    with logs as captured:
        answer = profiles_handler(
            api_gateway_event("/appmetrica/profiles", json.dumps(record), query={"mode": "sync"}), LambdaContext()
        )
        drain(aws.sqs, aws.queue_url("appmetrica_profiles"), profiles_handler, max_rounds=2)
    # Then nothing it logged, answered or wrote holds the key or a raw value
    written = "".join(aws.object_text(key) for key in aws.keys("reports/"))
    said = captured.text() + answer["body"] + written
    assert "messages processed" in captured.printed.getvalue()
    assert '"retry_reason": "network error: ConnectionError"' in said  # the log says why, without the URL
    for secret in (POST_API_KEY, "916) 012", "ivan.petrov", "@Durov", "79160123456"):
        assert secret not in said


def test_an_unreachable_altcraft_leaks_no_token_or_personal_data(
    aws: Aws, altcraft: AltcraftEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALTCRAFT_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("COURIER_RETRY_BASE_SECONDS", "0")
    aws.serve("altcraft_profile_import")
    record = {
        "email": "ivan.petrov@example.com",
        "data": {"email": "ivan.petrov@example.com", "phones": ["+79160123456"]},
    }
    with everything_at_debug() as captured:
        answer = import_handler(
            api_gateway_event("/altcraft/profiles/import", json.dumps(record), query={"mode": "sync"}), LambdaContext()
        )
        drain(aws.sqs, aws.queue_url("altcraft_profile_import"), import_handler, max_rounds=2)
    said = captured.text() + answer["body"]
    assert "messages processed" in captured.printed.getvalue()
    assert '"retry_reason": "network error: ConnectionError"' in said
    for secret in (ALTCRAFT_TOKEN, "ivan.petrov", "79160123456"):
        assert secret not in said
