"""The sample trigger events in events/ (for `sam local invoke -e`) run through the handler's doors.

Their timestamps are fixed, so whether a record is delivered or refused as stale depends on the day: the tests
check that every record is accounted for, whichever way it went."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from courier.doors.services import reset_services
from functions.altcraft_profile_import.app import lambda_handler as altcraft_import
from functions.altcraft_profile_update.app import lambda_handler as altcraft_update
from functions.appmetrica_events.app import lambda_handler
from functions.appmetrica_profiles.app import lambda_handler as profiles_handler
from sandbox.altcraft_emulator import AltcraftEmulator
from sandbox.appmetrica_emulator import AppMetricaEmulator
from sandbox.lambda_runtime import LambdaContext
from tests.conftest import ALTCRAFT_DB, APPLICATION_ID, Aws
from tests.support import csv_records

EVENTS = Path(__file__).resolve().parents[2] / "events" / "appmetrica_events"
PROFILES = EVENTS.parent / "appmetrica_profiles"


def sample(name: str, folder: Path = EVENTS) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((folder / name).read_text(encoding="utf-8"))
    return loaded


def rejected_rows(aws: Aws, prefix: str) -> list[dict[str, str]]:
    return [row for key in aws.keys(prefix) for row in csv_records(aws.object_text(key))]


def test_the_sqs_sample_accounts_for_its_three_records(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    response = lambda_handler(sample("sqs_records.json"), LambdaContext())
    assert response == {"batchItemFailures": []}
    delivered = len(appmetrica.events(APPLICATION_ID))
    assert delivered + len(rejected_rows(aws, "rejected/sqs/")) == 3


def test_the_s3_sample_reads_the_file_its_notification_names(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    # Given the sample data file at the (URL-decoded) key the sample notification names
    key = "appmetrica_events/2026-11-22 export.csv"
    aws.s3.put_object(Bucket=aws.stack.bucket, Key=key, Body=(EVENTS / "sample_events.csv").read_bytes())
    # When the sample event is handled
    response = lambda_handler(sample("s3_notification_via_sqs.json"), LambdaContext())
    # Then the file was read whole and every row is delivered or rejected
    assert response == {"batchItemFailures": []}
    report = json.loads(aws.object_text(f"reports/{key}.json"))
    assert report["read"] == 3
    assert report["delivered"] + report["rejected"] == 3
    assert len(appmetrica.events(APPLICATION_ID)) == report["delivered"]


def test_the_api_sample_answers_with_per_record_outcomes(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    response = lambda_handler(sample("api_gateway_post.json"), LambdaContext())
    answer = json.loads(response["body"])
    assert answer["accepted"] + len(answer["rejected"]) == 2
    # the record without an identifier is refused for it (and, once the sample's day is 14 days past, as stale too)
    second = next(rejected for rejected in answer["rejected"] if rejected["index"] == 1)
    assert "profile_id: one of profile_id and appmetrica_device_id is required" in second["errors"]
    assert response["statusCode"] == (202 if answer["accepted"] else 400)


def test_the_profile_samples_deliver_through_each_door(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    # Given the profiles function and the sample file its sample notification names
    aws.serve("appmetrica_profiles")
    key = "appmetrica_profiles/crm export.csv"
    aws.s3.put_object(Bucket=aws.stack.bucket, Key=key, Body=(PROFILES / "sample_profiles.csv").read_bytes())
    # When each sample event is handled
    from_s3 = profiles_handler(sample("s3_notification_via_sqs.json", PROFILES), LambdaContext())
    from_sqs = profiles_handler(sample("sqs_records.json", PROFILES), LambdaContext())
    from_api = profiles_handler(sample("api_gateway_post.json", PROFILES), LambdaContext())
    # Then every profile of the file and the messages arrives (profiles have no time window)
    assert from_s3 == from_sqs == {"batchItemFailures": []}
    delivered = {row["profile_id"] for row in appmetrica.profiles(APPLICATION_ID)}
    assert delivered == {"crm-1001", "crm-1002", "crm-1003"}
    assert json.loads(aws.object_text(f"reports/{key}.json"))["delivered"] == 3
    # And the HTTPS sample is answered with one accepted and one refused record
    answer = json.loads(from_api["body"])
    assert (from_api["statusCode"], answer["accepted"], [r["index"] for r in answer["rejected"]]) == (202, 1, [1])


def test_the_altcraft_samples_run_through_each_door(aws: Aws, altcraft: AltcraftEmulator) -> None:
    # Given the profiles the update samples expect, and the import sample file where its notification points
    for email in ("anna@example.com", "boris@example.com"):
        altcraft.add_profile(ALTCRAFT_DB, {"email": email, "loyalty": 1})
    folder = EVENTS.parent
    files = {
        "altcraft_profile_import": ("crm export.csv", "sample_profiles.csv"),
        "altcraft_profile_update": ("loyalty updates.csv", "sample_updates.csv"),
    }
    outcomes = {}
    for function, handler in (
        ("altcraft_profile_import", altcraft_import),
        ("altcraft_profile_update", altcraft_update),
    ):
        aws.serve(function)
        target, source = files[function]
        aws.s3.put_object(
            Bucket=aws.stack.bucket, Key=f"{function}/{target}", Body=(folder / function / source).read_bytes()
        )
        # When each sample event is handled
        from_s3 = handler(sample("s3_notification_via_sqs.json", folder / function), LambdaContext())
        from_sqs = handler(sample("sqs_records.json", folder / function), LambdaContext())
        from_api = handler(sample("api_gateway_post.json", folder / function), LambdaContext())
        report = json.loads(aws.object_text(f"reports/{function}/{target}.json"))
        outcomes[function] = (from_s3, from_sqs, from_api["statusCode"], report["delivered"], report["rejected"])
    # Then every door answered, and the files' rows were delivered or refused as their content says
    assert outcomes == {
        "altcraft_profile_import": ({"batchItemFailures": []}, {"batchItemFailures": []}, 202, 2, 1),
        "altcraft_profile_update": ({"batchItemFailures": []}, {"batchItemFailures": []}, 202, 2, 0),
    }


def test_the_api_sample_needs_the_local_env_file_under_the_stacks_default_signing(
    aws: Aws, appmetrica: AppMetricaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the stack's default: Courier's signing scheme, with a secret
    monkeypatch.setenv("WEBHOOK_SIGNING", "courier")
    monkeypatch.setenv("WEBHOOK_SIGNING_SECRET", "local-secret")
    reset_services()
    # When the unsigned sample is invoked as it is, it is refused
    assert lambda_handler(sample("api_gateway_post.json"), LambdaContext())["statusCode"] == 401
    # Then with the variables of `sam local invoke --env-vars events/sam-local-env.json` it is accepted
    for name, value in json.loads((EVENTS.parent / "sam-local-env.json").read_text())["Parameters"].items():
        monkeypatch.setenv(name, value)
    reset_services()
    accepted = lambda_handler(sample("api_gateway_post.json"), LambdaContext())
    answer = json.loads(accepted["body"])
    # past the signature, its records are judged one by one (all stale once the sample's day is 14 days past)
    assert accepted["statusCode"] == (202 if answer["accepted"] else 400)
    assert [rejected["index"] for rejected in answer["rejected"]] in ([1], [0, 1])
