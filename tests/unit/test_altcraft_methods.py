"""Altcraft's methods as values: each names its paths, its body, its batch-level parameters, its matching rules and
whether a request that may have arrived may go again; the endpoints are built from them."""

from __future__ import annotations

import dataclasses
import time

import pytest

from courier.destinations.altcraft.batch import AltcraftBatch
from courier.destinations.altcraft.client import AltcraftSender
from courier.destinations.altcraft.methods import IMPORT, IMPORT_AND_START, METHODS, UPDATE, Method
from courier.destinations.altcraft.profiles import ALTCRAFT_PROFILE_IMPORT, ALTCRAFT_PROFILE_UPDATE
from courier.destinations.altcraft.triggers import ALTCRAFT_IMPORT_TRIGGER
from courier.model import Destination
from courier.settings import Settings

ENDPOINTS = [
    (ALTCRAFT_PROFILE_IMPORT, IMPORT),
    (ALTCRAFT_PROFILE_UPDATE, UPDATE),
    (ALTCRAFT_IMPORT_TRIGGER, IMPORT_AND_START),
]


def test_the_three_methods_name_their_single_and_batch_paths() -> None:
    # Given the three methods
    # Then each names Altcraft's path for one profile and for several
    assert [(m.single_path, m.batch_path) for m in METHODS] == [
        ("profiles/import", "profiles/import_batch"),
        ("profiles/update", "profiles/update_batch"),
        ("campaigns/triggers/import_and_start", "campaigns/triggers/import_and_start_batch"),
    ]


def test_a_method_is_a_frozen_value() -> None:
    # Given a method
    # When someone tries to change it
    # Then it refuses: a method is a constant, shared by every function
    with pytest.raises(dataclasses.FrozenInstanceError):
        IMPORT.may_resend = False  # type: ignore[misc]
    assert dataclasses.replace(IMPORT) == IMPORT


def test_the_sender_posts_to_its_methods_paths_under_api_v1_1() -> None:
    # Given a sender for each method, pointed at an address with a trailing slash
    settings = Settings(ALTCRAFT_API_URL="https://example.com/")
    for method in METHODS:
        sender = AltcraftSender(settings, method)
        # Then its two URLs are the method's paths under /api/v1.1/
        assert sender._single_url == f"https://example.com/api/v1.1/{method.single_path}"
        assert sender._batch_url == f"https://example.com/api/v1.1/{method.batch_path}"


def test_batch_level_parameters() -> None:
    # Given the methods' batch-level parameters
    # Then profiles say their database, matching and options once; a trigger batch also says its launch once
    assert IMPORT.batch_params == (
        "db_id",
        "matching",
        "field_name",
        "resource_id",
        "skip_triggers",
        "skip_invalid_subscriptions",
        "detect_geo",
    )
    # And update_batch only what its page lists (resource_id, skip_triggers and detect_geo are not there)
    assert UPDATE.batch_params == ("db_id", "matching", "field_name", "skip_invalid_subscriptions")
    assert IMPORT_AND_START.batch_params == (
        "trigger_id",
        "matching",
        "field_name",
        "resource_id",
        "skip_triggers",
        "skip_invalid_subscriptions",
        "detect_geo",
        "timeout",
        "custom_data",
        "content",
        "attach",
    )
    # And a batch item carries its own keys: the Data array's four for the trigger (field_name stays at the root);
    # a profile batch item carries none (it is the profile's own data)
    assert IMPORT_AND_START.item_keys == ("email", "phone", "profile_id", "field_value")
    assert IMPORT.item_keys == UPDATE.item_keys == ()
    assert (IMPORT.nested_items, UPDATE.nested_items, IMPORT_AND_START.nested_items) == (False, False, True)


def test_every_batch_level_parameter_and_item_key_is_a_body_parameter() -> None:
    for method in METHODS:
        assert set(method.batch_params) <= set(method.body), method.name
        assert set(method.item_keys) <= set(method.body), method.name
        assert not set(method.batch_params) & set(method.item_keys), method.name


def test_the_bodies_order() -> None:
    # Then profile bodies start with the database, and the trigger's with the trigger (the golden cases' order)
    assert IMPORT.body[:3] == ("db_id", "matching", "email")
    assert IMPORT.body[-1] == "data"
    assert IMPORT_AND_START.body == (
        "trigger_id",
        "matching",
        "email",
        "phone",
        "profile_id",
        "field_name",
        "field_value",
        "resource_id",
        "data",
        "skip_triggers",
        "skip_invalid_subscriptions",
        "detect_geo",
        "timeout",
        "custom_data",
        "content",
        "attach",
    )
    # And the trigger takes no database and no segments, profiles take no launch
    assert not {"db_id", "add_to_segments", "remove_from_segments"} & set(IMPORT_AND_START.body)
    assert (IMPORT.launches, UPDATE.launches, IMPORT_AND_START.launches) == (False, False, True)


def test_matching_rules() -> None:
    # Then the profile methods take the eleven modes, the trigger the five its page lists
    assert len(IMPORT.matching_modes) == len(UPDATE.matching_modes) == 11
    assert IMPORT_AND_START.matching_modes == ("email", "email_profile", "phone", "profile_id", "custom")
    # And matching by profile_id finds a profile for update and the trigger; an import cannot create one by id
    assert [m.by_profile_id for m in METHODS] == [False, True, True]
    # And only update leaves profiles it does not find alone
    assert [m.creates for m in METHODS] == [True, False, True]


@pytest.mark.parametrize(("method", "expected"), [(IMPORT, True), (UPDATE, True), (IMPORT_AND_START, False)])
def test_may_resend_per_method(method: Method, expected: bool) -> None:
    # Given a method
    # Then a possibly-sent request may go again for plain profile values, never for a trigger's start
    assert method.may_resend is expected


@pytest.mark.parametrize(
    ("method", "data", "expected"),
    [
        (IMPORT, {"_fname": "A"}, True),
        (IMPORT, {"loyalty": {"action": "incr", "value": 1}}, False),
        (UPDATE, {"tags": {"action": "set", "value": "x"}}, True),
        (UPDATE, {"tags": {"action": "add", "value": ["x"]}}, False),
        (IMPORT_AND_START, {"_fname": "A"}, False),
    ],
)
def test_the_sender_says_whether_a_possibly_sent_batch_may_go_again(
    method: Method, data: dict[str, object], expected: bool
) -> None:
    # Given a batch of one record with these data fields
    batch = AltcraftBatch("k", method)
    batch.add({"matching": "email", "email": "a@example.com", "data": data}, 0, {})
    # When the driver asks the sender whether it may resend a possibly-sent batch
    answer = AltcraftSender(Settings(), method).may_resend(batch)
    # Then profiles' plain values may go again, functions applied twice may not, and a trigger's start never
    assert answer is expected


@pytest.mark.parametrize(("destination", "method"), ENDPOINTS, ids=lambda d: getattr(d, "name", ""))
def test_each_endpoint_declares_every_field_once(destination: Destination, method: Method) -> None:
    # Given an Altcraft endpoint
    names = [field.name for field in destination.declared]
    # Then each field a record may carry is declared once, in the body's order, with a kind and a description
    assert names == list(method.body)
    assert len(set(names)) == len(names)
    assert frozenset(names) == destination.fields
    assert all(field.kind and field.description and "\n" not in field.description for field in destination.declared)
    # And the endpoint has a one-line summary naming Altcraft's path, and its rules between fields
    assert method.single_path in destination.summary
    assert destination.rules
    assert all(rule and "\n" not in rule for rule in destination.rules)


def test_the_trigger_endpoint() -> None:
    # Given the new endpoint
    trigger = ALTCRAFT_IMPORT_TRIGGER
    # Then it has its function's name, its route, and only trigger_id is required on every record
    assert (trigger.name, trigger.route, trigger.result_id) == (
        "altcraft_import_trigger",
        "/altcraft/import_trigger",
        "profile_id",
    )
    assert [field.name for field in trigger.declared if field.required] == ["trigger_id"]
    # And it makes the trigger's preparer, batches and sender
    sender = trigger.make_sender(Settings())
    assert isinstance(sender, AltcraftSender)
    assert sender.method is IMPORT_AND_START
    batch = trigger.new_batch("k")
    assert isinstance(batch, AltcraftBatch)
    assert batch.method is IMPORT_AND_START
    fields, errors = trigger.make_preparer(Settings(), time.time())(
        {"trigger_id": 13, "email": "a@example.com", "data": {"_fname": "A"}}
    )
    assert (fields, errors) == (
        {"trigger_id": 13, "matching": "email", "email": "a@example.com", "data": {"_fname": "A"}},
        [],
    )


def test_the_function_serves_the_trigger_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the new function's module, with the doors' entry point replaced by a recorder
    from functions.altcraft_import_trigger import app

    seen: list[tuple[object, object, Destination]] = []

    def handle(event: object, context: object, destination: Destination) -> dict[str, object]:
        seen.append((event, context, destination))
        return {"handled": True}

    monkeypatch.setattr(app, "handle", handle)
    # When Lambda calls its handler
    answer = app.lambda_handler({"Records": []}, "context")
    # Then it hands the event to the doors with the trigger endpoint, as the other functions do theirs
    assert answer == {"handled": True}
    assert seen == [({"Records": []}, "context", ALTCRAFT_IMPORT_TRIGGER)]
