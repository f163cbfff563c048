"""Signed webhooks (issue 16): replayed, re-routed, future-dated, stale and malformed calls get 401 and queue nothing;
the generic HMAC schemes (GitHub, Shopify, Stripe-style) are accepted when right and refused when wrong; signing off
says so at cold start. Calls go through the handler as API Gateway would send them; the queue and the ledger table
are moto's."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import subprocess
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from courier.doors.services import reset_services
from courier.doors.signatures import COURIER, REPLAY_PREFIX, SIGNING_OFF, Call, canonical, scheme_of, sign, verify
from courier.settings import Settings
from functions.appmetrica_events.app import lambda_handler as events_handler
from functions.appmetrica_profiles.app import lambda_handler as profiles_handler
from sandbox.appmetrica_emulator import AppMetricaEmulator
from sandbox.lambda_runtime import LambdaContext, api_gateway_event, drain
from tests.conftest import Aws
from tests.support import ROOT, recent

ROUTE = "/appmetrica/events"
README = ROOT / "docs" / "security.md"  # where the signing recipe is documented
SECRET = "whsec0123456789abcdefABCDEF"


def event_body(profile: str = "s1") -> bytes:
    return json.dumps([{"profile_id": profile, "event_name": "open", "event_timestamp": recent()}]).encode()


def post(
    body: bytes, headers: dict[str, str], path: str = ROUTE, query: dict[str, str] | None = None, handler: Any = None
) -> tuple[int, dict[str, Any]]:
    event = api_gateway_event(path, body.decode("utf-8"), headers=headers, query=query)
    response = (handler or events_handler)(event, LambdaContext())
    return response["statusCode"], json.loads(response["body"])


def courier_headers(
    body: bytes,
    stamp: int | None = None,
    path: str = ROUTE,
    query: dict[str, str] | None = None,
    secret: str = SECRET,
) -> dict[str, str]:
    text = str(int(time.time()) if stamp is None else stamp)
    signature = sign(secret, text, body, path=path, query=sorted((query or {}).items()))
    return {"X-Courier-Timestamp": text, "X-Courier-Signature": signature}


def queued(aws: Aws, function: str = "appmetrica_events") -> list[Any]:
    """The records waiting on a function's queue (each message's JSON array, flattened)."""
    messages = aws.sqs.receive_message(QueueUrl=aws.queue_url(function), MaxNumberOfMessages=10).get("Messages", [])
    return [record for message in messages for record in json.loads(message["Body"])]


@pytest.fixture
def quiet_queues(aws: Aws, appmetrica: AppMetricaEmulator) -> Aws:
    """The queues with the bucket notification's s3:TestEvent taken off, so that what is on them was queued here;
    the functions start cold again after it (with the settings the test sets)."""
    drain(aws.sqs, aws.queue_url("appmetrica_events"), events_handler)
    drain(aws.sqs, aws.queue_url("appmetrica_profiles"), profiles_handler)
    aws.serve("appmetrica_events")
    return aws


@pytest.fixture
def courier_signing(quiet_queues: Aws, appmetrica: AppMetricaEmulator, monkeypatch: pytest.MonkeyPatch) -> Aws:
    monkeypatch.setenv("WEBHOOK_SIGNING", "courier")
    monkeypatch.setenv("WEBHOOK_SIGNING_SECRET", SECRET)
    reset_services()
    return quiet_queues


# --- Courier's scheme ------------------------------------------------------------------------------------------


def test_a_call_signed_with_the_canonical_string_is_accepted_and_queued(courier_signing: Aws) -> None:
    # Given a call signed over timestamp, method, path, query and body
    body = event_body("ok")
    # When it is posted with the query it was signed with
    status, answer = post(body, courier_headers(body, query={"b": "2", "a": "1"}), query={"a": "1", "b": "2"})
    # Then it is accepted and its record is queued
    assert (status, answer["accepted"]) == (202, 1)
    assert [record["profile_id"] for record in queued(courier_signing)] == ["ok"]


def test_the_canonical_string_is_what_readme_says() -> None:
    query = [("mode", "sync"), ("a b", "é/&")]
    assert canonical("1700000000", "post", "/appmetrica/events", query, b'{"x":1}') == (
        b"1700000000\nPOST\n/appmetrica/events\na%20b=%C3%A9%2F%26&mode=sync\n" + b'{"x":1}'
    )


def test_readmes_openssl_line_signs_as_courier_does() -> None:
    # Given README's bash recipe for a call with ?mode=sync
    stamp, body = "1700000000", '[{"profile_id":"u1"}]'
    script = (
        'printf \'%s\\nPOST\\n%s\\n%s\\n%s\' "$STAMP" "$ROUTE" "$QUERY" "$BODY"'
        " | openssl dgst -sha256 -hmac \"$SECRET\" | sed 's/^.* //'"
    )
    env = {
        "STAMP": stamp,
        "ROUTE": ROUTE,
        "QUERY": "mode=sync",
        "BODY": body,
        "SECRET": SECRET,
        "PATH": "/usr/bin:/bin",
    }
    # When bash and openssl compute the signature
    digest = subprocess.run(  # noqa: S603  (a fixed script, this test's values)
        ["/bin/bash", "-c", script], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    # Then it is the one Courier expects, and README shows that very line
    assert 'printf \'%s\\nPOST\\n%s\\n%s\\n%s\' "$stamp" "$route" "$query" "$body"' in README.read_text()
    assert f"sha256={digest}" == sign(SECRET, stamp, body.encode(), path=ROUTE, query=[("mode", "sync")])


def test_a_replayed_call_is_refused_the_second_time_and_queued_once(courier_signing: Aws) -> None:
    # Given a correctly signed call that was accepted
    body = event_body("once")
    headers = courier_headers(body)
    assert post(body, headers)[0] == 202
    # When the same call (same headers, same body) is sent again within its window
    status, answer = post(body, headers)
    # Then it is refused, and its record was queued only once
    assert (status, answer["error"]) == (401, "the signature was already used (sign each call anew)")
    assert [record["profile_id"] for record in queued(courier_signing)] == ["once"]
    # And the used signature is claimed in the ledger table until the end of its window, not for the ledger's 15 days
    items = courier_signing_items(courier_signing)
    assert len(items) == 1
    assert items[0]["id"]["S"].startswith(REPLAY_PREFIX)
    assert int(items[0]["expiration"]["N"]) == int(headers["X-Courier-Timestamp"]) + 300


def courier_signing_items(aws: Aws) -> list[dict[str, Any]]:
    import boto3

    items = boto3.client("dynamodb").scan(TableName=aws.stack.table)["Items"]
    return [item for item in items if item["id"]["S"].startswith(REPLAY_PREFIX)]


def test_without_a_table_a_replay_is_refused_from_memory(courier_signing: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a local run without a ledger table
    monkeypatch.delenv("IDEMPOTENCY_TABLE")
    courier_signing.serve("appmetrica_events")
    body = event_body("local")
    headers = courier_headers(body)
    # When a signed call is sent twice
    first, second = post(body, headers)[0], post(body, headers)[0]
    # Then the second is refused, and the record was queued once
    assert (first, second) == (202, 401)
    assert [record["profile_id"] for record in queued(courier_signing)] == ["local"]


def test_a_second_call_signed_anew_is_accepted(courier_signing: Aws) -> None:
    body = event_body("again")
    assert post(body, courier_headers(body, stamp=int(time.time()) - 1))[0] == 202
    assert post(body, courier_headers(body))[0] == 202
    assert len(queued(courier_signing)) == 2


@pytest.mark.parametrize(
    ("signed_for", "sent_to"),
    [
        ((ROUTE, None), ("/appmetrica/profiles", None)),  # another function's route
        ((ROUTE, None), (ROUTE, {"mode": "sync"})),  # a query added
        ((ROUTE, {"mode": "sync"}), (ROUTE, None)),  # the query removed
        ((ROUTE, {"mode": "async"}), (ROUTE, {"mode": "sync"})),  # the query changed
        (("/altcraft/profiles/import", None), (ROUTE, {"mode": "sync"})),  # issue 16's example, turned round
    ],
)
def test_a_re_routed_call_is_refused(
    courier_signing: Aws,
    signed_for: tuple[str, dict[str, str] | None],
    sent_to: tuple[str, dict[str, str] | None],
) -> None:
    # Given a call signed for one route and query
    body = event_body("moved")
    headers = courier_headers(body, path=signed_for[0], query=signed_for[1])
    # When it is sent to another route, or with another query
    handler = profiles_handler if sent_to[0] == "/appmetrica/profiles" else events_handler
    status, answer = post(body, headers, path=sent_to[0], query=sent_to[1], handler=handler)
    # Then it is refused and nothing is queued on either function's queue
    assert (status, answer["error"]) == (401, "the signature does not match")
    assert queued(courier_signing) == []
    assert queued(courier_signing, "appmetrica_profiles") == []


@pytest.mark.parametrize(
    ("offset", "reason"),
    [
        (70, "the signature's timestamp is more than 1 minute ahead"),
        (300, "the signature's timestamp is more than 1 minute ahead"),
        (3600, "the signature's timestamp is more than 1 minute ahead"),
        (-310, "the signature's timestamp is more than 5 minutes old"),
        (-86400, "the signature's timestamp is more than 5 minutes old"),
    ],
)
def test_future_dated_and_stale_calls_are_refused(courier_signing: Aws, offset: int, reason: str) -> None:
    # Given a correctly signed call whose timestamp is out of the window (by seconds more than a slow machine takes
    # between signing and checking: at 61 the call, checked 1.1 s later, was inside it)
    body = event_body("when")
    # When it is posted
    status, answer = post(body, courier_headers(body, stamp=int(time.time()) + offset))
    # Then it is refused with the reason, and nothing is queued
    assert (status, answer["error"]) == (401, reason)
    assert queued(courier_signing) == []


@pytest.mark.parametrize("offset", [-290, -5, 0, 30, 55])
def test_timestamps_inside_the_window_are_accepted(courier_signing: Aws, offset: int) -> None:
    body = event_body("inside")
    assert post(body, courier_headers(body, stamp=int(time.time()) + offset))[0] == 202


GOOD_STAMP = "GOOD"  # replaced by the current time in the test
MALFORMED: list[tuple[str, dict[str, str], str]] = [
    ("nothing", {}, "the call is not signed (X-Courier-Timestamp and X-Courier-Signature are required)"),
    (
        "no signature",
        {"X-Courier-Timestamp": GOOD_STAMP},
        "the call is not signed (X-Courier-Timestamp and X-Courier-Signature are required)",
    ),
    (
        "no timestamp",
        {"X-Courier-Signature": "sha256=" + "0" * 64},
        "the call is not signed (X-Courier-Timestamp and X-Courier-Signature are required)",
    ),
    (
        "a 5,000-digit timestamp",
        {"X-Courier-Timestamp": "1" * 5000, "X-Courier-Signature": "sha256=" + "0" * 64},
        "the signature's timestamp (X-Courier-Timestamp) is malformed: longer than 1024 characters",
    ),
    (
        "a 1,000-digit timestamp",
        {"X-Courier-Timestamp": "9" * 1000, "X-Courier-Signature": "sha256=" + "0" * 64},
        "the signature's timestamp (X-Courier-Timestamp) is malformed: not Unix seconds (1 to 12 ASCII digits)",
    ),
    (
        "non-ASCII digits",
        {"X-Courier-Timestamp": "١٧٠٠٠٠٠٠٠٠", "X-Courier-Signature": "sha256=" + "0" * 64},
        "the signature's timestamp (X-Courier-Timestamp) is malformed: not Unix seconds (1 to 12 ASCII digits)",
    ),
    (
        "a negative timestamp",
        {"X-Courier-Timestamp": "-1", "X-Courier-Signature": "sha256=" + "0" * 64},
        "the signature's timestamp (X-Courier-Timestamp) is malformed: not Unix seconds (1 to 12 ASCII digits)",
    ),
    (
        "a decimal timestamp",
        {"X-Courier-Timestamp": GOOD_STAMP + ".5", "X-Courier-Signature": "sha256=" + "0" * 64},
        "the signature's timestamp (X-Courier-Timestamp) is malformed: not Unix seconds (1 to 12 ASCII digits)",
    ),
    (
        "two timestamps",
        {"X-Courier-Timestamp": f"{GOOD_STAMP},{GOOD_STAMP}", "X-Courier-Signature": "sha256=" + "0" * 64},
        "the signature's timestamp (X-Courier-Timestamp) is malformed: more than one timestamp",
    ),
    (
        "a non-ASCII signature",
        {"X-Courier-Timestamp": GOOD_STAMP, "X-Courier-Signature": "sha256=" + "é" * 64},
        "the signature (X-Courier-Signature) is malformed: expected sha256=<64 hex digits>",
    ),
    (
        "a signature without its prefix",
        {"X-Courier-Timestamp": GOOD_STAMP, "X-Courier-Signature": "0" * 64},
        "the signature (X-Courier-Signature) is malformed: no part starting with 'sha256='",
    ),
    (
        "a short signature",
        {"X-Courier-Timestamp": GOOD_STAMP, "X-Courier-Signature": "sha256=abc"},
        "the signature (X-Courier-Signature) is malformed: expected sha256=<64 hex digits>",
    ),
    (
        "an empty signature",
        {"X-Courier-Timestamp": GOOD_STAMP, "X-Courier-Signature": "sha256="},
        "the signature (X-Courier-Signature) is malformed: expected sha256=<64 hex digits>",
    ),
    (
        "a 5,000-character signature",
        {"X-Courier-Timestamp": GOOD_STAMP, "X-Courier-Signature": "sha256=" + "a" * 5000},
        "the signature (X-Courier-Signature) is malformed: longer than 1024 characters",
    ),
    (
        "a signature of many parts",
        {"X-Courier-Timestamp": GOOD_STAMP, "X-Courier-Signature": ",".join(["sha256=" + "0" * 64] * 9)},
        "the signature (X-Courier-Signature) is malformed: more than 8 comma-separated parts",
    ),
    (
        "control characters",
        {"X-Courier-Timestamp": GOOD_STAMP + "\x00", "X-Courier-Signature": "sha256=" + "0" * 64},
        "the signature's timestamp (X-Courier-Timestamp) is malformed: not Unix seconds (1 to 12 ASCII digits)",
    ),
    (
        "a surrogate",
        {"X-Courier-Timestamp": GOOD_STAMP, "X-Courier-Signature": "sha256=\ud800" + "0" * 63},
        "the signature (X-Courier-Signature) is malformed: expected sha256=<64 hex digits>",
    ),
]


@pytest.mark.parametrize(("case", "headers", "reason"), MALFORMED, ids=[case for case, _, _ in MALFORMED])
def test_malformed_signature_headers_get_401_with_a_reason_and_queue_nothing(
    courier_signing: Aws, case: str, headers: dict[str, str], reason: str
) -> None:
    # Given a call whose signature headers are missing or malformed
    now = str(int(time.time()))
    sent = {name: value.replace(GOOD_STAMP, now) for name, value in headers.items()}
    # When it is posted
    status, answer = post(event_body("bad"), sent)
    # Then the answer is 401 with the reason (never a crash), and nothing is queued
    assert (status, answer["error"]) == (401, reason)
    assert queued(courier_signing) == []


# --- generic HMAC-SHA256 schemes -----------------------------------------------------------------------------------

GITHUB = {
    "WEBHOOK_SIGNING": "hmac",
    "WEBHOOK_SIGNATURE_HEADER": "X-Hub-Signature-256",
    "WEBHOOK_SIGNATURE_PREFIX": "sha256=",
    "WEBHOOK_SIGNATURE_ENCODING": "hex",
    "WEBHOOK_SIGNED_CONTENT": "body",
}
SHOPIFY = {
    "WEBHOOK_SIGNING": "hmac",
    "WEBHOOK_SIGNATURE_HEADER": "X-Shopify-Hmac-Sha256",
    "WEBHOOK_SIGNATURE_ENCODING": "base64",
    "WEBHOOK_SIGNED_CONTENT": "body",
}
STRIPE = {
    "WEBHOOK_SIGNING": "hmac",
    "WEBHOOK_SIGNATURE_HEADER": "Stripe-Signature",
    "WEBHOOK_SIGNATURE_PREFIX": "v1=",
    "WEBHOOK_SIGNATURE_ENCODING": "hex",
    "WEBHOOK_SIGNED_CONTENT": "timestamp.body",
    "WEBHOOK_TIMESTAMP_HEADER": "Stripe-Signature",
    "WEBHOOK_TIMESTAMP_PREFIX": "t=",
}


def mac(content: bytes, secret: str = SECRET) -> bytes:
    return hmac.new(secret.encode(), content, hashlib.sha256).digest()


def github(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"X-Hub-Signature-256": "sha256=" + mac(body, secret).hex()}


def shopify(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"X-Shopify-Hmac-Sha256": base64.b64encode(mac(body, secret)).decode()}


def stripe(body: bytes, secret: str = SECRET, stamp: int | None = None) -> dict[str, str]:
    t = str(int(time.time()) if stamp is None else stamp)
    v0 = mac(b"other", secret).hex()  # Stripe lists other schemes' signatures beside v1
    return {"Stripe-Signature": f"t={t},v1={mac(t.encode() + b'.' + body, secret).hex()},v0={v0}"}


def use(monkeypatch: pytest.MonkeyPatch, scheme: dict[str, str]) -> None:
    monkeypatch.setenv("WEBHOOK_SIGNING_SECRET", SECRET)
    for name, value in scheme.items():
        monkeypatch.setenv(name, value)
    reset_services()


SCHEMES = {"github": (GITHUB, github), "shopify": (SHOPIFY, shopify), "stripe": (STRIPE, stripe)}


@pytest.mark.parametrize("provider", list(SCHEMES))
def test_a_providers_signature_is_accepted_when_right(
    quiet_queues: Aws, appmetrica: AppMetricaEmulator, monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    # Given a stack configured for the provider's scheme
    scheme, signer = SCHEMES[provider]
    use(monkeypatch, scheme)
    body = event_body(provider)
    # When the provider signs a call as it documents
    status, answer = post(body, signer(body))
    # Then it is accepted and queued
    assert (status, answer["accepted"]) == (202, 1)
    assert [record["profile_id"] for record in queued(quiet_queues)] == [provider]


@pytest.mark.parametrize("provider", list(SCHEMES))
@pytest.mark.parametrize("wrong", ["another secret", "body changed", "Courier's headers", "unsigned"])
def test_a_providers_signature_is_refused_when_wrong(
    quiet_queues: Aws, appmetrica: AppMetricaEmulator, monkeypatch: pytest.MonkeyPatch, provider: str, wrong: str
) -> None:
    # Given a stack configured for the provider's scheme
    scheme, signer = SCHEMES[provider]
    use(monkeypatch, scheme)
    body = event_body(provider)
    # When the call is signed wrongly, signed in another scheme, or not signed
    if wrong == "another secret":
        headers = signer(body, "guess")
    elif wrong == "body changed":
        headers = signer(body + b" ")
    elif wrong == "Courier's headers":
        headers = courier_headers(body)
    else:
        headers = {}
    status, answer = post(body, headers)
    # Then it is refused and nothing is queued
    assert status == 401
    header = scheme["WEBHOOK_SIGNATURE_HEADER"]
    expected = {
        "another secret": "the signature does not match",
        "body changed": "the signature does not match",
    }.get(wrong, f"the call is not signed ({header} is required)")
    assert answer["error"] == expected
    assert queued(quiet_queues) == []


def test_a_stripe_style_call_is_refused_when_stale_future_dated_or_replayed(
    quiet_queues: Aws, appmetrica: AppMetricaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, STRIPE)
    body = event_body("stripe")
    now = int(time.time())
    assert (
        post(body, stripe(body, stamp=now - 400))[1]["error"] == "the signature's timestamp is more than 5 minutes old"
    )
    assert post(body, stripe(body, stamp=now + 120))[1]["error"] == (
        "the signature's timestamp is more than 1 minute ahead"
    )
    headers = stripe(body)
    assert post(body, headers)[0] == 202
    status, answer = post(body, headers)
    assert (status, answer["error"]) == (401, "the signature was already used (sign each call anew)")
    assert len(queued(quiet_queues)) == 1


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Stripe-Signature": "v1=" + "0" * 64}, "the signature's timestamp (Stripe-Signature) is malformed: no part"),
        ({"Stripe-Signature": "t=١٢٣,v1=" + "0" * 64}, "the signature's timestamp (Stripe-Signature) is malformed"),
        ({"Stripe-Signature": "t=" + "9" * 5000}, "the signature's timestamp (Stripe-Signature) is malformed"),
        ({"Stripe-Signature": "t=NOW"}, "the signature (Stripe-Signature) is malformed: no part starting with 'v1='"),
        ({"Stripe-Signature": "t=NOW,v1=zz"}, "the signature (Stripe-Signature) is malformed: expected v1=<64 hex"),
        ({"Stripe-Signature": "t=NOW,v1=ü"}, "the signature (Stripe-Signature) is malformed: expected v1=<64 hex"),
    ],
)
def test_a_malformed_stripe_style_header_is_refused(
    quiet_queues: Aws,
    appmetrica: AppMetricaEmulator,
    monkeypatch: pytest.MonkeyPatch,
    headers: dict[str, str],
    reason: str,
) -> None:
    use(monkeypatch, STRIPE)
    sent = {name: value.replace("NOW", str(int(time.time()))) for name, value in headers.items()}
    status, answer = post(event_body(), sent)
    assert status == 401
    assert answer["error"].startswith(reason)
    assert queued(quiet_queues) == []


@pytest.mark.parametrize(
    "signature",
    ["é" * 44, "not base64 at all!", base64.b64encode(b"short").decode(), "=" * 44],
)
def test_a_malformed_shopify_header_is_refused(
    quiet_queues: Aws, appmetrica: AppMetricaEmulator, monkeypatch: pytest.MonkeyPatch, signature: str
) -> None:
    use(monkeypatch, SHOPIFY)
    status, answer = post(event_body(), {"X-Shopify-Hmac-Sha256": signature})
    assert (status, answer["error"]) == (
        401,
        "the signature (X-Shopify-Hmac-Sha256) is malformed: expected <44 base64 characters>",
    )
    assert queued(quiet_queues) == []


def test_an_incomplete_hmac_configuration_is_a_500_that_queues_nothing(
    quiet_queues: Aws, appmetrica: AppMetricaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, {**STRIPE, "WEBHOOK_TIMESTAMP_HEADER": ""})
    body = event_body()
    status, answer = post(body, stripe(body))
    assert (status, answer["error"]) == (500, "webhook signing is misconfigured")
    assert queued(quiet_queues) == []


# --- on and off ------------------------------------------------------------------------------------------------


def test_signing_on_without_a_secret_refuses_every_call(
    quiet_queues: Aws, appmetrica: AppMetricaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBHOOK_SIGNING", "courier")
    reset_services()
    status, answer = post(event_body(), {})
    assert (status, answer["error"]) == (500, "webhook signing is misconfigured")
    assert queued(quiet_queues) == []


def test_signing_off_is_said_once_at_cold_start(
    quiet_queues: Aws,
    appmetrica: AppMetricaEmulator,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a stack deployed with WebhookSigning=off (and a secret still set, which it ignores)
    monkeypatch.setenv("WEBHOOK_SIGNING", "off")
    monkeypatch.setenv("WEBHOOK_SIGNING_SECRET", SECRET)
    reset_services()
    caplog.set_level(logging.INFO, logger="courier")
    # When a new container takes two unsigned calls
    first, second = post(event_body("a"), {})[0], post(event_body("b"), {})[0]
    # Then both are accepted, and the warning was logged once, at the start
    assert (first, second) == (202, 202)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and r.getMessage() == SIGNING_OFF]
    assert len(warnings) == 1


def test_signing_on_logs_no_warning(courier_signing: Aws, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="courier")
    body = event_body()
    assert post(body, courier_headers(body))[0] == 202
    assert not [r for r in caplog.records if r.getMessage() == SIGNING_OFF]


@settings(max_examples=300, deadline=None)
@given(timestamp=st.text(max_size=40), signature=st.text(max_size=120), scheme=st.sampled_from(["courier", "stripe"]))
def test_no_header_text_crashes_the_check(timestamp: str, signature: str, scheme: str) -> None:
    # Given any text at all in the timestamp and signature headers (non-ASCII, surrogates, huge numbers, commas)
    chosen = COURIER if scheme == "courier" else scheme_of(Settings.model_validate(STRIPE))
    assert chosen is not None
    headers = {chosen.timestamp_header: timestamp, chosen.signature_header: signature}
    if scheme == "stripe":
        headers = {"Stripe-Signature": f"t={timestamp},v1={signature}"}
    call = Call("POST", ROUTE, [], headers, b"{}")
    # When it is checked, Then it is a refusal with a reason, never an exception
    assert verify(call, SECRET, chosen).problem
