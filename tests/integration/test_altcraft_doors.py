"""The Altcraft functions through their doors, against moto and the Altcraft emulator over HTTP: what Altcraft
received, what it stored, and where each record ended."""

from __future__ import annotations

import copy
import json
from typing import Any

from functions.altcraft_profile_import.app import lambda_handler as import_handler
from functions.altcraft_profile_update.app import lambda_handler as update_handler
from sandbox.altcraft_emulator import AltcraftEmulator
from sandbox.lambda_runtime import LambdaContext, api_gateway_event, drain
from tests.conftest import ALTCRAFT_DB, ALTCRAFT_TOKEN, Aws
from tests.support import ROOT, csv_records

IMPORT, UPDATE = "altcraft_profile_import", "altcraft_profile_update"
SEED = json.loads((ROOT / "events" / IMPORT / "seed_import_record.json").read_text())


def bodies(altcraft: AltcraftEmulator) -> list[dict[str, Any]]:
    return [json.loads(request.body) for request in altcraft.requests]


def by_email(altcraft: AltcraftEmulator) -> dict[str, dict[str, Any]]:
    return {p["email"]: p for p in altcraft.profiles(ALTCRAFT_DB) if "email" in p}


def test_the_seed_import_example_reaches_altcraft_intact(aws: Aws, altcraft: AltcraftEmulator) -> None:
    # Given the documentation's import example on the import function's queue
    aws.serve(IMPORT)
    aws.sqs.send_message(QueueUrl=aws.queue_url(IMPORT), MessageBody=json.dumps(SEED))
    # When the function runs
    drain(aws.sqs, aws.queue_url(IMPORT), import_handler)
    # Then Altcraft got exactly that body, with the token and on the single-profile endpoint
    [request] = altcraft.requests
    assert request.path == "/api/v1.1/profiles/import"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body) == {"token": ALTCRAFT_TOKEN, **SEED}
    # And the profile exists with its fields and six subscriptions
    profile = by_email(altcraft)["example@example.com"]
    assert (profile["_fname"], profile["phones"], len(profile["subscriptions"])) == ("Olly", ["+79000000000"], 6)


def test_a_large_csv_goes_in_a_few_batches_and_per_item_failures_map_back(
    aws: Aws, altcraft: AltcraftEmulator, monkeypatch: Any
) -> None:
    # Given 2,500 profiles with ';'-separated phones, one row without its e-mail, and one e-mail that matches two
    # existing profiles (Altcraft answers that item 409)
    monkeypatch.setenv("ALTCRAFT_BATCH_SIZE", "1000")
    aws.serve(IMPORT)
    for n in range(2):
        altcraft.add_profile(
            ALTCRAFT_DB,
            {"email": f"twin{n}@example.com", "subscriptions": [{"channel": "email", "email": "p7@example.com"}]},
        )
    lines = ["email,_fname,phones,ltv:number"]
    lines += [f"p{n}@example.com,Person {n},+7900{n:07d};+7901{n:07d},{n}" for n in range(2500)]
    lines[101] = ",No E-mail,+79990000000,1"
    key = "altcraft_profile_import/crm/export.csv"
    aws.s3.put_object(Bucket=aws.stack.bucket, Key=key, Body="\n".join(lines).encode())
    # When the function processes its queue
    drain(aws.sqs, aws.queue_url(IMPORT), import_handler)
    # Then the profiles arrived in three batch requests
    assert [(r.path, r.rows) for r in altcraft.requests] == [
        ("/api/v1.1/profiles/import_batch", 1000),
        ("/api/v1.1/profiles/import_batch", 1000),
        ("/api/v1.1/profiles/import_batch", 499),
    ]
    stored = by_email(altcraft)
    assert stored["p2499@example.com"]["phones"] == ["+79000002499", "+79010002499"]
    assert stored["p2499@example.com"]["ltv"] == 2499
    # And the two refused rows are in rejected/ with their reasons: ours and Altcraft's own
    rejected = {row["_fname"]: row["error"] for row in csv_records(aws.object_text(f"rejected/{key}.csv"))}
    assert rejected == {
        "No E-mail": "email: is required for matching email",
        "Person 7": "destination: Altcraft error 409; the destination said: more than one profile matches",
    }
    report = json.loads(aws.object_text(f"reports/{key}.json"))
    assert (report["read"], report["delivered"], report["rejected"], report["requests"]) == (2500, 2498, 2, 3)


def test_an_update_with_functions_in_sync_mode_answers_the_profile_id(aws: Aws, altcraft: AltcraftEmulator) -> None:
    # Given an existing profile
    profile_id = altcraft.add_profile(
        ALTCRAFT_DB, {"email": "anna@example.com", "loyalty": 10, "interests": ["books"], "promo_code": "WELCOME"}
    )
    aws.serve(UPDATE)
    body = {
        "email": "anna@example.com",
        "data": {
            "loyalty": {"action": "incr", "value": 5},
            "interests": {"action": "add", "value": ["travel"]},
            "promo_code": {"action": "unset"},
        },
    }
    # When it is updated through the HTTPS door in sync mode
    event = api_gateway_event("/altcraft/profiles/update", json.dumps(body), query={"mode": "sync"})
    response = update_handler(event, LambdaContext())
    # Then the answer carries Altcraft's profile_id and the stored profile shows the effect
    answer = json.loads(response["body"])
    assert (response["statusCode"], answer["delivered"], answer["results"]) == (
        200,
        1,
        [{"index": 0, "profile_id": profile_id}],
    )
    stored = by_email(altcraft)["anna@example.com"]
    assert (stored["loyalty"], stored["interests"], "promo_code" in stored) == (15, ["books", "travel"], False)


def test_a_wrong_token_sends_the_message_back_instead_of_rejecting(
    aws: Aws, altcraft: AltcraftEmulator, monkeypatch: Any
) -> None:
    # Given a token Altcraft does not know
    monkeypatch.setenv("ALTCRAFT_API_TOKEN", "revoked-token")
    aws.serve(IMPORT)
    drain(aws.sqs, aws.queue_url(IMPORT), import_handler)  # the s3:TestEvent of the notification set-up
    message_id = aws.sqs.send_message(QueueUrl=aws.queue_url(IMPORT), MessageBody=json.dumps(SEED))["MessageId"]
    # When the function runs
    [result] = drain(aws.sqs, aws.queue_url(IMPORT), import_handler, max_rounds=1)
    # Then the message is reported failed (back to the queue, then the DLQ) and no record is rejected
    assert result.failed == [message_id]
    assert aws.keys("rejected/") == []
    assert [r.status for r in altcraft.requests] == [403]


def test_an_update_for_a_missing_profile_is_rejected_with_altcrafts_text(aws: Aws, altcraft: AltcraftEmulator) -> None:
    aws.serve(UPDATE)
    aws.sqs.send_message(
        QueueUrl=aws.queue_url(UPDATE), MessageBody=json.dumps({"email": "nobody@example.com", "data": {"_fname": "X"}})
    )
    results = drain(aws.sqs, aws.queue_url(UPDATE), update_handler)
    assert all(result.failed == [] for result in results)
    [key] = aws.keys("rejected/sqs/altcraft_profile_update/")
    [row] = csv_records(aws.object_text(key))
    assert row["error"] == "destination: Altcraft error 404; the destination said: profile not found"


def test_an_ambiguous_failure_is_not_resent_when_the_request_increments(aws: Aws, altcraft: AltcraftEmulator) -> None:
    # Given an existing profile and an Altcraft that answers 500 once
    altcraft.add_profile(ALTCRAFT_DB, {"email": "anna@example.com", "loyalty": 10})
    altcraft.fail_next(500)
    aws.serve(UPDATE)
    incr = {"email": "anna@example.com", "data": {"loyalty": {"action": "incr", "value": 5}}}
    aws.sqs.send_message(QueueUrl=aws.queue_url(UPDATE), MessageBody=json.dumps(incr))
    # When the function runs
    drain(aws.sqs, aws.queue_url(UPDATE), update_handler)
    # Then it was sent once, not again, and the record waits in rejected/ for a person to check
    assert len(altcraft.requests) == 1
    assert by_email(altcraft)["anna@example.com"]["loyalty"] == 10
    [key] = aws.keys("rejected/sqs/altcraft_profile_update/")
    [row] = csv_records(aws.object_text(key))
    assert row["error"].startswith("destination: sent, but no clear answer came back (HTTP 500)")


def test_an_idempotent_import_is_retried_after_a_5xx(aws: Aws, altcraft: AltcraftEmulator) -> None:
    altcraft.fail_next(500, times=2)
    aws.serve(IMPORT)
    aws.sqs.send_message(QueueUrl=aws.queue_url(IMPORT), MessageBody=json.dumps(copy.deepcopy(SEED)))
    drain(aws.sqs, aws.queue_url(IMPORT), import_handler)
    assert [r.status for r in altcraft.requests] == [500, 500, 200]
    assert "example@example.com" in by_email(altcraft)


def test_the_https_door_queues_then_delivers_both_functions(aws: Aws, altcraft: AltcraftEmulator) -> None:
    # Given the sample webhook calls of both functions
    for function, handler in ((IMPORT, import_handler), (UPDATE, update_handler)):
        aws.serve(function)
        sample = json.loads((ROOT / "events" / function / "api_gateway_post.json").read_text())
        response = handler(sample, LambdaContext())
        answer = json.loads(response["body"])
        # Then each answers 202 with its refused record, and the accepted one is delivered from the queue
        assert (response["statusCode"], answer["accepted"], [r["index"] for r in answer["rejected"]]) == (202, 1, [1])
        if function == UPDATE:
            altcraft.add_profile(ALTCRAFT_DB, {"email": "anna@example.com", "loyalty": 1})
        drain(aws.sqs, aws.queue_url(function), handler)
    stored = by_email(altcraft)
    assert stored["web@example.com"]["_fname"] == "Web"
    assert (stored["anna@example.com"]["loyalty"], stored["anna@example.com"]["interests"]) == (6, ["travel"])


def test_an_update_file_applies_its_functions(aws: Aws, altcraft: AltcraftEmulator) -> None:
    for email in ("anna@example.com", "boris@example.com"):
        altcraft.add_profile(ALTCRAFT_DB, {"email": email, "loyalty": 100, "promo_code": "X", "interests": ["chess"]})
    aws.serve(UPDATE)
    key = "altcraft_profile_update/loyalty updates.csv"
    aws.s3.put_object(
        Bucket=aws.stack.bucket, Key=key, Body=(ROOT / "events" / UPDATE / "sample_updates.csv").read_bytes()
    )
    drain(aws.sqs, aws.queue_url(UPDATE), update_handler)
    stored = by_email(altcraft)
    assert {k: stored["anna@example.com"].get(k) for k in ("loyalty", "interests", "promo_code", "_city")} == {
        "loyalty": 110,
        "interests": ["chess", "running", "books"],
        "promo_code": None,
        "_city": "Moscow",
    }
    assert stored["boris@example.com"]["interests"] == ["chess"]  # 'add' of a tag already there changes nothing
    assert [r.path for r in altcraft.requests] == ["/api/v1.1/profiles/update_batch"]


def test_a_short_or_reordered_batch_answer_ends_with_each_record_delivered_once_or_rejected(
    aws: Aws, altcraft: AltcraftEmulator, monkeypatch: Any
) -> None:
    for mode in ("short", "reordered"):
        # Given an import of five profiles, and Altcraft answering the batch with a result that does not map
        # one-to-one onto its items (one result missing, or in another order)
        altcraft.reset()
        altcraft.batch_result_mode = mode
        monkeypatch.setenv("ALTCRAFT_BATCH_SIZE", "10")
        aws.serve(IMPORT)
        lines = ["email,_fname"] + [f"{mode}{n}@example.com,Person {n}" for n in range(5)]
        key = f"altcraft_profile_import/{mode}.csv"
        aws.s3.put_object(Bucket=aws.stack.bucket, Key=key, Body="\n".join(lines).encode())
        # When the function processes its queue
        drain(aws.sqs, aws.queue_url(IMPORT), import_handler)
        # Then the file is complete: every profile delivered once or rejected with a reason, none left to retry
        report = json.loads(aws.object_text(f"reports/{key}.json"))
        assert report["status"] == "complete", mode
        assert (report["delivered"], report["rejected"], report["pending"]) == (5, 0, 0), mode
        stored = by_email(altcraft)
        assert all(f"{mode}{n}@example.com" in stored for n in range(5)), mode
        # And nothing reached the dead-letter queue
        dead = aws.sqs.receive_message(QueueUrl=aws.dlq_url(IMPORT), MaxNumberOfMessages=10)
        assert "Messages" not in dead, mode
