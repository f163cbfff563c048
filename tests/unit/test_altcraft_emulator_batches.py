"""The Altcraft emulator's profile batches as their pages print them (issue 15): an import_batch / update_batch item
is a plain profile (its fields and subscriptions), matching keys are top-level parameters only, an item key that is
no standard field is a custom field the database must declare, options a page does not list are refused, -1 leaves a
subscription's status / priority unchanged, and `batch_result_mode` answers a batch short or reordered.
Everything goes over HTTP to 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from sandbox.altcraft_emulator import DEFAULT_CUSTOM_FIELDS, AltcraftEmulator

TOKEN = "abcdefghijklmnqrstuvwxyz"  # the documentation's placeholder token
OWN_FIELDS_DB = 2  # declares only CRM_ID

# The import_batch page's own item (…/profiles/2195504): `custom_id` is a custom field, the e-mail subscription is
# written with `email_data`
DOC_ITEM = {
    "_fname": "John",
    "_lname": "Doe",
    "custom_id": "abcdefghijklmnqrstuvwxyz",
    "email": "john@example.com",
    "subscriptions": [{"channel": "email", "email_data": {"email": "john@example.com"}, "resource_id": 1}],
}


@pytest.fixture(scope="module")
def _server() -> Iterator[AltcraftEmulator]:
    emulator = AltcraftEmulator(tokens={TOKEN: {1, OWN_FIELDS_DB}}, custom_fields={OWN_FIELDS_DB: {"CRM_ID"}})
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def altcraft(_server: AltcraftEmulator) -> Iterator[AltcraftEmulator]:
    _server.reset()
    yield _server
    _server.strict = True


def call(emulator: AltcraftEmulator, method: str, **body: Any) -> Any:
    response = requests.post(
        f"{emulator.url}/api/v1.1/profiles/{method}",
        data=json.dumps({"token": TOKEN, "db_id": 1, **body}).encode(),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    payload = response.json()
    assert response.status_code == (200 if payload["error"] == 0 else payload["error"])
    return payload


def errors(answer: Any) -> list[int]:
    return [result["error"] for result in answer["result"]]


# --- items are plain profiles --------------------------------------------------------------------------------------
def test_the_documented_import_batch_item_is_taken(altcraft: AltcraftEmulator) -> None:
    # Given the import_batch page's own item
    # When it is posted with the default (email) matching
    answer = call(altcraft, "import_batch", data=[DOC_ITEM])
    # Then it is imported as it is, its custom field and subscription stored
    assert errors(answer) == [0]
    (profile,) = altcraft.profiles(1)
    assert (profile["custom_id"], profile["email"], profile["subscriptions"][0]["resource_id"]) == (
        "abcdefghijklmnqrstuvwxyz",
        "john@example.com",
        1,
    )


@pytest.mark.parametrize("method", ["import_batch", "update_batch"])
@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("phone", "+79000000000"),
        ("profile_id", "0123456789abcdef01234567"),
        ("field_value", "123420"),
        ("provider", "android-firebase"),
        ("subscription_id", "a81c264a938b475"),
    ],
)
def test_a_per_item_matching_key_is_an_undeclared_custom_field_and_refuses_its_item(
    altcraft: AltcraftEmulator, method: str, key: str, value: str
) -> None:
    # Given two known profiles and a batch whose middle item carries a matching key beside its fields
    for n in (1, 2, 3):
        altcraft.add_profile(1, {"email": f"p{n}@example.com"})
    items = [{"email": f"p{n}@example.com", "_fname": f"P{n}"} for n in (1, 2, 3)]
    items[1][key] = value
    # When it is posted
    answer = call(altcraft, method, data=items)
    # Then that item alone is refused as an unknown field, in its place; the others are written
    assert errors(answer) == [0, 400, 0]
    assert f"unknown field {key}" in answer["result"][1]["error_text"]
    names = {profile["email"]: profile.get("_fname") for profile in altcraft.profiles(1)}
    assert names == {"p1@example.com": "P1", "p2@example.com": None, "p3@example.com": "P3"}
    assert all(key not in profile for profile in altcraft.profiles(1))


def test_a_database_declares_its_own_custom_fields(altcraft: AltcraftEmulator) -> None:
    # Given database 2, which declares CRM_ID only, and database 1 with the default declaration
    items = [{"email": "a@example.com", "CRM_ID": "7"}, {"email": "b@example.com", "ltv": 10}]
    # When the same batch goes to both
    own = call(altcraft, "import_batch", db_id=OWN_FIELDS_DB, data=items)
    default = call(altcraft, "import_batch", data=items)
    # Then database 2 refuses ltv, database 1 takes both (ltv and CRM_ID are in the default set)
    assert (errors(own), errors(default)) == ([0, 400], [0, 0])
    assert "custom field of database 2" in own["result"][1]["error_text"]
    assert {"CRM_ID", "ltv", "custom_field", "custom_id"} <= DEFAULT_CUSTOM_FIELDS
    assert altcraft.declared(OWN_FIELDS_DB) == {"CRM_ID"}


def test_a_single_import_with_an_undeclared_field_is_refused_whole(altcraft: AltcraftEmulator) -> None:
    # Given a single import whose data holds a field database 1 does not declare
    # When it is posted
    answer = call(altcraft, "import", matching="email", email="a@example.com", data={"email": "a@example.com", "x": 1})
    # Then the request is refused, and nothing is stored
    assert answer["error"] == 400
    assert "unknown field x" in answer["error_text"]
    assert altcraft.profiles(1) == []


def test_the_lenient_emulator_stores_an_undeclared_field_with_a_warning(altcraft: AltcraftEmulator) -> None:
    # Given the emulator made lenient
    altcraft.strict = False
    # When an item carries a per-item phone key
    answer = call(altcraft, "import_batch", data=[{"email": "a@example.com", "phone": "+79000000000"}])
    # Then it is taken and written as a junk custom field, and the state says so
    assert errors(answer) == [0]
    assert altcraft.profiles(1)[0]["phone"] == "+79000000000"
    assert altcraft.state()["warnings"] == ["database 1: undeclared custom field phone stored"]


# --- matching keys: top-level parameters, values from the item's own fields ----------------------------------------
def test_phone_matching_finds_each_item_by_a_number_in_its_phones(altcraft: AltcraftEmulator) -> None:
    # Given a profile known by its second phone number
    known = altcraft.add_profile(1, {"phones": ["+79000000001", "+79000000002"], "_fname": "Old"})
    items = [{"phones": ["+79000000002"], "_fname": "New"}, {"phones": ["+79000000009"], "_fname": "Other"}]
    # When a phone-matched import_batch carries items with only their phones
    answer = call(altcraft, "import_batch", matching="phone", data=items)
    # Then the first item updates the known profile, the second creates one
    assert errors(answer) == [0, 0]
    assert answer["result"][0]["profile_id"] == known
    assert sorted(profile["_fname"] for profile in altcraft.profiles(1)) == ["New", "Other"]


def test_custom_matching_takes_the_field_named_by_the_top_level_field_name(altcraft: AltcraftEmulator) -> None:
    # Given a profile with CRM_ID 42
    known = altcraft.add_profile(1, {"CRM_ID": "42", "visits": 1})
    items = [{"CRM_ID": "42", "visits": {"action": "incr", "value": 2}}, {"CRM_ID": "43", "visits": 5}]
    # When an import_batch matches by custom with field_name CRM_ID at the top level
    answer = call(altcraft, "import_batch", matching="custom", field_name="CRM_ID", data=items)
    # Then item 1 finds the profile by its own CRM_ID field, item 2 creates a profile
    assert errors(answer) == [0, 0]
    assert answer["result"][0]["profile_id"] == known
    assert {p["CRM_ID"]: p["visits"] for p in altcraft.profiles(1)} == {"42": 3, "43": 5}


def test_an_item_without_its_key_falls_back_to_the_top_level_parameter(altcraft: AltcraftEmulator) -> None:
    # Given a profile with CRM_ID 42
    altcraft.add_profile(1, {"CRM_ID": "42"})
    # When an update_batch item holds only a function, and the key comes as the top-level field_value
    answer = call(
        altcraft,
        "update_batch",
        matching="custom",
        field_name="CRM_ID",
        field_value="42",
        data=[{"loyalty": {"action": "incr", "value": 10}}],
    )
    # Then the page's top-level parameter finds the profile
    assert errors(answer) == [0]
    assert altcraft.profiles(1)[0]["loyalty"] == 10


def test_an_item_without_its_key_and_no_top_level_key_is_refused(altcraft: AltcraftEmulator) -> None:
    # Given a profile with CRM_ID 42
    altcraft.add_profile(1, {"CRM_ID": "42"})
    # When an update_batch item holds only a function and nothing names the key
    items = [{"loyalty": {"action": "incr", "value": 10}}, {"CRM_ID": "42", "loyalty": 1}]
    answer = call(altcraft, "update_batch", matching="custom", field_name="CRM_ID", data=items)
    # Then that item is refused for its missing key; the other is applied
    assert errors(answer) == [400, 0]
    assert "matching custom requires field_name, field_value" in answer["result"][0]["error_text"]


def test_update_batch_by_top_level_profile_id_updates_that_profile(altcraft: AltcraftEmulator) -> None:
    # Given a known profile
    known = altcraft.add_profile(1, {"email": "a@example.com"})
    # When an update_batch matches by the top-level profile_id
    answer = call(altcraft, "update_batch", matching="profile_id", profile_id=known, data=[{"_fname": "A"}])
    # Then it updates that profile
    assert answer["result"] == [{"error": 0, "error_text": "Successful operation", "profile_id": known}]
    assert altcraft.profiles(1)[0]["_fname"] == "A"


def test_update_batch_creates_nothing_for_an_unknown_email(altcraft: AltcraftEmulator) -> None:
    # Given an empty database
    # When an update_batch item names an e-mail nobody has
    answer = call(altcraft, "update_batch", data=[{"email": "nobody@example.com", "_fname": "N"}])
    # Then it is refused as not found, and no profile is created
    assert errors(answer) == [404]
    assert altcraft.profiles(1) == []


# --- options a page does not document ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "option", "value"),
    [
        ("update_batch", "skip_triggers", True),
        ("update_batch", "detect_geo", True),
        ("update_batch", "add_to_segments", [1]),
        ("import_batch", "add_to_segments", [1]),
        ("import_batch", "remove_from_segments", [1]),
        ("import", "skip_trigers", True),
    ],
)
def test_an_option_the_page_does_not_list_refuses_the_request(
    altcraft: AltcraftEmulator, method: str, option: str, value: Any
) -> None:
    # Given a known profile and a request carrying an option its page does not list
    altcraft.add_profile(1, {"email": "a@example.com"})
    data: Any = {"email": "a@example.com"} if method == "import" else [{"email": "a@example.com"}]
    extra = {"email": "a@example.com"} if method == "import" else {}
    # When it is posted
    answer = call(altcraft, method, data=data, **extra, **{option: value})
    # Then the whole request is refused, naming the option
    assert answer["error"] == 400
    assert answer["error_text"] == f"unknown parameters for profiles/{method}: {option}"


def test_the_options_the_pages_list_are_taken(altcraft: AltcraftEmulator) -> None:
    # Given a known profile
    altcraft.add_profile(1, {"email": "a@example.com"})
    item = [{"email": "a@example.com"}]
    # When import_batch carries its three options and update_batch its one, and import its segments
    imported = call(
        altcraft, "import_batch", data=item, skip_triggers=True, detect_geo=True, skip_invalid_subscriptions=True
    )
    updated = call(altcraft, "update_batch", data=item, skip_invalid_subscriptions=True, resource_id=1)
    single = call(altcraft, "import", email="a@example.com", data=item[0], add_to_segments=[1], skip_triggers=True)
    # Then all three are taken
    assert (errors(imported), errors(updated), single["error"]) == ([0], [0], 0)


# --- -1: leave a subscription's status / priority unchanged ---------------------------------------------------------
@pytest.mark.parametrize("method", ["import", "update", "import_batch", "update_batch"])
def test_minus_one_leaves_status_and_priority_unchanged(altcraft: AltcraftEmulator, method: str) -> None:
    # Given a profile subscribed on resource 1 with status 1 and priority 3
    sub = {"channel": "email", "email": "a@example.com", "resource_id": 1}
    altcraft.add_profile(1, {"email": "a@example.com", "subscriptions": [{**sub, "status": 1, "priority": 3}]})
    data = {"email": "a@example.com", "subscriptions": [{**sub, "status": -1, "priority": -1, "cats": ["news"]}]}
    # When the subscription is sent again with status and priority -1 and a category
    if method.endswith("_batch"):
        answer = call(altcraft, method, data=[data])
        assert errors(answer) == [0]
    else:
        assert call(altcraft, method, email="a@example.com", data=data)["error"] == 0
    # Then the category is added, status and priority are as they were
    (stored,) = altcraft.profiles(1)[0]["subscriptions"]
    assert (stored["status"], stored["priority"], stored["cats"]) == (1, 3, ["news"])


def test_minus_one_on_a_new_subscription_stores_no_status_or_priority(altcraft: AltcraftEmulator) -> None:
    # Given an empty database
    sub = {"channel": "sms", "phone": "+79000000000", "resource_id": 1, "status": -1, "priority": -1}
    # When an import_batch creates a profile with that subscription
    answer = call(altcraft, "import_batch", data=[{"email": "a@example.com", "subscriptions": [sub]}])
    # Then it is taken, the subscription left to the resource's defaults
    assert errors(answer) == [0]
    (stored,) = altcraft.profiles(1)[0]["subscriptions"]
    assert set(stored) == {"channel", "phone", "resource_id"}


@pytest.mark.parametrize(("name", "value"), [("status", -2), ("status", 7), ("priority", -2), ("priority", "1")])
def test_a_status_or_priority_out_of_range_is_refused(altcraft: AltcraftEmulator, name: str, value: Any) -> None:
    # Given a subscription whose status or priority is out of range
    sub = {"channel": "email", "email": "a@example.com", "resource_id": 1, name: value}
    # When it is imported
    answer = call(altcraft, "import_batch", data=[{"email": "a@example.com", "subscriptions": [sub]}])
    # Then the item is refused for it
    assert errors(answer) == [400]
    assert answer["result"][0]["error_text"] == f"invalid subscription {name}"


# --- batch_result_mode: answers that do not map one-to-one -----------------------------------------------------------
def items(count: int) -> list[dict[str, Any]]:
    return [{"email": f"p{n}@example.com"} for n in range(count)]


def test_a_short_answer_omits_the_last_result_but_applies_every_item(altcraft: AltcraftEmulator) -> None:
    # Given the switch set to "short"
    altcraft.batch_result_mode = "short"
    # When three profiles are imported
    answer = call(altcraft, "import_batch", data=items(3))
    # Then the answer holds two results, yet all three profiles exist
    assert errors(answer) == [0, 0]
    stored = {profile["email"]: profile["id"] for profile in altcraft.profiles(1)}
    assert len(stored) == 3
    assert [result["profile_id"] for result in answer["result"]] == [stored["p0@example.com"], stored["p1@example.com"]]


def test_a_reordered_answer_lists_the_results_in_reverse(altcraft: AltcraftEmulator) -> None:
    # Given the switch set to "reordered", and a batch whose second item is refused
    altcraft.batch_result_mode = "reordered"
    batch = [*items(1), {"email": "p1@example.com", "unknown": 1}, *items(3)[2:]]
    # When it is posted to update_batch after the profiles exist
    for item in (batch[0], batch[2]):
        altcraft.add_profile(1, item)
    answer = call(altcraft, "update_batch", data=batch)
    # Then the results come last item first
    stored = {profile["email"]: profile["id"] for profile in altcraft.profiles(1)}
    assert errors(answer) == [0, 400, 0]
    assert [result.get("profile_id") for result in answer["result"]] == [
        stored["p2@example.com"],
        None,
        stored["p0@example.com"],
    ]


def test_the_switch_applies_to_the_trigger_batch_and_reset_puts_it_back(altcraft: AltcraftEmulator) -> None:
    # Given the switch set to "short"
    altcraft.batch_result_mode = "short"
    body = {"token": TOKEN, "trigger_id": 13, "data": [{"data": item} for item in items(2)]}
    # When a trigger batch is posted, then the emulator reset and the batch posted again
    first = requests.post(
        f"{altcraft.url}/api/v1.1/campaigns/triggers/import_and_start_batch", json=body, timeout=10
    ).json()
    launched = len(altcraft.started(13))
    altcraft.reset()
    second = call(altcraft, "import_batch", data=items(2))
    # Then the first answer was short (both launched), and after reset the mode is "normal" again
    assert (len(first["result"]), launched) == (1, 2)
    assert (altcraft.batch_result_mode, len(second["result"])) == ("normal", 2)


def test_an_unknown_mode_is_refused_before_anything_is_applied(altcraft: AltcraftEmulator) -> None:
    # Given a misspelt mode
    altcraft.batch_result_mode = "shrot"
    # When a batch is posted
    response = requests.post(
        f"{altcraft.url}/api/v1.1/profiles/import_batch",
        json={"token": TOKEN, "db_id": 1, "data": items(1)},
        timeout=10,
    )
    # Then the emulator answers 500 rather than pretending, and stores nothing
    assert response.status_code == 500
    assert "batch_result_mode must be one of normal, short, reordered" in response.json()["error_text"]
    assert altcraft.profiles(1) == []
