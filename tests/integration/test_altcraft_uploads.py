"""The five Altcraft upload functions (profiles/add, workflows, profiles/delete, subscriptions/set, goals/register)
through their three doors — a file dropped in S3, a message on the queue, an HTTPS call — against moto and the
Altcraft emulator: what Altcraft stored, and where each record ended."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from demo.play import Samples
from functions.altcraft_goal_register.app import lambda_handler as goal_handler
from functions.altcraft_profile_add.app import lambda_handler as add_handler
from functions.altcraft_profile_delete.app import lambda_handler as delete_handler
from functions.altcraft_subscription_set.app import lambda_handler as subscription_handler
from functions.altcraft_workflow_start.app import lambda_handler as workflow_handler
from sandbox.altcraft_emulator import AltcraftEmulator
from sandbox.lambda_runtime import LambdaContext, api_gateway_event, drain
from tests.conftest import ALTCRAFT_DB, Aws
from tests.support import csv_records

Handler = Callable[[dict[str, Any], Any], Any]
SUBSCRIBER = "5a5b91d769d4265b958b9acb"  # the profile the subscription samples name


def demo(function: str) -> Samples:
    """The samples `make demo` plays (events/<function>/demo.json, its times made relative to now)."""
    return Samples.of(function, int(time.time()))


def drop_file(aws: Aws, function: str, handler: Handler) -> dict[str, Any]:
    """The function's sample file dropped in its folder; returns the file's report."""
    samples = demo(function)
    key = f"{function}/demo/{samples.file_name}"
    aws.s3.put_object(Bucket=aws.stack.bucket, Key=key, Body=samples.file_body)
    drain(aws.sqs, aws.queue_url(function), handler)
    report: dict[str, Any] = json.loads(aws.object_text(f"reports/{key}.json"))
    return report


def send_message(aws: Aws, function: str, handler: Handler, body: Any) -> None:
    aws.sqs.send_message(QueueUrl=aws.queue_url(function), MessageBody=json.dumps(body))
    drain(aws.sqs, aws.queue_url(function), handler)


def call(aws: Aws, function: str, handler: Handler, route: str, body: Any) -> dict[str, Any]:
    """An HTTPS call (answered 202 once queued), then the queue drained; returns the answer's body."""
    response = handler(api_gateway_event(route, json.dumps(body)), LambdaContext())
    assert response["statusCode"] == 202, response["body"]
    drain(aws.sqs, aws.queue_url(function), handler)
    answer: dict[str, Any] = json.loads(response["body"])
    return answer


def refusals(aws: Aws, prefix: str) -> list[str]:
    return [row["error"] for key in sorted(aws.keys(prefix)) for row in csv_records(aws.object_text(key))]


def emails(altcraft: AltcraftEmulator) -> set[str]:
    return {p["email"] for p in altcraft.profiles(ALTCRAFT_DB) if "email" in p}


def test_profiles_added_through_each_door_are_created_without_matching(aws: Aws, altcraft: AltcraftEmulator) -> None:
    # Given the profile-add function and its samples
    function = "altcraft_profile_add"
    aws.serve(function)
    samples = demo(function)
    # When a file, a message and an HTTPS call arrive
    report = drop_file(aws, function, add_handler)
    send_message(aws, function, add_handler, samples.message)
    answer = call(aws, function, add_handler, "/altcraft/profiles/add", samples.request)
    # Then the file's rows came in one add_batch request and the others in single adds
    assert [r.path for r in altcraft.requests] == [
        "/api/v1.1/profiles/add_batch/",
        "/api/v1.1/profiles/add",
        "/api/v1.1/profiles/add",
    ]
    assert (report["read"], report["delivered"], report["rejected"]) == (3, 3, 0)
    # And every profile exists, the message's with its subscription
    assert emails(altcraft) == {
        "fresh.one@example.com",
        "fresh.two@example.com",
        "fresh.three@example.com",
        "fresh.four@example.com",
    }
    [three] = [p for p in altcraft.profiles(ALTCRAFT_DB) if p.get("email") == "fresh.three@example.com"]
    assert [s["resource_id"] for s in three["subscriptions"]] == [1]
    # And the call's second record (two addresses in one) was refused before anything was sent
    assert (answer["accepted"], [r["index"] for r in answer["rejected"]]) == (1, [1])
    assert refusals(aws, f"rejected/sqs/{function}/") == ["data.email: is not an e-mail address"]


def test_a_workflow_start_imports_and_enrols_each_profile_once(aws: Aws, altcraft: AltcraftEmulator) -> None:
    # Given one customer already in the database and the workflow function's samples
    function = "altcraft_workflow_start"
    anna = altcraft.add_profile(ALTCRAFT_DB, {"email": "anna@example.com"})
    aws.serve(function)
    samples = demo(function)
    # When a file, a message and an HTTPS call arrive
    report = drop_file(aws, function, workflow_handler)
    send_message(aws, function, workflow_handler, samples.message)
    answer = call(aws, function, workflow_handler, "/altcraft/workflows/import_and_start", samples.request)
    # Then the existing customer was matched, the new ones created, and each engaged in scenario 1 once
    by_email = {p["email"]: p["id"] for p in altcraft.profiles(ALTCRAFT_DB) if "email" in p}
    assert by_email["anna@example.com"] == anna
    enrolled = ["anna@example.com", "new.member@example.com", "boris@example.com", "web.member@example.com"]
    assert altcraft.enrolled(1) == [by_email[email] for email in enrolled]
    assert [(r.path, r.rows) for r in altcraft.requests] == [
        ("/api/v1.1/workflows/import_and_start_batch", 2),  # the file's two good rows
        ("/api/v1.1/workflows/import_and_start", 1),  # the message's one record
        ("/api/v1.1/workflows/import_and_start", 1),  # the call's good record
    ]
    # And the rows without a scenario or a phone were refused with their reasons, never sent
    assert (report["delivered"], report["rejected"]) == (2, 1)
    assert (answer["accepted"], [r["index"] for r in answer["rejected"]]) == (1, [1])
    assert refusals(aws, f"rejected/sqs/{function}/") == ["workflow_id: is required"]


def test_deletes_remove_exactly_the_profiles_named_and_refuse_unclear_records(
    aws: Aws, altcraft: AltcraftEmulator
) -> None:
    # Given the five profiles the delete samples name, and one more that nothing names
    function = "altcraft_profile_delete"
    ids = {
        email: altcraft.add_profile(ALTCRAFT_DB, {"email": email, "phones": ["+79000000011"]})
        for email in ("fresh.one@example.com", "fresh.two@example.com", "fresh.three@example.com")
    }
    ids["fresh.four@example.com"] = altcraft.add_profile(ALTCRAFT_DB, {"email": "fresh.four@example.com"})
    kept = altcraft.add_profile(ALTCRAFT_DB, {"email": "kept@example.com", "phones": ["+79000000011"]})
    aws.serve(function)
    samples = demo(function)
    # When a file, a message and an HTTPS call arrive
    report = drop_file(aws, function, delete_handler)
    send_message(aws, function, delete_handler, samples.message)
    answer = call(aws, function, delete_handler, "/altcraft/profiles/delete", samples.request)
    # Then each well-formed record deleted its one profile, one request each, and nothing else went
    assert altcraft.deleted(ALTCRAFT_DB) == list(ids.values())
    assert [r.path for r in altcraft.requests] == ["/api/v1.1/profiles/delete"] * 4
    assert [p["id"] for p in altcraft.profiles(ALTCRAFT_DB)] == [kept]
    # And the report counts the file's deletions; the unclear records are refused with their reasons
    assert (report["read"], report["delivered"], report["rejected"]) == (3, 2, 1)
    assert (answer["accepted"], [r["index"] for r in answer["rejected"]]) == (1, [1])
    assert refusals(aws, f"rejected/{function}/") == ["email: is not an e-mail address"]
    assert refusals(aws, f"rejected/sqs/{function}/") == [
        "matching: keys of several modes (email, phone): give the keys of one"
    ]


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"db_id": ALTCRAFT_DB}, "matching: no key to find the profile by"),
        ({"matching": "email_profile", "email": "a@example.com"}, "matching: email_profile is not a mode here"),
        ({"email": "a@example.com", "profile_id": "5a5b"}, "matching: keys of several modes (email, profile_id)"),
        ({"matching": "email", "email": "a@example.com", "phone": "+79000000011"}, "phone"),
        ({"matching": "email", "email": "a@example.com", "everyone": True}, "everyone"),
    ],
)
def test_a_delete_without_one_clear_key_is_refused_and_never_sent(
    aws: Aws, altcraft: AltcraftEmulator, record: dict[str, Any], reason: str
) -> None:
    # Given a profile that a loose delete could reach
    function = "altcraft_profile_delete"
    altcraft.add_profile(ALTCRAFT_DB, {"email": "a@example.com", "phones": ["+79000000011"]})
    aws.serve(function)
    # When a record without one clear key arrives on the queue
    send_message(aws, function, delete_handler, record)
    # Then it is refused with the reason, nothing reached Altcraft, and the profile is still there
    [error] = refusals(aws, f"rejected/sqs/{function}/")
    assert reason in error
    assert (altcraft.requests, altcraft.deleted(ALTCRAFT_DB), len(altcraft.profiles(ALTCRAFT_DB))) == ([], [], 1)


def test_subscriptions_are_set_through_each_door(aws: Aws, altcraft: AltcraftEmulator) -> None:
    # Given the subscriber the samples name
    function = "altcraft_subscription_set"
    altcraft.add_profile(ALTCRAFT_DB, {"id": SUBSCRIBER, "email": "sub.demo@example.com"})
    aws.serve(function)
    samples = demo(function)
    # When a file, a message and an HTTPS call arrive
    report = drop_file(aws, function, subscription_handler)
    send_message(aws, function, subscription_handler, samples.message)
    answer = call(aws, function, subscription_handler, "/altcraft/subscriptions/set", samples.request)
    # Then the e-mail subscription ends suspended (the file set it unsubscribed, the call suspended) and the SMS one
    # is subscribed
    stored = {(s["resource_id"], s["channel"]): s for s in altcraft.subscriptions(ALTCRAFT_DB, SUBSCRIBER)}
    assert {key: s["status"] for key, s in stored.items()} == {(1, "email"): "suspended", (3, "sms"): "subscribed"}
    assert [(c.resource_id, c.channel, c.fields["status"]) for c in altcraft.subscription_changes] == [
        (1, "email", "unsubscribed"),
        (3, "sms", "subscribed"),
        (1, "email", "suspended"),
    ]
    # And the rows that could not be set were refused with their reasons
    assert (report["delivered"], report["rejected"]) == (1, 1)
    assert (answer["accepted"], [r["index"] for r in answer["rejected"]]) == (1, [1])
    assert refusals(aws, f"rejected/{function}/") == ["phone: is required for channel sms"]
    assert refusals(aws, f"rejected/sqs/{function}/") == [
        "status: must be one of subscribed, unsubscribed, complained, hardbounced, unconfirmed, suspended, invalid"
        " (or 0 to 6)"
    ]


def test_goals_are_registered_once_each_through_each_door(aws: Aws, altcraft: AltcraftEmulator) -> None:
    # Given the customers the goal samples name
    function = "altcraft_goal_register"
    for email in ("anna@example.com", "boris@example.com", "example@example.com"):
        altcraft.add_profile(ALTCRAFT_DB, {"email": email})
    aws.serve(function)
    samples = demo(function)
    # When a file, a message and an HTTPS call arrive
    report = drop_file(aws, function, goal_handler)
    send_message(aws, function, goal_handler, samples.message)
    answer = call(aws, function, goal_handler, "/altcraft/goals/register", samples.request)
    # Then each goal was counted once, with its value, on pixel 1
    assert [(g.pixel_id, g.goal, g.value) for g in altcraft.goals] == [
        (1, "purchase", 1299.9),
        (1, "card", None),
        (1, "trial", 0),
        (1, "card", 10.5),
        (1, "subscription", 499),
    ]
    # And the goal without a name and the call's record without a pixel were refused, never sent
    assert (report["delivered"], report["rejected"]) == (2, 1)
    assert (answer["accepted"], [r["index"] for r in answer["rejected"]]) == (1, [1])
    assert len(altcraft.requests) == 4
    assert refusals(aws, f"rejected/sqs/{function}/") == [
        "goal: one goal, or goals (several with their values), is required"
    ]
